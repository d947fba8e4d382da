import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import {
  decodePacketNumber,
  decodePacketNumberBig,
  MAX_PACKET_NUMBER,
  packetNumberLength,
  readTruncatedPacketNumber,
  writePacketNumber,
  type PacketNumberLength,
} from '../../src/packet/number.js';
import { createPrng } from '../helpers/prng.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

interface PacketNumberVectors {
  source: string;
  encoding: { fullPn: string; largestAcked: string; twiceRange: string; bits: number; encoded: string }[];
  decoding: { largestPn: string; truncatedPn: string; bits: number; fullPn: string }[];
}
const vectors = loadVectors<PacketNumberVectors>('rfc9000-a2-a3-packet-numbers.json');
const hexNum = (h: string): number => parseInt(h, 16);

test('RFC 9000 A.2: example packet numbers get the lengths and bytes the appendix gives', () => {
  assert.is(vectors.encoding.length, 2);
  for (const v of vectors.encoding) {
    const full = hexNum(v.fullPn);
    const acked = hexNum(v.largestAcked);
    assert.is(2 * (full - acked), hexNum(v.twiceRange), v.fullPn);
    const len = packetNumberLength(full, acked);
    assert.is(len * 8, v.bits, v.fullPn);
    const out = new Uint8Array(4);
    assert.is(writePacketNumber(out, 0, full, len), len);
    assert.is(toHex(out.subarray(0, len)), v.encoded);
    assert.is(readTruncatedPacketNumber(out, 0, len), hexNum(v.encoded));
  }
});

test('RFC 9000 A.3: example truncated packet number decodes to the appendix value', () => {
  assert.is(vectors.decoding.length, 1);
  for (const v of vectors.decoding) {
    assert.is(decodePacketNumber(hexNum(v.largestPn), hexNum(v.truncatedPn), v.bits), hexNum(v.fullPn));
    assert.is(decodePacketNumberBig(BigInt('0x' + v.largestPn), BigInt('0x' + v.truncatedPn), v.bits), BigInt('0x' + v.fullPn));
  }
});

test('§17.1: length boundaries are num_unacked <= 2^(8n-1); nothing acked counts from 0', () => {
  assert.is(packetNumberLength(0, undefined), 1);
  assert.is(packetNumberLength(127, undefined), 1); // 128 unacked
  assert.is(packetNumberLength(128, undefined), 2);
  assert.is(packetNumberLength(127, -1), 1);
  assert.is(packetNumberLength(1000 + 128, 1000), 1);
  assert.is(packetNumberLength(1000 + 129, 1000), 2);
  assert.is(packetNumberLength(1000 + 0x8000, 1000), 2);
  assert.is(packetNumberLength(1000 + 0x8001, 1000), 3);
  assert.is(packetNumberLength(0x80_0000, 0), 3);
  assert.is(packetNumberLength(0x80_0001, 0), 4);
  assert.is(packetNumberLength(0x8000_0000, 0), 4);
  assert.throws(() => packetNumberLength(0x8000_0001, 0), RangeError);
  // A retransmission-free sender never goes at or below largest acked, but if asked, 1 byte.
  assert.is(packetNumberLength(5, 9), 1);
});

test('§17.1: writePacketNumber keeps the low bytes big-endian, also above 2^32', () => {
  const out = new Uint8Array(6);
  assert.is(writePacketNumber(out, 1, 0x1_2345_6789, 4), 5);
  assert.is(toHex(out), '002345678900');
  writePacketNumber(out, 0, 654360564, 3); // RFC 9001 A.5: 3 bytes encode 49140 = 0x00bff4
  assert.is(toHex(out.subarray(0, 3)), '00bff4');
  assert.throws(() => writePacketNumber(new Uint8Array(3), 1, 1, 4), RangeError);
});

