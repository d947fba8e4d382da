/**
 * Our HTTP/3 server (`serve` from @purequic/h3) in real browsers: headless Chromium and Firefox ESR
 * each load a page from it over HTTP/3 and a fetch() from that page reports nextHopProtocol 'h3',
 * download 10 MiB intact (SHA-256 computed in the page with crypto.subtle.digest), and complete
 * 100 fetch()es started at once. One browser launch per suite; every test has a time bound.
 * The same page scripts pass against ngtcp2's server (h3-harness.test.ts proves the harness).
 * Outside CI, skipped (reason printed) when a browser is absent; in CI it fails instead.
 */

import { createHash, randomBytes } from 'node:crypto';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { serve, type Http3Server } from '@purequic/h3';
import { generateSelfSignedCertificate, type SelfSignedCertificate } from '@purequic/quic';
import {
  downloadProbeScript,
  fetchProbeScript,
  launchChromium,
  launchFirefox,
  missingBrowsers,
  parallelFetchScript,
  requirePrograms,
  spkiSha256Base64,
  withTimeout,
  type BrowserName,
  type BrowserSession,
  type DownloadProbe,
  type FetchProbe,
  type ParallelProbe,
} from '../../browsers/harness.js';

/** Bound on a suite's setup (certificate, server, browser launch: Firefox takes 3-5 s idle). */
const SETUP_TIMEOUT_MS = 45_000;
/** Bound on each test: one page load and its fetches. */
const TEST_TIMEOUT_MS = 30_000;
const BIG_SIZE = 10 * 1024 * 1024;
const PARALLEL = 100;
const PAGE = '<!doctype html><meta charset="utf-8"><title>purequic</title><p>served over HTTP/3 by purequic';
const HELLO = 'hello over HTTP/3 from purequic\n';

let certificate: Promise<SelfSignedCertificate> | undefined;
let big: { bytes: Uint8Array; sha256: string } | undefined;

function bigBody(): { bytes: Uint8Array; sha256: string } {
  if (!big) {
    const bytes = new Uint8Array(randomBytes(BIG_SIZE));
    big = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  return big;
}

/** `/` the page, `/hello` a short text, `/big` 10 MiB of random bytes, `/n/<i>` the text `n<i>`. */
async function handler(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === '/' || path === '/index.html') return new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  if (path === '/hello') return new Response(HELLO, { headers: { 'content-type': 'text/plain' } });
  if (path === '/big') {
    const { bytes } = bigBody();
    return new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } });
  }
  const n = /^\/n\/(\d+)$/.exec(path);
  if (n) return new Response(`n${n[1]}`, { headers: { 'content-type': 'text/plain' } });
  return new Response('not found', { status: 404 });
}

interface Context {
  server?: Http3Server;
  browser?: BrowserSession;
  origin?: string;
  /** uvu swallows a failing before hook's error (its runner returns from `finally`): kept for the tests to throw. */
  setupError?: Error;
}

function browserSuite(name: BrowserName): Test<Context> {
  const s = suite<Context>(`${name}: our HTTP/3 server`, {});
  const run = requirePrograms(`our HTTP/3 server in ${name}`, missingBrowsers([name]));
  const it = run ? s : s.skip;
  let startedAt = 0;

  s.before(async (context) => {
    if (!run) return;
    startedAt = performance.now();
    await withTimeout(
      (async () => {
        certificate ??= generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
        const { certificatePem, privateKeyPem } = await certificate;
        context.server = await serve({ host: '127.0.0.1', port: 0, certificatePem, privateKeyPem }, handler);
        const quicPort = context.server.port;
        context.origin = `https://127.0.0.1:${quicPort}`;
        context.browser =
          name === 'chromium' ? await launchChromium({ quicPort, spkiB64: spkiSha256Base64(certificatePem) }) : await launchFirefox({ quicPort });
        console.log(`${name}: launched in ${context.browser.launchMs.toFixed(0)} ms`);
      })(),
      SETUP_TIMEOUT_MS,
      `${name} setup`,
    ).catch((error: unknown) => {
      context.setupError = error as Error;
    });
  });

  s.after(async (context) => {
    let t = performance.now();
    await context.browser?.close();
    const browserClose = performance.now() - t;
    t = performance.now();
    await withTimeout(context.server?.close() ?? Promise.resolve(), 10_000, 'server close').catch((error: unknown) => {
      console.log(`${name}: ${(error as Error).message}`);
    });
    const serverClose = performance.now() - t;
    if (startedAt) console.log(`${name}: browser closed in ${browserClose.toFixed(0)} ms, server in ${serverClose.toFixed(0)} ms; suite took ${(performance.now() - startedAt).toFixed(0)} ms`);
  });

  /** Evaluates `script` in the page at `/` (bounded), logs its duration, checks the result (console printed on failure). */
  async function timed<T>(context: Context, what: string, script: string, check: (result: T) => void): Promise<void> {
    const { browser, origin } = context;
    if (context.setupError) throw context.setupError;
    if (!browser || !origin) throw new Error(`${name} did not start`);
    const started = performance.now();
    const result = await browser.evaluate<T>(`${origin}/`, script, { timeoutMs: TEST_TIMEOUT_MS });
    console.log(`${name}: ${what} in ${(performance.now() - started).toFixed(0)} ms`);
    try {
      check(result);
    } catch (error) {
      console.log(`--- ${name} console\n${browser.log.join('\n')}`);
      throw error;
    }
  }

  it('page and fetch() over HTTP/3 (nextHopProtocol h3)', async (context) => {
    await timed<FetchProbe>(context, 'page + fetch', fetchProbeScript('/hello'), (probe) => {
      assert.is(probe.status, 200);
      assert.is(probe.body, HELLO);
      assert.is(probe.pageProtocol, 'h3', "the page's nextHopProtocol");
      assert.is(probe.fetchProtocol, 'h3', "the fetch's nextHopProtocol");
    });
  });

  it('10 MiB download arrives intact (SHA-256 in the page)', async (context) => {
    const expected = bigBody();
    await timed<DownloadProbe>(context, '10 MiB download', downloadProbeScript('/big'), (probe) => {
      assert.is(probe.status, 200);
      assert.is(probe.length, BIG_SIZE);
      assert.is(probe.sha256, expected.sha256);
      assert.is(probe.fetchProtocol, 'h3');
    });
  });

  it(`${PARALLEL} parallel fetch()es all succeed over HTTP/3`, async (context) => {
    const paths = Array.from({ length: PARALLEL }, (_, i) => `/n/${i}`);
    await timed<ParallelProbe>(context, `${PARALLEL} parallel fetches`, parallelFetchScript(paths), (probe) => {
      const wrong = probe.results.map((r, i) => ('error' in r ? `#${i}: ${r.error}` : r.status !== 200 || r.body !== `n${i}` ? `#${i}: ${r.status} ${r.body.slice(0, 40)}` : '')).filter(Boolean);
      assert.equal(wrong, [], `failed fetches: ${wrong.slice(0, 10).join('; ')}`);
      const notH3 = probe.protocols.filter((p) => p !== 'h3');
      assert.equal(notH3, [], 'every fetch over h3');
    });
  });

  return s;
}

browserSuite('chromium').run();
browserSuite('firefox').run();
