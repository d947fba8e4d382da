/**
 * The QUIC frame model: frame type codepoints, the `Frame` union, and the per-frame-type rules of
 * RFC 9000 §12.4 Table 3 (which packet types may carry which frame, ack-elicitation, probing).
 *
 * The union's discriminant `type` is one value per frame *name* (as spelled in the RFCs). Frame
 * types whose low bits carry flags (ACK, STREAM, MAX_STREAMS, STREAMS_BLOCKED, CONNECTION_CLOSE,
 * DATAGRAM) keep those flags as fields; `wireFrameType(frame)` gives the exact type on the wire.
 *
 * Byte fields (`data`, `token`, `reason`, `connectionId`, ...) produced by the parser are views
 * into the decrypted packet, not copies: a consumer that keeps them past the packet's life copies.
 */

import { PacketType } from '../packet/types.js';

/** Frame type names and their (base) codepoints: RFC 9000 §19 / §12.4 Table 3, RFC 9221 §4, reliable-stream-reset §4. */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  /** 0x02; 0x03 carries ECN counts (`AckFrame.ecn`). */
  ACK: 0x02,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** 0x08-0x0f: the low three bits are OFF (0x04), LEN (0x02), FIN (0x01). */
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  /** 0x12 bidirectional, 0x13 unidirectional. */
  MAX_STREAMS: 0x12,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  /** 0x16 bidirectional, 0x17 unidirectional. */
  STREAMS_BLOCKED: 0x16,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  /** 0x1c transport error (has a Frame Type field), 0x1d application error (has none). */
  CONNECTION_CLOSE: 0x1c,
  HANDSHAKE_DONE: 0x1e,
  /** draft-ietf-quic-reliable-stream-reset §4. */
  RESET_STREAM_AT: 0x24,
  /** RFC 9221 §4: 0x30 without Length, 0x31 with Length. */
  DATAGRAM: 0x30,
} as const;
/** A frame name's codepoint: the discriminant of `Frame`. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Exact wire codepoints for the flag-carrying variants. */
export const WireFrameType = {
  ACK: 0x02,
  ACK_ECN: 0x03,
  STREAM_BASE: 0x08,
  STREAM_MAX: 0x0f,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  CONNECTION_CLOSE_TRANSPORT: 0x1c,
  CONNECTION_CLOSE_APPLICATION: 0x1d,
  DATAGRAM: 0x30,
  DATAGRAM_WITH_LENGTH: 0x31,
} as const;

/** RFC 9000 §19.8: the flag bits in a STREAM frame type. */
export const StreamFlag = {
  FIN: 0x01,
  LEN: 0x02,
  OFF: 0x04,
} as const;

/** 2^62 - 1: the largest varint, and the largest offset + length of STREAM/CRYPTO data (§19.6, §19.8). */
export const MAX_VARINT = 2 ** 62 - 1;
/** 2^60: the largest stream count (RFC 9000 §19.11, §19.14). */
export const MAX_STREAM_COUNT = 2 ** 60;
/** Stateless reset tokens are 16 bytes (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** PATH_CHALLENGE / PATH_RESPONSE data is 8 bytes (RFC 9000 §19.17). */
export const PATH_DATA_LENGTH = 8;
/** Connection IDs are at most 20 bytes in QUIC v1 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;

/** A run of PADDING bytes (RFC 9000 §19.1), kept as one frame with its length in bytes. */
export interface PaddingFrame {
  type: typeof FrameType.PADDING;
  length: number;
}

/** RFC 9000 §19.2 PING */
export interface PingFrame {
  type: typeof FrameType.PING;
}

/** One contiguous acknowledged range, both ends inclusive. */
export interface AckRange {
  smallest: number;
  largest: number;
}

/** RFC 9000 §19.3.2 */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/**
 * RFC 9000 §19.3. `ranges` are sorted from the highest down and separated by at least one
 * unacknowledged packet; `ranges[0].largest` is the Largest Acknowledged.
 */
export interface AckFrame {
  type: typeof FrameType.ACK;
  /** The raw ACK Delay field; the connection scales it by the peer's ack_delay_exponent. */
  ackDelay: number;
  ranges: AckRange[];
  /** Present exactly for type 0x03. */
  ecn?: EcnCounts;
}

