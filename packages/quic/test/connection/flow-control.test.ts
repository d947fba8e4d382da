/**
 * Flow control (RFC 9000 §4): a slow reader limits the sender without any FLOW_CONTROL_ERROR and
 * the data arrives intact; a fast reader's windows auto-tune upwards; a blocked sender says so
 * with STREAM_DATA_BLOCKED / DATA_BLOCKED / STREAMS_BLOCKED (§4.1, §4.6, §19.12-§19.14). Frames
 * on the wire are observed by opening each datagram with the receiver's keys (peekFrames).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import type { TransportSettings } from '../../src/connection/types.js';
import { type Frame, FrameType } from '../../src/frame/types.js';
import { CLIENT, makePair, type Pair, payload, sameBytes } from './harness.js';
import { establish, peekFrames } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** A pair whose client->server frames are recorded as the server will see them. */
function spiedPair(seed: number, serverTransport: Partial<TransportSettings>, link = { delayMs: 10, bandwidthBps: 100e6 }): { pair: Pair; frames: Frame[] } {
  const frames: Frame[] = [];
  let pairRef: Pair | undefined;
  const pair = makePair({
    seed,
    serverTransport,
    link: {
      ...link,
      hook: (d, info) => {
        if (info.from === CLIENT) frames.push(...peekFrames(pairRef?.serverNode.conn, d));
        return d;
      },
    },
    back: link,
  });
  pairRef = pair;
  return { pair, frames };
}

function readInto(conn: Connection, id: number, chunks: Uint8Array[], maxBytes: number): { bytes: number; fin: boolean } {
  let bytes = 0;
  for (let i = 0; i < 1000 && bytes < maxBytes; i++) {
    const r = conn.readStream(id, maxBytes - bytes);
    if (!r) break;
    if (r.data.length) chunks.push(r.data.slice());
    bytes += r.data.length;
    if (r.fin) return { bytes, fin: true };
  }
  return { bytes, fin: false };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

test('a slow reader limits the sender: unread data never exceeds the window, no error, data intact', () => {
  const WINDOW = 64 << 10;
  const { pair } = spiedPair(SEED, {
    initialMaxData: WINDOW,
    maxConnectionWindow: WINDOW,
    initialMaxStreamDataBidiRemote: WINDOW / 2,
    maxStreamWindow: WINDOW / 2,
  });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  const data = payload(1 << 20, 5);
  const id = c.openStream('bidi')!;
  let written = c.writeStream(id, data, true);
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-writable' && written < data.length) written += conn.writeStream(id, data.subarray(written), true);
  };
  const chunks: Uint8Array[] = [];
  let read = 0;
  let fin = false;
  const start = pair.sim.now;
  // The reader takes 8 KB every 20 ms: 400 KB/s.
  for (let step = 0; step < 2_000 && !fin; step++) {
    pair.run(() => false, 20);
    const r = readInto(s, id, chunks, 8 << 10);
    read += r.bytes;
    fin = r.fin;
    const sent = c.streams.flowControl.sendUsed;
    assert.ok(sent - read <= WINDOW, `step ${step}: ${sent - read} bytes unread beyond the window`);
    assert.ok(sent <= c.streams.flowControl.sendLimit);
    assert.not.ok(s.isClosed || c.isClosed, JSON.stringify(s.closeReason ?? c.closeReason));
  }
  assert.ok(fin, `read ${read} of ${data.length}`);
  assert.ok(sameBytes(concat(chunks), data), 'data intact');
  const seconds = (pair.sim.now - start) / 1000;
  assert.ok(seconds >= 2.4, `the reader set the pace (${seconds.toFixed(2)} s for 1 MB at 400 KB/s)`);
});

test('a fast reader on a long fat path: the receive windows auto-tune upwards', () => {
  const { pair } = spiedPair(SEED + 1, {}, { delayMs: 40, bandwidthBps: 400e6 });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  const initialWindow = s.streams.flowControl.receiveWindow;
  const data = payload(16 << 20, 6);
  const id = c.openStream('uni')!;
  let written = c.writeStream(id, data, true);
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-writable' && written < data.length) written += conn.writeStream(id, data.subarray(written), true);
  };
  const chunks: Uint8Array[] = [];
  let fin = false;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') fin = readInto(conn, e.streamId, chunks, Infinity).fin || fin;
  };
  assert.ok(pair.run(() => fin, 60_000, 3_000_000), 'transfer completes');
  assert.ok(sameBytes(concat(chunks), data), 'data intact');
  const grown = s.streams.flowControl.receiveWindow;
  assert.ok(grown > initialWindow, `connection window grew from ${initialWindow} to ${grown}`);
  assert.ok(grown <= 24 << 20, 'within the maximum window');
});

