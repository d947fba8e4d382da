/**
 * A peer that breaks the rules, written by hand on our client's CONNECT stream and streams:
 * unknown capsules are skipped; a WT_CLOSE_SESSION over 1,024 bytes or not UTF-8 resets the
 * CONNECT stream with H3_MESSAGE_ERROR; data after WT_CLOSE_SESSION likewise; a WT_MAX_DATA that
 * does not increase is WT_FLOW_CONTROL_ERROR; a stream naming a session id that is not a client
 * bidirectional stream is refused. Nothing throws, the server keeps serving.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { H3ErrorCode, encodeCapsule, encodeVarints } from '@purequic/h3';
import { WebTransport, WtCapsule, WtErrorCode, createWebTransportServer, generateWebTransportCertificate, type WebTransportBidirectionalStream, type WebTransportSession } from '../src/index.js';

const cert = await generateWebTransportCertificate();
const hashes = [{ algorithm: 'sha-256', value: cert.sha256 }];
const enc = new TextEncoder();

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
const serverSessions: WebTransportSession[] = [];
void (async () => {
  for await (const s of server) {
    serverSessions.push(s);
    s.accept();
    s.closed.catch(() => {});
    void (async () => {
      for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) void bs.readable.pipeTo(bs.writable).catch(() => {});
    })().catch(() => {});
  }
})();
const url = `https://127.0.0.1:${server.port}/hostile`;

async function open(): Promise<{ wt: WebTransport; raw: (bytes: Uint8Array, fin?: boolean) => void; session: () => WebTransportSession }> {
  const before = serverSessions.length;
  const wt = new WebTransport(url, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const core = wt.core!;
  return {
    wt,
    raw: (bytes, fin = false) => {
      core.conn.h3.sendData(core.id, bytes, fin);
      core.conn.flush();
    },
    session: () => serverSessions[before]!,
  };
}

async function echoWorks(wt: WebTransport): Promise<boolean> {
  const bs = await wt.createBidirectionalStream();
  const w = bs.writable.getWriter();
  await w.write(enc.encode('ok?'));
  await w.close();
  let s = '';
  for await (const c of bs.readable as unknown as AsyncIterable<Uint8Array>) s += new TextDecoder().decode(c);
  return s === 'ok?';
}

test('unknown capsules (and a GREASE-like type) are skipped; the session goes on', async () => {
  const { wt, raw } = await open();
  raw(encodeCapsule(0x17, new Uint8Array(3000)));
  raw(encodeCapsule(0x2a * 0x1f + 0x21, enc.encode('grease')));
  assert.ok(await bounded(echoWorks(wt), 5000, 'echo after unknown capsules'));
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
});

test('a WT_CLOSE_SESSION with a 2,000-byte reason resets the CONNECT stream with H3_MESSAGE_ERROR', async () => {
  const { wt, raw, session } = await open();
  const value = new Uint8Array(4 + 2000).fill(0x61);
  raw(encodeCapsule(WtCapsule.CLOSE_SESSION, value));
  const e = await bounded(wt.closed.then(() => undefined, (err: Error) => err), 5000, 'client session ends');
  assert.ok(e, 'the client session was aborted');
  const se = await bounded(session().closed.then(() => undefined, (err: Error) => err), 5000, 'server session ends');
  assert.match(String(se?.message), new RegExp(`0x${H3ErrorCode.MESSAGE_ERROR.toString(16)}|exceeds`));
});

test('a WT_CLOSE_SESSION that is not UTF-8, and data after a close: H3_MESSAGE_ERROR', async () => {
  const a = await open();
  a.raw(encodeCapsule(WtCapsule.CLOSE_SESSION, new Uint8Array([0, 0, 0, 1, 0xc3, 0x28])));
  const se = await bounded(a.session().closed.then(() => undefined, (err: Error) => err), 5000, 'server session ends');
  assert.match(String(se?.message), /malformed WT_CLOSE_SESSION/);
  const b = await open();
  b.raw(encodeCapsule(WtCapsule.CLOSE_SESSION, new Uint8Array([0, 0, 0, 9, 0x62])));
  b.raw(encodeCapsule(0x17, new Uint8Array(5)));
  // The server saw the close (code 9, reason 'b') first.
  assert.equal(await bounded(b.session().closed, 5000, 'server closed'), { closeCode: 9, reason: 'b' });
  await bounded(b.wt.closed.catch(() => undefined), 5000, 'client settled');
});

test('a WT_MAX_DATA that does not increase closes the session with WT_FLOW_CONTROL_ERROR', async () => {
  const { wt, raw } = await open();
  assert.ok(wt.core!.flowControl);
  raw(encodeCapsule(WtCapsule.MAX_DATA, encodeVarints(1)));
  const info = await bounded(wt.closed, 5000, 'closed by the server');
  assert.is(info.closeCode, WtErrorCode.FLOW_CONTROL_ERROR);
});

test('a stream naming a session id that is not a client bidirectional stream is refused; the session goes on', async () => {
  const { wt } = await open();
  const core = wt.core!;
  const h3 = core.conn.h3;
  const id = h3.openExtensionStream(false, encodeVarints(0x54, core.id + 1))!;
  h3.quic.writeStream(id, enc.encode('stray'), true);
  core.conn.flush();
  assert.ok(await bounded(echoWorks(wt), 5000, 'echo after a stray stream'));
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
});

test.after(async () => {
  await server.close();
});

test.run();