test('readTruncatedPacketNumber: a packet too short throws QuicError(PROTOCOL_VIOLATION)', () => {
  const buf = fromHex('aabbcc');
  assert.is(readTruncatedPacketNumber(buf, 1, 2), 0xbbcc);
  try {
    readTruncatedPacketNumber(buf, 1, 3);
    assert.unreachable();
  } catch (e) {
    assert.ok(QuicError.is(e));
    assert.is((e as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION);
  }
});

test('A.3: window edges: expected - hwin is outside the window, expected + hwin inside', () => {
  // 8 bits: window 256, half window 128. The result lies in (expected - 128, expected + 128].
  // expected = 0x1000: candidate 0x1080 = expected + hwin stays; 0x1081 moves a window down.
  assert.is(decodePacketNumber(0xfff, 0x80, 8), 0x1080);
  assert.is(decodePacketNumber(0xfff, 0x81, 8), 0xf81);
  assert.is(decodePacketNumber(0xfff, 0x00, 8), 0x1000);
  assert.is(decodePacketNumber(0xfff, 0xff, 8), 0xfff);
  // expected = 0x1080: candidate 0x1000 = expected - hwin moves a window up; 0x1001 stays.
  assert.is(decodePacketNumber(0x107f, 0x00, 8), 0x1100);
  assert.is(decodePacketNumber(0x107f, 0x01, 8), 0x1001);
  assert.is(decodePacketNumberBig(0x107fn, 0x00n, 8), 0x1100n);
  // 32-bit window across a 2^32 boundary.
  assert.is(decodePacketNumber(0x1_ffff_fff0, 0x0000_0005, 32), 0x2_0000_0005);
  assert.is(decodePacketNumber(0x2_0000_0005, 0xffff_fff0, 32), 0x1_ffff_fff0);
});

test('A.3: near 0, nothing received yet (largest -1) never decodes below 0', () => {
  assert.is(decodePacketNumber(-1, 0, 8), 0);
  assert.is(decodePacketNumber(-1, 0xff, 8), 0xff);
  assert.is(decodePacketNumber(-1, 0xffff_ffff, 32), 0xffff_ffff);
  assert.is(decodePacketNumber(5, 0xfe, 8), 0xfe);
  assert.is(decodePacketNumberBig(-1n, 0xffn, 8), 0xffn);
});

test('A.3: near 2^62 the bigint decoder never exceeds 2^62-1', () => {
  const top = MAX_PACKET_NUMBER; // 2^62 - 1
  // expected = 2^62-1; candidate (2^62-256) is a window below but cannot move up past 2^62.
  assert.is(decodePacketNumberBig(top - 1n, 0x00n, 8), (1n << 62n) - 256n);
  assert.is(decodePacketNumberBig(top - 1n, 0xffn, 8), top);
  assert.is(decodePacketNumberBig(top - 1n, 0xfen, 8), top - 1n);
  assert.is(decodePacketNumberBig(top - 1n, 0xffff_ffffn, 32), top);
  assert.is(decodePacketNumberBig(top - 1n, 0n, 32), (1n << 62n) - (1n << 32n));
  // Far below the top the guards do not apply: 0 moves to the next window.
  assert.is(decodePacketNumberBig((1n << 61n) + 0xf0n, 0x01n, 8), (1n << 61n) + 0x101n);
});

test('encode then decode round-trips for random packet numbers at every length', () => {
  const rng = createPrng(0x5eed_0001);
  const out = new Uint8Array(4);
  for (let i = 0; i < 20_000; i++) {
    const largestAcked = rng.u32() * 2 ** (rng.u32() % 18); // up to ~2^50
    const gap = 1 + (rng.u32() % (2 ** (1 + (rng.u32() % 31))));
    const full = largestAcked + gap;
    if (gap > 0x8000_0000) continue;
    const len: PacketNumberLength = packetNumberLength(full, largestAcked);
    writePacketNumber(out, 0, full, len);
    const truncated = readTruncatedPacketNumber(out, 0, len);
    // The receiver has processed at least largestAcked (A.2's assumption).
    assert.is(decodePacketNumber(largestAcked, truncated, len * 8), full, `${full} ${largestAcked}`);
    assert.is(decodePacketNumberBig(BigInt(largestAcked), BigInt(truncated), len * 8), BigInt(full));
  }
});

test('the number decoder agrees with the bigint decoder below 2^53', () => {
  const rng = createPrng(0x5eed_0002);
  for (let i = 0; i < 20_000; i++) {
    const bits = 8 * (1 + (rng.u32() % 4));
    const largest = rng.u32() * 2 ** (rng.u32() % 21) - 1;
    const truncated = rng.u32() % 2 ** bits;
    assert.is(BigInt(decodePacketNumber(largest, truncated, bits)), decodePacketNumberBig(BigInt(largest), BigInt(truncated), bits));
  }
});

test.run();
