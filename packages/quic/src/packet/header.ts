/**
 * QUIC packet headers (RFC 9000 §17; QUIC v2 per RFC 9369): parsing protected packets on the
 * receive path and writing headers straight into the send buffer.
 *
 * Parsing reads only what is readable before header protection is removed (RFC 9001 §5.4): the
 * form, fixed and (short header) spin bits, version, connection IDs, token, Length. The reserved
 * bits, key phase bit and packet number length are protected; `pnOffset` tells packet protection
 * where the protected packet number starts and `end` where the packet ends in the datagram.
 *
 * Every malformed input throws `QuicError(PROTOCOL_VIOLATION)`. Such packets are not a reason to
 * close a connection: an endpoint drops packets it cannot parse (RFC 9000 §5.2, §12.2), so the
 * receive path catches these errors, discards the packet (and what follows it in the datagram)
 * and keeps going. The code only says what kind of fault it was.
 */

import { ByteReader } from '../codec/reader.js';
import { varintLength, varintLengthFromFirstByte, writeVarint } from '../codec/varint.js';
import { TransportErrorCode } from '../errors.js';
import { type PacketNumberLength, writePacketNumber } from './number.js';
import { PacketType } from './types.js';
import {
  isSupportedVersion,
  longHeaderBitsForPacketType,
  packetTypeFromLongHeaderBits,
  VERSION_NEGOTIATION_VERSION,
} from './version.js';

// First-byte bits (RFC 9000 §17.2, §17.3.1).
export const HEADER_FORM_BIT = 0x80;
export const FIXED_BIT = 0x40;
/** Short header only; not header-protected (RFC 9001 §5.4.1 masks the low 5 bits). */
export const SPIN_BIT = 0x20;
/** Short header only; header-protected. */
export const KEY_PHASE_BIT = 0x04;
export const LONG_RESERVED_BITS = 0x0c;
export const SHORT_RESERVED_BITS = 0x18;
export const PN_LENGTH_BITS = 0x03;
/** Bits of the first byte covered by header protection (RFC 9001 §5.4.1). */
export const LONG_HEADER_PROTECTED_BITS = 0x0f;
export const SHORT_HEADER_PROTECTED_BITS = 0x1f;

/** Longest connection ID in QUIC v1 and v2 (RFC 9000 §17.2). Other versions may use up to 255. */
export const MAX_CID_LENGTH = 20;
/** Retry Integrity Tag length (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;
/**
 * Bytes a protected packet must hold from the start of its packet number: header protection
 * samples 16 bytes starting 4 bytes after `pnOffset` (RFC 9001 §5.4.2), and packets too short for
 * the sample are discarded.
 */
export const MIN_PROTECTED_LENGTH = 4 + 16;
/** Size of the Length placeholder `writeLongHeader` writes by default (a 2-byte varint, < 16384). */
export const DEFAULT_LENGTH_FIELD_SIZE = 2;

const EMPTY = new Uint8Array(0);

/** A packet header parsed from a (still protected) datagram. Offsets are indices into that datagram. */
export interface PacketHeader {
  /** True for long headers (Initial, 0-RTT, Handshake, Retry, Version Negotiation). */
  isLong: boolean;
  type: PacketType;
  /** The first byte as received; bits under header protection are still masked. */
  firstByte: number;
  /** The Version field; 0 for Version Negotiation, and for short headers (which carry none). */
  version: number;
  dcid: Uint8Array;
  /** Empty for short headers. */
  scid: Uint8Array;
  /** Initial: the Token field; Retry: the Retry Token; otherwise empty. */
  token: Uint8Array;
  /** Short header: the spin bit (readable without removing protection, RFC 9000 §17.4). */
  spinBit: boolean;
  /** Where the packet starts in the datagram. */
  start: number;
  /** Where the protected packet number starts; -1 for Retry and Version Negotiation. */
  pnOffset: number;
  /**
   * Bytes from `pnOffset` to `end`: the Length field for Initial, 0-RTT and Handshake packets,
   * the rest of the datagram for short headers; 0 for Retry and Version Negotiation.
   */
  length: number;
  /** Where the packet ends in the datagram (exclusive); the next coalesced packet starts here. */
  end: number;
  /** The whole packet, `datagram.subarray(start, end)`: a view, not a copy. */
  packet: Uint8Array;
  /** Version Negotiation: the Supported Version list. */
  supportedVersions: number[] | undefined;
  /** Retry: the Retry Integrity Tag (a view of the last 16 bytes). */
  retryIntegrityTag: Uint8Array | undefined;
}

