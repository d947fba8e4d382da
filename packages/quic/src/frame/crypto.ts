/**
 * CRYPTO frames (RFC 9000 §19.6): TLS handshake bytes at an offset in the encryption level's
 * crypto stream. Like STREAM, the send path writes the header in place and copies the data after.
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { putVarint } from './varint-field.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import { dataCapacity, endsBeyondMaxVarint } from './stream.js';
import { FrameType, MAX_VARINT, type CryptoFrame } from './types.js';

/** Decodes a CRYPTO frame body (RFC 9000 §19.6); the Frame Type has been read. */
export function decodeCrypto(r: ByteReader, wireType: number): CryptoFrame {
  const offsetAt = r.offset;
  const offset = r.varint();
  const data = r.varintPrefixed();
  // RFC 9000 §19.6: offset + length beyond 2^62-1 is a FRAME_ENCODING_ERROR (or CRYPTO_BUFFER_EXCEEDED).
  if (endsBeyondMaxVarint(r.buf, offsetAt, offset, data.length)) {
    throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'CRYPTO data beyond 2^62-1', wireType);
  }
  return { type: FrameType.CRYPTO, offset, data };
}

/** Size of a CRYPTO frame header (type, Offset, Length) for `dataLength` bytes. */
export function cryptoFrameHeaderLength(offset: number, dataLength: number): number {
  return 1 + varintLength(offset) + varintLength(dataLength);
}

/** The most data bytes (at most `available`) a CRYPTO frame at `offset` can carry in `space` bytes, or -1. */
export function cryptoDataCapacity(offset: number, space: number, available: number): number {
  return dataCapacity(space - 1 - varintLength(offset), available);
}

/** Writes a CRYPTO frame header in place; the caller writes `dataLength` bytes after it. */
export function writeCryptoFrameHeader(w: ByteWriter, offset: number, dataLength: number): void {
  if (offset + dataLength > MAX_VARINT) throw new RangeError('CRYPTO data beyond 2^62-1');
  w.u8(FrameType.CRYPTO);
  putVarint(w, offset);
  putVarint(w, dataLength);
}

/** Encoded size in bytes of a CRYPTO frame. */
export function cryptoFrameLength(f: CryptoFrame): number {
  return cryptoFrameHeaderLength(f.offset, f.data.length) + f.data.length;
}

/** Writes a CRYPTO frame (RFC 9000 §19.6). */
export function writeCrypto(w: ByteWriter, f: CryptoFrame): void {
  writeCryptoFrameHeader(w, f.offset, f.data.length);
  w.bytes(f.data);
}
