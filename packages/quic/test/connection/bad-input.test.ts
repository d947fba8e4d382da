/**
 * Bad input from the network ends in the right transport error and a clean close (RFC 9000 §11,
 * §10.2), never an exception escaping `handleDatagram`: each case forges a 1-RTT packet as the
 * client (real keys) carrying something the server must reject, then checks the server's close
 * reason, that the client learns the same code from the server's CONNECTION_CLOSE, and that
 * both sides reach the end of their closing/draining periods.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import type { TransportSettings } from '../../src/connection/types.js';
import { TransportErrorCode as E } from '../../src/errors.js';
import { type Frame, FrameType } from '../../src/frame/types.js';
import { SimRandom } from '../../src/sim/prng.js';
import { decryptPayload, protect, removeHeaderProtection } from '../../src/crypto/protection.js';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { PacketType } from '../../src/packet/types.js';
import { CLIENT, makePair, type Pair, payload, SERVER } from './harness.js';
import { assertTransportClose, deliverTo, enc, establish, forge1Rtt, injectFrames, peekFrames, runUntilTerminated } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function established(serverTransport?: Partial<TransportSettings>, seed = SEED): Pair {
  const pair = makePair({ seed, link: { delayMs: 10 }, serverTransport });
  establish(pair);
  return pair;
}

/** Injects `frames` from the client; expects the server to close with `code` (and the client to hear it). */
function expectServerCloses(frames: Frame[] | Uint8Array, code: number, what: string, serverTransport?: Partial<TransportSettings>, reservedBits?: number): Pair {
  const pair = established(serverTransport);
  injectFrames(pair, 'client', frames, { reservedBits });
  const server = pair.server();
  assertTransportClose(server.closeReason, code, false, `${what} (server)`);
  assert.ok(runUntilTerminated(pair, 10_000), `${what}: both sides did not terminate`);
  assertTransportClose(pair.client.closeReason, code, true, `${what} (client)`);
  const closed = pair.serverNode.events.filter((e) => e.type === 'closed');
  assert.is(closed.length, 1, `${what}: one 'closed' event at the server`);
  return pair;
}

test('STREAM on a stream the receiver can only send on: STREAM_STATE_ERROR (§19.8)', () => {
  // Stream 3 is server-initiated unidirectional: the server never receives on it.
  expectServerCloses([{ type: FrameType.STREAM, streamId: 3, offset: 0, data: enc('x'), fin: false, hasLength: true }], E.STREAM_STATE_ERROR, 'send-only');
});

test('MAX_STREAM_DATA for a receive-only stream and STOP_SENDING for an unopened local stream: STREAM_STATE_ERROR (§19.10, §19.5)', () => {
  // Stream 2 is client-initiated unidirectional: the server only receives on it.
  expectServerCloses([{ type: FrameType.MAX_STREAM_DATA, streamId: 2, maximum: 100 }], E.STREAM_STATE_ERROR, 'max-stream-data on recv-only');
  // Stream 1 is server-initiated bidirectional and the server has not opened it.
  expectServerCloses([{ type: FrameType.STOP_SENDING, streamId: 1, errorCode: 1 }], E.STREAM_STATE_ERROR, 'stop-sending on unopened');
});

test('data beyond the stream flow-control limit: FLOW_CONTROL_ERROR (§4.1)', () => {
  const limit = 256 << 10; // default initial_max_stream_data_bidi_remote
  expectServerCloses([{ type: FrameType.STREAM, streamId: 0, offset: limit - 2, data: enc('abcd'), fin: false, hasLength: true }], E.FLOW_CONTROL_ERROR, 'stream window');
});

test('data beyond the connection flow-control limit: FLOW_CONTROL_ERROR (§4.1)', () => {
  // Each stream stays inside its own window, together they exceed initial_max_data.
  const frames: Frame[] = [];
  for (let i = 0; i < 5; i++) frames.push({ type: FrameType.STREAM, streamId: 4 * i, offset: 900, data: enc('0123456789'), fin: false, hasLength: true });
  expectServerCloses(frames, E.FLOW_CONTROL_ERROR, 'connection window', { initialMaxData: 4000, initialMaxStreamDataBidiRemote: 2000 });
});

