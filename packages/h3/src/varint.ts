/**
 * QUIC variable-length integers (RFC 9000 §16) as HTTP/3 frames, settings and stream headers use
 * them (RFC 9114 §7.1), read from stream bytes that may arrive split anywhere: a read returns
 * `undefined` when the integer is not complete yet, never throws on truncation.
 */

import { readVarintAt, varintLength, varintLengthFromFirstByte, writeVarint } from '@purequic/quic/sans-io';

export { varintLength, writeVarint };

/** The varint at `offset` and its length, or undefined if `buf` ends before it does. */
export function tryReadVarint(buf: Uint8Array, offset: number, end = buf.length): { value: number; length: number } | undefined {
  if (offset >= end) return undefined;
  const length = varintLengthFromFirstByte(buf[offset]!);
  if (offset + length > end) return undefined;
  return { value: readVarintAt(buf, offset, end), length };
}

/** Encodes varints back to back. */
export function encodeVarints(...values: number[]): Uint8Array {
  let size = 0;
  for (const v of values) size += varintLength(v);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const v of values) offset = writeVarint(out, offset, v);
  return out;
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
