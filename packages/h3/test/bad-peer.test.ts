/**
 * Bad input at our HTTP/3 server from a raw QUIC client on loopback: each malformation ends in
 * its RFC 9114 error code (the connection's, or only the stream's), and the server keeps serving
 * other connections meanwhile.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint, generateSelfSignedCertificate, type QuicConnection } from '@purequic/quic';
import { H3ErrorCode, Http3Client, QpackEncoder, createServer, encodeFrame, encodeSettings } from '../src/index.js';

const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1'] });
const server = await createServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem }, (req, res) => void res.end(`ok ${req.url}`));
const good = new Http3Client({ ca: cert.certificatePem, caOnly: true });
const raw = await QuicEndpoint.bind({ host: '127.0.0.1' });

test.after(async () => {
  await good.close();
  await raw.close();
  await server.close();
});

function bounded<T>(p: Promise<T>, ms = 15_000): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function rawConnection(): Promise<QuicConnection> {
  return raw.connect({ host: '127.0.0.1', port: server.port, alpnProtocols: ['h3'], verification: { mode: 'chain', trustAnchors: [cert.certificatePem] } });
}

async function send(stream: { writable: WritableStream<Uint8Array> }, bytes: Uint8Array, close: boolean): Promise<void> {
  const w = stream.writable.getWriter();
  await w.write(bytes);
  if (close) await w.close();
  else w.releaseLock();
}

async function closeCode(conn: QuicConnection): Promise<number | undefined> {
  const reason = await bounded(conn.closed);
  return 'code' in reason ? reason.code : undefined;
}

const controlWith = (...frames: Uint8Array[]) => new Uint8Array([0x00, ...frames.flatMap((f) => [...f])]);

for (const [name, setup, code] of [
  ['a control stream without SETTINGS first', async (c: QuicConnection) => send(await c.openUnidirectionalStream(), controlWith(encodeFrame(0x07, new Uint8Array([0]))), false), H3ErrorCode.MISSING_SETTINGS],
  ['a second SETTINGS frame', async (c: QuicConnection) => send(await c.openUnidirectionalStream(), controlWith(encodeSettings([]), encodeSettings([])), false), H3ErrorCode.FRAME_UNEXPECTED],
  ['a closed control stream', async (c: QuicConnection) => send(await c.openUnidirectionalStream(), controlWith(encodeSettings([])), true), H3ErrorCode.CLOSED_CRITICAL_STREAM],
  ['two control streams', async (c: QuicConnection) => {
    await send(await c.openUnidirectionalStream(), controlWith(encodeSettings([])), false);
    await send(await c.openUnidirectionalStream(), controlWith(encodeSettings([])), false);
  }, H3ErrorCode.STREAM_CREATION_ERROR],
  ['DATA before HEADERS on a request stream', async (c: QuicConnection) => send(await c.openBidirectionalStream(), encodeFrame(0x00, new Uint8Array([1, 2])), true), H3ErrorCode.FRAME_UNEXPECTED],
  ['an HTTP/2 frame type on a request stream', async (c: QuicConnection) => send(await c.openBidirectionalStream(), encodeFrame(0x06, new Uint8Array(8)), true), H3ErrorCode.FRAME_UNEXPECTED],
  ['a push stream from a client', async (c: QuicConnection) => send(await c.openUnidirectionalStream(), new Uint8Array([0x01, 0x00]), false), H3ErrorCode.STREAM_CREATION_ERROR],
  ['a QPACK encoder stream inserting past the capacity', async (c: QuicConnection) => send(await c.openUnidirectionalStream(), new Uint8Array([0x02, 0x3f, 0xe1, 0xff, 0x0f]), false), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR],
] as [string, (c: QuicConnection) => Promise<void>, number][]) {
  test(`${name}: the connection closes with ${code.toString(16)}; others are served`, async () => {
    const c = await bounded(rawConnection());
    await setup(c);
    assert.is(await closeCode(c), code);
    const r = await bounded(good.fetch(`https://127.0.0.1:${server.port}/still`));
    assert.is(await r.text(), 'ok /still');
  });
}

test('a malformed request resets only its stream (H3_MESSAGE_ERROR); the connection serves the next one', async () => {
  const c = await bounded(rawConnection());
  await send(await c.openUnidirectionalStream(), controlWith(encodeSettings([])), false);
  const enc = new QpackEncoder();
  const bad = await c.openBidirectionalStream();
  await send(bad, encodeFrame(0x01, enc.encode(bad.id, [{ name: ':method', value: 'GET' }, { name: ':path', value: '/' }])), true); // no :scheme, no :authority
  const reader = bad.readable.getReader();
  const failure = await bounded(reader.read().then(() => undefined, (e: unknown) => e));
  assert.ok(failure instanceof Error);
  assert.match(String((failure as Error).message), /270|0x10e|reset/i);
  const okStream = await c.openBidirectionalStream();
  await send(okStream, encodeFrame(0x01, enc.encode(okStream.id, [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'x' }, { name: ':path', value: '/next' }])), true);
  let got = 0;
  for await (const chunk of okStream.readable) got += chunk.length;
  assert.ok(got > 0, 'a response came back on the same connection');
  await c.close(0x100, '');
});

test.run();
