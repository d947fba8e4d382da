import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportErrorCode } from '../../src/errors.js';
import { parseFrames } from '../../src/frame/parse.js';
import { FrameType, type AckFrame, type StreamFrame } from '../../src/frame/types.js';
import { PacketType } from '../../src/packet/types.js';
import { fromHex } from '../helpers/vectors.js';
import { expectQuicError } from './helpers.js';

const FEE = TransportErrorCode.FRAME_ENCODING_ERROR;
const PV = TransportErrorCode.PROTOCOL_VIOLATION;
const parse1rtt = (hex: string) => parseFrames(fromHex(hex), PacketType.ONE_RTT);

test('§19.3.1: a First ACK Range below packet 0 is FRAME_ENCODING_ERROR (0x02 and 0x03)', () => {
  // Largest 5, First ACK Range 6 -> smallest -1.
  expectQuicError(() => parse1rtt('02 05 00 00 06'), FEE, 0x02, 'ACK');
  expectQuicError(() => parse1rtt('03 05 00 00 06 00 00 00'), FEE, 0x03, 'ACK_ECN');
  // Largest 5, First ACK Range 5 -> smallest 0: valid.
  assert.equal(parse1rtt('02 05 00 00 05'), [{ type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest: 5 }] }]);
});

test('§19.3.1: a Gap or ACK Range Length that goes below packet 0 is FRAME_ENCODING_ERROR', () => {
  // 10..10, then Gap 7 -> largest 10 - 7 - 2 = 1, Length 1 -> smallest 0: valid.
  const ok = parse1rtt('02 0a 00 01 00 07 01') as [AckFrame];
  assert.equal(ok[0].ranges, [{ smallest: 10, largest: 10 }, { smallest: 0, largest: 1 }]);
  // Gap 9 -> largest -1.
  expectQuicError(() => parse1rtt('02 0a 00 01 00 09 00'), FEE, 0x02, 'gap');
  // Gap 7 -> largest 1, Length 2 -> smallest -1.
  expectQuicError(() => parse1rtt('02 0a 00 01 00 07 02'), FEE, 0x02, 'length');
});

test('§19.3.1: the negative check is exact above 2^53', () => {
  // Largest = 2^53 + 1, First ACK Range = 2^53 + 2: exact smallest -1, which doubles would round to 0.
  expectQuicError(() => parse1rtt('02 c020000000000001 00 00 c020000000000002'), FEE, 0x02, 'first range');
  // Largest = 2^53 + 1, First ACK Range = 2^53 + 1: smallest 0, valid.
  parse1rtt('02 c020000000000001 00 00 c020000000000001');
  // Largest = 2^53 + 1, first range 0, Gap = 2^53 - 1 -> largest 0, Length 1 -> -1.
  expectQuicError(() => parse1rtt('02 c020000000000001 00 01 00 c01fffffffffffff 01'), FEE, 0x02, 'gap');
});

test('ACK Range Count larger than the frame can hold is FRAME_ENCODING_ERROR without a huge loop', () => {
  expectQuicError(() => parse1rtt('02 05 00 bfffffff 00 00 00'), FEE, 0x02);
});

test('§19.8: STREAM offset + length above 2^62-1 is FRAME_ENCODING_ERROR, exactly at the boundary', () => {
  // OFF|LEN, offset 2^62-1, length 0: ends at 2^62-1, valid.
  const [f] = parse1rtt('0e 00 ffffffffffffffff 00') as [StreamFrame];
  assert.is(f.data.length, 0);
  // offset 2^62-1, length 1.
  expectQuicError(() => parse1rtt('0e 00 ffffffffffffffff 01 aa'), FEE, 0x0e, 'len 1');
  // offset 2^62-2, 1 byte: valid; 2 bytes: one too many.
  parse1rtt('0e 00 fffffffffffffffe 01 aa');
  expectQuicError(() => parse1rtt('0e 00 fffffffffffffffe 02 aabb'), FEE, 0x0e, 'len 2');
  // Without LEN the data runs to the end of the packet and is counted the same way.
  expectQuicError(() => parse1rtt('0d 00 ffffffffffffffff aa'), FEE, 0x0d, 'no LEN, FIN');
});

test('§19.6: CRYPTO offset + length above 2^62-1 is FRAME_ENCODING_ERROR', () => {
  parseFrames(fromHex('06 ffffffffffffffff 00'), PacketType.INITIAL);
  expectQuicError(() => parseFrames(fromHex('06 ffffffffffffffff 01 aa'), PacketType.INITIAL), FEE, 0x06);
});

test('§19.11 / §19.14: MAX_STREAMS and STREAMS_BLOCKED above 2^60 are FRAME_ENCODING_ERROR', () => {
  for (const type of [0x12, 0x13, 0x16, 0x17]) {
    const t = type.toString(16);
    // 2^60 is allowed.
    const [f] = parse1rtt(`${t} d000000000000000`);
    assert.ok(f !== undefined);
    // 2^60 + 1 rounds to 2^60 as a double: rejected all the same.
    expectQuicError(() => parse1rtt(`${t} d000000000000001`), FEE, type, `0x${t} 2^60+1`);
    expectQuicError(() => parse1rtt(`${t} ffffffffffffffff`), FEE, type, `0x${t} 2^62-1`);
  }
});