test('a final size that changes or that data exceeds: FINAL_SIZE_ERROR (§4.5)', () => {
  const fin10: Frame = { type: FrameType.STREAM, streamId: 0, offset: 0, data: enc('0123456789'), fin: true, hasLength: true };
  expectServerCloses([fin10, { type: FrameType.RESET_STREAM, streamId: 0, errorCode: 1, finalSize: 20 }], E.FINAL_SIZE_ERROR, 'reset with other size');
  expectServerCloses([fin10, { type: FrameType.STREAM, streamId: 0, offset: 8, data: enc('89ab'), fin: false, hasLength: true }], E.FINAL_SIZE_ERROR, 'data past fin');
  expectServerCloses(
    [
      { type: FrameType.STREAM, streamId: 0, offset: 0, data: enc('0123456789'), fin: false, hasLength: true },
      { type: FrameType.RESET_STREAM, streamId: 0, errorCode: 1, finalSize: 5 },
    ],
    E.FINAL_SIZE_ERROR,
    'reset below received',
  );
});

test('reset frames of one stream that change the error code: STREAM_STATE_ERROR; reliable size above final size: FRAME_ENCODING_ERROR (reliable-stream-reset §5, §4)', () => {
  expectServerCloses(
    [
      { type: FrameType.RESET_STREAM_AT, streamId: 0, errorCode: 1, finalSize: 10, reliableSize: 5 },
      { type: FrameType.RESET_STREAM, streamId: 0, errorCode: 2, finalSize: 10 },
    ],
    E.STREAM_STATE_ERROR,
    'error code changed',
  );
  // Raw bytes (our writer refuses this frame): type 0x24, stream 0, code 1, final size 10, reliable size 11.
  expectServerCloses(new Uint8Array([0x24, 0x00, 0x01, 0x0a, 0x0b]), E.FRAME_ENCODING_ERROR, 'reliable > final');
});

test('RESET_STREAM_AT when we did not advertise it: PROTOCOL_VIOLATION', () => {
  expectServerCloses([{ type: FrameType.RESET_STREAM_AT, streamId: 0, errorCode: 1, finalSize: 10, reliableSize: 5 }], E.PROTOCOL_VIOLATION, 'not negotiated', { resetStreamAt: false });
});

test('ACK of a packet never sent: PROTOCOL_VIOLATION (§13.1)', () => {
  expectServerCloses([{ type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest: 1_000_000 }] }], E.PROTOCOL_VIOLATION, 'ack unsent');
});

test('HANDSHAKE_DONE or NEW_TOKEN from a client: PROTOCOL_VIOLATION (§19.20, §19.7)', () => {
  expectServerCloses([{ type: FrameType.HANDSHAKE_DONE }], E.PROTOCOL_VIOLATION, 'handshake-done');
  expectServerCloses([{ type: FrameType.NEW_TOKEN, token: enc('token') }], E.PROTOCOL_VIOLATION, 'new-token');
});

test('DATAGRAM when max_datagram_frame_size is 0, or larger than it: PROTOCOL_VIOLATION (RFC 9221 §3)', () => {
  expectServerCloses([{ type: FrameType.DATAGRAM, data: enc('hi'), hasLength: true }], E.PROTOCOL_VIOLATION, 'unexpected datagram', { maxDatagramFrameSize: 0 });
  expectServerCloses([{ type: FrameType.DATAGRAM, data: new Uint8Array(200), hasLength: true }], E.PROTOCOL_VIOLATION, 'oversized datagram', { maxDatagramFrameSize: 100 });
});

test('reserved header bits set after removing protection: PROTOCOL_VIOLATION (§17.3.1)', () => {
  expectServerCloses([{ type: FrameType.PING }], E.PROTOCOL_VIOLATION, 'reserved bits', undefined, 0x18);
});

test('an unknown frame type and a truncated frame: FRAME_ENCODING_ERROR (§12.4, §19)', () => {
  expectServerCloses(new Uint8Array([0x21, 0x01, 0x02]), E.FRAME_ENCODING_ERROR, 'unknown type');
  // §12.4: a frame type in a longer encoding than needed may be a PROTOCOL_VIOLATION.
  expectServerCloses(new Uint8Array([0x40, 0x01]), E.PROTOCOL_VIOLATION, 'non-minimal type');
  expectServerCloses(new Uint8Array([0x04, 0x00, 0x00, 0xc0, 0x01]), E.FRAME_ENCODING_ERROR, 'truncated RESET_STREAM');
});

