/**
 * Issue 12 #4, #6 and #7: a peer that scatters single stream bytes, lies about acknowledgments
 * or never acknowledges must not make us hold, send or track without bound. Each case drives a
 * real server Connection by hand with packets forged as the client (real 1-RTT keys), while
 * everything the server sends is dropped: the attacker receives nothing.
 *
 * Figures before the fixes (same drivers): #4 65,536 one-byte STREAM frames (every other offset
 * of the first 128 KiB of a stream, each in a 1,400-byte datagram) held 101 MB of the server's
 * memory; #7 the server sent the whole 16 MB cap while its congestion window grew from 12 KB to
 * 2.3 MB; #6 100,000 PATH_CHALLENGE packets (3.6 MB) drew 116 MB of padded PATH_RESPONSE
 * datagrams and left 150,002 live sent-packet records (120 MB "in flight"); 100,000 PINGs left
 * 50,009 records; a peer that pings but never acks kept a connection with unacknowledged data
 * open past 4 idle periods.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { TransportErrorCode as E } from '../../src/errors.js';
import { type Frame, FrameType } from '../../src/frame/types.js';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import { CLIENT, makePair, type Pair } from './harness.js';
import { assertTransportClose, establish, forge1Rtt } from './scenario.js';
import { retainedBytes } from '../helpers/heap.js';

const SEED = Number(process.env.SIM_SEED ?? 12);
const MB = 1 << 20;

interface Driver {
  pair: Pair;
  server: Connection;
  now: number;
  sent: number;
  received: number;
  /** Forges `frames` from the client and hands them to the server at `now`. */
  inject(frames: Frame[]): void;
  /** Lets the server send everything it wants now (dropped) and fire due timers. */
  drain(): void;
}

function driver(): Driver {
  const pair = makePair({ seed: SEED, link: { delayMs: 10 } });
  establish(pair);
  const server = pair.server();
  const buf = new Uint8Array(2048);
  const d: Driver = {
    pair,
    server,
    now: pair.sim.now,
    sent: 0,
    received: 0,
    inject(frames) {
      const datagram = forge1Rtt(pair.client, frames);
      d.received += datagram.length;
      server.handleDatagram(datagram, { address: CLIENT, port: 443 }, d.now);
    },
    drain() {
      const due = server.nextTimeout();
      if (due !== undefined && due <= d.now) server.handleTimeout(d.now);
      // Bounded: the server sends within its congestion window / pacing / credit.
      for (let i = 0; i < 10_000; i++) {
        const t = server.pollTransmit(d.now, buf);
        if (!t) break;
        d.sent += t.length;
      }
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) void e;
    },
  };
  d.drain();
  return d;
}

function liveRecords(c: Connection): number {
  let n = 0;
  for (const space of [PacketNumberSpace.INITIAL, PacketNumberSpace.HANDSHAKE, PacketNumberSpace.APPLICATION]) n += c.recovery.tracker(space).outstanding;
  return n;
}

test('#7: a peer acknowledging everything it never received is caught by a skipped packet number (PROTOCOL_VIOLATION)', () => {
  const d = driver();
  const { server } = d;
  const id = server.openStream('uni') as number;
  const chunk = new Uint8Array(256 * 1024);
  const CAP = 16 * MB;
  for (let round = 0; round < 100_000 && !server.isClosed && d.sent < CAP; round++) {
    server.writeStream(id, chunk, false);
    d.drain();
    const largest = server.spaces[PacketNumberSpace.APPLICATION].nextPacketNumber - 1;
    d.inject([
      { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest }] },
      { type: FrameType.MAX_DATA, maximum: 2 ** 50 },
      { type: FrameType.MAX_STREAM_DATA, streamId: id, maximum: 2 ** 50 },
    ]);
    d.now += 1;
  }
  console.log(`#7: sent ${(d.sent / MB).toFixed(2)} MB before closing; cwnd ${server.congestion.congestionWindow}`);
  assertTransportClose(server.closeReason, E.PROTOCOL_VIOLATION, false, 'optimistic ACK');
  assert.ok(d.sent < 2 * MB, `sent ${d.sent} bytes to a peer that received nothing`);
});

