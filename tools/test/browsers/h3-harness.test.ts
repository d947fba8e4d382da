/**
 * The browser harness proven against a known-good HTTP/3 server, ngtcp2's `gtlsserver` (Debian
 * ngtcp2-server): headless Chromium and Firefox ESR each load a page over HTTP/3 and a fetch()
 * from it reports nextHopProtocol 'h3'. If this fails, the harness or the machine is at fault,
 * not our server. Outside CI, skipped (reason printed) when a browser or gtlsserver is absent; in
 * CI it fails instead (.ci/run installs them).
 */

import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, type SelfSignedCertificate } from '@purequic/quic';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';
import { fetchProbeScript, launchChromium, launchFirefox, missingBrowsers, requirePrograms, spkiSha256Base64, withTimeout, type BrowserSession, type FetchProbe } from '../../browsers/harness.js';

const peer = ngtcp2Peer();
const peerMissing = peer.ok ? [] : [peer.reason];
const runChromium = requirePrograms('Chromium vs ngtcp2', [...missingBrowsers(['chromium']), ...peerMissing]);
const runFirefox = requirePrograms('Firefox vs ngtcp2', [...missingBrowsers(['firefox']), ...peerMissing]);

/** Whole-test bound: a browser launch (Firefox 3-5 s idle) plus one page and one fetch. */
const TEST_TIMEOUT_MS = 60_000;
const BODY = 'hello from gtlsserver over HTTP/3\n';

let directory = '';
let certificate: SelfSignedCertificate;
let server: SpawnedProcess | undefined;
let port = 0;
/** uvu swallows a failing before hook's error (its runner returns from `finally`): kept for the tests to throw. */
let setupError: Error | undefined;

/** A UDP port nobody uses right now (gtlsserver cannot report the port it picked). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port: free } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return free;
}

test.before(async () => {
  if (!runChromium && !runFirefox) return;
  await setUp().catch((error: unknown) => {
    setupError = error as Error;
  });
});

async function setUp(): Promise<void> {
  if (!peer.ok) throw new Error(peer.reason);
  directory = mkdtempSync(join(tmpdir(), 'purequic-browsers-ngtcp2-'));
  mkdirSync(join(directory, 'www'));
  writeFileSync(join(directory, 'www', 'index.html'), '<!doctype html><title>purequic browser harness</title><p>page');
  writeFileSync(join(directory, 'www', 'data.txt'), BODY);
  // ECDSA P-256, 13 days: what both browsers accept (and WebTransport's hashes require).
  certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
  port = await freeUdpPort();
  server = new SpawnedProcess(
    peer.peer.server,
    ['-q', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')],
    {},
    directory,
  );
  assert.ok(await server.waitFor(/Using document root/, 15_000), `gtlsserver did not start:\n${server.output}`);
}

test.after(async () => {
  await server?.stop();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

async function pageAndFetchOverH3(launch: () => Promise<BrowserSession>): Promise<void> {
  if (setupError) throw setupError;
  const started = performance.now();
  const browser = await launch();
  try {
    const loaded = performance.now();
    const probe = await browser.evaluate<FetchProbe>(`https://127.0.0.1:${port}/index.html`, fetchProbeScript('/data.txt'));
    console.log(`${browser.name}: launch ${browser.launchMs.toFixed(0)} ms, page + fetch ${(performance.now() - loaded).toFixed(0)} ms`);
    const context = `\n--- ${browser.name} console\n${browser.log.join('\n')}\n--- gtlsserver (tail)\n${server?.output.split('\n').slice(-20).join('\n')}`;
    assert.is(probe.status, 200, `fetch status${context}`);
    assert.is(probe.body, BODY, `fetch body${context}`);
    assert.is(probe.pageProtocol, 'h3', `the page's nextHopProtocol${context}`);
    assert.is(probe.fetchProtocol, 'h3', `the fetch's nextHopProtocol${context}`);
  } finally {
    await browser.close();
    console.log(`closed after ${(performance.now() - started).toFixed(0)} ms`);
  }
}

(runChromium ? test : test.skip)('Chromium loads a page and fetch()es over HTTP/3 from ngtcp2 (nextHopProtocol h3)', async () => {
  await withTimeout(pageAndFetchOverH3(() => launchChromium({ quicPort: port, spkiB64: spkiSha256Base64(certificate.certificatePem) })), TEST_TIMEOUT_MS, 'Chromium test');
});

(runFirefox ? test : test.skip)('Firefox loads a page and fetch()es over HTTP/3 from ngtcp2 (nextHopProtocol h3)', async () => {
  await withTimeout(pageAndFetchOverH3(() => launchFirefox({ quicPort: port })), TEST_TIMEOUT_MS, 'Firefox test');
});

test.run();
