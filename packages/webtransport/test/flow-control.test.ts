/**
 * Session flow control (draft-16 §5) between our client and server (both webtransport-h3 with
 * initial limits): small windows are replenished with WT_MAX_DATA / WT_MAX_STREAMS as data is
 * read and streams close, so transfers far larger than the windows complete; a peer that sends
 * past WT_MAX_DATA has its session closed with WT_FLOW_CONTROL_ERROR.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebTransport, WtErrorCode, createWebTransportServer, generateWebTransportCertificate, type WebTransportBidirectionalStream } from '../src/index.js';

const cert = await generateWebTransportCertificate();
const hashes = [{ algorithm: 'sha-256', value: cert.sha256 }];

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) n += c.length;
  return n;
}

const server = await createWebTransportServer({
  host: '127.0.0.1',
  port: 0,
  certificatePem: cert.certificatePem,
  privateKeyPem: cert.privateKeyPem,
  limits: { maxData: 8192, maxStreamsBidi: 4, maxStreamsUni: 4 },
});
const serverCloses: unknown[] = [];
void (async () => {
  for await (const s of server) {
    s.accept();
    s.closed.then((c) => serverCloses.push(c), (e) => serverCloses.push(e));
    // '/violate' reads nothing: what arrives beyond the advertised credit is a violation. (A
    // reader that consumes promptly keeps raising the credit, as in QUIC.)
    if (s.path === '/violate') continue;
    void (async () => {
      for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) void bs.readable.pipeTo(bs.writable).catch(() => {});
    })().catch(() => {});
  }
})();
const base = `https://127.0.0.1:${server.port}`;

test('1 MB through an 8 KiB session window and 40 streams through a 4-stream limit (credit replenished)', async () => {
  const wt = new WebTransport(`${base}/fc`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  assert.ok(wt.core!.flowControl, 'flow control negotiated');
  const bs = await wt.createBidirectionalStream();
  const big = new Uint8Array(1_000_000).fill(3);
  const writer = bs.writable.getWriter();
  const sent = writer.write(big).then(() => writer.close());
  assert.is(await bounded(readAll(bs.readable), 30_000, '1 MB echo'), big.length);
  await sent;
  const many = await bounded(
    Promise.all(
      Array.from({ length: 40 }, async () => {
        const s = await wt.createBidirectionalStream();
        const w = s.writable.getWriter();
        await w.write(new Uint8Array(100));
        await w.close();
        return readAll(s.readable);
      }),
    ),
    30_000,
    '40 streams',
  );
  assert.ok(many.every((n) => n === 100));
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
});

test('a peer sending past WT_MAX_DATA: the session is closed with WT_FLOW_CONTROL_ERROR', async () => {
  const wt = new WebTransport(`${base}/violate`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const core = wt.core!;
  const s = core.openStream(true)!;
  // Around the session's credit: QUIC's own stream window allows it, WebTransport's does not.
  const n = core.conn.h3.quic.writeStream(s.id, new Uint8Array(20_000), false);
  assert.is(n, 20_000);
  core.conn.flush();
  const info = await bounded(wt.closed, 5000, 'closed by the server');
  assert.is(info.closeCode, WtErrorCode.FLOW_CONTROL_ERROR);
});

test.after(async () => {
  await server.close();
});

test.run();