export interface HeaderParseOptions {
  /**
   * Length of the Destination Connection ID in short headers: CIDs are not self-describing there,
   * so the endpoint supplies the length of the CIDs it issues (RFC 9000 §17.3.1, §5.1).
   */
  shortDcidLength: number;
  /**
   * Accept a fixed bit of 0 because the peer may grease it: we advertised grease_quic_bit
   * (RFC 9287 §3). Otherwise such packets are invalid (RFC 9000 §17.2, §17.3.1).
   */
  allowClearedFixedBit?: boolean;
}

const PV = TransportErrorCode.PROTOCOL_VIOLATION;

/**
 * Parses the header of the packet that starts at `offset` in `datagram`, reading no further
 * than `end`. Throws QuicError(PROTOCOL_VIOLATION) on anything malformed or of a version we do
 * not implement (use `parseInvariantHeader` to answer those with Version Negotiation).
 */
export function parsePacketHeader(
  datagram: Uint8Array,
  offset: number,
  end: number,
  options: HeaderParseOptions,
): PacketHeader {
  if (offset < 0 || end > datagram.length || offset > end) throw new RangeError('parsePacketHeader: bad offset or end');
  const r = new ByteReader(datagram, offset, end, PV);
  const first = r.u8();
  if ((first & HEADER_FORM_BIT) === 0) return parseShort(r, first, offset, options);

  const version = r.u32();
  if (version === VERSION_NEGOTIATION_VERSION) return parseVersionNegotiation(r, first, offset);
  if (!isSupportedVersion(version)) r.fail(`unsupported version 0x${version.toString(16)}`);
  // RFC 9000 §17.2: the fixed bit is 1 in every v1/v2 long header but Version Negotiation.
  if ((first & FIXED_BIT) === 0 && options.allowClearedFixedBit !== true) r.fail('fixed bit is 0');
  const dcid = readCid(r, 'Destination');
  const scid = readCid(r, 'Source');
  const type = packetTypeFromLongHeaderBits(version, (first >>> 4) & 3);

  if (type === PacketType.RETRY) {
    // RFC 9000 §17.2.5: the token runs to the Retry Integrity Tag at the end of the datagram,
    // and a Retry with an empty token is discarded.
    const tokenLength = r.remaining - RETRY_INTEGRITY_TAG_LENGTH;
    if (tokenLength <= 0) r.fail(tokenLength < 0 ? 'Retry shorter than its integrity tag' : 'Retry with an empty token');
    const token = r.bytes(tokenLength);
    const tag = r.bytes(RETRY_INTEGRITY_TAG_LENGTH);
    return header(true, type, first, version, dcid, scid, token, false, offset, -1, 0, end, datagram, undefined, tag);
  }

  // RFC 9000 §17.2.2: only Initial packets carry a token.
  const token = type === PacketType.INITIAL ? r.varintPrefixed() : EMPTY;
  const length = r.varint();
  const pnOffset = r.offset;
  // RFC 9000 §17.2: Length covers the packet number and payload; it must fit the datagram.
  if (length > end - pnOffset) r.fail('Length exceeds the datagram');
  // RFC 9001 §5.4.2: too short to sample for header protection.
  if (length < MIN_PROTECTED_LENGTH) r.fail('packet too short for header protection');
  const packetEnd = pnOffset + length;
  return header(true, type, first, version, dcid, scid, token, false, offset, pnOffset, length, packetEnd, datagram, undefined, undefined);
}

function parseShort(r: ByteReader, first: number, start: number, options: HeaderParseOptions): PacketHeader {
  // RFC 9000 §17.3.1: the fixed bit is 1 unless grease_quic_bit was negotiated (RFC 9287).
  if ((first & FIXED_BIT) === 0 && options.allowClearedFixedBit !== true) r.fail('fixed bit is 0');
  const dcid = r.bytes(options.shortDcidLength);
  const pnOffset = r.offset;
  const length = r.end - pnOffset;
  // RFC 9001 §5.4.2: too short to sample for header protection.
  if (length < MIN_PROTECTED_LENGTH) r.fail('packet too short for header protection');
  return header(false, PacketType.ONE_RTT, first, 0, dcid, EMPTY, EMPTY, (first & SPIN_BIT) !== 0, start, pnOffset, length, r.end, r.buf, undefined, undefined);
}

