/**
 * Just enough HTTP/3 (RFC 9114) to move one file between our QUIC connection and ngtcp2's
 * HTTP/3-only examples in the interop tests and the transfer benchmark: a control stream with an empty SETTINGS frame, one
 * GET request or one 200 response per bidirectional stream, DATA frames. QPACK (RFC 9204) is
 * limited to what we emit: static-table references and literals without Huffman coding, never
 * the dynamic table (we advertise none, so the peer cannot use it either). Header blocks we
 * receive are skipped, not decoded. This is test scaffolding, not the project's HTTP/3 layer
 * (packages/h3).
 */

import { type QuicConnection, type QuicStream } from '@purequic/quic';
import { readVarintAt, varintLength, varintLengthFromFirstByte, writeVarint } from '@purequic/quic/sans-io';

/** RFC 9114 §7.2 frame types used here. */
export const H3Frame = { DATA: 0x00, HEADERS: 0x01, SETTINGS: 0x04 } as const;
/** RFC 9114 §6.2.1: the control stream's type. */
const CONTROL_STREAM_TYPE = 0x00;
/** RFC 9114 §8.1: H3_NO_ERROR. */
export const H3_NO_ERROR = 0x100;

/** QPACK static table indices (RFC 9204 Appendix A) we reference. */
const QpackStatic = { AUTHORITY: 0, PATH: 1, METHOD_GET: 17, SCHEME_HTTPS: 23, STATUS_200: 25 } as const;

/** One HTTP/3 frame: type, length, payload (RFC 9114 §7.1). */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(payload.length) + payload.length);
  let offset = writeVarint(out, 0, type);
  offset = writeVarint(out, offset, payload.length);
  out.set(payload, offset);
  return out;
}

/** A QPACK string literal without Huffman coding: H=0 then a length with a 7-bit prefix (RFC 9204 §4.1.2). */
function qpackString(value: string, bytes: number[]): void {
  const data = new TextEncoder().encode(value);
  qpackInteger(data.length, 7, 0x00, bytes);
  for (const b of data) bytes.push(b);
}

/** A QPACK/HPACK prefixed integer (RFC 7541 §5.1) with `prefixBits` and the pattern bits above them. */
function qpackInteger(value: number, prefixBits: number, pattern: number, bytes: number[]): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    bytes.push(pattern | value);
    return;
  }
  bytes.push(pattern | max);
  let rest = value - max;
  // Bounded: 7 bits per byte of a number below 2^53.
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
}

/** A header block of static references and literals with static name references. */
function headerBlock(indexed: number[], literals: [nameIndex: number, value: string][]): Uint8Array {
  // RFC 9204 §4.5.1: Required Insert Count 0 and Delta Base 0 (no dynamic table).
  const bytes: number[] = [0x00, 0x00];
  // §4.5.2 indexed field line, static: 1 T=1 index(6).
  for (const index of indexed) qpackInteger(index, 6, 0xc0, bytes);
  // §4.5.4 literal with name reference, static: 0 1 N=0 T=1 index(4), then the value.
  for (const [nameIndex, value] of literals) {
    qpackInteger(nameIndex, 4, 0x50, bytes);
    qpackString(value, bytes);
  }
  return Uint8Array.from(bytes);
}

/** HEADERS for `GET https://authority/path`. */
export function encodeGetRequest(authority: string, path: string): Uint8Array {
  return encodeFrame(
    H3Frame.HEADERS,
    headerBlock(
      [QpackStatic.METHOD_GET, QpackStatic.SCHEME_HTTPS],
      [
        [QpackStatic.AUTHORITY, authority],
        [QpackStatic.PATH, path],
      ],
    ),
  );
}

/** HEADERS for `:status 200`. */
export function encodeStatus200(): Uint8Array {
  return encodeFrame(H3Frame.HEADERS, headerBlock([QpackStatic.STATUS_200], []));
}

/** Opens our control stream with an empty SETTINGS frame; it must stay open (RFC 9114 §6.2.1). */
export async function openControlStream(connection: QuicConnection): Promise<QuicStream> {
  const stream = await connection.openUnidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(Uint8Array.from([CONTROL_STREAM_TYPE, H3Frame.SETTINGS, 0x00]));
  writer.releaseLock();
  return stream;
}

/** The frames of a whole request or response stream, in order. Throws on a truncated frame. */
export function parseFrames(bytes: Uint8Array): { type: number; payload: Uint8Array }[] {
  const frames: { type: number; payload: Uint8Array }[] = [];
  let offset = 0;
  // Bounded by the input: every frame consumes at least its two varints.
  while (offset < bytes.length) {
    const type = readVarintAt(bytes, offset, bytes.length);
    offset += varintLengthFromFirstByte(bytes[offset]!);
    const length = readVarintAt(bytes, offset, bytes.length);
    offset += varintLengthFromFirstByte(bytes[offset]!);
    if (offset + length > bytes.length) throw new Error(`truncated HTTP/3 frame 0x${type.toString(16)}`);
    frames.push({ type, payload: bytes.subarray(offset, offset + length) });
    offset += length;
  }
  return frames;
}

/** The body of a response: the DATA payloads after its HEADERS, concatenated. */
export function responseBody(frames: { type: number; payload: Uint8Array }[]): Uint8Array {
  if (frames[0]?.type !== H3Frame.HEADERS) throw new Error('response does not start with HEADERS');
  const data = frames.filter((f) => f.type === H3Frame.DATA).map((f) => f.payload);
  const out = new Uint8Array(data.reduce((n, d) => n + d.length, 0));
  let offset = 0;
  for (const d of data) {
    out.set(d, offset);
    offset += d.length;
  }
  return out;
}