test('a stream beyond the peer limit: STREAM_LIMIT_ERROR (§4.6)', () => {
  // Index 100 with initial_max_streams_bidi 100.
  expectServerCloses([{ type: FrameType.STREAM, streamId: 4 * 100, offset: 0, data: enc('x'), fin: false, hasLength: true }], E.STREAM_LIMIT_ERROR, 'stream limit');
});

test('CRYPTO data far beyond what we buffer: CRYPTO_BUFFER_EXCEEDED (§7.5)', () => {
  expectServerCloses([{ type: FrameType.CRYPTO, offset: 1_000_000, data: enc('late') }], E.CRYPTO_BUFFER_EXCEEDED, 'crypto buffer');
});

test('field limits: STREAM past 2^62, MAX_STREAMS above 2^60, Retire Prior To above the sequence: FRAME_ENCODING_ERROR (§19.8, §19.11, §19.15)', () => {
  // STREAM (OFF|LEN) on stream 0 at offset 2^62 - 1 with 2 bytes of data.
  const streamPast = new Uint8Array([0x0e, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x61, 0x62]);
  expectServerClosesAnyOf(streamPast, [E.FRAME_ENCODING_ERROR, E.FLOW_CONTROL_ERROR], 'stream past 2^62');
  // MAX_STREAMS (bidi) 2^60 + 1.
  expectServerCloses(new Uint8Array([0x12, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]), E.FRAME_ENCODING_ERROR, 'max streams');
  // NEW_CONNECTION_ID seq 1, retire prior to 2, length 8, CID, token.
  const ncid = new Uint8Array([0x18, 0x01, 0x02, 0x08, ...new Uint8Array(8).fill(7), ...new Uint8Array(16).fill(9)]);
  expectServerCloses(ncid, E.FRAME_ENCODING_ERROR, 'retire prior to');
});

function expectServerClosesAnyOf(frames: Uint8Array, codes: number[], what: string): void {
  const pair = established();
  injectFrames(pair, 'client', frames);
  const r = pair.server().closeReason;
  assert.ok(r && r.kind === 'transport' && codes.includes(r.code), `${what}: ${JSON.stringify(r)}`);
  assert.ok(runUntilTerminated(pair, 10_000), `${what}: both sides did not terminate`);
}

test('PATH_CHALLENGE is answered with PATH_RESPONSE carrying the same data (§8.2.2)', () => {
  const pair = established();
  const seen: Frame[] = [];
  // Both directions share one link config: look at the server's datagrams only.
  pair.sim.link(SERVER, CLIENT)!.config.hook = (d, info) => {
    if (info.from === SERVER) seen.push(...peekFrames(pair.client, d));
    return d;
  };
  const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  injectFrames(pair, 'client', [{ type: FrameType.PATH_CHALLENGE, data }]);
  assert.ok(pair.run(() => seen.some((f) => f.type === FrameType.PATH_RESPONSE), 1_000), 'PATH_RESPONSE sent');
  const resp = seen.find((f) => f.type === FrameType.PATH_RESPONSE);
  assert.equal(resp, { type: FrameType.PATH_RESPONSE, data });
  assert.not.ok(pair.server().isClosed);
});

const ALLOWED_CODES = new Set<number>([
  E.FLOW_CONTROL_ERROR,
  E.STREAM_LIMIT_ERROR,
  E.STREAM_STATE_ERROR,
  E.FINAL_SIZE_ERROR,
  E.FRAME_ENCODING_ERROR,
  E.CONNECTION_ID_LIMIT_ERROR,
  E.PROTOCOL_VIOLATION,
  E.CRYPTO_BUFFER_EXCEEDED,
  E.KEY_UPDATE_ERROR,
]);