test('#6: 100,000 PATH_CHALLENGE packets, never acked: responses limited, state bounded', () => {
  const d = driver();
  const { server } = d;
  let maxRecords = 0;
  for (let i = 0; i < 100_000 && !server.isClosed; i++) {
    d.inject([{ type: FrameType.PATH_CHALLENGE, data: new Uint8Array([i & 0xff, i >> 8, i >> 16, 0, 0, 0, 0, 1]) }]);
    d.drain();
    if (i % 1000 === 0) maxRecords = Math.max(maxRecords, liveRecords(server));
    d.now += 0.05;
  }
  maxRecords = Math.max(maxRecords, liveRecords(server));
  console.log(`#6 PATH_CHALLENGE: received ${(d.received / MB).toFixed(2)} MB, sent ${(d.sent / MB).toFixed(2)} MB, max live records ${maxRecords}, in flight ${server.bytesInFlight}`);
  // ACKs for its packets plus responses within the congestion window and response credit.
  assert.ok(d.sent <= d.received, `sent ${d.sent} for ${d.received} received`);
  assert.ok(maxRecords <= 4096, `${maxRecords} live sent-packet records`);
  assert.ok(server.bytesInFlight <= 1 * MB, `${server.bytesInFlight} bytes in flight`);
});

test('#6: 100,000 PINGs never acked: ACK-only packets are not tracked forever', () => {
  const d = driver();
  const { server } = d;
  let maxRecords = 0;
  for (let i = 0; i < 100_000 && !server.isClosed; i++) {
    d.inject([{ type: FrameType.PING }]);
    d.drain();
    if (i % 1000 === 0) maxRecords = Math.max(maxRecords, liveRecords(server));
    d.now += 0.05;
  }
  maxRecords = Math.max(maxRecords, liveRecords(server));
  console.log(`#6 PING: received ${(d.received / MB).toFixed(2)} MB, sent ${(d.sent / MB).toFixed(2)} MB, max live records ${maxRecords}`);
  assert.ok(maxRecords <= 4096, `${maxRecords} live sent-packet records`);
});

test('#6: a peer that keeps sending but acknowledges nothing is closed after the idle timeout', () => {
  const d = driver();
  const { server } = d;
  const id = server.openStream('uni') as number;
  server.writeStream(id, new Uint8Array(100_000), false);
  const idle = server.idleTimeoutMs;
  assert.ok(idle > 0);
  const start = d.now;
  // Bounded: a PING every 50 ms for up to 4 idle periods.
  while (!server.isClosed && d.now - start < 4 * idle) {
    d.inject([{ type: FrameType.PING }]);
    d.drain();
    d.now += 50;
  }
  console.log(`#6 no acks: closed after ${d.now - start} ms (idle timeout ${idle} ms): ${JSON.stringify(server.closeReason)}`);
  assert.ok(server.isClosed, 'still open after 4 idle periods without a single acknowledgment');
  assert.ok(d.now - start <= 2 * idle, `closed after ${d.now - start} ms`);
});

test('#4: one-byte STREAM frames at every other offset, each in a 1,400-byte datagram: memory within a small factor of the window', () => {
  const d = driver();
  const { server } = d;
  const before = retainedBytes();
  const one = new Uint8Array([0x5a]);
  for (let i = 0; i < 65_536 && !server.isClosed; i++) {
    d.inject([
      { type: FrameType.STREAM, streamId: 0, offset: 2 * i + 1, data: one, fin: false, hasLength: true },
      { type: FrameType.PADDING, length: 1340 },
    ]);
    if (i % 64 === 0) d.drain();
  }
  d.drain();
  const held = retainedBytes() - before;
  console.log(`#4: ${(d.received / MB).toFixed(1)} MB received for 64 KiB of out-of-order stream data; server holds ${(held / MB).toFixed(2)} MB`);
  assert.not.ok(server.isClosed, JSON.stringify(server.closeReason));
  // 128 KiB of offsets: pages of 4 KiB with their bitmaps, ~150 KB; allow 8x.
  assert.ok(held < 1.25 * MB, `held ${(held / MB).toFixed(2)} MB`);
  // The first byte completes the stream's first 128 KiB.
  d.inject([{ type: FrameType.STREAM, streamId: 0, offset: 0, data: one, fin: false, hasLength: true }]);
  let readable = 0;
  for (let r = server.readStream(0); r; r = server.readStream(0)) readable += r.data.length;
  assert.is(readable, 2);
});

test.run();
