/**
 * Packet protection (RFC 9001 §5.3) and header protection (RFC 9001 §5.4) of one packet in place,
 * inside a larger buffer: the datagram being built or the one received (packets coalesce).
 *
 * Sending: the packet builder writes the header (with the truncated packet number) and the
 * plaintext payload, leaves 16 bytes of room after it, and calls `protect`.
 * Receiving: `unprotect` removes header protection, recovers the packet number, and decrypts the
 * payload where it lies. For 1-RTT packets whose Key Phase picks the keys, use the two steps
 * `removeHeaderProtection` then `decryptPayload` (the header protection key is the same for
 * every key phase, RFC 9001 §6).
 *
 * Nonce, sample and mask live in module scratch buffers: everything here runs to completion
 * synchronously, so no two packets ever share them at once.
 */

import { decodePacketNumber } from '../packet/number.js';
import type { PacketProtectionKeys } from './keys.js';
import { AEAD_TAG_LENGTH, type HeaderProtection } from './provider.js';

/** Bytes of ciphertext sampled for header protection (RFC 9001 §5.4.2, all suites here). */
export const HEADER_PROTECTION_SAMPLE_LENGTH = 16;
/** The sample starts this far after the Packet Number field, as if it were 4 bytes (§5.4.2). */
const SAMPLE_OFFSET = 4;
/**
 * A packet shorter than this from its Packet Number field cannot be sampled and is dropped
 * (RFC 9001 §5.4.2): 4 + 16 bytes.
 */
export const MIN_PROTECTED_LENGTH_FROM_PN = SAMPLE_OFFSET + HEADER_PROTECTION_SAMPLE_LENGTH;

// RFC 9001 §5.4.1: long headers protect 4 low bits of the first byte, short headers 5
// (reserved bits, packet number length, and the Key Phase bit).
const LONG_HEADER_FORM = 0x80;
const LONG_HEADER_PROTECTED_BITS = 0x0f;
const SHORT_HEADER_PROTECTED_BITS = 0x1f;
const SHORT_HEADER_KEY_PHASE = 0x04;

const TWO_32 = 0x1_0000_0000;

const nonceScratch = new Uint8Array(12);
const sampleScratch = new Uint8Array(HEADER_PROTECTION_SAMPLE_LENGTH);
const maskScratch = new Uint8Array(5);

/**
 * The AEAD nonce (RFC 9001 §5.3): the 62-bit packet number, big-endian and left-padded to the
 * IV's 12 bytes, XOR the IV. Written into `out`, which is returned.
 */
export function packetNonce(iv: Uint8Array, packetNumber: number, out: Uint8Array = new Uint8Array(12)): Uint8Array {
  for (let i = 0; i < 4; i++) out[i] = iv[i] as number;
  // Packet numbers stay below 2^53 in the `number` representation (see packet/number.ts).
  const high = Math.floor(packetNumber / TWO_32);
  const low = packetNumber >>> 0;
  out[4] = (iv[4] as number) ^ (high >>> 24);
  out[5] = (iv[5] as number) ^ ((high >>> 16) & 0xff);
  out[6] = (iv[6] as number) ^ ((high >>> 8) & 0xff);
  out[7] = (iv[7] as number) ^ (high & 0xff);
  out[8] = (iv[8] as number) ^ (low >>> 24);
  out[9] = (iv[9] as number) ^ ((low >>> 16) & 0xff);
  out[10] = (iv[10] as number) ^ ((low >>> 8) & 0xff);
  out[11] = (iv[11] as number) ^ (low & 0xff);
  return out;
}

/** Computes the 5-byte mask from the sample at `pnOffset + 4` into `maskScratch`. */
function computeMask(hp: HeaderProtection, buf: Uint8Array, pnOffset: number): Uint8Array {
  const sampleStart = pnOffset + SAMPLE_OFFSET;
  for (let i = 0; i < HEADER_PROTECTION_SAMPLE_LENGTH; i++) sampleScratch[i] = buf[sampleStart + i] as number;
  hp.mask(sampleScratch, maskScratch);
  return maskScratch;
}

