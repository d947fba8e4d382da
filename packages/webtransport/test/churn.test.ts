/**
 * Churn: 1,000 sessions opened and closed on one pooled connection (each with a bidi echo and a
 * datagram), then the heap after gc is compared with the heap after a warm-up of 100: no
 * per-session or per-stream state may stay behind.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebTransport, createWebTransportServer, generateWebTransportCertificate, type WebTransportBidirectionalStream } from '../src/index.js';

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

test('1,100 sessions opened and closed on one connection: heap back near where it was after 100', async () => {
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  let serverSessions = 0;
  void (async () => {
    for await (const s of server) {
      serverSessions++;
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
  await batch(1000);
  const ms = performance.now() - started;
  const after = await heapAfterGc();
  const wtConn = anchor.core!.conn;
  console.log(`1,000 sessions in ${ms.toFixed(0)} ms (${(1000 / (ms / 1000)).toFixed(0)}/s); heap ${(base / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB; sessions left on the client connection ${wtConn.sessions.size}, streams ${wtConn.streamCount}`);
  assert.is(serverSessions, 1101);
  // Only the anchor is left; every short session and stream was forgotten on the client.
  assert.is(wtConn.sessions.size, 1);
  assert.is(wtConn.streamCount, 0);
  assert.ok(after < base * 1.1 + 2e6, `heap grew from ${base} to ${after}`);
  anchor.close();
  await bounded(anchor.closed, 5000, 'anchor closed');
  await server.close();
});

test.run();
