/**
 * DATAGRAM frames (RFC 9221 §4): unreliable application data. 0x30 runs to the end of the
 * packet, 0x31 has a Length. The send path writes the header in place, then the payload.
 */

import type { ByteReader } from '../codec/reader.js';
import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { FrameType, WireFrameType, type DatagramFrame } from './types.js';

/** Decodes a DATAGRAM frame body (RFC 9221 §4); the Frame Type has been read. */
export function decodeDatagram(r: ByteReader, wireType: number): DatagramFrame {
  const hasLength = wireType === WireFrameType.DATAGRAM_WITH_LENGTH;
  const data = hasLength ? r.varintPrefixed() : r.rest();
  return { type: FrameType.DATAGRAM, data, hasLength };
}

/**
 * Size of a DATAGRAM frame header for `dataLength` bytes. This is also what RFC 9221 §3 counts
 * against max_datagram_frame_size together with the data ("including the frame type, length").
 */
export function datagramFrameHeaderLength(dataLength: number, withLength = true): number {
  return 1 + (withLength ? varintLength(dataLength) : 0);
}

/** Writes a DATAGRAM frame header in place; the caller writes `dataLength` bytes after it. */
export function writeDatagramFrameHeader(w: ByteWriter, dataLength: number, withLength = true): void {
  if (withLength) w.u8(WireFrameType.DATAGRAM_WITH_LENGTH).varint(dataLength);
  else w.u8(WireFrameType.DATAGRAM);
}

/** Encoded size in bytes of a DATAGRAM frame. */
export function datagramFrameLength(f: DatagramFrame): number {
  return datagramFrameHeaderLength(f.data.length, f.hasLength) + f.data.length;
}

/** Writes a DATAGRAM frame (RFC 9221 §4). */
export function writeDatagram(w: ByteWriter, f: DatagramFrame): void {
  writeDatagramFrameHeader(w, f.data.length, f.hasLength);
  w.bytes(f.data);
}