function protectedBits(firstByte: number): number {
  return (firstByte & LONG_HEADER_FORM) !== 0 ? LONG_HEADER_PROTECTED_BITS : SHORT_HEADER_PROTECTED_BITS;
}

/**
 * Protects the packet at `buf[packetStart..payloadEnd)` in place and returns the offset after it
 * (`payloadEnd + 16`).
 *
 * The header, including the truncated packet number at `pnOffset` (`pnLength` bytes, matching the
 * first byte's Packet Number Length bits), and the plaintext payload `[pnOffset + pnLength,
 * payloadEnd)` are already written; the caller leaves 16 bytes after `payloadEnd` for the tag.
 * `packetNumber` is the full packet number (the nonce uses all of it).
 *
 * Throws RangeError for a programming error: no room for the tag, or a payload too short to be
 * sampled (RFC 9001 §5.4.2: the packet number plus payload must be at least 4 bytes, so pad).
 */
export function protect(
  keys: PacketProtectionKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  pnLength: number,
  payloadEnd: number,
  packetNumber: number,
): number {
  const payloadStart = pnOffset + pnLength;
  const end = payloadEnd + AEAD_TAG_LENGTH;
  if (pnLength < 1 || pnLength > 4 || packetStart >= pnOffset || payloadStart > payloadEnd) {
    throw new RangeError('protect: inconsistent packet layout');
  }
  if (end > buf.length) throw new RangeError('protect: no room for the AEAD tag');
  // RFC 9001 §5.4.2: the sample must fit in the protected packet.
  if (pnOffset + MIN_PROTECTED_LENGTH_FROM_PN > end) {
    throw new RangeError('protect: payload too short to sample for header protection (pad it)');
  }

  // RFC 9001 §5.3: AEAD first; the associated data is the unprotected header.
  packetNonce(keys.iv, packetNumber, nonceScratch);
  keys.aead.sealInto(
    nonceScratch,
    buf.subarray(packetStart, payloadStart),
    buf.subarray(payloadStart, payloadEnd),
    buf,
    payloadStart,
  );

  // RFC 9001 §5.4.1: then header protection, with a mask from the ciphertext sample.
  const mask = computeMask(keys.headerProtection, buf, pnOffset);
  const first = buf[packetStart] as number;
  buf[packetStart] = first ^ ((mask[0] as number) & protectedBits(first));
  for (let i = 0; i < pnLength; i++) buf[pnOffset + i] = (buf[pnOffset + i] as number) ^ (mask[1 + i] as number);
  return end;
}

/** A header after header protection removal. */
export interface UnprotectedHeader {
  /** The first byte with its protected bits revealed (reserved bits are the caller's to check). */
  readonly firstByte: number;
  readonly pnLength: 1 | 2 | 3 | 4;
  /** The full packet number, recovered around `largestReceivedPn` (RFC 9000 Appendix A.3). */
  readonly packetNumber: number;
  /** Key Phase bit of a short header (RFC 9001 §6); 0 for long headers. */
  readonly keyPhase: 0 | 1;
}

/** A packet whose protection was removed. */
export interface UnprotectedPacket extends UnprotectedHeader {
  /** Offset of the payload in the buffer (after the packet number). */
  readonly payloadOffset: number;
  /** The plaintext payload: a view into the buffer, decrypted in place. */
  readonly payload: Uint8Array;
}

/**
 * Removes header protection in place (RFC 9001 §5.4.1) from the packet at `packetStart` whose
 * Packet Number field starts at `pnOffset`; `packetEnd` bounds it (the Length field for long
 * headers, the datagram end for short headers).
 *
 * Returns null, touching nothing, when the packet is too short to contain the sample (RFC 9001
 * §5.4.2: discard it). `largestReceivedPn` is the largest packet number processed in this packet
 * number space, -1 when none.
 */
