/**
 * Alt-Svc discovery in a real browser, the way a deployment is reached: a `node:https` server and
 * our HTTP/3 server on the same port number (`listenHttp3Beside` from @purequic/h3), and Firefox
 * ESR without the test-only alt-svc-mapping pref. The first navigation goes over TCP and brings
 * `alt-svc: h3=":PORT"`; the page's next fetch() already comes from our HTTP/3 server, and so
 * does the next navigation.
 *
 * Firefox only: Chromium 156 stays on TCP here (checked by hand: every navigation and fetch
 * http/1.1, twice over). It most likely skips Alt-Svc on a response whose certificate had errors,
 * even errors its SPKI pin lets through, and a test certificate always has them (self-signed);
 * the other browser tests force QUIC for the origin instead.
 */

import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenHttp3Beside, type Http3Server } from '@purequic/h3';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { launchFirefox, missingBrowsers, requirePrograms, type BrowserSession } from '../../browsers/harness.js';

const run = requirePrograms('Alt-Svc in Firefox', missingBrowsers(['firefox']));
/** Bound on one page load with its fetch (the launch has the harness's own bound). */
const STEP_TIMEOUT_MS = 20_000;

interface Probe {
  pageBody: string;
  pageProtocol: string;
  fetchBody: string;
  fetchProtocol: string | null;
}

/** The page's own body and protocol, then one fetch() and its protocol. */
const PROBE = `(async () => {
  const url = new URL('/fetched', location.href).href;
  const response = await fetch(url, { cache: 'no-store' });
  const fetchBody = await response.text();
  let entry;
  for (let i = 0; i < 100 && !entry; i++) {
    entry = performance.getEntriesByType('resource').find((e) => e.name === url);
    if (!entry) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { pageBody: document.body.textContent, pageProtocol: performance.getEntriesByType('navigation')[0].nextHopProtocol, fetchBody, fetchProtocol: entry ? entry.nextHopProtocol : null };
})()`;

(run ? test : test.skip)('Firefox follows alt-svc from HTTPS over TCP to our HTTP/3 server on the same port number', async () => {
  const cert = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  const page = (via: string): string => `<!doctype html><meta charset="utf-8"><title>alt-svc</title><body>${via}`;
  let tcp: HttpsServer | undefined;
  let h3: Http3Server | undefined;
  let browser: BrowserSession | undefined;
  try {
    tcp = createHttpsServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(req.url === '/fetched' ? 'tcp' : page('tcp'));
    });
    const server = tcp;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    h3 = await listenHttp3Beside(tcp, { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem }, (req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(req.url === '/fetched' ? 'h3' : page('h3'));
    });
    const url = `https://127.0.0.1:${h3.port}/`;
    // Each step is bounded by the harness (launch, then each page load with its script).
    browser = await launchFirefox({});
    const first = await browser.evaluate<Probe>(url, PROBE, { timeoutMs: STEP_TIMEOUT_MS });
    const second = await browser.evaluate<Probe>(url, PROBE, { timeoutMs: STEP_TIMEOUT_MS });
    console.log(`firefox: launch ${browser.launchMs.toFixed(0)} ms; first load ${JSON.stringify(first)}; second ${JSON.stringify(second)}`);
    // Nothing told Firefox about HTTP/3 before this response's alt-svc header.
    assert.is(first.pageBody, 'tcp');
    assert.is(first.pageProtocol, 'http/1.1');
    assert.is(first.fetchBody, 'h3', 'the fetch after the alt-svc response comes from the HTTP/3 server');
    assert.is(first.fetchProtocol, 'h3');
    assert.is(second.pageBody, 'h3', 'the next navigation comes from the HTTP/3 server');
    assert.is(second.pageProtocol, 'h3');
    assert.is(second.fetchProtocol, 'h3');
  } finally {
    await browser?.close();
    await h3?.close();
    if (tcp) {
      const server = tcp;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
});

test.run();
