/**
 * The Retry Pseudo-Packet (RFC 9001 §5.8): what the Retry Integrity Tag authenticates.
 *
 * It is the Retry packet without its tag, prefixed with the Original Destination Connection ID
 * (the DCID of the client's first Initial) and its length. It never goes on the wire; it is the
 * associated data of the AEAD whose 16-byte output tag ends the Retry packet, so a Retry can only
 * come from a host that saw the client's Initial.
 */

import { MAX_CID_LENGTH } from './header.js';

/**
 * Builds the Retry Pseudo-Packet.
 *
 * @param originalDcid the client's original Destination Connection ID (0..20 bytes).
 * @param retryWithoutTag the Retry packet up to, not including, the Retry Integrity Tag: as built
 *   by `encodeRetryWithoutTag`, or `header.packet.subarray(0, header.packet.length - 16)` of a
 *   received one.
 */
export function retryPseudoPacket(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  // RFC 9000 §7.2: the client's first DCID is at least 8 bytes, and at most 20 in v1/v2.
  if (originalDcid.length > MAX_CID_LENGTH) throw new RangeError('original DCID longer than 20 bytes');
  const out = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  out[0] = originalDcid.length;
  out.set(originalDcid, 1);
  out.set(retryWithoutTag, 1 + originalDcid.length);
  return out;
}
