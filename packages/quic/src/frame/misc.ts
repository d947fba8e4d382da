/**
 * Small frames: PADDING (RFC 9000 §19.1), PING (§19.2), NEW_TOKEN (§19.7), PATH_CHALLENGE
 * (§19.17), PATH_RESPONSE (§19.18), HANDSHAKE_DONE (§19.20).
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import {
  FrameType,
  PATH_DATA_LENGTH,
  type NewTokenFrame,
  type PaddingFrame,
  type PathChallengeFrame,
  type PathResponseFrame,
} from './types.js';

/**
 * Consumes a run of PADDING bytes; the first 0x00 has already been read. Padding is often most
 * of a packet (Initial packets are padded to 1200 bytes), so it is one frame, not one per byte.
 */
export function decodePadding(r: ByteReader): PaddingFrame {
  const buf = r.buf;
  const end = r.end;
  let pos = r.offset;
  while (pos < end && buf[pos] === 0) pos++;
  const length = pos - r.offset + 1;
  r.offset = pos;
  return { type: FrameType.PADDING, length };
}

/** Writes a PADDING frame (RFC 9000 §19.1). */
export function writePadding(w: ByteWriter, f: PaddingFrame): void {
  if (f.length < 1) throw new RangeError('PADDING run must be at least one byte');
  w.zeros(f.length);
}

/** Decodes a NEW_TOKEN frame body (RFC 9000 §19.7); the Frame Type has been read. */
export function decodeNewToken(r: ByteReader, wireType: number): NewTokenFrame {
  const token = r.varintPrefixed();
  // RFC 9000 §19.7: an empty Token field is a FRAME_ENCODING_ERROR.
  if (token.length === 0) throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'NEW_TOKEN with an empty token', wireType);
  return { type: FrameType.NEW_TOKEN, token };
}

/** Encoded size in bytes of a NEW_TOKEN frame. */
export function newTokenLength(f: NewTokenFrame): number {
  return 1 + varintLength(f.token.length) + f.token.length;
}

/** Writes a NEW_TOKEN frame (RFC 9000 §19.7). */
export function writeNewToken(w: ByteWriter, f: NewTokenFrame): void {
  if (f.token.length === 0) throw new RangeError('NEW_TOKEN token must not be empty');
  w.u8(FrameType.NEW_TOKEN).varintPrefixed(f.token);
}

/** RFC 9000 §19.17: exactly 8 bytes of data (a short packet is truncation, FRAME_ENCODING_ERROR). */
export function decodePathChallenge(r: ByteReader): PathChallengeFrame {
  return { type: FrameType.PATH_CHALLENGE, data: r.bytes(PATH_DATA_LENGTH) };
}

/** RFC 9000 §19.18 */
export function decodePathResponse(r: ByteReader): PathResponseFrame {
  return { type: FrameType.PATH_RESPONSE, data: r.bytes(PATH_DATA_LENGTH) };
}

/** Writes a PATH_CHALLENGE or PATH_RESPONSE frame (RFC 9000 §19.17, §19.18). */
export function writePathFrame(w: ByteWriter, f: PathChallengeFrame | PathResponseFrame): void {
  if (f.data.length !== PATH_DATA_LENGTH) throw new RangeError('PATH_CHALLENGE/PATH_RESPONSE data must be 8 bytes');
  w.u8(f.type).bytes(f.data);
}