test('§19.15: NEW_CONNECTION_ID Length outside 1..20 and Retire Prior To > Sequence Number', () => {
  const token = '00'.repeat(16);
  parse1rtt(`18 01 00 01 aa ${token}`);
  parse1rtt(`18 01 00 14 ${'aa'.repeat(20)} ${token}`);
  expectQuicError(() => parse1rtt(`18 01 00 00 ${token}`), FEE, 0x18, 'length 0');
  expectQuicError(() => parse1rtt(`18 01 00 15 ${'aa'.repeat(21)} ${token}`), FEE, 0x18, 'length 21');
  expectQuicError(() => parse1rtt(`18 01 02 01 aa ${token}`), FEE, 0x18, 'retire prior to');
  parse1rtt(`18 02 02 01 aa ${token}`); // equal is fine
});

test('§19.17 / §19.18: PATH_CHALLENGE and PATH_RESPONSE carry exactly 8 bytes', () => {
  expectQuicError(() => parse1rtt('1a 01020304050607'), FEE, 0x1a);
  expectQuicError(() => parse1rtt('1b 01020304050607'), FEE, 0x1b);
  // A ninth byte is the next frame (here PING), not part of the data.
  const frames = parse1rtt('1a 0102030405060708 01');
  assert.is(frames.length, 2);
  assert.is(frames[1]?.type, FrameType.PING);
});

test('reliable-stream-reset §4: Reliable Size above Final Size is FRAME_ENCODING_ERROR, exactly', () => {
  parse1rtt('24 00 00 05 05');
  expectQuicError(() => parse1rtt('24 00 00 05 06'), FEE, 0x24);
  // Final 2^62-2, Reliable 2^62-1: both round to 2^62 as doubles.
  expectQuicError(() => parse1rtt('24 00 00 fffffffffffffffe ffffffffffffffff'), FEE, 0x24, 'exact');
});

test('§19.7: NEW_TOKEN with an empty token is FRAME_ENCODING_ERROR', () => {
  expectQuicError(() => parse1rtt('07 00'), FEE, 0x07);
});

test('§19.19: CONNECTION_CLOSE 0x1c has a Frame Type field, 0x1d does not', () => {
  assert.equal(parse1rtt('1c 0a 08 01 78'), [
    { type: FrameType.CONNECTION_CLOSE, application: false, errorCode: 0x0a, frameType: 0x08, reason: Uint8Array.of(0x78) },
  ]);
  assert.equal(parse1rtt('1d 0a 01 78'), [
    { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: 0x0a, frameType: 0, reason: Uint8Array.of(0x78) },
  ]);
  // The same bytes as 0x1c: '01' would be the frame type and '78' a reason length past the end.
  expectQuicError(() => parse1rtt('1c 0a 01 78'), FEE, 0x1c);
});

test('§12.4: unknown frame types are FRAME_ENCODING_ERROR with the type recorded', () => {
  for (const t of [0x1f, 0x20, 0x23, 0x25, 0x2f, 0x32, 0x3f]) {
    expectQuicError(() => parse1rtt(t.toString(16).padStart(2, '0') + '00'), FEE, t, `0x${t.toString(16)}`);
  }
  // Two-byte types are minimal from 0x40 on, and none is known.
  expectQuicError(() => parse1rtt('4040'), FEE, 0x40, '0x40');
  expectQuicError(() => parse1rtt('7fff'), FEE, 0x3fff, '0x3fff');
  expectQuicError(() => parse1rtt('80004000'), FEE, 0x4000, '0x4000');
  // Unknown even after valid frames.
  expectQuicError(() => parse1rtt('01 01 21'), FEE, 0x21, 'after PING');
});

test('§12.4: a frame type encoded longer than necessary is PROTOCOL_VIOLATION', () => {
  expectQuicError(() => parse1rtt('4001'), PV, 0x01, 'PING in 2 bytes');
  expectQuicError(() => parse1rtt('80000006 00 00'), PV, 0x06, 'CRYPTO in 4 bytes');
  expectQuicError(() => parse1rtt('c000000000000008 00'), PV, 0x08, 'STREAM in 8 bytes');
  expectQuicError(() => parse1rtt('80003fff'), PV, 0x3fff, 'unknown 0x3fff in 4 bytes');
  expectQuicError(() => parse1rtt('4021'), PV, 0x21, 'unknown type, non-minimal');
});

test('§12.4: a packet without frames is PROTOCOL_VIOLATION; Retry and VN packets carry none', () => {
  expectQuicError(() => parseFrames(new Uint8Array(0), PacketType.ONE_RTT), PV);
  expectQuicError(() => parseFrames(fromHex('01'), PacketType.RETRY), PV, 0x01);
  expectQuicError(() => parseFrames(fromHex('01'), PacketType.VERSION_NEGOTIATION), PV, 0x01);
});

test('a truncated Frame Type is FRAME_ENCODING_ERROR without a frame type', () => {
  const err = expectQuicError(() => parse1rtt('01 40'), FEE);
  assert.is(err.frameType, undefined);
});

test.run();
