import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteReader } from '../../src/codec/reader.js';
import { ByteWriter } from '../../src/codec/writer.js';
import {
  readVarintAt,
  readVarintBigAt,
  varintLength,
  VARINT_MAX,
  writeVarint,
  writeVarintBig,
} from '../../src/codec/varint.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

interface VarintVectors {
  source: string;
  vectors: { hex: string; value: string; minimal: boolean }[];
}
const { vectors } = loadVectors<VarintVectors>('rfc9000-a1-varint.json');

test('RFC 9000 A.1: every example decodes exactly (bigint path)', () => {
  for (const v of vectors) {
    const bytes = fromHex(v.hex);
    assert.is(readVarintBigAt(bytes, 0, bytes.length), BigInt(v.value), v.hex);
  }
});

test('RFC 9000 A.1: examples within 2^53 decode exactly as numbers', () => {
  for (const v of vectors) {
    if (BigInt(v.value) > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    const bytes = fromHex(v.hex);
    assert.is(readVarintAt(bytes, 0, bytes.length), Number(v.value), v.hex);
  }
});

test('RFC 9000 A.1: minimal encodings re-encode byte-for-byte, forced lengths too', () => {
  for (const v of vectors) {
    const bytes = fromHex(v.hex);
    const out = new Uint8Array(8);
    const len = v.minimal ? undefined : (bytes.length as 1 | 2 | 4 | 8);
    const end = writeVarintBig(out, 0, BigInt(v.value), len);
    assert.is(toHex(out.subarray(0, end)), v.hex);
  }
});

test('§16: boundaries of each length round-trip', () => {
  const cases: [number, number][] = [
    [0, 1], [63, 1], [64, 2], [16383, 2], [16384, 4], [2 ** 30 - 1, 4], [2 ** 30, 8], [Number.MAX_SAFE_INTEGER, 8],
  ];
  for (const [value, len] of cases) {
    assert.is(varintLength(value), len);
    const w = new ByteWriter(1);
    w.varint(value);
    assert.is(w.offset, len);
    const r = new ByteReader(w.finish());
    assert.is(r.varint(), value);
    assert.ok(r.isEmpty());
  }
  const max = new Uint8Array(8);
  writeVarintBig(max, 0, VARINT_MAX);
  assert.is(toHex(max), 'ffffffffffffffff');
  assert.is(readVarintBigAt(max, 0, 8), VARINT_MAX);
});

test('§16: encode rejects values >= 2^62 and negative values', () => {
  assert.throws(() => writeVarintBig(new Uint8Array(8), 0, VARINT_MAX + 1n), RangeError);
  assert.throws(() => writeVarintBig(new Uint8Array(8), 0, -1n), RangeError);
  assert.throws(() => writeVarint(new Uint8Array(8), 0, -1), RangeError);
  assert.throws(() => writeVarint(new Uint8Array(8), 0, 1.5), RangeError);
  assert.throws(() => writeVarint(new Uint8Array(8), 0, 2 ** 62), RangeError);
  assert.throws(() => writeVarint(new Uint8Array(8), 0, 64, 1), RangeError);
});

test('numbers above 2^53 (exact doubles such as 2^60) encode exactly through the bigint path', () => {
  const out = new Uint8Array(8);
  writeVarint(out, 0, 2 ** 60);
  assert.is(readVarintBigAt(out, 0, 8), 2n ** 60n);
  assert.is(readVarintAt(out, 0, 8), 2 ** 60);
});

test('truncated varints throw QuicError with the reader\'s code', () => {
  for (const hex of ['40', '80aabb', 'c0112233445566']) {
    const r = new ByteReader(fromHex(hex), 0, undefined, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    try {
      r.varint();
      assert.unreachable('should throw');
    } catch (e) {
      assert.ok(QuicError.is(e), String(e));
      assert.is((e as QuicError).code, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    }
  }
  assert.throws(() => new ByteReader(new Uint8Array(0)).varint(), (e: unknown) => QuicError.is(e));
});

test.run();