function parseVersionNegotiation(r: ByteReader, first: number, start: number): PacketHeader {
  // RFC 9000 §17.2.1 / RFC 8999 §5.1: any connection ID length up to 255 (it echoes the
  // client's, which may be of another version); the unused first-byte bits are ignored.
  const dcid = r.u8Prefixed();
  const scid = r.u8Prefixed();
  if (r.remaining % 4 !== 0) r.fail('Version Negotiation list is not a whole number of versions');
  const count = r.remaining / 4;
  const versions = new Array<number>(count);
  for (let i = 0; i < count; i++) versions[i] = r.u32();
  return header(true, PacketType.VERSION_NEGOTIATION, first, VERSION_NEGOTIATION_VERSION, dcid, scid, EMPTY, false, start, -1, 0, r.end, r.buf, versions, undefined);
}

function readCid(r: ByteReader, which: string): Uint8Array {
  const length = r.u8();
  // RFC 9000 §17.2: v1 endpoints drop long headers with a connection ID longer than 20 bytes.
  if (length > MAX_CID_LENGTH) r.fail(`${which} Connection ID longer than ${MAX_CID_LENGTH} bytes`);
  return r.bytes(length);
}

// One constructor so every header object has the same shape (one hidden class on the hot path).
function header(
  isLong: boolean,
  type: PacketType,
  firstByte: number,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  spinBit: boolean,
  start: number,
  pnOffset: number,
  length: number,
  end: number,
  datagram: Uint8Array,
  supportedVersions: number[] | undefined,
  retryIntegrityTag: Uint8Array | undefined,
): PacketHeader {
  return {
    isLong,
    type,
    firstByte,
    version,
    dcid,
    scid,
    token,
    spinBit,
    start,
    pnOffset,
    length,
    end,
    packet: datagram.subarray(start, end),
    supportedVersions,
    retryIntegrityTag,
  };
}

// ---------------------------------------------------------------------------------------------
// After header protection is removed

/** Packet number length (1..4) from an unprotected first byte (RFC 9000 §17.2, §17.3.1). */
export function packetNumberLengthFromFirstByte(unprotectedFirstByte: number): PacketNumberLength {
  return ((unprotectedFirstByte & PN_LENGTH_BITS) + 1) as PacketNumberLength;
}

/**
 * True when the reserved bits of an unprotected first byte are not 0. RFC 9000 §17.2, §17.3.1:
 * after removing both header and packet protection, that is a PROTOCOL_VIOLATION connection error
 * (checked only after the packet authenticated, so that it cannot be forged).
 */
export function hasReservedBitsSet(unprotectedFirstByte: number): boolean {
  const mask = (unprotectedFirstByte & HEADER_FORM_BIT) !== 0 ? LONG_RESERVED_BITS : SHORT_RESERVED_BITS;
  return (unprotectedFirstByte & mask) !== 0;
}

