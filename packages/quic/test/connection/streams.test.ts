/**
 * Streams the peer opens are queued, never lost (RFC 9000 §2, §3.2, §4.6): the peer opens
 * hundreds of streams with data while the application reads nothing; later it takes them all,
 * byte-identical; MAX_STREAMS credit returns as they close so the peer opens far more than the
 * initial limit over time; a frame for a higher stream opens every lower one, in order.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import type { StreamDirection } from '../../src/connection/types.js';
import { TransportErrorCode } from '../../src/errors.js';
import { FrameType } from '../../src/frame/types.js';
import { makePair, payload, sameBytes } from './harness.js';
import { assertTransportClose, enc, establish, flushEvents, injectFrames } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function readAllOf(conn: Connection, id: number, into: number[]): boolean {
  for (let i = 0; i < 10_000; i++) {
    const r = conn.readStream(id);
    if (!r) return false;
    for (const b of r.data) into.push(b);
    if (r.fin) return true;
  }
  return false;
}

function manyStreams(direction: StreamDirection, total: number, limit: number, seed: number): void {
  const size = (i: number) => 100 + ((i * 37) % 900);
  const transport = direction === 'bidi' ? { initialMaxStreamsBidi: limit } : { initialMaxStreamsUni: limit };
  const pair = makePair({ seed, link: { delayMs: 10, bandwidthBps: 50e6 }, serverTransport: transport });
  establish(pair);
  const client = pair.client;
  const server = pair.server();

  // Client: opens streams whenever the server's MAX_STREAMS allows, each with data and FIN.
  let opened = 0;
  const openMore = () => {
    for (; opened < total; opened++) {
      const id = client.openStream(direction);
      if (id === undefined) return;
      assert.is(client.writeStream(id, payload(size(opened), opened), true), size(opened));
    }
  };
  let streamsAvailable = 0;
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'streams-available' && e.direction === direction) {
      streamsAvailable++;
      openMore();
    }
    if (e.type === 'stream-readable') readAllOf(conn, e.streamId, []);
  };
  openMore();
  assert.is(opened, limit, 'the client opens exactly up to the initial limit');

  // Server: does not read at first; records the opened streams in order.
  const accepted: number[] = [];
  const data = new Map<number, number[]>();
  const finished = new Set<number>();
  let reading = false;
  const take = (conn: Connection, id: number) => {
    let buf = data.get(id);
    if (!buf) data.set(id, (buf = []));
    if (readAllOf(conn, id, buf) && !finished.has(id)) {
      finished.add(id);
      if (direction === 'bidi') conn.writeStream(id, enc('ok'), true);
    }
  };
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-opened') {
      assert.is(e.direction, direction);
      accepted.push(e.streamId);
    }
    if (reading && e.type === 'stream-readable') take(conn, e.streamId);
  };
  pair.run(() => false, 500); // the application is busy: nothing read
  assert.is(accepted.length, limit, 'all streams the limit allows were opened and queued');
  assert.is(opened, limit, 'no credit returned while the application reads nothing');
  reading = true;
  for (const id of accepted) take(server, id);
  flushEvents(pair);
  const ok = pair.run(() => finished.size === total && server.streams.size === 0, 60_000);
  assert.ok(ok, `finished ${finished.size} of ${total}, opened ${opened}, server holds ${server.streams.size}`);
  assert.is(accepted.length, total);
  // Opened in order, each id once.
  const base = direction === 'bidi' ? 0 : 2;
  accepted.forEach((id, i) => assert.is(id, base + 4 * i));
  for (let i = 0; i < total; i++) {
    const got = new Uint8Array(data.get(base + 4 * i)!);
    assert.ok(sameBytes(got, payload(size(i), i)), `stream ${i} data`);
  }
  assert.ok(streamsAvailable > 3, `MAX_STREAMS kept flowing (${streamsAvailable} updates)`);
  // The client forgets its streams too once the answers are read and FINs acknowledged.
  assert.ok(pair.run(() => client.streams.size === 0, 5_000), `client holds ${client.streams.size}`);
}

test('300 unidirectional peer streams with data, limit 20, application reads nothing for 500 ms: all arrive, credit flows', () => {
  manyStreams('uni', 300, 20, SEED);
});

test('300 bidirectional peer streams answered by the server, limit 16: all arrive, credit flows', () => {
  manyStreams('bidi', 300, 16, SEED + 1);
});

test('a frame for a higher stream opens every lower stream of that type, in order (§3.2)', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10 } });
  establish(pair);
  injectFrames(pair, 'client', [{ type: FrameType.STREAM, streamId: 4 * 5, offset: 0, data: enc('five'), fin: true, hasLength: true }]);
  const opened = pair.serverNode.events.filter((e) => e.type === 'stream-opened').map((e) => (e.type === 'stream-opened' ? e.streamId : -1));
  assert.equal(opened, [0, 4, 8, 12, 16, 20]);
  const r = pair.server().readStream(20);
  assert.equal(r && new TextDecoder().decode(r.data), 'five');
  assert.ok(r!.fin);
  assert.is(pair.server().readStream(8), undefined, 'implicitly opened streams have no data yet');
});

test('openStream returns undefined at the limit and works again after streams-available', () => {
  const pair = makePair({ seed: SEED + 3, link: { delayMs: 10 }, serverTransport: { initialMaxStreamsBidi: 2 } });
  establish(pair);
  const c = pair.client;
  const a = c.openStream('bidi')!;
  const b = c.openStream('bidi')!;
  assert.is(c.openStream('bidi'), undefined);
  c.writeStream(a, enc('a'), true);
  c.writeStream(b, enc('b'), true);
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') {
      readAllOf(conn, e.streamId, []);
      conn.writeStream(e.streamId, new Uint8Array(0), true);
    }
  };
  let available = false;
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'streams-available') available = true;
    if (e.type === 'stream-readable') readAllOf(conn, e.streamId, []);
  };
  assert.ok(pair.run(() => available, 2_000), 'streams-available after the first streams closed');
  assert.ok(c.openStream('bidi') !== undefined);
});

test('2000 request/response streams, 10 at a time: state stays bounded, every stream is forgotten, stream-finished once each', () => {
  const pair = makePair({ seed: SEED + 4, link: { delayMs: 5, bandwidthBps: 100e6 }, serverTransport: { initialMaxStreamsBidi: 10 } });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  const total = 2000;
  let opened = 0;
  let answered = 0;
  let finished = 0;
  let peak = 0;
  const openMore = () => {
    while (opened < total) {
      const id = c.openStream('bidi');
      if (id === undefined) return;
      opened++;
      c.writeStream(id, payload(200, opened), true);
    }
  };
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && readAllOf(conn, e.streamId, [])) conn.writeStream(e.streamId, payload(300, e.streamId), true);
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'streams-available') openMore();
    if (e.type === 'stream-readable' && readAllOf(conn, e.streamId, [])) answered++;
    if (e.type === 'stream-finished') finished++;
  };
  const watch = pair.serverNode.afterEvent;
  pair.serverNode.afterEvent = (conn) => {
    watch(conn);
    peak = Math.max(peak, conn.streams.size);
  };
  openMore();
  assert.ok(pair.run(() => answered === total && c.streams.size === 0 && s.streams.size === 0, 120_000), `answered ${answered}, client holds ${c.streams.size}, server ${s.streams.size}`);
  assert.ok(peak <= 10, `server held at most ${peak} streams`);
  assert.is(finished, total, 'one stream-finished per request');
});

test('STREAM_LIMIT_ERROR against the raised limit: after MAX_STREAMS grants 8, stream index 7 is fine and index 8 is not (§4.6)', () => {
  const pair = makePair({ seed: SEED + 5, link: { delayMs: 10 }, serverTransport: { initialMaxStreamsUni: 4 } });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  for (let i = 0; i < 4; i++) c.writeStream(c.openStream('uni')!, enc('x'), true);
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') readAllOf(conn, e.streamId, []);
  };
  let available = false;
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'streams-available' && e.direction === 'uni') available = true;
  };
  assert.ok(pair.run(() => available, 2_000), 'MAX_STREAMS raised the limit');
  // Client uni streams are 2 + 4 * index; index 7 is within the new limit of 8.
  injectFrames(pair, 'client', [{ type: FrameType.STREAM, streamId: 2 + 4 * 7, offset: 0, data: enc('ok'), fin: true, hasLength: true }]);
  assert.not.ok(s.isClosed, JSON.stringify(s.closeReason));
  injectFrames(pair, 'client', [{ type: FrameType.STREAM, streamId: 2 + 4 * 8, offset: 0, data: enc('no'), fin: true, hasLength: true }]);
  assertTransportClose(s.closeReason, TransportErrorCode.STREAM_LIMIT_ERROR, false, 'server');
});

test('0.5-RTT: the server opens a stream and writes before the handshake completes; the client gets it all', () => {
  for (let i = 0; i < 4; i++) {
    const pair = makePair({ seed: SEED * 10 + i, link: { delayMs: 10, lossRate: i === 0 ? 0 : 0.1 } });
    const data = payload(60_000, 9);
    let sid: number | undefined;
    let written = 0;
    let openedBeforeComplete = false;
    pair.serverNode.onEvent = (e, conn) => {
      if (sid === undefined) {
        sid = conn.openStream('uni');
        if (sid !== undefined) {
          openedBeforeComplete = !conn.isHandshakeComplete;
          written = conn.writeStream(sid, data, true);
        }
      }
    };
    const got: number[] = [];
    let fin = false;
    pair.clientNode.onEvent = (e, conn) => {
      if (e.type !== 'stream-readable') return;
      for (let k = 0; k < 1000; k++) {
        const r = conn.readStream(e.streamId);
        if (!r) break;
        for (const b of r.data) got.push(b);
        if (r.fin) fin = true;
      }
    };
    assert.ok(pair.run(() => fin, 30_000), `round ${i}: 0.5-RTT data delivered`);
    assert.ok(openedBeforeComplete, 'opened before the handshake completed');
    assert.is(written, data.length);
    assert.ok(sameBytes(new Uint8Array(got), data), 'intact');
    assert.not.ok(pair.client.isClosed || pair.server().isClosed);
  }
});

test.run();
