/**
 * Packet payload -> frames (RFC 9000 §12.4).
 *
 * Enforces, for every frame: the shortest Frame Type encoding (PROTOCOL_VIOLATION, §12.4 allows
 * it), a known type (FRAME_ENCODING_ERROR), the packet types it may appear in (Table 3,
 * PROTOCOL_VIOLATION), then the frame's own layout and rules. Every error is a QuicError with
 * `frameType` set to the offending wire type, so the connection can put it in CONNECTION_CLOSE.
 */

import { ByteReader } from '../codec/reader.js';
import { varintLength, varintLengthFromFirstByte } from '../codec/varint.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import type { PacketType } from '../packet/types.js';
import { decodeAck } from './ack.js';
import { decodeNewConnectionId, decodeRetireConnectionId } from './cid.js';
import { decodeConnectionClose } from './close.js';
import { decodeCrypto } from './crypto.js';
import { decodeDatagram } from './datagram.js';
import {
  decodeDataBlocked,
  decodeMaxData,
  decodeMaxStreamData,
  decodeMaxStreams,
  decodeStreamDataBlocked,
  decodeStreamsBlocked,
} from './flow.js';
import { decodeNewToken, decodePadding, decodePathChallenge, decodePathResponse } from './misc.js';
import { decodeResetStream, decodeResetStreamAt, decodeStopSending, decodeStream } from './stream.js';
import { ALLOWED_IN, FrameType, frameTypeName, isKnownFrameType, type Frame } from './types.js';

const PING: Frame = Object.freeze({ type: FrameType.PING });
const HANDSHAKE_DONE: Frame = Object.freeze({ type: FrameType.HANDSHAKE_DONE });

/**
 * Parses every frame of a decrypted packet payload. Byte fields are views into `payload`.
 * Throws only QuicError: PROTOCOL_VIOLATION for an empty payload, a non-minimal frame type or a
 * frame not allowed in `packetType`; FRAME_ENCODING_ERROR for unknown types, truncation and
 * invalid fields.
 */
/**
 * Frames of the packet being parsed; the result is a copy of their exact number (a fresh `[]`
 * grown by push reserves 17 slots: ~150 bytes more allocated per packet). Decoding a frame
 * never parses another packet, so one list serves every call.
 */
const scratch: Frame[] = [];

export function parseFrames(payload: Uint8Array, packetType: PacketType): Frame[] {
  // RFC 9000 §12.4: a packet containing no frames is a PROTOCOL_VIOLATION.
  if (payload.length === 0) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet without frames');
  const allowed = ALLOWED_IN[packetType];
  if (allowed === undefined) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `packet type ${packetType} carries no frames`);
  const r = new ByteReader(payload, 0, payload.length, TransportErrorCode.FRAME_ENCODING_ERROR);
  const frames = scratch;
  frames.length = 0;
  let wireType = -1;
  try {
    // Each iteration consumes at least the one-byte type, so the loop is bounded by the payload size.
    while (r.offset < r.end) {
      wireType = -1; // a truncated Frame Type belongs to no frame
      wireType = readFrameType(r);
      // RFC 9000 §12.4: a frame type not permitted in this packet type is a PROTOCOL_VIOLATION.
      if (!allowed.has(wireType)) {
        throw new QuicError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `${frameTypeName(wireType)} frame not allowed in this packet type`,
          wireType,
        );
      }
      frames.push(decodeFrameBody(r, wireType));
    }
  } catch (e) {
    // Truncation errors come from the ByteReader, which knows no frame type: attach it here.
    frames.length = 0;
    if (QuicError.is(e) && e.frameType === undefined && wireType >= 0) throw new QuicError(e.code, e.reason, wireType);
    throw e;
  }
  const out = frames.slice();
  frames.length = 0; // holds no frame (nor the packet behind its views) between calls
  return out;
}

/** Reads the Frame Type, enforcing the shortest encoding (§12.4) and a known type. */
function readFrameType(r: ByteReader): number {
  const first = r.buf[r.offset] as number;
  if (first < 0x40) {
    r.offset++;
    if (isKnownFrameType(first)) return first;
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `unknown frame type 0x${first.toString(16)}`, first);
  }
  const encodedLength = varintLengthFromFirstByte(first);
  const value = r.varint();
  // RFC 9000 §12.4: "An endpoint MAY treat the receipt of a frame type that uses a longer
  // encoding than necessary as a connection error of type PROTOCOL_VIOLATION." We do.
  if (varintLength(value) < encodedLength) {
    throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `frame type 0x${value.toString(16)} not minimally encoded`, value);
  }
  // RFC 9000 §12.4: unknown frame types are a FRAME_ENCODING_ERROR. Every known type is < 0x40.
  throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `unknown frame type 0x${value.toString(16)}`, value);
}

function decodeFrameBody(r: ByteReader, wireType: number): Frame {
  switch (wireType) {
    case 0x00:
      return decodePadding(r);
    case 0x01:
      return PING;
    case 0x02:
    case 0x03:
      return decodeAck(r, wireType);
    case 0x04:
      return decodeResetStream(r);
    case 0x05:
      return decodeStopSending(r);
    case 0x06:
      return decodeCrypto(r, wireType);
    case 0x07:
      return decodeNewToken(r, wireType);
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
      return decodeStream(r, wireType);
    case 0x10:
      return decodeMaxData(r);
    case 0x11:
      return decodeMaxStreamData(r);
    case 0x12:
    case 0x13:
      return decodeMaxStreams(r, wireType);
    case 0x14:
      return decodeDataBlocked(r);
    case 0x15:
      return decodeStreamDataBlocked(r);
    case 0x16:
    case 0x17:
      return decodeStreamsBlocked(r, wireType);
    case 0x18:
      return decodeNewConnectionId(r, wireType);
    case 0x19:
      return decodeRetireConnectionId(r);
    case 0x1a:
      return decodePathChallenge(r);
    case 0x1b:
      return decodePathResponse(r);
    case 0x1c:
    case 0x1d:
      return decodeConnectionClose(r, wireType);
    case 0x1e:
      return HANDSHAKE_DONE;
    case 0x24:
      return decodeResetStreamAt(r, wireType);
    case 0x30:
    case 0x31:
      return decodeDatagram(r, wireType);
    default:
      throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `unknown frame type 0x${wireType.toString(16)}`, wireType);
  }
}
