/**
 * Variable-length integers (RFC 9000 §16).
 *
 * The two most significant bits of the first byte give the length (1, 2, 4 or 8 bytes);
 * the rest is the value in network byte order. Values up to 2^62-1.
 *
 * The `number` functions are exact up to Number.MAX_SAFE_INTEGER (2^53-1); every QUIC field
 * we act on (offsets, stream IDs, packet numbers, limits) stays far below that in practice.
 * A larger wire value decodes to the nearest double: callers that need it exact (test vectors,
 * opaque codes) use the bigint variants.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

export const VARINT_MAX = 2n ** 62n - 1n;
/** Above this, `number` values are encoded through the bigint path (still exactly, as doubles are integers there). */
export const VARINT_MAX_SAFE = Number.MAX_SAFE_INTEGER;

const TWO_32 = 0x1_0000_0000;
const TWO_62 = 2 ** 62;

/** Encoded length in bytes of `value` (1, 2, 4 or 8). */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x4000_0000) return 4;
  return 8;
}

/** Encoded length of a bigint value; throws on values outside 0..2^62-1. */
export function varintLengthBig(value: bigint): 1 | 2 | 4 | 8 {
  if (value < 0n || value > VARINT_MAX) throw new RangeError(`varint out of range: ${value}`);
  return value < 0x4000_0000n ? varintLength(Number(value)) : 8;
}

/**
 * Writes `value` at `offset` with its minimal length, or with `forcedLength` bytes when given
 * (any length that fits the value is valid on the wire, §16). Returns the offset after it.
 * Encoding never sees network input, so bad arguments are programming errors (RangeError).
 */
export function writeVarint(buf: Uint8Array, offset: number, value: number, forcedLength?: 1 | 2 | 4 | 8): number {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_62) {
    throw new RangeError(`varint out of range: ${value}`);
  }
  // Above 2^53 a number is still an exact integer (it is whatever double it is): encode it exactly.
  if (value > VARINT_MAX_SAFE) return writeVarintBig(buf, offset, BigInt(value), forcedLength);
  const len = forcedLength ?? varintLength(value);
  if (offset + len > buf.length) throw new RangeError('varint does not fit in buffer');
  switch (len) {
    case 1:
      if (value >= 0x40) throw new RangeError(`${value} does not fit in 1 byte`);
      buf[offset] = value;
      return offset + 1;
    case 2:
      if (value >= 0x4000) throw new RangeError(`${value} does not fit in 2 bytes`);
      buf[offset] = 0x40 | (value >>> 8);
      buf[offset + 1] = value & 0xff;
      return offset + 2;
    case 4:
      if (value >= 0x4000_0000) throw new RangeError(`${value} does not fit in 4 bytes`);
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      return offset + 4;
    default: {
      const hi = Math.floor(value / TWO_32);
      const lo = value >>> 0;
      buf[offset] = 0xc0 | (hi >>> 24);
      buf[offset + 1] = (hi >>> 16) & 0xff;
      buf[offset + 2] = (hi >>> 8) & 0xff;
      buf[offset + 3] = hi & 0xff;
      buf[offset + 4] = lo >>> 24;
      buf[offset + 5] = (lo >>> 16) & 0xff;
      buf[offset + 6] = (lo >>> 8) & 0xff;
      buf[offset + 7] = lo & 0xff;
      return offset + 8;
    }
  }
}

/** Writes a bigint varint (exact over the whole 62-bit range). Returns the offset after it. */
export function writeVarintBig(buf: Uint8Array, offset: number, value: bigint, forcedLength?: 1 | 2 | 4 | 8): number {
  const minimal = varintLengthBig(value);
  const len = forcedLength ?? minimal;
  if (len < minimal) throw new RangeError(`${value} does not fit in ${len} bytes`);
  if (len < 8) return writeVarint(buf, offset, Number(value), len);
  if (offset + 8 > buf.length) throw new RangeError('varint does not fit in buffer');
  let v = value;
  for (let i = 7; i >= 0; i--) {
    buf[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  buf[offset] = (buf[offset] as number) | 0xc0;
  return offset + 8;
}

/** Length of the varint whose first byte is `first`. */
export function varintLengthFromFirstByte(first: number): 1 | 2 | 4 | 8 {
  return (1 << (first >>> 6)) as 1 | 2 | 4 | 8;
}

function truncated(errorCode: number): QuicError {
  return new QuicError(errorCode, 'truncated variable-length integer');
}

/**
 * Reads a varint at `offset` of `buf`, reading no further than `end`.
 * Returns the value; the caller advances by `varintLengthFromFirstByte(buf[offset])`.
 * Truncation throws QuicError(`errorCode`).
 */
export function readVarintAt(buf: Uint8Array, offset: number, end: number, errorCode: number = TransportErrorCode.FRAME_ENCODING_ERROR): number {
  if (offset >= end) throw truncated(errorCode);
  const first = buf[offset] as number;
  switch (first >>> 6) {
    case 0:
      return first;
    case 1:
      if (offset + 2 > end) throw truncated(errorCode);
      return ((first & 0x3f) << 8) | (buf[offset + 1] as number);
    case 2:
      if (offset + 4 > end) throw truncated(errorCode);
      return (
        ((first & 0x3f) * 0x100_0000) +
        (((buf[offset + 1] as number) << 16) | ((buf[offset + 2] as number) << 8) | (buf[offset + 3] as number))
      );
    default: {
      if (offset + 8 > end) throw truncated(errorCode);
      const hi =
        ((first & 0x3f) * 0x100_0000) +
        (((buf[offset + 1] as number) << 16) | ((buf[offset + 2] as number) << 8) | (buf[offset + 3] as number));
      const lo =
        ((buf[offset + 4] as number) * 0x100_0000) +
        (((buf[offset + 5] as number) << 16) | ((buf[offset + 6] as number) << 8) | (buf[offset + 7] as number));
      return hi * TWO_32 + lo;
    }
  }
}

/** Reads a varint exactly as a bigint. */
export function readVarintBigAt(buf: Uint8Array, offset: number, end: number, errorCode: number = TransportErrorCode.FRAME_ENCODING_ERROR): bigint {
  if (offset >= end) throw truncated(errorCode);
  const len = varintLengthFromFirstByte(buf[offset] as number);
  if (offset + len > end) throw truncated(errorCode);
  let v = BigInt((buf[offset] as number) & 0x3f);
  for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(buf[offset + i] as number);
  return v;
}
