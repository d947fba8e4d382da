/**
 * Packet number truncation and recovery (RFC 9000 §17.1, Appendix A.2 and A.3).
 *
 * Packet numbers run from 0 to 2^62-1 (§12.3) but go on the wire as their 1 to 4 least
 * significant bytes. The sender picks a length wide enough for the receiver to recover the full
 * number; the receiver expands it around the largest packet number it has processed.
 *
 * The `number` functions are the packet path: exact while packet numbers stay below 2^53 (a
 * connection sending 10^6 packets/s would need 285 years to get there). The `bigint` variant
 * follows the pseudocode exactly over the whole 62-bit range, including its overflow guards.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

/** The largest packet number (RFC 9000 §12.3), as a bigint because 2^62-1 is not a safe number. */
export const MAX_PACKET_NUMBER = (1n << 62n) - 1n;

export type PacketNumberLength = 1 | 2 | 3 | 4;

/**
 * How many bytes to encode `fullPn` with (RFC 9000 §17.1, Appendix A.2): enough bits to represent
 * more than twice the number of packets in flight, counting from the largest acknowledged packet
 * (or from 0 when nothing was acknowledged yet; pass `undefined` or -1 then).
 *
 * The pseudocode's `log2(num_unacked) + 1 <= 8 * bytes` is, in integers,
 * `num_unacked <= 2^(8 * bytes - 1)`.
 *
 * Throws RangeError when even 4 bytes cannot cover the range (2^31 packets unacknowledged):
 * the sender must stop sending long before that.
 */
export function packetNumberLength(fullPn: number, largestAcked: number | undefined): PacketNumberLength {
  const base = largestAcked === undefined ? -1 : largestAcked;
  // At least 1: a caller re-sending at or below the acknowledged number still needs a byte.
  const numUnacked = Math.max(1, fullPn - base);
  if (numUnacked <= 0x80) return 1;
  if (numUnacked <= 0x8000) return 2;
  if (numUnacked <= 0x80_0000) return 3;
  if (numUnacked <= 0x8000_0000) return 4;
  throw new RangeError(`${numUnacked} unacknowledged packet numbers cannot be encoded in 4 bytes`);
}

/**
 * Writes the `length` least significant bytes of `fullPn` at `offset`, big-endian.
 * Returns the offset after it. Overflowing `buf` is a programming error (RangeError).
 */
export function writePacketNumber(buf: Uint8Array, offset: number, fullPn: number, length: PacketNumberLength): number {
  if (offset + length > buf.length) throw new RangeError('packet number does not fit in buffer');
  // The low 32 bits; `>>> 0` is exact for any safe integer's remainder.
  const low = (fullPn % 0x1_0000_0000) >>> 0;
  // Big-endian: the last byte is the least significant one.
  for (let i = length - 1; i >= 0; i--) buf[offset + i] = (low >>> (8 * (length - 1 - i))) & 0xff;
  return offset + length;
}

/**
 * Reads a truncated packet number of `length` bytes at `offset` (after header protection is
 * removed). A packet too short to hold it is malformed: QuicError(PROTOCOL_VIOLATION).
 */
export function readTruncatedPacketNumber(buf: Uint8Array, offset: number, length: PacketNumberLength, end: number = buf.length): number {
  if (offset < 0 || offset + length > end || end > buf.length) {
    throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet too short for its packet number');
  }
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + (buf[offset + i] as number);
  return value;
}

const TWO_62 = 2 ** 62;

/**
 * Recovers the full packet number from its truncated form (RFC 9000 Appendix A.3): the value
 * closest to `largestPn + 1` whose low `pnBits` bits are `truncatedPn`, never below 0 or above
 * 2^62-1.
 *
 * @param largestPn the largest packet number successfully processed in this packet number
 *   space, or -1 when none has been (the expected packet number is then 0).
 * @param truncatedPn the Packet Number field after header protection removal.
 * @param pnBits 8, 16, 24 or 32.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnBits: number): number {
  const expected = largestPn + 1;
  const window = 2 ** pnBits;
  const halfWindow = window / 2;
  // (expected & ~mask) | truncated, in arithmetic because the window may be 2^32.
  const candidate = expected - (expected % window) + truncatedPn;
  // The extra comparisons keep the result inside 0..2^62-1 (the pseudocode's overflow guards).
  if (candidate <= expected - halfWindow && candidate < TWO_62 - window) return candidate + window;
  if (candidate > expected + halfWindow && candidate >= window) return candidate - window;
  return candidate;
}

/** `decodePacketNumber` over bigints: exact across the full 0..2^62-1 range (A.3 verbatim). */
export function decodePacketNumberBig(largestPn: bigint, truncatedPn: bigint, pnBits: number): bigint {
  const expected = largestPn + 1n;
  const window = 1n << BigInt(pnBits);
  const halfWindow = window / 2n;
  const mask = window - 1n;
  const candidate = (expected & ~mask) | truncatedPn;
  if (candidate <= expected - halfWindow && candidate < (1n << 62n) - window) return candidate + window;
  if (candidate > expected + halfWindow && candidate >= window) return candidate - window;
  return candidate;
}
