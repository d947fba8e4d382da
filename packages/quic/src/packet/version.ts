/**
 * QUIC versions we speak and how each one encodes the long-header packet type.
 *
 * QUIC v1 (RFC 9000) and QUIC v2 (RFC 9369) share every header layout; v2 only renumbers the
 * two Long Packet Type bits (RFC 9369 §3.2), so the rest of the stack works on `PacketType`
 * and never sees the wire bits.
 */

import { PacketType } from './types.js';

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_V1 = 0x0000_0001;
/** QUIC version 2 (RFC 9369 §3.1). */
export const QUIC_V2 = 0x6b33_43cf;
/** The Version field of Version Negotiation packets (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION_VERSION = 0x0000_0000;

/** Versions this stack implements, most preferred first. */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_V1, QUIC_V2];

/** True for a version whose packets we can parse and protect. */
export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/**
 * True for versions of the reserved greasing pattern 0x?a?a?a?a (RFC 9000 §15): they are never
 * used by a real version, and exist to exercise version negotiation.
 */
export function isReservedVersion(version: number): boolean {
  return ((version & 0x0f0f_0f0f) >>> 0) === 0x0a0a_0a0a;
}

/**
 * A reserved (greased) version made from a random 32-bit value: the high nibble of every byte
 * comes from `random32`, the low nibble is 0xa (RFC 9000 §15, §6.3). The RNG is the caller's,
 * so the core stays deterministic under test.
 */
export function greaseVersion(random32: number): number {
  return (((random32 & 0xf0f0_f0f0) | 0x0a0a_0a0a) >>> 0);
}

/** A name for logs and qlog, e.g. `v1`, `v2`, `0xfaceb00c`. */
export function versionName(version: number): string {
  if (version === QUIC_V1) return 'v1';
  if (version === QUIC_V2) return 'v2';
  return `0x${(version >>> 0).toString(16).padStart(8, '0')}`;
}

// Indexed by the two Long Packet Type bits.
const V1_TYPE_FROM_BITS: readonly PacketType[] = [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE, PacketType.RETRY];
// RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
const V2_TYPE_FROM_BITS: readonly PacketType[] = [PacketType.RETRY, PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE];

/**
 * The packet type carried by the Long Packet Type bits (`(firstByte & 0x30) >> 4`) of a packet
 * of `version`. Versions other than v2 use the v1 numbering; callers check
 * `isSupportedVersion` first.
 */
export function packetTypeFromLongHeaderBits(version: number, typeBits: number): PacketType {
  const table = version === QUIC_V2 ? V2_TYPE_FROM_BITS : V1_TYPE_FROM_BITS;
  return table[typeBits & 3] as PacketType;
}

/**
 * The Long Packet Type bits (0..3) for `type` in `version`. Throws RangeError for types without
 * a long-header encoding (1-RTT, Version Negotiation): that is a programming error.
 */
export function longHeaderBitsForPacketType(version: number, type: PacketType): number {
  if (type > PacketType.RETRY) throw new RangeError(`packet type ${type} has no long-header type bits`);
  // v1 bits equal the PacketType values; RFC 9369 §3.2 rotates them by one.
  return version === QUIC_V2 ? (type + 1) & 3 : type;
}
