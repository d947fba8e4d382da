/**
 * A real browser as the interop runner's HTTP/3 client: Debian's Chromium or Firefox ESR, driven
 * through tools/browsers/harness.ts, downloads the runner's REQUESTS over HTTP/3 and this script
 * writes each body to DOWNLOADS, so the runner's file check judges the browser like any other
 * client. The matrix's `chromium` and `firefox` peers (peers-config.ts) launch it.
 *
 *   BROWSER=chromium|firefox TESTCASE=http3 REQUESTS="https://127.0.0.1:4433/a ..." \
 *   DOWNLOADS=/tmp/d CERTS=/tmp/certs node --import tsx tools/interop/browser-client.ts
 *
 * The page is the server's own origin (`/`, whatever the server answers there) so the fetches
 * are same-origin and need no CORS; HTTP/3 is forced from the first request (Chromium:
 * `--origin-to-force-quic-on`; Firefox: the alt-svc mapping pref), and the certificate is
 * accepted by its SPKI pin (Chromium) or as insecure (Firefox). Every download must report
 * `nextHopProtocol` h3, or the run fails: a browser that fell back to TCP proves nothing.
 *
 * Exit status: 0 when every file arrived over HTTP/3; 127 for a TESTCASE it does not run (the
 * runner contract); 1 otherwise.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certificateSha256, launchChromium, launchFirefox, spkiSha256Base64, type BrowserName, type BrowserSession } from '../browsers/harness.js';

/**
 * The TESTCASE values a browser runs: every file in one page over one connection, except
 * `multiconnect` (one browser, hence one connection, per file). What it cannot do: choose its
 * cipher suites (chacha20), update keys on demand (keyupdate), keep a session ticket across runs
 * (resumption, zerortt), speak QUIC v2, or migrate on purpose.
 */
export const BROWSER_TESTCASES = ['handshake', 'transfer', 'multiplexing', 'longrtt', 'http3', 'retry', 'multiconnect', 'blackhole', 'goodput', 'crosstraffic'];

/** Bound on the page's whole download. */
const DOWNLOAD_TIMEOUT_MS = 90_000;

interface PageDownload {
  url: string;
  status: number;
  protocol: string;
  /** The body as a data: URL (base64), from FileReader, or the error. */
  dataUrl?: string;
  error?: string;
}

/**
 * Page script: fetches every URL at once and returns each body as base64 with its protocol.
 * FileReader's data URL is the browser's own base64 encoder (no JavaScript loop over the bytes).
 */
function downloadScript(urls: string[]): string {
  return `(async () => {
    performance.setResourceTimingBufferSize(${urls.length + 50});
    const urls = ${JSON.stringify(urls)};
    const asDataUrl = (blob) => new Promise((resolve, reject) => { const r = new FileReader(); r.onload = () => resolve(r.result); r.onerror = () => reject(r.error); r.readAsDataURL(blob); });
    const results = await Promise.all(urls.map((url) => fetch(url, { cache: 'no-store' }).then(
      async (response) => ({ url, status: response.status, dataUrl: await asDataUrl(await response.blob()) }),
      (error) => ({ url, status: 0, error: String(error && error.message || error) }))));
    for (let i = 0; i < 100; i++) {
      const entries = performance.getEntriesByType('resource');
      for (const r of results) { const e = entries.find((x) => x.name === r.url); r.protocol = e ? e.nextHopProtocol : ''; }
      if (results.every((r) => r.protocol !== '')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return results;
  })()`;
}

function decodeDataUrl(dataUrl: string): Buffer {
  const comma = dataUrl.indexOf(',');
  return Buffer.from(dataUrl.slice(comma + 1), 'base64');
}

async function main(): Promise<number> {
  const env = process.env;
  const browserName = env.BROWSER as BrowserName | undefined;
  if (browserName !== 'chromium' && browserName !== 'firefox') {
    console.error(`BROWSER must be chromium or firefox, got ${browserName}`);
    return 1;
  }
  const testcase = env.TESTCASE ?? '';
  if (env.WEBTRANSPORT === '1') return webTransportClient(browserName, testcase, env);
  if (!BROWSER_TESTCASES.includes(testcase)) {
    console.log(`unsupported test case: ${testcase}`);
    return 127;
  }
  const urls = (env.REQUESTS ?? '').split(/\s+/).filter((u) => u !== '');
  const downloads = env.DOWNLOADS;
  if (urls.length === 0 || !downloads) {
    console.error('REQUESTS and DOWNLOADS are required');
    return 1;
  }
  mkdirSync(downloads, { recursive: true });
  const pins = env.CERTS ? [spkiSha256Base64(readFileSync(join(env.CERTS, 'cert.pem'), 'utf8'))] : [];
  // multiconnect: a fresh browser (a fresh profile, so nothing resumed) per file, one at a time.
  const runs = testcase === 'multiconnect' ? urls.map((u) => [u]) : [urls];
  let failed = 0;
  for (const run of runs) failed += await downloadInOneBrowser(browserName, run, downloads, pins);
  return failed === 0 ? 0 : 1;
}