/** Random frame-ish bytes: a known frame type (sometimes an unknown one) followed by varints and bytes. */
function randomPayload(rng: SimRandom): Uint8Array {
  const types = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x24, 0x30, 0x31, 0x21];
  const out: number[] = [];
  const frames = 1 + rng.int(3);
  for (let f = 0; f < frames; f++) {
    out.push(types[rng.int(types.length)]!);
    const fields = rng.int(6);
    for (let i = 0; i < fields; i++) {
      const kind = rng.int(4);
      if (kind === 0) out.push(rng.int(64)); // small 1-byte varint
      else if (kind === 1) out.push(0x40 | rng.int(64), rng.int(256));
      else if (kind === 2) out.push(0x80 | rng.int(64), rng.int(256), rng.int(256), rng.int(256));
      else for (let j = rng.int(24); j > 0; j--) out.push(rng.int(256));
    }
  }
  return new Uint8Array(out);
}

function liveStreams(c: Connection): number {
  return c.streams.size;
}

test('seeded fuzz: random frames in validly protected packets never throw, close with a protocol error code, memory stays bounded', () => {
  const rng = new SimRandom(SEED * 7919 + 3);
  let closes = 0;
  let injected = 0;
  const codes = new Map<number, number>();
  for (let round = 0; round < 40; round++) {
    const pair = established(undefined, SEED * 100 + round);
    const server = pair.server();
    // Bounded: at most 60 packets per connection.
    for (let i = 0; i < 60 && !server.isClosed; i++) {
      injectFrames(pair, 'client', randomPayload(rng));
      injected++;
      assert.ok(liveStreams(server) <= 200, 'stream state stays within the stream limits');
      pair.run(() => false, 5);
    }
    if (server.isClosed) {
      closes++;
      const r = server.closeReason!;
      // A random CONNECTION_CLOSE from the "client" drains the server with the client's code.
      assert.ok(r.kind === 'transport' || (r.kind === 'application' && r.remote), JSON.stringify(r));
      if (r.kind === 'transport' && !r.remote) {
        assert.ok(ALLOWED_CODES.has(r.code), `unexpected code ${r.code}: ${r.reason}`);
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      }
      // After a forged CONNECTION_CLOSE the server drains silently: the client only idles out (§10.1).
      assert.ok(runUntilTerminated(pair, 40_000), `terminates after a fuzz close: server ${server.state}, client ${pair.client.state}`);
    }
  }
  assert.ok(closes >= 20, `most fuzz rounds end in an error close (${closes}/40)`);
  console.log(`    fuzz: ${injected} packets, ${closes} closes, codes ${[...codes].map(([c, n]) => `0x${c.toString(16)}x${n}`).join(' ')}`);
});

/** Re-encrypts `datagram`'s 1-RTT packet after flipping 1-3 bytes of its plaintext frames. */
function mutatePlaintext(datagram: Uint8Array, receiver: Connection, rng: SimRandom): Uint8Array | undefined {
  const keys = receiver.keyPhases.read;
  if (!keys) return undefined;
  const copy = datagram.slice();
  const h = new CoalescedPacketReader({ shortDcidLength: 8 }).reset(copy).next();
  if (!h || h.type !== PacketType.ONE_RTT) return undefined;
  const largest = receiver.spaces[2].ack.largestReceived;
  const header = removeHeaderProtection(keys.headerProtection, copy, h.start, h.pnOffset, h.end, largest);
  if (!header) return undefined;
  const plain = decryptPayload(keys, copy, h.start, h.pnOffset, header.pnLength, h.end, header.packetNumber);
  if (!plain || plain.length === 0) return undefined;
  const flips = 1 + rng.int(3);
  for (let i = 0; i < flips; i++) {
    // Mostly in the first bytes, where frame types, stream IDs, offsets and lengths are.
    const at = rng.chance(0.7) ? rng.int(Math.min(16, plain.length)) : rng.int(plain.length);
    plain[at] = (plain[at] as number) ^ (1 << rng.int(8));
  }
  const payloadEnd = h.pnOffset + header.pnLength + plain.length;
  protect(keys, copy, h.start, h.pnOffset, header.pnLength, payloadEnd, header.packetNumber);
  return copy.subarray(0, h.end);
}

