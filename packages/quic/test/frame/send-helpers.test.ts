import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { varintLength } from '../../src/codec/varint.js';
import { ByteWriter } from '../../src/codec/writer.js';
import { cryptoDataCapacity, cryptoFrameHeaderLength, writeCryptoFrameHeader } from '../../src/frame/crypto.js';
import { datagramFrameHeaderLength, writeDatagramFrameHeader } from '../../src/frame/datagram.js';
import { parseFrames } from '../../src/frame/parse.js';
import { dataCapacity, streamDataCapacity, streamFrameHeaderLength, writeStreamFrameHeader } from '../../src/frame/stream.js';
import { FrameType } from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { PacketType } from '../../src/packet/types.js';
import { toHex } from '../helpers/vectors.js';

/** Writes a header with the helper, copies the data after it, and parses the result. */
function buildStream(streamId: number, offset: number, data: Uint8Array, fin: boolean, withLength: boolean): Uint8Array {
  const w = new ByteWriter(new Uint8Array(streamFrameHeaderLength(streamId, offset, data.length, withLength) + data.length));
  writeStreamFrameHeader(w, streamId, offset, data.length, fin, withLength);
  w.bytes(data);
  assert.is(w.remaining, 0, 'header length is exact');
  return w.buf;
}

test('STREAM header helper: exact size for every OFF/LEN/FIN combination and varint size class', () => {
  const data = Uint8Array.of(1, 2, 3);
  for (const streamId of [0, 63, 64, 16383, 16384, 2 ** 30, 2 ** 40]) {
    for (const offset of [0, 1, 63, 64, 2 ** 30 - 1, 2 ** 30, 2 ** 50]) {
      for (const fin of [false, true]) {
        for (const withLength of [false, true]) {
          const bytes = buildStream(streamId, offset, data, fin, withLength);
          const [f] = parseFrames(bytes, PacketType.ONE_RTT);
          assert.equal(f, { type: FrameType.STREAM, streamId, offset, data, fin, hasLength: withLength });
        }
      }
    }
  }
});

test('STREAM header helper: FIN does not change the size; bytes follow §19.8', () => {
  assert.is(streamFrameHeaderLength(4, 0, 10), 1 + 1 + 1);
  assert.is(streamFrameHeaderLength(4, 64, 10), 1 + 1 + 2 + 1);
  assert.is(streamFrameHeaderLength(4, 64, 10, false), 1 + 1 + 2);
  assert.is(toHex(buildStream(4, 64, Uint8Array.of(0xee), true, true)), '0f' + '04' + '4040' + '01' + 'ee');
  assert.is(toHex(buildStream(4, 0, Uint8Array.of(0xee), false, false)), '08' + '04' + 'ee');
});

test('dataCapacity: the largest n with n + varintLength(n) <= room, for every room up to 20000', () => {
  for (let room = -2; room <= 20_000; room++) {
    const n = dataCapacity(room, Infinity);
    if (room < 1) {
      assert.is(n, -1, `room ${room}`);
      continue;
    }
    assert.ok(n + varintLength(n) <= room, `room ${room}: ${n} does not fit`);
    assert.ok(n + 1 + varintLength(n + 1) > room, `room ${room}: ${n + 1} would fit too`);
  }
  assert.is(dataCapacity(1000, 10), 10, 'limited by available data');
  assert.is(dataCapacity(2 ** 31, Infinity), 2 ** 31 - 8);
});

test('streamDataCapacity: the frame it sizes fills the space exactly or wastes only what a Length boundary forces', () => {
  for (const streamId of [0, 100, 2 ** 20]) {
    for (const offset of [0, 5000, 2 ** 33]) {
      for (let space = 0; space <= 1500; space++) {
        const n = streamDataCapacity(streamId, offset, space, Infinity);
        const header = 1 + varintLength(streamId) + (offset > 0 ? varintLength(offset) : 0);
        if (space < header + 1) {
          assert.is(n, -1);
          continue;
        }
        const size = streamFrameHeaderLength(streamId, offset, n) + n;
        assert.ok(size <= space && size >= space - 1, `space ${space}: frame ${size}`);
      }
    }
  }
  // An empty FIN frame fits when only the header fits.
  assert.is(streamDataCapacity(0, 0, 3, 100), 0);
});

test('CRYPTO header helper: size, capacity and bytes (§19.6)', () => {
  assert.is(cryptoFrameHeaderLength(0, 100), 1 + 1 + 2);
  const data = new Uint8Array(300).fill(7);
  const n = cryptoDataCapacity(1000, 200, data.length);
  const w = new ByteWriter(new Uint8Array(200));
  writeCryptoFrameHeader(w, 1000, n);
  w.bytes(data.subarray(0, n));
  assert.is(w.remaining, 0, 'fills the 200 bytes');
  const [f] = parseFrames(w.buf, PacketType.HANDSHAKE);
  assert.equal(f, { type: FrameType.CRYPTO, offset: 1000, data: data.subarray(0, n) });
  assert.is(cryptoDataCapacity(0, 50, 10), 10);
  assert.is(cryptoDataCapacity(0, 2, 10), -1);
});

test('DATAGRAM header helper: with and without Length (RFC 9221 §4)', () => {
  assert.is(datagramFrameHeaderLength(63), 2);
  assert.is(datagramFrameHeaderLength(64), 3);
  assert.is(datagramFrameHeaderLength(100, false), 1);
  for (const withLength of [true, false]) {
    const w = new ByteWriter(8);
    writeDatagramFrameHeader(w, 2, withLength);
    w.bytes(Uint8Array.of(0xaa, 0xbb));
    assert.is(w.offset, datagramFrameHeaderLength(2, withLength) + 2);
    assert.is(toHex(w.finish()), withLength ? '3102aabb' : '30aabb');
    const [f] = parseFrames(w.finish(), PacketType.ZERO_RTT);
    assert.equal(f, { type: FrameType.DATAGRAM, data: Uint8Array.of(0xaa, 0xbb), hasLength: withLength });
  }
});

test('writers refuse invalid frames of our own making with RangeError', () => {
  const w = new ByteWriter(64);
  // (2^62 - 2^20 is exact as a double; adding 2^21 passes 2^62-1.)
  assert.throws(() => writeStreamFrameHeader(w, 0, 2 ** 62 - 2 ** 20, 2 ** 21, false), RangeError);
  assert.throws(() => writeCryptoFrameHeader(w, 2 ** 62 - 2 ** 20, 2 ** 21), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 1, retirePriorTo: 2, connectionId: new Uint8Array(4), statelessResetToken: new Uint8Array(16) }), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 1, retirePriorTo: 0, connectionId: new Uint8Array(21), statelessResetToken: new Uint8Array(16) }), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.PATH_CHALLENGE, data: new Uint8Array(7) }), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.MAX_STREAMS, bidirectional: true, maximum: 2 ** 61 }), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.NEW_TOKEN, token: new Uint8Array(0) }), RangeError);
  assert.throws(() => writeFrame(w, { type: FrameType.RESET_STREAM_AT, streamId: 0, errorCode: 0, finalSize: 1, reliableSize: 2 }), RangeError);
  const unsorted = { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 1, largest: 2 }, { smallest: 5, largest: 6 }] } as const;
  assert.throws(() => writeFrame(w, { ...unsorted, ranges: [...unsorted.ranges] }), RangeError);
  // Adjacent ranges (no missing packet between them) cannot be expressed with a Gap.
  assert.throws(() => writeFrame(w, { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 5, largest: 6 }, { smallest: 1, largest: 4 }] }), RangeError);
});

test.run();
