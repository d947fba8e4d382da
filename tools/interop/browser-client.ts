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
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, launchFirefox, spkiSha256Base64, type BrowserName, type BrowserSession } from '../browsers/harness.js';

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

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // exit() rather than exitCode: a driver's leftover handles must not keep the client alive.
  process.exit(await main());
}
