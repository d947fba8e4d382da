/**
 * Flow-control frames: MAX_DATA (RFC 9000 §19.9), MAX_STREAM_DATA (§19.10), MAX_STREAMS (§19.11),
 * DATA_BLOCKED (§19.12), STREAM_DATA_BLOCKED (§19.13), STREAMS_BLOCKED (§19.14).
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { readVarintBigAt, varintLength } from '../codec/varint.js';
import { putVarint } from './varint-field.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import {
  FrameType,
  MAX_STREAM_COUNT,
  WireFrameType,
  type DataBlockedFrame,
  type MaxDataFrame,
  type MaxStreamDataFrame,
  type MaxStreamsFrame,
  type StreamDataBlockedFrame,
  type StreamsBlockedFrame,
} from './types.js';

const MAX_STREAM_COUNT_BIG = 2n ** 60n;

/**
 * Reads a stream count and rejects one above 2^60 (RFC 9000 §19.11, §19.14: a larger count would
 * allow stream IDs beyond 2^62-1). 2^60 itself is exact in a double, but 2^60+1 rounds down to it,
 * so the boundary is decided on the exact bigint value.
 */
function readStreamCount(r: ByteReader, wireType: number, what: string): number {
  const at = r.offset;
  const count = r.varint();
  if (count >= MAX_STREAM_COUNT && readVarintBigAt(r.buf, at, r.end) > MAX_STREAM_COUNT_BIG) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `${what} above 2^60`, wireType);
  }
  return count;
}

/** Decodes a MAX_DATA frame body (RFC 9000 §19.9); the Frame Type has been read. */
export function decodeMaxData(r: ByteReader): MaxDataFrame {
  return { type: FrameType.MAX_DATA, maximum: r.varint() };
}

/** Decodes a MAX_STREAM_DATA frame body (RFC 9000 §19.10); the Frame Type has been read. */
export function decodeMaxStreamData(r: ByteReader): MaxStreamDataFrame {
  const streamId = r.varint();
  return { type: FrameType.MAX_STREAM_DATA, streamId, maximum: r.varint() };
}

/** Decodes a MAX_STREAMS frame body (RFC 9000 §19.11); the Frame Type has been read. */
export function decodeMaxStreams(r: ByteReader, wireType: number): MaxStreamsFrame {
  const maximum = readStreamCount(r, wireType, 'MAX_STREAMS Maximum Streams');
  return { type: FrameType.MAX_STREAMS, bidirectional: wireType === WireFrameType.MAX_STREAMS_BIDI, maximum };
}

/** Decodes a DATA_BLOCKED frame body (RFC 9000 §19.12); the Frame Type has been read. */
export function decodeDataBlocked(r: ByteReader): DataBlockedFrame {
  return { type: FrameType.DATA_BLOCKED, limit: r.varint() };
}

/** Decodes a STREAM_DATA_BLOCKED frame body (RFC 9000 §19.13); the Frame Type has been read. */
export function decodeStreamDataBlocked(r: ByteReader): StreamDataBlockedFrame {
  const streamId = r.varint();
  return { type: FrameType.STREAM_DATA_BLOCKED, streamId, limit: r.varint() };
}

/** Decodes a STREAMS_BLOCKED frame body (RFC 9000 §19.14); the Frame Type has been read. */
export function decodeStreamsBlocked(r: ByteReader, wireType: number): StreamsBlockedFrame {
  const limit = readStreamCount(r, wireType, 'STREAMS_BLOCKED Maximum Streams');
  return { type: FrameType.STREAMS_BLOCKED, bidirectional: wireType === WireFrameType.STREAMS_BLOCKED_BIDI, limit };
}

/** Encoded size in bytes of a MAX_DATA frame. */
export function maxDataLength(f: MaxDataFrame): number {
  return 1 + varintLength(f.maximum);
}

/** Writes a MAX_DATA frame (RFC 9000 §19.9). */
export function writeMaxData(w: ByteWriter, f: MaxDataFrame): void {
  w.u8(FrameType.MAX_DATA);
  putVarint(w, f.maximum);
}

/** Encoded size in bytes of a MAX_STREAM_DATA frame. */
export function maxStreamDataLength(f: MaxStreamDataFrame): number {
  return 1 + varintLength(f.streamId) + varintLength(f.maximum);
}

/** Writes a MAX_STREAM_DATA frame (RFC 9000 §19.10). */
export function writeMaxStreamData(w: ByteWriter, f: MaxStreamDataFrame): void {
  w.u8(FrameType.MAX_STREAM_DATA);
  putVarint(w, f.streamId);
  putVarint(w, f.maximum);
}

/** Encoded size in bytes of a MAX_STREAMS frame. */
export function maxStreamsLength(f: MaxStreamsFrame): number {
  return 1 + varintLength(f.maximum);
}

/** Writes a MAX_STREAMS frame (RFC 9000 §19.11). */
export function writeMaxStreams(w: ByteWriter, f: MaxStreamsFrame): void {
  if (f.maximum > MAX_STREAM_COUNT) throw new RangeError('MAX_STREAMS above 2^60');
  w.u8(f.bidirectional ? WireFrameType.MAX_STREAMS_BIDI : WireFrameType.MAX_STREAMS_UNI);
  putVarint(w, f.maximum);
}

/** Encoded size in bytes of a DATA_BLOCKED frame. */
export function dataBlockedLength(f: DataBlockedFrame): number {
  return 1 + varintLength(f.limit);
}

/** Writes a DATA_BLOCKED frame (RFC 9000 §19.12). */
export function writeDataBlocked(w: ByteWriter, f: DataBlockedFrame): void {
  w.u8(FrameType.DATA_BLOCKED);
  putVarint(w, f.limit);
}

/** Encoded size in bytes of a STREAM_DATA_BLOCKED frame. */
export function streamDataBlockedLength(f: StreamDataBlockedFrame): number {
  return 1 + varintLength(f.streamId) + varintLength(f.limit);
}

/** Writes a STREAM_DATA_BLOCKED frame (RFC 9000 §19.13). */
export function writeStreamDataBlocked(w: ByteWriter, f: StreamDataBlockedFrame): void {
  w.u8(FrameType.STREAM_DATA_BLOCKED);
  putVarint(w, f.streamId);
  putVarint(w, f.limit);
}

/** Encoded size in bytes of a STREAMS_BLOCKED frame. */
export function streamsBlockedLength(f: StreamsBlockedFrame): number {
  return 1 + varintLength(f.limit);
}

/** Writes a STREAMS_BLOCKED frame (RFC 9000 §19.14). */
export function writeStreamsBlocked(w: ByteWriter, f: StreamsBlockedFrame): void {
  if (f.limit > MAX_STREAM_COUNT) throw new RangeError('STREAMS_BLOCKED above 2^60');
  w.u8(f.bidirectional ? WireFrameType.STREAMS_BLOCKED_BIDI : WireFrameType.STREAMS_BLOCKED_UNI);
  putVarint(w, f.limit);
}
