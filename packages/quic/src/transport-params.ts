/**
 * QUIC transport parameters (RFC 9000 §18), with the extensions this stack speaks:
 * max_datagram_frame_size (RFC 9221 §3), version_information (RFC 9368 §3), grease_quic_bit
 * (RFC 9287 §3) and reset_stream_at (draft-ietf-quic-reliable-stream-reset §3).
 *
 * The decoder validates everything a peer can get wrong on its own (lengths, ranges, duplicates,
 * server-only parameters, mandatory connection IDs) and throws only QuicError with
 * TRANSPORT_PARAMETER_ERROR. Checks that need connection state (comparing connection IDs with
 * the ones seen in packets, RFC 9000 §7.3; the version in use, RFC 9368 §4) belong to the
 * connection. Byte values are copied: they outlive the TLS message they came in.
 */

import { ByteReader } from './codec/reader.js';
import { readVarintBigAt, varintLength } from './codec/varint.js';
import { ByteWriter } from './codec/writer.js';
import { QuicError, TransportErrorCode } from './errors.js';
import { putVarint } from './frame/varint-field.js';

/** Transport parameter identifiers, spelled as in the RFCs' registries. */
export const TransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
  /** RFC 9368 §3 */
  version_information: 0x11,
  /** draft-ietf-quic-reliable-stream-reset-09 and later. */
  reset_stream_at: 0x1d,
  /** RFC 9221 §3 */
  max_datagram_frame_size: 0x20,
  /** RFC 9287 §3 */
  grease_quic_bit: 0x2ab2,
  /** reset_stream_at as drafts -07/-08 registered it; Chromium still uses this one. */
  reset_stream_at_draft07: 0x17f7586d2cb571,
} as const;