/** RFC 9000 §19.4 RESET_STREAM */
export interface ResetStreamFrame {
  type: typeof FrameType.RESET_STREAM;
  streamId: number;
  errorCode: number;
  finalSize: number;
}

/** RFC 9000 §19.5 STOP_SENDING */
export interface StopSendingFrame {
  type: typeof FrameType.STOP_SENDING;
  streamId: number;
  errorCode: number;
}

/** RFC 9000 §19.6 CRYPTO */
export interface CryptoFrame {
  type: typeof FrameType.CRYPTO;
  offset: number;
  data: Uint8Array;
}

/** RFC 9000 §19.7 NEW_TOKEN */
export interface NewTokenFrame {
  type: typeof FrameType.NEW_TOKEN;
  token: Uint8Array;
}

/**
 * RFC 9000 §19.8. The OFF bit is sent exactly when `offset > 0`. `hasLength` is the LEN bit:
 * without it the data runs to the end of the packet, so only the last frame may omit it.
 */
export interface StreamFrame {
  type: typeof FrameType.STREAM;
  streamId: number;
  offset: number;
  data: Uint8Array;
  fin: boolean;
  hasLength: boolean;
}

/** RFC 9000 §19.9 MAX_DATA */
export interface MaxDataFrame {
  type: typeof FrameType.MAX_DATA;
  maximum: number;
}

/** RFC 9000 §19.10 MAX_STREAM_DATA */
export interface MaxStreamDataFrame {
  type: typeof FrameType.MAX_STREAM_DATA;
  streamId: number;
  maximum: number;
}

/** RFC 9000 §19.11 MAX_STREAMS */
export interface MaxStreamsFrame {
  type: typeof FrameType.MAX_STREAMS;
  bidirectional: boolean;
  maximum: number;
}

/** RFC 9000 §19.12 DATA_BLOCKED */
export interface DataBlockedFrame {
  type: typeof FrameType.DATA_BLOCKED;
  limit: number;
}

/** RFC 9000 §19.13 STREAM_DATA_BLOCKED */
export interface StreamDataBlockedFrame {
  type: typeof FrameType.STREAM_DATA_BLOCKED;
  streamId: number;
  limit: number;
}

/** RFC 9000 §19.14 STREAMS_BLOCKED */
export interface StreamsBlockedFrame {
  type: typeof FrameType.STREAMS_BLOCKED;
  bidirectional: boolean;
  limit: number;
}

/** RFC 9000 §19.15 NEW_CONNECTION_ID */
export interface NewConnectionIdFrame {
  type: typeof FrameType.NEW_CONNECTION_ID;
  sequenceNumber: number;
  retirePriorTo: number;
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

/** RFC 9000 §19.16 RETIRE_CONNECTION_ID */
export interface RetireConnectionIdFrame {
  type: typeof FrameType.RETIRE_CONNECTION_ID;
  sequenceNumber: number;
}

/** RFC 9000 §19.17 PATH_CHALLENGE */
export interface PathChallengeFrame {
  type: typeof FrameType.PATH_CHALLENGE;
  data: Uint8Array;
}

/** RFC 9000 §19.18 PATH_RESPONSE */
export interface PathResponseFrame {
  type: typeof FrameType.PATH_RESPONSE;
  data: Uint8Array;
}

/**
 * RFC 9000 §19.19. `application: false` is type 0x1c (QUIC layer; `frameType` is the frame that
 * triggered the error, 0 if unknown); `application: true` is type 0x1d, which has no Frame Type
 * field on the wire (`frameType` is then always 0).
 */
export interface ConnectionCloseFrame {
  type: typeof FrameType.CONNECTION_CLOSE;
  application: boolean;
  errorCode: number;
  frameType: number;
  /** UTF-8 reason phrase bytes (not validated here). */
  reason: Uint8Array;
}

/** RFC 9000 §19.20 HANDSHAKE_DONE */
export interface HandshakeDoneFrame {
  type: typeof FrameType.HANDSHAKE_DONE;
}

/** draft-ietf-quic-reliable-stream-reset §4 */
export interface ResetStreamAtFrame {
  type: typeof FrameType.RESET_STREAM_AT;
  streamId: number;
  errorCode: number;
  finalSize: number;
  reliableSize: number;
}

/** RFC 9221 §4. `hasLength` selects type 0x31 (with Length) over 0x30 (data to end of packet). */
export interface DatagramFrame {
  type: typeof FrameType.DATAGRAM;
  data: Uint8Array;
  hasLength: boolean;
}

/** Every frame this stack parses and writes, discriminated by `type`. */
export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | ResetStreamAtFrame
  | DatagramFrame;

/** The exact frame type this frame is encoded with. */
export function wireFrameType(f: Frame): number {
  switch (f.type) {
    case FrameType.ACK:
      return f.ecn === undefined ? WireFrameType.ACK : WireFrameType.ACK_ECN;
    case FrameType.STREAM:
      return (
        FrameType.STREAM | (f.offset > 0 ? StreamFlag.OFF : 0) | (f.hasLength ? StreamFlag.LEN : 0) | (f.fin ? StreamFlag.FIN : 0)
      );
    case FrameType.MAX_STREAMS:
      return f.bidirectional ? WireFrameType.MAX_STREAMS_BIDI : WireFrameType.MAX_STREAMS_UNI;
    case FrameType.STREAMS_BLOCKED:
      return f.bidirectional ? WireFrameType.STREAMS_BLOCKED_BIDI : WireFrameType.STREAMS_BLOCKED_UNI;
    case FrameType.CONNECTION_CLOSE:
      return f.application ? WireFrameType.CONNECTION_CLOSE_APPLICATION : WireFrameType.CONNECTION_CLOSE_TRANSPORT;
    case FrameType.DATAGRAM:
      return f.hasLength ? WireFrameType.DATAGRAM_WITH_LENGTH : WireFrameType.DATAGRAM;
    default:
      return f.type;
  }
}

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(FrameType)) NAMES.set(value, name);