test('seeded fuzz: real packets with mutated frames, re-encrypted: errors close cleanly with a protocol code, nothing throws', () => {
  const rng = new SimRandom(SEED * 613 + 5);
  let closes = 0;
  let mutated = 0;
  for (let round = 0; round < 16; round++) {
    let ref: Pair | undefined;
    const hook = (d: Uint8Array, info: { from: string }): Uint8Array => {
      const server = ref?.serverNode.conn;
      if (info.from !== CLIENT || !server?.handshakeConfirmed || !rng.chance(0.2)) return d;
      const m = mutatePlaintext(d, server, rng);
      if (m) mutated++;
      return m ?? d;
    };
    const pair = makePair({ seed: SEED * 50 + round, link: { delayMs: 10, bandwidthBps: 20e6, hook } });
    ref = pair;
    establish(pair);
    const c = pair.client;
    for (let k = 0; k < 4; k++) c.writeStream(c.openStream(k % 2 === 0 ? 'bidi' : 'uni')!, payload(20_000, k), k % 3 === 0);
    c.sendDatagram(payload(100, 1));
    pair.run(() => pair.server().isClosed || pair.client.isClosed, 3_000);
    const r = pair.server().closeReason ?? pair.client.closeReason;
    if (r) {
      closes++;
      assert.ok(r.kind === 'transport' || r.kind === 'application', JSON.stringify(r));
      if (r.kind === 'transport') assert.ok(ALLOWED_CODES.has(r.code) || (r.code === E.NO_ERROR && r.remote), `round ${round}: code 0x${r.code.toString(16)} ${r.reason}`);
      assert.ok(runUntilTerminated(pair, 40_000), `round ${round}: terminates`);
    }
  }
  assert.ok(mutated > 20, `${mutated} packets mutated`);
  assert.ok(closes >= 6, `${closes} of 16 rounds closed`);
  console.log(`    plaintext fuzz: ${mutated} packets mutated, ${closes} closes`);
});

test('seeded fuzz: garbage datagrams and bit-flipped valid datagrams are dropped without closing or throwing', () => {
  const rng = new SimRandom(SEED * 31 + 17);
  let mutated = 0;
  const pair = makePair({
    seed: SEED,
    link: {
      delayMs: 10,
      hook: (data, info) => {
        // Corrupt every fifth datagram each way; the originals are lost.
        if (info.index % 5 === 2) {
          mutated++;
          const copy = data.slice();
          const flips = 1 + rng.int(4);
          for (let i = 0; i < flips; i++) {
            const at = rng.int(copy.length);
            copy[at] = (copy[at] as number) ^ (1 << rng.int(8));
          }
          return copy;
        }
        return data;
      },
    },
  });
  establish(pair, 20_000);
  const server = pair.server();
  for (let i = 0; i < 300; i++) {
    const size = 1 + rng.int(1500);
    const garbage = rng.bytes(size);
    if (i % 3 === 0) garbage[0] = (garbage[0] as number) | 0x40; // fixed bit set: parsed as a packet
    if (i % 5 === 0 && size > 9) garbage.set(server.localCids.get(0)!.cid.subarray(0, 8), 1); // our DCID: reaches decryption
    deliverTo(pair, i % 2 === 0 ? 'server' : 'client', garbage);
  }
  // A forged but undecryptable 1-RTT packet with the right DCID (tag flipped).
  const forged = forge1Rtt(pair.client, [{ type: FrameType.PING }]);
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
  deliverTo(pair, 'server', forged);
  assert.not.ok(server.isClosed, `server closed on garbage: ${JSON.stringify(server.closeReason)}`);
  assert.not.ok(pair.client.isClosed, `client closed on garbage: ${JSON.stringify(pair.client.closeReason)}`);
  assert.ok(server.droppedPackets > 0);
  // The connection still works: a stream round trip under continued corruption.
  const id = pair.client.openStream('bidi')!;
  pair.client.writeStream(id, enc('still alive'), true);
  let got = '';
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') {
      const r = conn.readStream(e.streamId);
      if (r) got += new TextDecoder().decode(r.data);
    }
  };
  assert.ok(pair.run(() => got === 'still alive', 20_000), 'stream data after the garbage');
  assert.ok(mutated > 0);
});

test.run();
