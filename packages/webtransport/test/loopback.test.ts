/**
 * Our WebTransport client (W3C API on Node) against our server on loopback: bidi echo, uni
 * streams both ways, server-initiated streams, datagrams at exactly maxDatagramSize, close with
 * code and reason seen on both sides, resets with codes, subprotocol negotiation, the races
 * (streams before accept, a session closed mid-stream, STOP_SENDING + close + CONNECTION_CLOSE
 * together) and 1,000 streams in one session.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Http3Client, createServer } from '@purequic/h3';
import {
  WebTransport,
  webTransportExtension,
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

test('draft-02 (the browsers\' generation): server-initiated bidi stream, reset codes both ways, subprotocol negotiation', async () => {
  behaviours.set('/proto', async (s) => {
    assert.equal(s.offeredProtocols, ['chat.v2', 'chat.v1']);
    assert.is(s.version, 'draft02');
    s.accept({ protocol: 'chat.v1' });
    // server-initiated bidi: says hello, then echoes one message
    const bs = await s.createBidirectionalStream();
    const w = bs.writable.getWriter();
    await w.write(enc.encode('hello from server'));
    await w.close();
    // a uni stream the server resets with code 99
    const uni = await s.createUnidirectionalStream();
    const uw = uni.getWriter();
    await uw.write(enc.encode('partial'));
    uni.resetStream(99);
    // the client's bidi stream: its reset code 77 is seen here
    for await (const b of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
      const e = await rejection(readAll(b.readable));
      serverSeen.resets.push((e as WebTransportError).streamErrorCode);
    }
  });
  const wt = new WebTransport(`${base}/proto`, { serverCertificateHashes: hashes, protocols: ['chat.v2', 'chat.v1'], draft02: true });
  await bounded(wt.ready, 5000, 'ready');
  assert.is(wt.protocol, 'chat.v1');
  const { value: sbs } = await bounded(wt.incomingBidirectionalStreams.getReader().read(), 5000, 'server bidi');
  assert.is(dec.decode(await readAll(sbs!.readable)), 'hello from server');
  const { value: suni } = await bounded(wt.incomingUnidirectionalStreams.getReader().read(), 5000, 'server uni');
  const err = (await bounded(rejection(readAll(suni!)), 5000, 'reset seen')) as WebTransportError;
  assert.instance(err, WebTransportError);
  assert.is(err.source, 'stream');
  assert.is(err.streamErrorCode, 99);
  const mine = await wt.createBidirectionalStream();
  const mw = mine.writable.getWriter();
  await mw.write(enc.encode('x'));
  const before = serverSeen.resets.length;
  await mw.abort(new WebTransportError('stop', { streamErrorCode: 77 }));
  await bounded(waitFor(() => serverSeen.resets.length > before), 5000, 'server saw reset');
  assert.is(serverSeen.resets[serverSeen.resets.length - 1], 77);
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
});

test('streams and datagrams that arrive before accept are buffered (up to the limit, then WT_BUFFERED_STREAM_REJECTED)', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const got: string[] = [];
  let rejected = -1;
  let datagram = '';
  behaviours.set('/early', async (s) => {
    await gate;
    s.accept();
    rejected = s.core!.conn.rejectedBufferedStreams;
    const reader = s.incomingUnidirectionalStreams.getReader();
    const dr = s.datagrams.readable.getReader();
    void dr.read().then(({ value }) => (datagram = dec.decode(value)));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      void readAll(value).then((d) => got.push(dec.decode(d)));
    }
  });
  const wt = new WebTransport(`${base}/early`, { serverCertificateHashes: hashes });
  await bounded(waitFor(() => wt.core !== undefined), 5000, 'CONNECT sent');
  // Raw streams bound to the session before the server answered (a client may send them in its first flight).
  const core = wt.core!;
  const h3 = core.conn.h3;
  const ids: number[] = [];
  for (let i = 0; i < 70; i++) {
    const id = h3.openExtensionStream(false, new Uint8Array([0x40, 0x54, core.id]))!;
    h3.quic.writeStream(id, enc.encode(`early ${i}`), true);
    ids.push(id);
  }
  h3.sendDatagram(core.id, enc.encode('early datagram'));
  core.conn.flush();
  await new Promise((r) => setTimeout(r, 300));
  release();
  await bounded(wt.ready, 5000, 'ready');
  await bounded(waitFor(() => got.length === 64 && datagram !== ''), 5000, 'buffered streams delivered');
  assert.is(rejected, 6);
  assert.is(datagram, 'early datagram');
  assert.equal(new Set(got).size, 64);
  for (const g of got) assert.match(g, /^early \d+$/);
  wt.close();
  await bounded(wt.closed, 5000, 'closed');
});

test('1,000 bidi streams in one session, all echoed; no stream left behind', async () => {
  const wt = new WebTransport(`${base}/echo`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const one = async (i: number) => {
    const bs = await wt.createBidirectionalStream();
    const [, back] = await Promise.all([writeAll(bs.writable, enc.encode(`stream ${i}`)), readAll(bs.readable)]);
    return dec.decode(back) === `stream ${i}`;
  };
  const results = await bounded(Promise.all(Array.from({ length: 1000 }, (_, i) => one(i))), 60_000, '1,000 streams');
  assert.is(results.filter(Boolean).length, 1000);
  await bounded(waitFor(() => wt.core!.conn.streamCount === 0), 5000, 'client streams freed');
  wt.close({ closeCode: 1 });
  await bounded(wt.closed, 5000, 'closed');
});

test('a session closed by the server while streams are mid-flight: every stream and promise settles', async () => {
  behaviours.set('/midflight', async (s) => {
    s.accept();
    const reader = s.incomingBidirectionalStreams.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    s.close({ closeCode: 3, reason: 'mid-flight' });
  });
  const wt = new WebTransport(`${base}/midflight`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const big = new Uint8Array(4 * 1024 * 1024);
  const flows = [];
  for (let i = 0; i < 5; i++) {
    const bs = await wt.createBidirectionalStream();
    flows.push(writeAll(bs.writable, big).then(() => 'ok', (e) => e), readAll(bs.readable).then(() => 'ok', (e) => e));
  }
  const info = await bounded(wt.closed, 5000, 'closed');
  assert.equal(info, { closeCode: 3, reason: 'mid-flight' });
  const outcomes = await bounded(Promise.all(flows), 5000, 'streams settled');
  for (const o of outcomes) {
    if (o === 'ok') continue;
    assert.instance(o, WebTransportError);
    assert.is((o as WebTransportError).source, 'session');
  }
  assert.ok(outcomes.some((o) => o !== 'ok'));
  assert.is(wt.core!.conn.streamCount, 0);
});

test('STOP_SENDING + WT_CLOSE_SESSION + CONNECTION_CLOSE together: nothing throws, everything settles, the close code arrives', async () => {
  let serverClosed: unknown;
  behaviours.set('/abrupt', async (s) => {
    s.accept();
    s.closed.then((c) => (serverClosed = c), (e) => (serverClosed = e));
    for await (const b of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
      void b.writable.getWriter().write(new Uint8Array(1 << 20)).catch(() => {});
    }
  });
  const wt = new WebTransport(`${base}/abrupt`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const bs = await wt.createBidirectionalStream();
  const w = bs.writable.getWriter();
  await w.write(enc.encode('go'));
  const reader = bs.readable.getReader();
  await bounded(reader.read(), 5000, 'first bytes');
  await reader.cancel(new WebTransportError('enough', { streamErrorCode: 5 }));
  wt.close({ closeCode: 9, reason: 'all at once' });
  wt.close({ closeCode: 10, reason: 'again' });
  // the connection goes right after (our own connection closes when the session ends)
  assert.equal(await bounded(wt.closed, 5000, 'closed'), { closeCode: 9, reason: 'all at once' });
  await bounded(waitFor(() => serverClosed !== undefined), 5000, 'server session settled');
  assert.equal(serverClosed, { closeCode: 9, reason: 'all at once' });
  await bounded(w.closed.catch(() => {}), 5000, 'writer settled');
});

test('a reason over 1,024 bytes is cut at a UTF-8 boundary; rejecting a session fails ready with the status', async () => {
  behaviours.set('/nope', (s) => s.reject(403));
  const refused = new WebTransport(`${base}/nope`, { serverCertificateHashes: hashes });
  const e = (await bounded(rejection(refused.ready), 5000, 'rejected')) as WebTransportError;
  assert.instance(e, WebTransportError);
  assert.is(e.source, 'session');
  assert.match(e.message, /403/);
  await bounded(rejection(refused.closed), 5000, 'closed rejects');
  const before = serverSeen.closed.length;
  const wt = new WebTransport(`${base}/echo`, { serverCertificateHashes: hashes });
  await bounded(wt.ready, 5000, 'ready');
  const reason = 'é'.repeat(600); // 1,200 bytes
  wt.close({ closeCode: 1, reason });
  await bounded(waitFor(() => serverSeen.closed.length > before), 5000, 'server closed');
  const seen = serverSeen.closed[serverSeen.closed.length - 1]!;
  assert.is(seen.reason, 'é'.repeat(512));
});

test('the extension on an existing HTTP/3 server: plain requests and WebTransport side by side; WT_DRAIN_SESSION and GOAWAY resolve draining', async () => {
  const sessions: WebTransportSession[] = [];
  const ext = webTransportExtension({
    onSession: (s) => {
      sessions.push(s);
      s.accept();
    },
  });
  const h3 = await createServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, extensions: [ext], closeTimeoutMs: 2000 }, (_req, res) => {
    res.end('plain HTTP/3');
  });
  try {
    const client = new Http3Client({ serverCertificateHashes: [cert.sha256] });
    const res = await bounded(client.fetch(`https://127.0.0.1:${h3.port}/x`), 5000, 'fetch');
    assert.is(await res.text(), 'plain HTTP/3');
    await client.close();
    const a = new WebTransport(`https://127.0.0.1:${h3.port}/a`, { serverCertificateHashes: hashes });
    const b = new WebTransport(`https://127.0.0.1:${h3.port}/b`, { serverCertificateHashes: hashes });
    await bounded(Promise.all([a.ready, b.ready]), 5000, 'ready');
    let aDraining = false;
    void a.draining.then(() => (aDraining = true));
    sessions.find((s) => s.path === '/a')!.drain();
    await bounded(a.draining, 5000, 'drain capsule');
    assert.ok(aDraining);
    // GOAWAY (server closing) makes every session drain; the sessions still work meanwhile.
    const closing = h3.close();
    await bounded(b.draining, 5000, 'GOAWAY');
    const bs = await b.createBidirectionalStream();
    const w = bs.writable.getWriter();
    await w.write(enc.encode('still here'));
    await w.close();
    const reader = sessions.find((s) => s.path === '/b')!.incomingBidirectionalStreams.getReader();
    const { value } = await bounded(reader.read(), 5000, 'stream after GOAWAY');
    assert.is(dec.decode(await readAll(value!.readable)), 'still here');
    a.close();
    b.close();
    await bounded(Promise.all([a.closed, b.closed]), 5000, 'closed');
    await closing;
  } finally {
    await h3.close();
  }
});

function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const tick = () => (cond() ? resolve() : setTimeout(tick, 10));
    tick();
  });
}

test.run();
