/**
 * Packets an endpoint sends without a connection: Retry (RFC 9000 §17.2.5), Stateless Reset
 * (§10.3), and the Initial CONNECTION_CLOSE that refuses a bad Retry token (§8.1.3). Rare
 * paths: they allocate. Sans-IO: randomness is passed in.
 */

import { ByteWriter } from '../codec/writer.js';
import { deriveInitialKeys } from '../crypto/keys.js';
import { AEAD_TAG_LENGTH, type SymmetricCrypto } from '../crypto/provider.js';
import { protect } from '../crypto/protection.js';
import { computeRetryIntegrityTag } from '../crypto/retry.js';
import { writeConnectionClose } from '../frame/close.js';
import { FrameType } from '../frame/types.js';
import { encodeRetryPacket, encodeRetryWithoutTag, patchLongHeaderLength, writeLongHeader } from '../packet/header.js';
import { PacketType } from '../packet/types.js';

/** RFC 9000 §10.3: 5 bytes of unpredictable bits (with the two fixed bits) and a 16-byte token. */
export const MIN_STATELESS_RESET_LENGTH = 21;
const STATELESS_RESET_TOKEN_LENGTH = 16;
/** Resets of at least this size look like ordinary short-header packets to observers (§10.3.3). */
const INCONSPICUOUS_RESET_LENGTH = 42;

/**
 * A Retry packet with its integrity tag (RFC 9001 §5.8): it echoes the client's SCID as DCID,
 * names `newScid` as the CID to use from now on, and carries `token`.
 */
export function buildRetryPacket(
  crypto: SymmetricCrypto,
  version: number,
  clientScid: Uint8Array,
  originalDcid: Uint8Array,
  newScid: Uint8Array,
  token: Uint8Array,
  unusedBits: number,
): Uint8Array {
  const fields = { version, dcid: clientScid, scid: newScid, token, unusedBits };
  const tag = computeRetryIntegrityTag(crypto, version, originalDcid, encodeRetryWithoutTag(fields));
  return encodeRetryPacket(fields, tag);
}

/**
 * The size of a Stateless Reset answering a datagram of `triggerLength` bytes, or 0 when none
 * may be sent. RFC 9000 §10.3, §10.3.3: always smaller than the trigger (so two endpoints that
 * both lost state cannot loop: each answer shrinks until it is too small to answer), at least
 * 21 bytes, one byte shorter than a trigger of 43 bytes or less, else a size observers cannot
 * tell from a short-header packet.
 */
export function statelessResetLength(triggerLength: number, randomByte: number): number {
  const size = triggerLength <= INCONSPICUOUS_RESET_LENGTH + 1 ? triggerLength - 1 : Math.min(triggerLength - 1, INCONSPICUOUS_RESET_LENGTH + (randomByte % 16));
  return size >= MIN_STATELESS_RESET_LENGTH ? size : 0;
}

/**
 * A Stateless Reset of `length` bytes (RFC 9000 §10.3): a short-header first byte (0b01 then
 * random bits), random bytes, and the token last.
 */
export function buildStatelessReset(length: number, resetToken: Uint8Array, random: (n: number) => Uint8Array): Uint8Array {
  if (length < MIN_STATELESS_RESET_LENGTH || resetToken.length !== STATELESS_RESET_TOKEN_LENGTH) {
    throw new RangeError('stateless reset too short or token not 16 bytes');
  }
  const out = random(length).slice(0, length);
  out[0] = 0x40 | (out[0]! & 0x3f);
  out.set(resetToken, length - STATELESS_RESET_TOKEN_LENGTH);
  return out;
}

/**
 * A server Initial packet carrying only CONNECTION_CLOSE (RFC 9000 §8.1.3, §10.2.3), protected
 * with the Initial keys of the client's Initial (`clientDcid`), sent without creating any
 * connection state (no closing period).
 */
export function buildInitialClose(
  crypto: SymmetricCrypto,
  version: number,
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  errorCode: number,
  reason: string,
): Uint8Array {
  const keys = deriveInitialKeys(crypto, version, clientDcid).server;
  const reasonBytes = new TextEncoder().encode(reason).subarray(0, 64);
  const buf = new Uint8Array(1 + 4 + 2 + 40 + 8 + 16 + reasonBytes.length + AEAD_TAG_LENGTH + 8);
  const pnLength = 1;
  const pnOffset = writeLongHeader(buf, 0, { type: PacketType.INITIAL, version, dcid: clientScid, scid: clientDcid, packetNumber: 0, pnLength });
  const w = new ByteWriter(buf, pnOffset + pnLength);
  writeConnectionClose(w, { type: FrameType.CONNECTION_CLOSE, application: false, errorCode, frameType: 0, reason: reasonBytes });
  patchLongHeaderLength(buf, pnOffset - 2, w.offset - pnOffset + AEAD_TAG_LENGTH);
  const end = protect(keys, buf, 0, pnOffset, pnLength, w.offset, 0);
  return buf.slice(0, end);
}
