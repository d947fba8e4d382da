/**
 * Stream frames: STREAM (RFC 9000 §19.8), RESET_STREAM (§19.4), STOP_SENDING (§19.5) and
 * RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset §4).
 *
 * The send path does not build StreamFrame objects: it asks `streamFrameHeaderLength` /
 * `streamDataCapacity` how much data fits in the space left in the packet, writes the header
 * with `writeStreamFrameHeader` straight into the packet buffer, then copies the data after it.
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { readVarintBigAt, varintLength } from '../codec/varint.js';
import { putVarint } from './varint-field.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import {
  FrameType,
  MAX_VARINT,
  StreamFlag,
  type ResetStreamAtFrame,
  type ResetStreamFrame,
  type StopSendingFrame,
  type StreamFrame,
} from './types.js';

const MAX_VARINT_BIG = 2n ** 62n - 1n;

/**
 * True if `offset + length` exceeds 2^62-1. `offsetAt` is where the Offset varint starts, to
 * re-read it exactly when it is too large for a double to decide (only possible above 2^53).
 */
export function endsBeyondMaxVarint(buf: Uint8Array, offsetAt: number, offset: number, length: number): boolean {
  if (offset + length < Number.MAX_SAFE_INTEGER) return false;
  return readVarintBigAt(buf, offsetAt, buf.length) + BigInt(length) > MAX_VARINT_BIG;
}

/** Decodes a STREAM frame body; the low three bits of `wireType` are OFF/LEN/FIN. */
export function decodeStream(r: ByteReader, wireType: number): StreamFrame {
  const streamId = r.varint();
  let offset = 0;
  let offsetAt = -1;
  if ((wireType & StreamFlag.OFF) !== 0) {
    offsetAt = r.offset;
    offset = r.varint();
  }
  const hasLength = (wireType & StreamFlag.LEN) !== 0;
  const data = hasLength ? r.bytes(r.varint()) : r.rest();
  // RFC 9000 §19.8: the largest offset delivered (offset + length) cannot exceed 2^62-1.
  if (offsetAt >= 0 && endsBeyondMaxVarint(r.buf, offsetAt, offset, data.length)) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'STREAM data beyond 2^62-1', wireType);
  }
  return { type: FrameType.STREAM, streamId, offset, data, fin: (wireType & StreamFlag.FIN) !== 0, hasLength };
}

/**
 * Size of a STREAM frame header (type, Stream ID, Offset if non-zero, Length if `withLength`)
 * for `dataLength` bytes of data. FIN does not change the size.
 */
export function streamFrameHeaderLength(streamId: number, offset: number, dataLength: number, withLength = true): number {
  return 1 + varintLength(streamId) + (offset > 0 ? varintLength(offset) : 0) + (withLength ? varintLength(dataLength) : 0);
}

/**
 * The largest number of data bytes (at most `available`) a STREAM frame with a Length field can
 * carry in `space` bytes, or -1 if not even an empty frame fits. The size of the Length field
 * depends on the length itself, hence the step down through the varint sizes.
 */
export function streamDataCapacity(streamId: number, offset: number, space: number, available: number): number {
  const room = space - (1 + varintLength(streamId) + (offset > 0 ? varintLength(offset) : 0));
  return dataCapacity(room, available);
}

/** Largest n <= available with n + varintLength(n) <= room, or -1. Shared by STREAM, CRYPTO, DATAGRAM. */
export function dataCapacity(room: number, available: number): number {
  if (room < 1) return -1;
  // For each Length size, the most data it allows is bounded by the room left and by the largest
  // value that size can encode; near a size boundary the smaller Length can win (room 16386 ->
  // 16383 with a 2-byte Length beats 16382 with a 4-byte one).
  let best = Math.min(room - 1, 0x3f);
  if (room - 2 > best) best = Math.min(room - 2, 0x3fff);
  if (room - 4 > best) best = Math.min(room - 4, 0x3fff_ffff);
  if (room - 8 > best) best = room - 8;
  return Math.min(best, available);
}

/**
 * Writes a STREAM frame header directly; the caller writes `dataLength` data bytes right after.
 * Returns nothing; `w.offset` is then where the data goes.
 */
