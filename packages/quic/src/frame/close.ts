/**
 * CONNECTION_CLOSE (RFC 9000 §19.19). Type 0x1c reports a QUIC-layer error and carries the type
 * of the frame that caused it; type 0x1d reports an application error and has no such field.
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { FrameType, WireFrameType, type ConnectionCloseFrame } from './types.js';
import { putVarint } from './varint-field.js';

/** Decodes a CONNECTION_CLOSE frame body (RFC 9000 §19.19); the Frame Type has been read. */
export function decodeConnectionClose(r: ByteReader, wireType: number): ConnectionCloseFrame {
  const application = wireType === WireFrameType.CONNECTION_CLOSE_APPLICATION;
  const errorCode = r.varint();
  const frameType = application ? 0 : r.varint();
  const reason = r.varintPrefixed();
  return { type: FrameType.CONNECTION_CLOSE, application, errorCode, frameType, reason };
}

/** Encoded size in bytes of a CONNECTION_CLOSE frame. */
export function connectionCloseLength(f: ConnectionCloseFrame): number {
  return (
    1 +
    varintLength(f.errorCode) +
    (f.application ? 0 : varintLength(f.frameType)) +
    varintLength(f.reason.length) +
    f.reason.length
  );
}

/** Writes a CONNECTION_CLOSE frame (RFC 9000 §19.19). */
export function writeConnectionClose(w: ByteWriter, f: ConnectionCloseFrame): void {
  w.u8(f.application ? WireFrameType.CONNECTION_CLOSE_APPLICATION : WireFrameType.CONNECTION_CLOSE_TRANSPORT);
  putVarint(w, f.errorCode);
  if (!f.application) putVarint(w, f.frameType);
  w.varintPrefixed(f.reason);
}