/** The RFC name of a wire frame type (`STREAM` for 0x08-0x0f), or its hex value when unknown. */
export function frameTypeName(wireType: number): string {
  return NAMES.get(baseFrameType(wireType)) ?? `0x${wireType.toString(16)}`;
}

/** Maps a known wire frame type to its `FrameType` (flag bits cleared); unknown types map to themselves. */
export function baseFrameType(wireType: number): number {
  if (wireType >= WireFrameType.STREAM_BASE && wireType <= WireFrameType.STREAM_MAX) return FrameType.STREAM;
  switch (wireType) {
    case WireFrameType.ACK_ECN:
      return FrameType.ACK;
    case WireFrameType.MAX_STREAMS_UNI:
      return FrameType.MAX_STREAMS;
    case WireFrameType.STREAMS_BLOCKED_UNI:
      return FrameType.STREAMS_BLOCKED;
    case WireFrameType.CONNECTION_CLOSE_APPLICATION:
      return FrameType.CONNECTION_CLOSE;
    case WireFrameType.DATAGRAM_WITH_LENGTH:
      return FrameType.DATAGRAM;
    default:
      return wireType;
  }
}

/**
 * RFC 9000 §12.4 Table 3, "Pkts" column (with §12.5 for 0-RTT), one row per codepoint range: I = Initial, H = Handshake,
 * 0 = 0-RTT, 1 = 1-RTT, `_` = not allowed. CONNECTION_CLOSE is split: Table 3's "ih" means only
 * type 0x1c may appear in Initial and Handshake packets. DATAGRAM (RFC 9221 §5) and RESET_STREAM_AT
 * (reliable-stream-reset §3: usable in 0-RTT) are application data: 0-RTT and 1-RTT only.
 */