/** Downloads `urls` in one page of a new browser; returns how many failed. */
async function downloadInOneBrowser(browserName: BrowserName, urls: string[], downloads: string, pins: string[]): Promise<number> {
  const first = new URL(urls[0]!);
  const port = Number(first.port || 443);
  let browser: BrowserSession | undefined;
  try {
    browser = browserName === 'chromium' ? await launchChromium({ quicPort: port, spkiB64: pins }) : await launchFirefox({ quicPort: port });
    console.log(`${browserName} launched in ${Math.round(browser.launchMs)} ms; fetching ${urls.length} URLs from ${first.origin}`);
    const results = await browser.evaluate<PageDownload[]>(`${first.origin}/`, downloadScript(urls), { timeoutMs: DOWNLOAD_TIMEOUT_MS });
    let failed = 0;
    for (const r of results) {
      if (r.error !== undefined || r.status !== 200 || r.dataUrl === undefined) {
        console.error(`${r.url}: ${r.error ?? `status ${r.status}`}`);
        failed++;
        continue;
      }
      if (r.protocol !== 'h3') {
        console.error(`${r.url}: fetched over ${r.protocol || 'an unknown protocol'}, not h3`);
        failed++;
        continue;
      }
      writeFileSync(join(downloads, basename(new URL(r.url).pathname)), decodeDataUrl(r.dataUrl));
    }
    console.log(`${results.length - failed} of ${results.length} files over h3`);
    if (failed > 0) console.error(browser.log.slice(-20).join('\n'));
    return failed;
  } catch (error) {
    console.error(`${browserName}: ${(error as Error).message}`);
    return urls.length;
  } finally {
    await browser?.close();
  }
}

/** The WebTransport runner cases a page runs: the handshake and the client's requests. */
export const BROWSER_WT_TESTCASES = ['handshake', 'transfer-unidirectional-receive', 'transfer-bidirectional-receive', 'transfer-datagram-receive'];

interface WtPageResult {
  error?: string;
  /** Per endpoint: the protocol the session negotiated ('' or undefined: none). */
  protocols: Record<string, string | undefined>;
  /** `endpoint/file` to the body as base64. */
  files: Record<string, string>;
}

/**
 * Page script: the runner's WebTransport client (webtransport-endpoint.ts does the same on Node):
 * one session per endpoint, all opened at once, then every file requested at once in the case's
 * mode. No `allowPooling`: the W3C API refuses it with `serverCertificateHashes`, so a browser
 * opens one connection per session where the contract wants them pooled on one. Datagram requests are repeated every second until the answer comes (a datagram may be
 * lost), at most 15 times.
 */