export function removeHeaderProtection(
  headerProtection: HeaderProtection,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  packetEnd: number,
  largestReceivedPn: number,
): UnprotectedHeader | null {
  if (pnOffset + MIN_PROTECTED_LENGTH_FROM_PN > packetEnd || packetEnd > buf.length || packetStart >= pnOffset) return null;
  const mask = computeMask(headerProtection, buf, pnOffset);
  return applyMask(mask, buf, packetStart, pnOffset, largestReceivedPn);
}

function applyMask(
  mask: Uint8Array,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  largestReceivedPn: number,
): UnprotectedHeader {
  const protectedFirst = buf[packetStart] as number;
  const first = protectedFirst ^ ((mask[0] as number) & protectedBits(protectedFirst));
  buf[packetStart] = first;
  // RFC 9001 §5.4.1: the packet number length is only known once the first byte is unmasked.
  const pnLength = ((first & 0x03) + 1) as 1 | 2 | 3 | 4;
  let truncated = 0;
  for (let i = 0; i < pnLength; i++) {
    const byte = (buf[pnOffset + i] as number) ^ (mask[1 + i] as number);
    buf[pnOffset + i] = byte;
    truncated = truncated * 256 + byte;
  }
  const isShort = (first & LONG_HEADER_FORM) === 0;
  return {
    firstByte: first,
    pnLength,
    packetNumber: decodePacketNumber(largestReceivedPn, truncated, pnLength * 8),
    keyPhase: isShort && (first & SHORT_HEADER_KEY_PHASE) !== 0 ? 1 : 0,
  };
}

/**
 * Decrypts the payload in place (RFC 9001 §5.3) once header protection is removed. Returns the
 * plaintext view, or null when authentication fails, in which case the buffer is unchanged (so
 * the caller may try another key phase's keys).
 */
export function decryptPayload(
  keys: PacketProtectionKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  pnLength: number,
  packetEnd: number,
  packetNumber: number,
): Uint8Array | null {
  const payloadStart = pnOffset + pnLength;
  if (payloadStart + AEAD_TAG_LENGTH > packetEnd || packetEnd > buf.length) return null;
  packetNonce(keys.iv, packetNumber, nonceScratch);
  const length = keys.aead.openInto(
    nonceScratch,
    buf.subarray(packetStart, payloadStart),
    buf.subarray(payloadStart, packetEnd),
    buf,
    payloadStart,
  );
  return length < 0 ? null : buf.subarray(payloadStart, payloadStart + length);
}

/**
 * Removes header and packet protection of the packet at `buf[packetStart..packetEnd)` in place.
 *
 * Returns null — and leaves the buffer exactly as it was — when the packet is too short to sample
 * (RFC 9001 §5.4.2) or fails authentication: the caller drops it (RFC 9001 §5.5) and counts the
 * failure against the integrity limit (§6.6).
 */
export function unprotect(
  keys: PacketProtectionKeys,
  buf: Uint8Array,
  packetStart: number,
  pnOffset: number,
  packetEnd: number,
  largestReceivedPn: number,
): UnprotectedPacket | null {
  if (pnOffset + MIN_PROTECTED_LENGTH_FROM_PN > packetEnd || packetEnd > buf.length || packetStart >= pnOffset) return null;
  const protectedFirst = buf[packetStart] as number;
  const mask = computeMask(keys.headerProtection, buf, pnOffset);
  const header = applyMask(mask, buf, packetStart, pnOffset, largestReceivedPn);
  const payload = decryptPayload(keys, buf, packetStart, pnOffset, header.pnLength, packetEnd, header.packetNumber);
  if (payload === null) {
    // Put the protected header back (the mask is still in the scratch buffer).
    buf[packetStart] = protectedFirst;
    for (let i = 0; i < header.pnLength; i++) buf[pnOffset + i] = (buf[pnOffset + i] as number) ^ (mask[1 + i] as number);
    return null;
  }
  return {
    firstByte: header.firstByte,
    pnLength: header.pnLength,
    packetNumber: header.packetNumber,
    keyPhase: header.keyPhase,
    payloadOffset: pnOffset + header.pnLength,
    payload,
  };
}