/** Key phase (0 or 1) from an unprotected short-header first byte (RFC 9000 §17.3.1). */
export function keyPhaseFromFirstByte(unprotectedFirstByte: number): 0 | 1 {
  return (unprotectedFirstByte & KEY_PHASE_BIT) !== 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Send path

/** What `writeLongHeader` needs for an Initial, 0-RTT or Handshake packet. */
export interface LongHeaderFields {
  type: PacketType;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only (RFC 9000 §17.2.2); empty or omitted otherwise. */
  token?: Uint8Array;
  packetNumber: number;
  pnLength: PacketNumberLength;
  /** Size of the Length placeholder: 2 (default, values < 16384) or 4. */
  lengthFieldSize?: 2 | 4;
  /** Send the fixed bit as 0; only when the peer advertised grease_quic_bit (RFC 9287 §3). */
  clearFixedBit?: boolean;
}

/** What `writeShortHeader` needs for a 1-RTT packet. */
export interface ShortHeaderFields {
  dcid: Uint8Array;
  packetNumber: number;
  pnLength: PacketNumberLength;
  keyPhase: 0 | 1;
  /** The latency spin bit (RFC 9000 §17.4). */
  spinBit?: boolean;
  /** Send the fixed bit as 0; only when the peer advertised grease_quic_bit (RFC 9287 §3). */
  clearFixedBit?: boolean;
}

/** Bytes `writeLongHeader` writes, packet number included. */
export function longHeaderSize(
  type: PacketType,
  dcidLength: number,
  scidLength: number,
  tokenLength: number,
  pnLength: PacketNumberLength,
  lengthFieldSize: 2 | 4 = DEFAULT_LENGTH_FIELD_SIZE,
): number {
  const tokenField = type === PacketType.INITIAL ? varintLength(tokenLength) + tokenLength : 0;
  return 1 + 4 + 1 + dcidLength + 1 + scidLength + tokenField + lengthFieldSize + pnLength;
}

/** Bytes `writeShortHeader` writes, packet number included. */
export function shortHeaderSize(dcidLength: number, pnLength: PacketNumberLength): number {
  return 1 + dcidLength + pnLength;
}

/**
 * Writes an unprotected Initial, 0-RTT or Handshake header, packet number included, at `offset`.
 * The Length field is a placeholder of `lengthFieldSize` bytes, right before the packet number at
 * `pnOffset - lengthFieldSize`: fill it with `patchLongHeaderLength` once the payload is built.
 * Returns `pnOffset`; the payload starts at `pnOffset + pnLength`.
 * Bad fields or a buffer too small are programming errors (RangeError).
 */
export function writeLongHeader(buf: Uint8Array, offset: number, fields: LongHeaderFields): number {
  const { type, version, dcid, scid, pnLength } = fields;
  if (type !== PacketType.INITIAL && type !== PacketType.ZERO_RTT && type !== PacketType.HANDSHAKE) {
    throw new RangeError(`writeLongHeader writes Initial, 0-RTT and Handshake packets, not type ${type}`);
  }
  const token = fields.token ?? EMPTY;
  if (token.length > 0 && type !== PacketType.INITIAL) throw new RangeError('only Initial packets carry a token');
  checkCid(dcid);
  checkCid(scid);
  const lengthFieldSize = fields.lengthFieldSize ?? DEFAULT_LENGTH_FIELD_SIZE;
  const size = longHeaderSize(type, dcid.length, scid.length, token.length, pnLength, lengthFieldSize);
  if (offset < 0 || offset + size > buf.length) throw new RangeError('long header does not fit in buffer');

  let o = offset;
  const fixed = fields.clearFixedBit === true ? 0 : FIXED_BIT;
  buf[o++] = HEADER_FORM_BIT | fixed | (longHeaderBitsForPacketType(version, type) << 4) | (pnLength - 1);
  o = writeU32(buf, o, version);
  buf[o++] = dcid.length;
  buf.set(dcid, o);
  o += dcid.length;
  buf[o++] = scid.length;
  buf.set(scid, o);
  o += scid.length;
  if (type === PacketType.INITIAL) {
    o = writeVarint(buf, o, token.length);
    buf.set(token, o);
    o += token.length;
  }
  // A varint of the chosen size holding 0, so `patchLongHeaderLength` can read the size back.
  o = writeVarint(buf, o, 0, lengthFieldSize);
  return writePacketNumber(buf, o, fields.packetNumber, pnLength) - pnLength;
}

/**
 * Fills the Length placeholder at `lengthOffset` (= `pnOffset - lengthFieldSize`) with `value`:
 * packet number length + payload length + AEAD tag length (RFC 9000 §17.2). The placeholder's
 * size is read from its varint prefix. RangeError when `value` does not fit.
 */
export function patchLongHeaderLength(buf: Uint8Array, lengthOffset: number, value: number): void {
  const size = varintLengthFromFirstByte(buf[lengthOffset] ?? 0);
  if (size !== 2 && size !== 4) throw new RangeError('no Length placeholder at this offset');
  writeVarint(buf, lengthOffset, value, size);
}

/**
 * Writes an unprotected 1-RTT short header, packet number included (RFC 9000 §17.3.1).
 * Returns `pnOffset`; the payload starts at `pnOffset + pnLength`.
 */
export function writeShortHeader(buf: Uint8Array, offset: number, fields: ShortHeaderFields): number {
  const { dcid, pnLength } = fields;
  checkCid(dcid);
  if (offset < 0 || offset + shortHeaderSize(dcid.length, pnLength) > buf.length) {
    throw new RangeError('short header does not fit in buffer');
  }
  const fixed = fields.clearFixedBit === true ? 0 : FIXED_BIT;
  const spin = fields.spinBit === true ? SPIN_BIT : 0;
  const keyPhase = fields.keyPhase === 1 ? KEY_PHASE_BIT : 0;
  buf[offset] = fixed | spin | keyPhase | (pnLength - 1);
  buf.set(dcid, offset + 1);
  const pnOffset = offset + 1 + dcid.length;
  writePacketNumber(buf, pnOffset, fields.packetNumber, pnLength);
  return pnOffset;
}

/** What a Version Negotiation packet carries (RFC 9000 §17.2.1). */
export interface VersionNegotiationFields {
  /** The client's Source Connection ID, echoed (RFC 9000 §6.1). */
  dcid: Uint8Array;
  /** The client's Destination Connection ID, echoed. */
  scid: Uint8Array;
  supportedVersions: readonly number[];
  /**
   * Random bits for the 7 unused bits of the first byte, from the caller's RNG (RFC 9000
   * §17.2.1: set to an arbitrary value). 0x40 is always set, as §17.2.1 recommends where QUIC
   * may be multiplexed with other protocols.
   */
  unusedBits: number;
}

/** Encodes a Version Negotiation packet (RFC 9000 §17.2.1). Rare path: allocates. */
export function encodeVersionNegotiation(fields: VersionNegotiationFields): Uint8Array {
  const { dcid, scid, supportedVersions } = fields;
  // RFC 8999 §5.1 / RFC 9000 §17.2.1: echoed CIDs may be up to 255 bytes.
  if (dcid.length > 255 || scid.length > 255) throw new RangeError('connection ID longer than 255 bytes');
  const out = new Uint8Array(1 + 4 + 1 + dcid.length + 1 + scid.length + 4 * supportedVersions.length);
  let o = 0;
  out[o++] = HEADER_FORM_BIT | FIXED_BIT | (fields.unusedBits & 0x3f);
  o = writeU32(out, o, VERSION_NEGOTIATION_VERSION);
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  for (const v of supportedVersions) o = writeU32(out, o, v);
  return out;
}

/** What a Retry packet carries (RFC 9000 §17.2.5), its integrity tag aside. */
export interface RetryFields {
  version: number;
  /** The client's Source Connection ID. */
  dcid: Uint8Array;
  /** The new connection ID the server chose; the client uses it as DCID from now on. */
  scid: Uint8Array;
  /** The Retry Token; must not be empty (RFC 9000 §17.2.5). */
  token: Uint8Array;
  /** The 4 unused first-byte bits (arbitrary; default 0). */
  unusedBits?: number;
}

/**
 * Encodes a Retry packet without its Retry Integrity Tag: the input, after the ODCID prefix of
 * `retryPseudoPacket`, to the tag computation (RFC 9001 §5.8).
 */
export function encodeRetryWithoutTag(fields: RetryFields): Uint8Array {
  return encodeRetry(fields, undefined);
}

/** Encodes a whole Retry packet, appending the 16-byte `integrityTag` (RFC 9001 §5.8). */
export function encodeRetryPacket(fields: RetryFields, integrityTag: Uint8Array): Uint8Array {
  if (integrityTag.length !== RETRY_INTEGRITY_TAG_LENGTH) throw new RangeError('Retry Integrity Tag must be 16 bytes');
  return encodeRetry(fields, integrityTag);
}

function encodeRetry(fields: RetryFields, tag: Uint8Array | undefined): Uint8Array {
  const { version, dcid, scid, token } = fields;
  checkCid(dcid);
  checkCid(scid);
  if (token.length === 0) throw new RangeError('Retry token must not be empty');
  const tagLength = tag === undefined ? 0 : tag.length;
  const out = new Uint8Array(1 + 4 + 1 + dcid.length + 1 + scid.length + token.length + tagLength);
  let o = 0;
  const unused = (fields.unusedBits ?? 0) & 0x0f;
  out[o++] = HEADER_FORM_BIT | FIXED_BIT | (longHeaderBitsForPacketType(version, PacketType.RETRY) << 4) | unused;
  o = writeU32(out, o, version);
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  out.set(token, o);
  o += token.length;
  if (tag !== undefined) out.set(tag, o);
  return out;
}

function checkCid(cid: Uint8Array): void {
  if (cid.length > MAX_CID_LENGTH) throw new RangeError(`connection ID longer than ${MAX_CID_LENGTH} bytes`);
}

function writeU32(buf: Uint8Array, o: number, v: number): number {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
  return o + 4;
}