export const FRAME_TYPE_TABLE: readonly (readonly [first: number, last: number, pkts: string])[] = [
  [0x00, 0x00, 'IH01'], // PADDING
  [0x01, 0x01, 'IH01'], // PING
  [0x02, 0x03, 'IH_1'], // ACK
  [0x04, 0x04, '__01'], // RESET_STREAM
  [0x05, 0x05, '__01'], // STOP_SENDING
  [0x06, 0x06, 'IH_1'], // CRYPTO
  [0x07, 0x07, '___1'], // NEW_TOKEN
  [0x08, 0x0f, '__01'], // STREAM
  [0x10, 0x10, '__01'], // MAX_DATA
  [0x11, 0x11, '__01'], // MAX_STREAM_DATA
  [0x12, 0x13, '__01'], // MAX_STREAMS
  [0x14, 0x14, '__01'], // DATA_BLOCKED
  [0x15, 0x15, '__01'], // STREAM_DATA_BLOCKED
  [0x16, 0x17, '__01'], // STREAMS_BLOCKED
  [0x18, 0x18, '__01'], // NEW_CONNECTION_ID
  // Table 3 says __01, but §12.5 lists RETIRE_CONNECTION_ID among the frames that cannot be sent
  // in 0-RTT (a client cannot have received NEW_CONNECTION_ID yet) and lets a server treat it as
  // a PROTOCOL_VIOLATION there, as for ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN and PATH_RESPONSE.
  [0x19, 0x19, '___1'], // RETIRE_CONNECTION_ID
  [0x1a, 0x1a, '__01'], // PATH_CHALLENGE
  [0x1b, 0x1b, '___1'], // PATH_RESPONSE
  [0x1c, 0x1c, 'IH01'], // CONNECTION_CLOSE (transport): "ih01"
  [0x1d, 0x1d, '__01'], // CONNECTION_CLOSE (application): "ih01", only 0x1c in I/H
  [0x1e, 0x1e, '___1'], // HANDSHAKE_DONE
  [0x24, 0x24, '__01'], // RESET_STREAM_AT
  [0x30, 0x31, '__01'], // DATAGRAM
];

/** Every known wire frame type is a one-byte varint (< 0x40), so a 64-entry table covers them. */
const KNOWN_FRAME_TYPES = new Uint8Array(0x40);
for (const [first, last] of FRAME_TYPE_TABLE) KNOWN_FRAME_TYPES.fill(1, first, last + 1);

/** True for the wire frame types of Table 3 and the extensions we implement. */
export function isKnownFrameType(wireType: number): boolean {
  return wireType < 0x40 && KNOWN_FRAME_TYPES[wireType] === 1;
}

function buildAllowed(column: number): ReadonlySet<number> {
  const set = new Set<number>();
  for (const [first, last, pkts] of FRAME_TYPE_TABLE) {
    if (pkts[column] === '_') continue;
    for (let t = first; t <= last; t++) set.add(t);
  }
  return set;
}

/**
 * RFC 9000 §12.4: the wire frame types each packet type may carry. Retry and Version
 * Negotiation packets carry no frames (§12.4), so their sets are empty.
 */
export const ALLOWED_IN: Readonly<Record<PacketType, ReadonlySet<number>>> = {
  [PacketType.INITIAL]: buildAllowed(0),
  [PacketType.HANDSHAKE]: buildAllowed(1),
  [PacketType.ZERO_RTT]: buildAllowed(2),
  [PacketType.ONE_RTT]: buildAllowed(3),
  [PacketType.RETRY]: new Set<number>(),
  [PacketType.VERSION_NEGOTIATION]: new Set<number>(),
};

/** True if a frame of wire type `wireType` may appear in a packet of type `packetType` (§12.4). */
export function isFrameAllowedIn(wireType: number, packetType: PacketType): boolean {
  return ALLOWED_IN[packetType]?.has(wireType) === true;
}

/**
 * RFC 9000 §13.2 / Table 3 "N": every frame except ACK, PADDING and CONNECTION_CLOSE is
 * ack-eliciting. Accepts a `FrameType` or a wire frame type.
 */
export function isAckEliciting(frameType: number): boolean {
  switch (frameType) {
    case FrameType.PADDING:
    case WireFrameType.ACK:
    case WireFrameType.ACK_ECN:
    case WireFrameType.CONNECTION_CLOSE_TRANSPORT:
    case WireFrameType.CONNECTION_CLOSE_APPLICATION:
      return false;
    default:
      return true;
  }
}

/**
 * RFC 9002 §2 "In-flight": a packet counts toward bytes in flight when it carries an
 * ack-eliciting frame or PADDING (so, every frame but ACK and CONNECTION_CLOSE).
 */
export function countsInFlight(frameType: number): boolean {
  return frameType === FrameType.PADDING || isAckEliciting(frameType);
}

/**
 * RFC 9000 §9.1 / Table 3 "P": probing frames. A packet with only these frames is a probing
 * packet and does not by itself move the connection to a new path.
 */
export function isProbingFrame(frameType: number): boolean {
  return (
    frameType === FrameType.PADDING ||
    frameType === FrameType.PATH_CHALLENGE ||
    frameType === FrameType.PATH_RESPONSE ||
    frameType === FrameType.NEW_CONNECTION_ID
  );
}
