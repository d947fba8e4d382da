/**
 * Churn: 5,000 sessions opened and closed on one pooled connection (each with a bidi echo and a
 * datagram), then the heap after gc is compared with the heap after a warm-up of 100: no
 * per-session or per-stream state may stay behind (on either side). Then 60 sessions whose
 * connections are killed mid-stream (either side): every promise settles, nothing is unhandled.
 * And a datagram flood into a reader that does not read: drops counted, never silent.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebTransport, WebTransportError, createWebTransportServer, generateWebTransportCertificate, type WebTransportBidirectionalStream } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const enc = new TextEncoder();

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

test('10,100 sessions opened and closed on one connection: heap back near where it was after 100', async () => {
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  let serverSessions = 0;
  let serverConn: import('../src/index.js').WtConnection | undefined;
  void (async () => {
    for await (const s of server) {
      serverSessions++;
      serverConn ??= s.core!.conn;
      s.accept();
      void (async () => {
        for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) void bs.readable.pipeTo(bs.writable).catch(() => {});
      })().catch(() => {});
      void (async () => {
        const r = s.datagrams.readable.getReader();
        const { value } = await r.read();
        if (value) await s.datagrams.writable.getWriter().write(value);
      })().catch(() => {});
    }
  })();
  const url = `https://127.0.0.1:${server.port}/churn`;
  // A long-lived session keeps the pooled connection open between the short ones.
  const anchor = new WebTransport(url, { allowPooling: true, insecure: true });
  await bounded(anchor.ready, 5000, 'anchor ready');
  const one = async () => {
    const wt = new WebTransport(url, { allowPooling: true, insecure: true });
    await wt.ready;
    const bs = await wt.createBidirectionalStream();
    const w = bs.writable.getWriter();
    await w.write(enc.encode('ping'));
    await w.close();
    for await (const _ of bs.readable as unknown as AsyncIterable<Uint8Array>) void _;
    await wt.datagrams.writable.getWriter().write(enc.encode('d'));
    wt.close({ closeCode: 1, reason: 'churn' });
    await wt.closed;
  };
  const batch = async (n: number) => {
    for (let i = 0; i < n; i += 20) await bounded(Promise.all(Array.from({ length: Math.min(20, n - i) }, one)), 20_000, `sessions ${i}..`);
  };
  await batch(100);
  const base = await heapAfterGc();
  const started = performance.now();
  await batch(10_000);
  const ms = performance.now() - started;
  const after = await heapAfterGc();
  const wtConn = anchor.core!.conn;
  console.log(`10,000 sessions in ${ms.toFixed(0)} ms (${(10_000 / (ms / 1000)).toFixed(0)}/s); heap ${(base / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB; sessions left on the client connection ${wtConn.sessions.size}, streams ${wtConn.streamCount}`);
  assert.is(serverSessions, 10_101);
  // Only the anchor is left; every short session and stream was forgotten on the client.
  assert.is(wtConn.sessions.size, 1);
  assert.is(wtConn.streamCount, 0);
  assert.ok(after < base * 1.1 + 2e6, `heap grew from ${base} to ${after}`);
  // The server forgot them too (only the anchor's session remains on its connection).
  assert.is(serverConn!.sessions.size, 1);
  assert.is(serverConn!.streamCount, 0);
  anchor.close();
  await bounded(anchor.closed, 5000, 'anchor closed');
  await server.close();
});

test('100,000 short streams in one session: heap after gc back near where it was after 1,000; nothing left on either side', async () => {
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  let serverConn: import('../src/index.js').WtConnection | undefined;
  void (async () => {
    for await (const s of server) {
      serverConn = s.core!.conn;
      s.accept();
      void (async () => {
        for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) void bs.readable.pipeTo(bs.writable).catch(() => {});
      })().catch(() => {});
    }
  })();
  const wt = new WebTransport(`https://127.0.0.1:${server.port}/streams`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }] });
  await bounded(wt.ready, 5000, 'ready');
  const one = async () => {
    const bs = await wt.createBidirectionalStream();
    const w = bs.writable.getWriter();
    await w.write(enc.encode('s'));
    await w.close();
    for await (const _ of bs.readable as unknown as AsyncIterable<Uint8Array>) void _;
  };
  const batch = async (n: number) => {
    for (let i = 0; i < n; i += 100) await bounded(Promise.all(Array.from({ length: 100 }, one)), 30_000, `streams ${i}..`);
  };
  await batch(1000);
  const base = await heapAfterGc();
  const started = performance.now();
  await batch(99_000);
  const ms = performance.now() - started;
  const after = await heapAfterGc();
  console.log(`99,000 more streams in ${ms.toFixed(0)} ms (${(99_000 / (ms / 1000)).toFixed(0)}/s); heap ${(base / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`);
  assert.is(wt.core!.conn.streamCount, 0);
  assert.is(serverConn!.streamCount, 0);
  assert.is(wt.core!.streams.size, 0);
  assert.ok(after < base * 1.1 + 2e6, `heap grew from ${base} to ${after}`);
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
  await server.close();
});

test('60 sessions whose connections are killed mid-stream (30 by the server, 30 by the client): every promise settles', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  const serverSettled: Promise<unknown>[] = [];
  void (async () => {
    for await (const s of server) {
      s.accept();
      serverSettled.push(s.closed.then(() => 'closed', () => 'aborted'));
      void (async () => {
        for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
          void bs.readable.pipeTo(bs.writable).catch(() => {});
          // The server kills its connection once the data flows, for sessions on /kill.
          if (s.path === '/kill') setTimeout(() => s.core!.conn.h3.close(0x101, 'killed by the server'), 20);
        }
      })().catch(() => {});
    }
  })();
  const url = `https://127.0.0.1:${server.port}`;
  const one = async (i: number) => {
    const wt = new WebTransport(`${url}/${i % 2 === 0 ? 'kill' : 'stay'}`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }] });
    await wt.ready;
    const bs = await wt.createBidirectionalStream();
    const w = bs.writable.getWriter();
    const writing = w.write(new Uint8Array(2 * 1024 * 1024)).then(() => 'ok', (e: unknown) => e);
    const reading = (async () => {
      const r = bs.readable.getReader();
      for (;;) {
        const { done } = await r.read();
        if (done) return 'ok';
      }
    })().catch((e: unknown) => e);
    if (i % 2 === 1) setTimeout(() => wt.core!.conn.h3.close(0x101, 'killed by the client'), 20);
    const closed = await wt.closed.then(() => 'closed', (e: unknown) => e);
    return [closed, await writing, await reading];
  };
  const outcomes = await bounded(Promise.all(Array.from({ length: 60 }, (_, i) => one(i))), 60_000, '60 killed sessions');
  for (const [closed] of outcomes) assert.instance(closed, WebTransportError);
  assert.is((await bounded(Promise.all(serverSettled), 10_000, 'server sessions settled')).length, 60);
  await server.close();
  await new Promise((r) => setTimeout(r, 100));
  process.off('unhandledRejection', onUnhandled);
  assert.equal(unhandled, []);
});

test('a datagram flood into a session that does not read: the queue keeps incomingHighWaterMark, the rest is counted as dropped', async () => {
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  const sessions = server[Symbol.asyncIterator]();
  const wt = new WebTransport(`https://127.0.0.1:${server.port}/flood`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }] });
  const { value: s } = await bounded(sessions.next(), 5000, 'session');
  s!.accept();
  await bounded(wt.ready, 5000, 'ready');
  const w = wt.datagrams.writable.getWriter();
  for (let i = 0; i < 500; i++) await w.write(new Uint8Array(1000).fill(i & 0xff));
  // Whatever arrives is either queued (64) or dropped: wait until the count is stable.
  let last = -1;
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const st = await s!.getStats();
    if (st.datagrams.received === last && last > 64) break;
    last = st.datagrams.received;
  }
  const st = await s!.getStats();
  assert.ok(st.datagrams.received > 64, `only ${st.datagrams.received} arrived`);
  assert.is(st.datagrams.droppedIncoming, st.datagrams.received - 64);
  const r = s!.datagrams.readable.getReader();
  for (let i = 0; i < 64; i++) await bounded(r.read(), 1000, `queued datagram ${i}`);
  assert.is((await wt.getStats()).datagrams.sent, 500);
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
  await server.close();
});

test.run();
