/**
 * The version-independent view of a packet (RFC 8999): what any QUIC version guarantees about
 * its first bytes. An endpoint uses it to route a datagram by Destination Connection ID and to
 * answer a long header of a version it does not speak with Version Negotiation
 * (RFC 9000 §6.1, §5.2.2), before knowing anything else about the packet.
 */

import { ByteReader } from '../codec/reader.js';
import { TransportErrorCode } from '../errors.js';

/** The invariant fields of a packet (RFC 8999 §5). */
export interface InvariantHeader {
  isLong: boolean;
  /** The Version field (0: Version Negotiation); 0 for short headers, which carry none. */
  version: number;
  dcid: Uint8Array;
  /** Empty for short headers. */
  scid: Uint8Array;
}

/**
 * Reads the invariant fields of the packet at the start of `datagram`.
 * Long headers may carry connection IDs of up to 255 bytes in other versions (RFC 8999 §5.1);
 * for short headers the caller supplies the DCID length (RFC 8999 §5.2). Only truncation is an
 * error (QuicError PROTOCOL_VIOLATION): nothing else is fixed across versions.
 */
export function parseInvariantHeader(datagram: Uint8Array, shortDcidLength: number): InvariantHeader {
  const r = new ByteReader(datagram, 0, datagram.length, TransportErrorCode.PROTOCOL_VIOLATION);
  const first = r.u8();
  if ((first & 0x80) === 0) {
    return { isLong: false, version: 0, dcid: r.bytes(shortDcidLength), scid: new Uint8Array(0) };
  }
  const version = r.u32();
  const dcid = r.u8Prefixed();
  const scid = r.u8Prefixed();
  return { isLong: true, version, dcid, scid };
}