function webTransportScript(requests: string[], mode: string | undefined, protocols: string[], hash: Uint8Array): string {
  return `(async () => {
    const enc = new TextEncoder(), dec = new TextDecoder();
    const hash = new Uint8Array(${JSON.stringify([...hash])});
    const requests = ${JSON.stringify(requests)};
    const mode = ${JSON.stringify(mode ?? null)};
    const out = { protocols: {}, files: {} };
    const b64 = (bytes) => { let s = ''; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)); return btoa(s); };
    const bytesOf = async (readable) => { const parts = []; const r = readable.getReader(); for (;;) { const { value, done } = await r.read(); if (done) break; parts.push(value); } let n = 0; for (const p of parts) n += p.length; const b = new Uint8Array(n); let o = 0; for (const p of parts) { b.set(p, o); o += p.length; } return b; };
    const send = async (writable, text) => { const w = writable.getWriter(); await w.write(enc.encode(text)); await w.close(); };
    const splitPush = (bytes) => { const nl = bytes.indexOf(10); const head = dec.decode(bytes.subarray(0, nl)); if (!head.startsWith('PUSH ')) throw new Error('not a PUSH: ' + head.slice(0, 40)); return [head.slice(5), bytes.subarray(nl + 1)]; };
    const byEndpoint = new Map();
    for (const r of requests) { const u = new URL(r); const [endpoint, ...rest] = u.pathname.split('/').filter((p) => p !== ''); const e = byEndpoint.get(endpoint) || { origin: u.origin, files: [] }; if (rest.join('/')) e.files.push(rest.join('/')); byEndpoint.set(endpoint, e); }
    const sessions = [];
    try {
      await Promise.all([...byEndpoint].map(async ([endpoint, { origin, files }]) => {
        const wt = new WebTransport(origin + '/' + endpoint, { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }], protocols: ${JSON.stringify(protocols)} });
        sessions.push(wt);
        await wt.ready;
        out.protocols[endpoint] = wt.protocol;
        if (mode === 'unidirectional') {
          const incoming = wt.incomingUnidirectionalStreams.getReader();
          await Promise.all(files.map(async (f) => send(await wt.createUnidirectionalStream(), 'GET ' + f)));
          for (let i = 0; i < files.length; i++) { const { value } = await incoming.read(); const [name, body] = splitPush(await bytesOf(value)); out.files[endpoint + '/' + name] = b64(body); }
        } else if (mode === 'bidirectional') {
          await Promise.all(files.map(async (f) => { const s = await wt.createBidirectionalStream(); await send(s.writable, 'GET ' + f); out.files[endpoint + '/' + f] = b64(await bytesOf(s.readable)); }));
        } else if (mode === 'datagram') {
          const writer = wt.datagrams.writable.getWriter();
          const reader = wt.datagrams.readable.getReader();
          const waiting = new Set(files);
          const ask = async () => { for (const f of waiting) await writer.write(enc.encode('GET ' + f)); };
          await ask();
          for (let attempt = 0; waiting.size > 0 && attempt < 15; attempt++) {
            const deadline = Date.now() + 1000;
            while (waiting.size > 0 && Date.now() < deadline) {
              const r = await Promise.race([reader.read(), new Promise((res) => setTimeout(() => res(null), Math.max(1, deadline - Date.now())))]);
              if (!r || r.done) continue;
              const [name, body] = splitPush(r.value);
              if (waiting.delete(name)) out.files[endpoint + '/' + name] = b64(body);
            }
            if (waiting.size > 0) await ask();
          }
          if (waiting.size > 0) throw new Error('no datagram answer for ' + [...waiting].join(', '));
        }
        wt.close({ closeCode: 0, reason: 'done' });
        await wt.closed.catch(() => {});
      }));
    } catch (e) { out.error = String(e && (e.name + ': ' + e.message + '\\n' + e.stack) || e); for (const s of sessions) try { s.close(); } catch {} }
    return out;
  })()`;
}

/** The runner's WebTransport client role in a page; DOWNLOADS gets the files and negotiated_protocol.txt. */
async function webTransportClient(browserName: BrowserName, testcase: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (!BROWSER_WT_TESTCASES.includes(testcase)) {
    console.log(`unsupported WebTransport test case: ${testcase}`);
    return 127;
  }
  const requests = (env.REQUESTS ?? '').split(/\s+/).filter((u) => u !== '');
  const downloads = env.DOWNLOADS;
  if (requests.length === 0 || !downloads || !env.CERTS) {
    console.error('REQUESTS, DOWNLOADS and CERTS are required');
    return 1;
  }
  const mode = /^transfer-(unidirectional|bidirectional|datagram)-receive$/.exec(testcase)?.[1];
  const protocols = (env.PROTOCOLS ?? '').split(/\s+/).filter((p) => p !== '');
  const hash = certificateSha256(readFileSync(join(env.CERTS, 'cert.pem'), 'utf8'));
  // The page comes from http://localhost (a secure context, as WebTransport requires).
  const page = createHttpServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><meta charset="utf-8"><title>wt client</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  let browser: BrowserSession | undefined;
  try {
    browser = browserName === 'chromium' ? await launchChromium() : await launchFirefox();
    const pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;
    const result = await browser.evaluate<WtPageResult>(pageUrl, webTransportScript(requests, mode, protocols, hash), { timeoutMs: DOWNLOAD_TIMEOUT_MS });
    mkdirSync(downloads, { recursive: true });
    const negotiated = Object.values(result.protocols);
    console.log(`sessions: ${JSON.stringify(result.protocols)}; ${Object.keys(result.files).length} files`);
    // Firefox exposes no `protocol` (undefined): written as none negotiated.
    writeFileSync(join(downloads, 'negotiated_protocol.txt'), negotiated[0] ?? '');
    for (const [name, body] of Object.entries(result.files)) {
      mkdirSync(dirname(join(downloads, name)), { recursive: true });
      writeFileSync(join(downloads, name), Buffer.from(body, 'base64'));
    }
    if (result.error) {
      console.error(`${browserName}: ${result.error}\n${browser.log.slice(-20).join('\n')}`);
      return 1;
    }
    return 0;
  } catch (error) {
    console.error(`${browserName}: ${(error as Error).message}`);
    return 1;
  } finally {
    await browser?.close();
    await new Promise<void>((resolve) => page.close(() => resolve()));
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // exit() rather than exitCode: a driver's leftover handles must not keep the client alive.
  process.exit(await main());
}
