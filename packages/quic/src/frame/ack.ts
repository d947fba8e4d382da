/**
 * ACK frames (RFC 9000 §19.3): Largest Acknowledged, raw ACK Delay, ranges, optional ECN counts.
 *
 * On the wire a range is expressed relative to the previous one (§19.3.1): the first range
 * counts down from Largest Acknowledged; each further range is a Gap (unacknowledged packets
 * minus one) and an ACK Range Length (acknowledged packets minus one). In memory we keep the
 * absolute `{ smallest, largest }` pairs, highest first.
 *
 * Packet numbers are JS numbers: exact up to 2^53-1. Values beyond that can only come from a
 * peer acknowledging packets we never sent; the §19.3.1 "never negative" check is still done
 * exactly (with bigints) in that case so no malformed frame is accepted.
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { readVarintBigAt, varintLength, varintLengthFromFirstByte } from '../codec/varint.js';
import { putVarint } from './varint-field.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import { FrameType, WireFrameType, type AckFrame, type AckRange, type EcnCounts } from './types.js';

function encodingError(reason: string, wireType: number): QuicError {
  return new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, reason, wireType);
}

/** Decodes the body of an ACK frame (type byte already consumed). */
export function decodeAck(r: ByteReader, wireType: number): AckFrame {
  const start = r.offset;
  const largest = r.varint();
  const ackDelay = r.varint();
  const rangeCount = r.varint();
  const firstRange = r.varint();
  // Each further range needs at least two bytes (Gap + Length); a count that cannot fit in what
  // is left is malformed, and refusing it here bounds the loop and the allocation below.
  if (rangeCount > r.remaining / 2) throw encodingError('ACK Range Count exceeds the frame', wireType);
  // RFC 9000 §19.3.1: a computed packet number must never be negative.
  let smallest = largest - firstRange;
  if (smallest < 0) throw encodingError('ACK First ACK Range below packet number 0', wireType);
  const ranges: AckRange[] = [{ smallest, largest }];
  for (let i = 0; i < rangeCount; i++) {
    const gap = r.varint();
    const length = r.varint();
    const high = smallest - gap - 2;
    const low = high - length;
    // RFC 9000 §19.3.1: a negative packet number is a FRAME_ENCODING_ERROR.
    if (low < 0) throw encodingError('ACK Range below packet number 0', wireType);
    ranges.push({ smallest: low, largest: high });
    smallest = low;
  }
  let ecn: EcnCounts | undefined;
  if (wireType === WireFrameType.ACK_ECN) {
    // RFC 9000 §19.3.2
    ecn = { ect0: r.varint(), ect1: r.varint(), ce: r.varint() };
  }
  if (largest > Number.MAX_SAFE_INTEGER) checkRangesExact(r.buf, start, wireType);
  const frame: AckFrame = { type: FrameType.ACK, ackDelay, ranges };
  if (ecn !== undefined) frame.ecn = ecn;
  return frame;
}

/**
 * Re-walks the ranges with exact bigint arithmetic: with packet numbers above 2^53 the double
 * arithmetic above can round a -1 up to 0. Only reached for absurdly large packet numbers.
 */
function checkRangesExact(buf: Uint8Array, start: number, wireType: number): void {
  let pos = start;
  const next = (): bigint => {
    const v = readVarintBigAt(buf, pos, buf.length);
    pos += varintLengthFromFirstByte(buf[pos] as number);
    return v;
  };
  const largest = next();
  next(); // ACK Delay
  const count = next();
  let smallest = largest - next();
  if (smallest < 0n) throw encodingError('ACK First ACK Range below packet number 0', wireType);
  for (let i = 0n; i < count; i++) {
    const gap = next();
    smallest = smallest - gap - 2n - next();
    if (smallest < 0n) throw encodingError('ACK Range below packet number 0', wireType);
  }
}

/** How many of `f.ranges` an encoding limited to `maxRanges` carries (at least one). */
function usedRanges(f: AckFrame, maxRanges: number): number {
  if (f.ranges.length === 0) throw new RangeError('ACK frame without ranges');
  return Math.max(1, Math.min(f.ranges.length, maxRanges));
}

/** The Gap field between range `i - 1` and range `i` (§19.3.1); throws on unsorted/overlapping ranges. */
function gapBefore(ranges: readonly AckRange[], i: number): number {
  const prev = ranges[i - 1] as AckRange;
  const cur = ranges[i] as AckRange;
  const gap = prev.smallest - cur.largest - 2;
  if (gap < 0 || cur.smallest > cur.largest) throw new RangeError('ACK ranges must be sorted from the highest down and disjoint');
  return gap;
}

/**
 * Encoded size of an ACK frame carrying the first (highest) `maxRanges` ranges of `f`.
 * The ack generator uses it to trim ranges until the frame fits.
 */
export function ackFrameLength(f: AckFrame, maxRanges = Infinity): number {
  const n = usedRanges(f, maxRanges);
  const first = f.ranges[0] as AckRange;
  let len =
    1 +
    varintLength(first.largest) +
    varintLength(f.ackDelay) +
    varintLength(n - 1) +
    varintLength(first.largest - first.smallest);
  for (let i = 1; i < n; i++) {
    const cur = f.ranges[i] as AckRange;
    len += varintLength(gapBefore(f.ranges, i)) + varintLength(cur.largest - cur.smallest);
  }
  if (f.ecn !== undefined) len += varintLength(f.ecn.ect0) + varintLength(f.ecn.ect1) + varintLength(f.ecn.ce);
  return len;
}

/**
 * Writes an ACK frame (type 0x02, or 0x03 when `f.ecn` is set) with at most `maxRanges` ranges:
 * the highest ones, since the newest packets matter most to the peer's loss detection.
 */
export function writeAck(w: ByteWriter, f: AckFrame, maxRanges = Infinity): void {
  const n = usedRanges(f, maxRanges);
  const first = f.ranges[0] as AckRange;
  if (first.smallest > first.largest || first.smallest < 0) throw new RangeError('invalid first ACK range');
  w.u8(f.ecn === undefined ? WireFrameType.ACK : WireFrameType.ACK_ECN);
  putVarint(w, first.largest);
  putVarint(w, f.ackDelay);
  putVarint(w, n - 1);
  putVarint(w, first.largest - first.smallest);
  for (let i = 1; i < n; i++) {
    const cur = f.ranges[i] as AckRange;
    putVarint(w, gapBefore(f.ranges, i));
    putVarint(w, cur.largest - cur.smallest);
  }
  if (f.ecn !== undefined) {
    putVarint(w, f.ecn.ect0);
    putVarint(w, f.ecn.ect1);
    putVarint(w, f.ecn.ce);
  }
}
