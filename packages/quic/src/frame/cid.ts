/** Connection ID frames: NEW_CONNECTION_ID (RFC 9000 §19.15) and RETIRE_CONNECTION_ID (§19.16). */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { putVarint } from './varint-field.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import {
  FrameType,
  MAX_CID_LENGTH,
  STATELESS_RESET_TOKEN_LENGTH,
  type NewConnectionIdFrame,
  type RetireConnectionIdFrame,
} from './types.js';

/** Decodes a NEW_CONNECTION_ID frame body (RFC 9000 §19.15); the Frame Type has been read. */
export function decodeNewConnectionId(r: ByteReader, wireType: number): NewConnectionIdFrame {
  const sequenceNumber = r.varint();
  const retirePriorTo = r.varint();
  const cidLength = r.u8();
  // RFC 9000 §19.15: lengths below 1 or above 20 are a FRAME_ENCODING_ERROR.
  if (cidLength < 1 || cidLength > MAX_CID_LENGTH) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `NEW_CONNECTION_ID Length ${cidLength} not in 1..20`, wireType);
  }
  const connectionId = r.bytes(cidLength);
  const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
  // RFC 9000 §19.15: Retire Prior To greater than Sequence Number is a FRAME_ENCODING_ERROR.
  // (Both are rounded the same way above 2^53, where no real sequence number ever gets.)
  if (retirePriorTo > sequenceNumber) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'NEW_CONNECTION_ID Retire Prior To exceeds Sequence Number', wireType);
  }
  return { type: FrameType.NEW_CONNECTION_ID, sequenceNumber, retirePriorTo, connectionId, statelessResetToken };
}

/** Encoded size in bytes of a NEW_CONNECTION_ID frame. */
export function newConnectionIdLength(f: NewConnectionIdFrame): number {
  return 1 + varintLength(f.sequenceNumber) + varintLength(f.retirePriorTo) + 1 + f.connectionId.length + STATELESS_RESET_TOKEN_LENGTH;
}

/** Writes a NEW_CONNECTION_ID frame (RFC 9000 §19.15). */
export function writeNewConnectionId(w: ByteWriter, f: NewConnectionIdFrame): void {
  if (f.connectionId.length < 1 || f.connectionId.length > MAX_CID_LENGTH) throw new RangeError('connection ID length not in 1..20');
  if (f.statelessResetToken.length !== STATELESS_RESET_TOKEN_LENGTH) throw new RangeError('stateless reset token must be 16 bytes');
  if (f.retirePriorTo > f.sequenceNumber) throw new RangeError('Retire Prior To exceeds Sequence Number');
  w.u8(FrameType.NEW_CONNECTION_ID);
  putVarint(w, f.sequenceNumber);
  putVarint(w, f.retirePriorTo);
  w.u8Prefixed(f.connectionId).bytes(f.statelessResetToken);
}

/** Decodes a RETIRE_CONNECTION_ID frame body (RFC 9000 §19.16); the Frame Type has been read. */
export function decodeRetireConnectionId(r: ByteReader): RetireConnectionIdFrame {
  return { type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: r.varint() };
}

/** Encoded size in bytes of a RETIRE_CONNECTION_ID frame. */
export function retireConnectionIdLength(f: RetireConnectionIdFrame): number {
  return 1 + varintLength(f.sequenceNumber);
}

/** Writes a RETIRE_CONNECTION_ID frame (RFC 9000 §19.16). */
export function writeRetireConnectionId(w: ByteWriter, f: RetireConnectionIdFrame): void {
  w.u8(FrameType.RETIRE_CONNECTION_ID);
  putVarint(w, f.sequenceNumber);
}