test('a blocked sender sends STREAM_DATA_BLOCKED at the stream limit, then resumes on MAX_STREAM_DATA', () => {
  const { pair, frames } = spiedPair(SEED + 2, { initialMaxStreamDataBidiRemote: 16_384, maxStreamWindow: 16_384 });
  establish(pair);
  const c = pair.client;
  const id = c.openStream('bidi')!;
  c.writeStream(id, payload(100_000), true);
  pair.run(() => false, 300);
  const blocked = frames.filter((f) => f.type === FrameType.STREAM_DATA_BLOCKED);
  assert.ok(blocked.length >= 1, 'STREAM_DATA_BLOCKED sent');
  assert.equal(blocked[0], { type: FrameType.STREAM_DATA_BLOCKED, streamId: id, limit: 16_384 });
  assert.ok(blocked.length <= 3, `not repeated for the same limit (${blocked.length})`);
  const chunks: Uint8Array[] = [];
  let fin = false;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') fin = readInto(conn, e.streamId, chunks, Infinity).fin || fin;
  };
  fin = readInto(pair.server(), id, chunks, Infinity).fin;
  assert.ok(pair.run(() => fin, 10_000), 'completes once the reader reads');
  assert.is(concat(chunks).length, 100_000);
});

test('a blocked sender sends DATA_BLOCKED at the connection limit', () => {
  const { pair, frames } = spiedPair(SEED + 3, { initialMaxData: 20_000, maxConnectionWindow: 20_000 });
  establish(pair);
  const c = pair.client;
  for (let i = 0; i < 3; i++) c.writeStream(c.openStream('uni')!, payload(30_000, i), true);
  pair.run(() => false, 300);
  const blocked = frames.filter((f) => f.type === FrameType.DATA_BLOCKED);
  assert.ok(blocked.length >= 1, 'DATA_BLOCKED sent');
  assert.equal(blocked[0], { type: FrameType.DATA_BLOCKED, limit: 20_000 });
  assert.is(c.streams.flowControl.sendUsed, 20_000, 'exactly the credit was used');
});

test('opening beyond the stream limit sends STREAMS_BLOCKED with that limit', () => {
  const { pair, frames } = spiedPair(SEED + 4, { initialMaxStreamsUni: 3 });
  establish(pair);
  const c = pair.client;
  for (let i = 0; i < 3; i++) assert.ok(c.openStream('uni') !== undefined);
  assert.is(c.openStream('uni'), undefined);
  pair.run(() => false, 100);
  const blocked = frames.filter((f) => f.type === FrameType.STREAMS_BLOCKED);
  assert.ok(blocked.length >= 1, 'STREAMS_BLOCKED sent');
  assert.equal(blocked[0], { type: FrameType.STREAMS_BLOCKED, bidirectional: false, limit: 3 });
});

test('reset and stopped streams give their connection credit back (RFC 9000 §4.5): 12 x 15 KB through a 20 KB window', () => {
  const { pair } = spiedPair(SEED + 5, { initialMaxData: 20_000, maxConnectionWindow: 20_000 });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  pair.serverNode.onEvent = () => {}; // the server application never reads these streams
  for (let i = 0; i < 12; i++) {
    const id = c.openStream('uni')!;
    c.writeStream(id, payload(15_000, i), false);
    const sentBefore = c.streams.flowControl.sendUsed;
    // Wait until the stream's bytes went out (or the sender is blocked), then end it one way or another.
    pair.run(() => c.streams.flowControl.sendUsed >= sentBefore + 15_000, 300);
    if (i % 2 === 0) c.resetStream(id, 1);
    else {
      const sid = id;
      pair.run(() => s.streams.size > 0, 500);
      s.stopSending(sid, 2);
    }
    pair.run(() => false, 100);
    assert.not.ok(c.isClosed || s.isClosed, JSON.stringify(c.closeReason ?? s.closeReason));
  }
  // A final stream with FIN still gets through: the credit came back.
  const last = c.openStream('uni')!;
  c.writeStream(last, payload(15_000, 99), true);
  let fin = false;
  const chunks: Uint8Array[] = [];
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && e.streamId === last) fin = readInto(conn, last, chunks, Infinity).fin || fin;
  };
  assert.ok(pair.run(() => fin, 5_000), `the last stream completes (client used ${c.streams.flowControl.sendUsed} of ${c.streams.flowControl.sendLimit})`);
  assert.ok(sameBytes(concat(chunks), payload(15_000, 99)));
  assert.ok(c.streams.flowControl.sendLimit > 100_000, 'MAX_DATA kept growing');
});

test.run();