/** RFC 9000 §18.2 preferred_address. All-zero address and port means "no address of this family". */
export interface PreferredAddress {
  /** 4 bytes, network order. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes, network order. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  /** 1..20 bytes; it has sequence number 1 (§5.1.1). */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** RFC 9368 §3 Version Information. */
export interface VersionInformation {
  chosenVersion: number;
  /** Client: versions its first flight is compatible with, by preference. Server: fully deployed versions. */
  availableVersions: number[];
}

/**
 * Every transport parameter, with RFC defaults for absent ones. Integers are JS numbers, exact
 * up to 2^53-1 (larger wire values arrive rounded; none of these limits matters that high).
 */
export interface TransportParameters {
  /** Server only (§18.2). */
  originalDestinationConnectionId: Uint8Array | undefined;
  /** Milliseconds; 0 = no idle timeout from this endpoint. */
  maxIdleTimeout: number;
  /** Server only, 16 bytes. */
  statelessResetToken: Uint8Array | undefined;
  /** Default 65527, at least 1200. */
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  /** At most 2^60. */
  initialMaxStreamsBidi: number;
  /** At most 2^60. */
  initialMaxStreamsUni: number;
  /** Default 3, at most 20. */
  ackDelayExponent: number;
  /** Milliseconds; default 25, below 2^14. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  /** Server only. */
  preferredAddress: PreferredAddress | undefined;
  /** Default 2, at least 2. */
  activeConnectionIdLimit: number;
  /** Mandatory from both endpoints (§7.3); may be empty (a zero-length connection ID). */
  initialSourceConnectionId: Uint8Array | undefined;
  /** Server only, after a Retry. */
  retrySourceConnectionId: Uint8Array | undefined;
  /** RFC 9221: 0 (the default) = DATAGRAM frames not supported. */
  maxDatagramFrameSize: number;
  versionInformation: VersionInformation | undefined;
  /** RFC 9287: the sender accepts packets with the QUIC Bit set to 0. */
  greaseQuicBit: boolean;
  /** reliable-stream-reset: the sender accepts RESET_STREAM_AT frames. */
  resetStreamAt: boolean;
}

/** The values an endpoint assumes for parameters its peer did not send (RFC 9000 §18.2). */
export function defaultTransportParameters(): TransportParameters {
  return {
    originalDestinationConnectionId: undefined,
    maxIdleTimeout: 0,
    statelessResetToken: undefined,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    preferredAddress: undefined,
    activeConnectionIdLimit: 2,
    initialSourceConnectionId: undefined,
    retrySourceConnectionId: undefined,
    maxDatagramFrameSize: 0,
    versionInformation: undefined,
    greaseQuicBit: false,
    resetStreamAt: false,
  };
}

const MAX_CID_LENGTH = 20;
const RESET_TOKEN_LENGTH = 16;
const MIN_UDP_PAYLOAD_SIZE = 1200;
const MAX_ACK_DELAY_EXPONENT = 20;
const MAX_ACK_DELAY_LIMIT = 2 ** 14;
const MIN_ACTIVE_CID_LIMIT = 2;
const MAX_STREAMS = 2 ** 60;
const MAX_STREAMS_BIG = 2n ** 60n;
const PREFERRED_ADDRESS_FIXED = 4 + 2 + 16 + 2 + 1 + RESET_TOKEN_LENGTH;

function paramError(reason: string): QuicError {
  return new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
}

/** A parameter's value as a single varint filling it exactly. */
function integerValue(value: Uint8Array, name: string): number {
  const r = new ByteReader(value, 0, value.length, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  const v = r.varint();
  if (!r.isEmpty()) throw paramError(`${name}: value longer than its integer`);
  return v;
}

/** A stream count: exact check against 2^60 (RFC 9000 §18.2, as MAX_STREAMS §19.11). */
function streamCountValue(value: Uint8Array, name: string): number {
  const v = integerValue(value, name);
  if (v >= MAX_STREAMS && readVarintBigAt(value, 0, value.length) > MAX_STREAMS_BIG) throw paramError(`${name} above 2^60`);
  return v;
}

function connectionIdValue(value: Uint8Array, name: string): Uint8Array {
  if (value.length > MAX_CID_LENGTH) throw paramError(`${name} longer than 20 bytes`);
  return value.slice();
}

function emptyValue(value: Uint8Array, name: string): true {
  if (value.length !== 0) throw paramError(`${name} must be empty`);
  return true;
}

function decodePreferredAddress(value: Uint8Array): PreferredAddress {
  const r = new ByteReader(value, 0, value.length, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  const ipv4Address = r.bytes(4).slice();
  const ipv4Port = r.u16();
  const ipv6Address = r.bytes(16).slice();
  const ipv6Port = r.u16();
  const cidLength = r.u8();
  // RFC 9000 §18.2: the server MUST NOT include a zero-length connection ID here.
  if (cidLength === 0 || cidLength > MAX_CID_LENGTH) throw paramError(`preferred_address connection ID length ${cidLength}`);
  const connectionId = r.bytes(cidLength).slice();
  const statelessResetToken = r.bytes(RESET_TOKEN_LENGTH).slice();
  if (!r.isEmpty()) throw paramError('preferred_address longer than its fields');
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function decodeVersionInformation(value: Uint8Array, sender: 'client' | 'server'): VersionInformation {
  // RFC 9368 §4: too short, a length not divisible by four, or a zero version is a parsing
  // failure, which QUIC v1 reports as TRANSPORT_PARAMETER_ERROR.
  if (value.length === 0 || value.length % 4 !== 0) throw paramError('version_information length not a non-zero multiple of 4');
  const r = new ByteReader(value, 0, value.length, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  const chosenVersion = r.u32();
  if (chosenVersion === 0) throw paramError('version_information Chosen Version is 0');
  const availableVersions: number[] = [];
  while (!r.isEmpty()) {
    const v = r.u32();
    if (v === 0) throw paramError('version_information Available Version is 0');
    availableVersions.push(v);
  }
  // RFC 9368 §4: a server receiving a Chosen Version absent from Available Versions fails parsing.
  if (sender === 'client' && !availableVersions.includes(chosenVersion)) {
    throw paramError('version_information Chosen Version not among Available Versions');
  }
  return { chosenVersion, availableVersions };
}

/**
 * Parses the quic_transport_parameters extension body sent by `sender`.
 * Throws QuicError(TRANSPORT_PARAMETER_ERROR) on any violation; ignores unknown and reserved ids.
 */
export function decodeTransportParameters(bytes: Uint8Array, sender: 'client' | 'server'): TransportParameters {
  const p = defaultTransportParameters();
  const r = new ByteReader(bytes, 0, bytes.length, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  const seen = new Set<number | bigint>();
  const Id = TransportParameterId;
  // Each parameter takes at least two bytes, so the loop is bounded by the input size.
  while (!r.isEmpty()) {
    const idAt = r.offset;
    const id = r.varint();
    const value = r.varintPrefixed();
    // Ids above 2^53 are compared exactly so two different reserved ids never look like duplicates.
    const key = id > Number.MAX_SAFE_INTEGER ? readVarintBigAt(bytes, idAt, bytes.length) : id;
    // RFC 9000 §7.4: a duplicated transport parameter is a TRANSPORT_PARAMETER_ERROR.
    if (seen.has(key)) throw paramError(`duplicate transport parameter 0x${id.toString(16)}`);
    seen.add(key);
    switch (id) {
      case Id.original_destination_connection_id:
        p.originalDestinationConnectionId = connectionIdValue(value, 'original_destination_connection_id');
        break;
      case Id.max_idle_timeout:
        p.maxIdleTimeout = integerValue(value, 'max_idle_timeout');
        break;
      case Id.stateless_reset_token:
        if (value.length !== RESET_TOKEN_LENGTH) throw paramError('stateless_reset_token must be 16 bytes');
        p.statelessResetToken = value.slice();
        break;
      case Id.max_udp_payload_size:
        p.maxUdpPayloadSize = integerValue(value, 'max_udp_payload_size');
        // RFC 9000 §18.2: values below 1200 are invalid.
        if (p.maxUdpPayloadSize < MIN_UDP_PAYLOAD_SIZE) throw paramError('max_udp_payload_size below 1200');
        break;
      case Id.initial_max_data:
        p.initialMaxData = integerValue(value, 'initial_max_data');
        break;
      case Id.initial_max_stream_data_bidi_local:
        p.initialMaxStreamDataBidiLocal = integerValue(value, 'initial_max_stream_data_bidi_local');
        break;
      case Id.initial_max_stream_data_bidi_remote:
        p.initialMaxStreamDataBidiRemote = integerValue(value, 'initial_max_stream_data_bidi_remote');
        break;
      case Id.initial_max_stream_data_uni:
        p.initialMaxStreamDataUni = integerValue(value, 'initial_max_stream_data_uni');
        break;
      case Id.initial_max_streams_bidi:
        p.initialMaxStreamsBidi = streamCountValue(value, 'initial_max_streams_bidi');
        break;
      case Id.initial_max_streams_uni:
        p.initialMaxStreamsUni = streamCountValue(value, 'initial_max_streams_uni');
        break;
      case Id.ack_delay_exponent:
        p.ackDelayExponent = integerValue(value, 'ack_delay_exponent');
        // RFC 9000 §18.2: values above 20 are invalid.
        if (p.ackDelayExponent > MAX_ACK_DELAY_EXPONENT) throw paramError('ack_delay_exponent above 20');
        break;
      case Id.max_ack_delay:
        p.maxAckDelay = integerValue(value, 'max_ack_delay');
        // RFC 9000 §18.2: values of 2^14 or greater are invalid.
        if (p.maxAckDelay >= MAX_ACK_DELAY_LIMIT) throw paramError('max_ack_delay of 2^14 or more');
        break;
      case Id.disable_active_migration:
        p.disableActiveMigration = emptyValue(value, 'disable_active_migration');
        break;
      case Id.preferred_address:
        p.preferredAddress = decodePreferredAddress(value);
        break;
      case Id.active_connection_id_limit:
        p.activeConnectionIdLimit = integerValue(value, 'active_connection_id_limit');
        // RFC 9000 §18.2: a value below 2 is a TRANSPORT_PARAMETER_ERROR.
        if (p.activeConnectionIdLimit < MIN_ACTIVE_CID_LIMIT) throw paramError('active_connection_id_limit below 2');
        break;
      case Id.initial_source_connection_id:
        p.initialSourceConnectionId = connectionIdValue(value, 'initial_source_connection_id');
        break;
      case Id.retry_source_connection_id:
        p.retrySourceConnectionId = connectionIdValue(value, 'retry_source_connection_id');
        break;
      case Id.version_information:
        p.versionInformation = decodeVersionInformation(value, sender);
        break;
      case Id.max_datagram_frame_size:
        p.maxDatagramFrameSize = integerValue(value, 'max_datagram_frame_size');
        break;
      case Id.grease_quic_bit:
        // RFC 9287 §3: a non-empty value is a TRANSPORT_PARAMETER_ERROR.
        p.greaseQuicBit = emptyValue(value, 'grease_quic_bit');
        break;
      case Id.reset_stream_at:
      case Id.reset_stream_at_draft07:
        // reliable-stream-reset §3: a non-empty value is a TRANSPORT_PARAMETER_ERROR.
        p.resetStreamAt = emptyValue(value, 'reset_stream_at');
        break;
      default:
        // RFC 9000 §7.4.2 / §18.1: unknown and reserved (31 * N + 27) parameters are ignored.
        break;
    }
    // RFC 9000 §18.2: a client MUST NOT send server-only parameters.
    if (sender === 'client' && isServerOnly(id)) throw paramError(`client sent server-only transport parameter 0x${id.toString(16)}`);
  }
  // RFC 9000 §7.3: initial_source_connection_id is mandatory from both endpoints, and
  // original_destination_connection_id from the server.
  if (p.initialSourceConnectionId === undefined) throw paramError('initial_source_connection_id missing');
  if (sender === 'server' && p.originalDestinationConnectionId === undefined) {
    throw paramError('original_destination_connection_id missing');
  }
  // RFC 9000 §18.2: a server using a zero-length connection ID MUST NOT send preferred_address.
  if (p.preferredAddress !== undefined && p.initialSourceConnectionId.length === 0) {
    throw paramError('preferred_address with a zero-length connection ID');
  }
  return p;
}

function isServerOnly(id: number): boolean {
  return (
    id === TransportParameterId.original_destination_connection_id ||
    id === TransportParameterId.stateless_reset_token ||
    id === TransportParameterId.preferred_address ||
    id === TransportParameterId.retry_source_connection_id
  );
}

/** Options of `encodeTransportParameters`. */
export interface EncodeTransportParametersOptions {
  /**
   * When given, one reserved parameter (id 31 * N + 27, RFC 9000 §18.1) with a random value of
   * 0..15 bytes is added, so peers that choke on unknown parameters are found early.
   * Randomness is injected (sans-IO): `random(n)` returns n random bytes.
   */
  greaseRandom?: (length: number) => Uint8Array;
}

function putInteger(w: ByteWriter, id: number, value: number): void {
  w.varint(id).varint(varintLength(value));
  putVarint(w, value);
}

function putBytes(w: ByteWriter, id: number, value: Uint8Array): void {
  w.varint(id).varintPrefixed(value);
}

function putEmpty(w: ByteWriter, id: number): void {
  w.varint(id).varint(0);
}

/**
 * Encodes transport parameters as the quic_transport_parameters extension body. Parameters
 * missing from `params` or equal to their default are not sent (the peer assumes the default);
 * connection IDs are sent whenever defined, even empty. reset_stream_at goes out under both
 * codepoints (0x1d and the draft-07 one) so old and new peers see it.
 * Invalid values (ours, so a programming error) throw RangeError.
 */
export function encodeTransportParameters(params: Partial<TransportParameters>, options: EncodeTransportParametersOptions = {}): Uint8Array {
  const p: TransportParameters = { ...defaultTransportParameters(), ...params };
  const d = defaultTransportParameters();
  checkEncodable(p);
  const w = new ByteWriter(128);
  const Id = TransportParameterId;
  if (p.originalDestinationConnectionId !== undefined) putBytes(w, Id.original_destination_connection_id, p.originalDestinationConnectionId);
  if (p.maxIdleTimeout !== d.maxIdleTimeout) putInteger(w, Id.max_idle_timeout, p.maxIdleTimeout);
  if (p.statelessResetToken !== undefined) putBytes(w, Id.stateless_reset_token, p.statelessResetToken);
  if (p.maxUdpPayloadSize !== d.maxUdpPayloadSize) putInteger(w, Id.max_udp_payload_size, p.maxUdpPayloadSize);
  if (p.initialMaxData !== 0) putInteger(w, Id.initial_max_data, p.initialMaxData);
  if (p.initialMaxStreamDataBidiLocal !== 0) putInteger(w, Id.initial_max_stream_data_bidi_local, p.initialMaxStreamDataBidiLocal);
  if (p.initialMaxStreamDataBidiRemote !== 0) putInteger(w, Id.initial_max_stream_data_bidi_remote, p.initialMaxStreamDataBidiRemote);
  if (p.initialMaxStreamDataUni !== 0) putInteger(w, Id.initial_max_stream_data_uni, p.initialMaxStreamDataUni);
  if (p.initialMaxStreamsBidi !== 0) putInteger(w, Id.initial_max_streams_bidi, p.initialMaxStreamsBidi);
  if (p.initialMaxStreamsUni !== 0) putInteger(w, Id.initial_max_streams_uni, p.initialMaxStreamsUni);
  if (p.ackDelayExponent !== d.ackDelayExponent) putInteger(w, Id.ack_delay_exponent, p.ackDelayExponent);
  if (p.maxAckDelay !== d.maxAckDelay) putInteger(w, Id.max_ack_delay, p.maxAckDelay);
  if (p.disableActiveMigration) putEmpty(w, Id.disable_active_migration);
  if (p.preferredAddress !== undefined) {
    const a = p.preferredAddress;
    w.varint(Id.preferred_address).varint(PREFERRED_ADDRESS_FIXED + a.connectionId.length);
    w.bytes(a.ipv4Address).u16(a.ipv4Port).bytes(a.ipv6Address).u16(a.ipv6Port);
    w.u8Prefixed(a.connectionId).bytes(a.statelessResetToken);
  }
  if (p.activeConnectionIdLimit !== d.activeConnectionIdLimit) putInteger(w, Id.active_connection_id_limit, p.activeConnectionIdLimit);
  if (p.initialSourceConnectionId !== undefined) putBytes(w, Id.initial_source_connection_id, p.initialSourceConnectionId);
  if (p.retrySourceConnectionId !== undefined) putBytes(w, Id.retry_source_connection_id, p.retrySourceConnectionId);
  if (p.versionInformation !== undefined) {
    const v = p.versionInformation;
    w.varint(Id.version_information).varint(4 * (1 + v.availableVersions.length)).u32(v.chosenVersion);
    for (const version of v.availableVersions) w.u32(version);
  }
  if (p.resetStreamAt) putEmpty(w, Id.reset_stream_at);
  if (p.maxDatagramFrameSize !== 0) putInteger(w, Id.max_datagram_frame_size, p.maxDatagramFrameSize);
  if (p.greaseQuicBit) putEmpty(w, Id.grease_quic_bit);
  if (p.resetStreamAt) putEmpty(w, Id.reset_stream_at_draft07);
  if (options.greaseRandom !== undefined) writeGreaseParameter(w, options.greaseRandom);
  return w.toBytes();
}

/** RFC 9000 §18.1: a reserved parameter 31 * N + 27 with arbitrary contents. */
function writeGreaseParameter(w: ByteWriter, random: (length: number) => Uint8Array): void {
  const r = random(5);
  // N below 2^24 keeps the id a small exact number (at most 31 * 2^24 + 27 < 2^30).
  const n = (((r[0] ?? 0) << 16) | ((r[1] ?? 0) << 8) | (r[2] ?? 0)) >>> 0;
  const length = (r[3] ?? 0) & 0x0f;
  putBytes(w, 31 * n + 27, random(length).subarray(0, length));
}

function checkEncodable(p: TransportParameters): void {
  const cids: [string, Uint8Array | undefined][] = [
    ['original_destination_connection_id', p.originalDestinationConnectionId],
    ['initial_source_connection_id', p.initialSourceConnectionId],
    ['retry_source_connection_id', p.retrySourceConnectionId],
  ];
  for (const [name, cid] of cids) if (cid !== undefined && cid.length > MAX_CID_LENGTH) throw new RangeError(`${name} longer than 20 bytes`);
  if (p.statelessResetToken !== undefined && p.statelessResetToken.length !== RESET_TOKEN_LENGTH) {
    throw new RangeError('stateless_reset_token must be 16 bytes');
  }
  if (p.maxUdpPayloadSize < MIN_UDP_PAYLOAD_SIZE) throw new RangeError('max_udp_payload_size below 1200');
  if (p.ackDelayExponent > MAX_ACK_DELAY_EXPONENT) throw new RangeError('ack_delay_exponent above 20');
  if (p.maxAckDelay >= MAX_ACK_DELAY_LIMIT) throw new RangeError('max_ack_delay of 2^14 or more');
  if (p.activeConnectionIdLimit < MIN_ACTIVE_CID_LIMIT) throw new RangeError('active_connection_id_limit below 2');
  if (p.initialMaxStreamsBidi > MAX_STREAMS || p.initialMaxStreamsUni > MAX_STREAMS) throw new RangeError('initial_max_streams above 2^60');
  const a = p.preferredAddress;
  if (a !== undefined) {
    if (a.ipv4Address.length !== 4 || a.ipv6Address.length !== 16) throw new RangeError('preferred_address address lengths');
    if (a.connectionId.length < 1 || a.connectionId.length > MAX_CID_LENGTH) throw new RangeError('preferred_address connection ID length');
    if (a.statelessResetToken.length !== RESET_TOKEN_LENGTH) throw new RangeError('preferred_address token must be 16 bytes');
  }
  const v = p.versionInformation;
  if (v !== undefined && (v.chosenVersion === 0 || v.availableVersions.includes(0))) throw new RangeError('version 0 in version_information');
}