export function writeStreamFrameHeader(
  w: ByteWriter,
  streamId: number,
  offset: number,
  dataLength: number,
  fin: boolean,
  withLength = true,
): void {
  if (offset + dataLength > MAX_VARINT) throw new RangeError('STREAM data beyond 2^62-1');
  w.u8(FrameType.STREAM | (offset > 0 ? StreamFlag.OFF : 0) | (withLength ? StreamFlag.LEN : 0) | (fin ? StreamFlag.FIN : 0));
  putVarint(w, streamId);
  if (offset > 0) putVarint(w, offset);
  if (withLength) putVarint(w, dataLength);
}

/** Encoded size in bytes of a STREAM frame. */
export function streamFrameLength(f: StreamFrame): number {
  return streamFrameHeaderLength(f.streamId, f.offset, f.data.length, f.hasLength) + f.data.length;
}

/** Writes a STREAM frame (RFC 9000 §19.8). */
export function writeStream(w: ByteWriter, f: StreamFrame): void {
  writeStreamFrameHeader(w, f.streamId, f.offset, f.data.length, f.fin, f.hasLength);
  w.bytes(f.data);
}

/** RFC 9000 §19.4 */
export function decodeResetStream(r: ByteReader): ResetStreamFrame {
  const streamId = r.varint();
  const errorCode = r.varint();
  const finalSize = r.varint();
  return { type: FrameType.RESET_STREAM, streamId, errorCode, finalSize };
}

/** Encoded size in bytes of a RESET_STREAM frame. */
export function resetStreamLength(f: ResetStreamFrame): number {
  return 1 + varintLength(f.streamId) + varintLength(f.errorCode) + varintLength(f.finalSize);
}

/** Writes a RESET_STREAM frame (RFC 9000 §19.4). */
export function writeResetStream(w: ByteWriter, f: ResetStreamFrame): void {
  w.u8(FrameType.RESET_STREAM);
  putVarint(w, f.streamId);
  putVarint(w, f.errorCode);
  putVarint(w, f.finalSize);
}

/** RFC 9000 §19.5 */
export function decodeStopSending(r: ByteReader): StopSendingFrame {
  const streamId = r.varint();
  const errorCode = r.varint();
  return { type: FrameType.STOP_SENDING, streamId, errorCode };
}

/** Encoded size in bytes of a STOP_SENDING frame. */
export function stopSendingLength(f: StopSendingFrame): number {
  return 1 + varintLength(f.streamId) + varintLength(f.errorCode);
}

/** Writes a STOP_SENDING frame (RFC 9000 §19.5). */
export function writeStopSending(w: ByteWriter, f: StopSendingFrame): void {
  w.u8(FrameType.STOP_SENDING);
  putVarint(w, f.streamId);
  putVarint(w, f.errorCode);
}

/** draft-ietf-quic-reliable-stream-reset §4 */
export function decodeResetStreamAt(r: ByteReader, wireType: number): ResetStreamAtFrame {
  const streamId = r.varint();
  const errorCode = r.varint();
  const finalSizeAt = r.offset;
  const finalSize = r.varint();
  const reliableSizeAt = r.offset;
  const reliableSize = r.varint();
  // reliable-stream-reset §4: "If the Reliable Size is larger than the Final Size, the receiver
  // MUST close the connection with a connection error of type FRAME_ENCODING_ERROR."
  // Compared exactly (bigint) only when doubles could round two different values together.
  const larger =
    reliableSize > Number.MAX_SAFE_INTEGER
      ? readVarintBigAt(r.buf, reliableSizeAt, r.end) > readVarintBigAt(r.buf, finalSizeAt, r.end)
      : reliableSize > finalSize;
  if (larger) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'RESET_STREAM_AT Reliable Size exceeds Final Size', wireType);
  }
  return { type: FrameType.RESET_STREAM_AT, streamId, errorCode, finalSize, reliableSize };
}

/** Encoded size in bytes of a RESET_STREAM_AT frame. */
export function resetStreamAtLength(f: ResetStreamAtFrame): number {
  return 1 + varintLength(f.streamId) + varintLength(f.errorCode) + varintLength(f.finalSize) + varintLength(f.reliableSize);
}

/** Writes a RESET_STREAM_AT frame (reliable-stream-reset §4). */
export function writeResetStreamAt(w: ByteWriter, f: ResetStreamAtFrame): void {
  if (f.reliableSize > f.finalSize) throw new RangeError('Reliable Size exceeds Final Size');
  w.u8(FrameType.RESET_STREAM_AT);
  putVarint(w, f.streamId);
  putVarint(w, f.errorCode);
  putVarint(w, f.finalSize);
  putVarint(w, f.reliableSize);
}
