/**
 * Alt-Svc: a node:https server and our HTTP/3 server on the same port number; the TCP response
 * advertises h3 on that port (the header parsed back), and a client that follows it gets the same
 * answer over HTTP/3.
 */

import { request, createServer as createHttpsServer } from 'node:https';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { Http3Client, altSvcValue, listenHttp3Beside, parseAltSvc } from '../src/index.js';

test('parseAltSvc reads what altSvcValue writes, and real-world forms', () => {
  assert.equal(parseAltSvc(altSvcValue(8443, 3600)), [{ protocol: 'h3', host: '', port: 8443, maxAgeSeconds: 3600 }]);
  assert.equal(parseAltSvc('h3=":443"; ma=2592000, h3-29=":443"; ma=2592000').map((e) => e.protocol), ['h3', 'h3-29']);
  assert.equal(parseAltSvc('h3="alt.example:8443"'), [{ protocol: 'h3', host: 'alt.example', port: 8443, maxAgeSeconds: undefined }]);
  assert.equal(parseAltSvc('clear'), []);
});

test('HTTPS and HTTP/3 on one port number; the TCP response advertises h3 there', async () => {
  const cert = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  const tcp = createHttpsServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (_req, res) => res.end('over tcp'));
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const h3 = await listenHttp3Beside(tcp, { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem }, (_req, res) => void res.end('over h3'));
  const client = new Http3Client({ ca: cert.certificatePem, caOnly: true });
  try {
    const port = (tcp.address() as { port: number }).port;
    assert.is(h3.port, port);
    const altSvc = await new Promise<string>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, path: '/', ca: cert.certificatePem, servername: 'localhost' }, (res) => {
        res.resume();
        resolve(String(res.headers['alt-svc']));
      });
      r.on('error', reject);
      r.end();
    });
    const [entry] = parseAltSvc(altSvc);
    assert.is(entry!.protocol, 'h3');
    assert.is(entry!.port, port);
    assert.ok((entry!.maxAgeSeconds ?? 0) > 0);
    const r = await client.fetch(`https://127.0.0.1:${entry!.port}/`);
    assert.is(await r.text(), 'over h3');
  } finally {
    await client.close();
    await h3.close();
    await new Promise((resolve) => tcp.close(resolve));
  }
});

test.run();
