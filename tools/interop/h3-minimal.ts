/**
 * Just enough HTTP/3 (RFC 9114) to move one file between our QUIC connection and ngtcp2's
 * HTTP/3-only examples in the interop tests and the transfer benchmark: a control stream with an empty SETTINGS frame, one
 * GET request or one 200 response per bidirectional stream, DATA frames. QPACK (RFC 9204) is
 * limited to what we emit: static-table references and literals without Huffman coding, never
 * the dynamic table (we advertise none, so the peer cannot use it either). Header blocks we
 * receive are decoded as far as a peer without a dynamic table can send them (static
 * references, literals, Huffman-coded strings: `decodeFieldSection`), enough to read a
 * request's `:path` and a response's `:status`. This is test scaffolding, not the project's
 * HTTP/3 layer (packages/h3), which replaces it in the interop endpoint when it lands.
 */

import { type QuicConnection, type QuicStream } from '@purequic/quic';
import { readVarintAt, varintLength, varintLengthFromFirstByte, writeVarint } from '@purequic/quic/sans-io';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, QPACK_STATIC_TABLE } from './qpack-tables.js';

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

/** A header block we cannot read (dynamic-table references, bad encoding). */
export class FieldSectionError extends Error {}

/** Huffman codes by `length * 2^32 + code` (RFC 7541 Appendix B), built on first use. */
let huffmanLookup: Map<number, number> | undefined;

/** Decodes a Huffman-coded string (RFC 7541 §5.2): padding is at most 7 one-bits, EOS never appears. */
export function decodeHuffman(bytes: Uint8Array): string {
  if (!huffmanLookup) {
    huffmanLookup = new Map();
    for (let symbol = 0; symbol < HUFFMAN_CODES.length; symbol++) huffmanLookup.set(HUFFMAN_LENGTHS[symbol]! * 2 ** 32 + HUFFMAN_CODES[symbol]!, symbol);
  }
  const out: number[] = [];
  let code = 0;
  let length = 0;
  // Bounded by the input: one turn per bit.
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      const symbol = huffmanLookup.get(length * 2 ** 32 + code);
      if (symbol !== undefined) {
        if (symbol === 256) throw new FieldSectionError('EOS in a Huffman string');
        out.push(symbol);
        code = 0;
        length = 0;
      } else if (length > 30) {
        throw new FieldSectionError('invalid Huffman code');
      }
    }
  }
  // The padding: the most significant bits of EOS (all ones), shorter than a byte.
  if (length > 7 || code !== 2 ** length - 1) throw new FieldSectionError('invalid Huffman padding');
  return new TextDecoder().decode(Uint8Array.from(out));
}

/** A prefixed integer (RFC 7541 §5.1) at `offset` with `prefixBits`; bounded to 2^32. */
function readPrefixed(bytes: Uint8Array, offset: number, prefixBits: number): { value: number; next: number } {
  if (offset >= bytes.length) throw new FieldSectionError('truncated integer');
  const max = (1 << prefixBits) - 1;
  let value = bytes[offset]! & max;
  let next = offset + 1;
  if (value < max) return { value, next };
  let shift = 0;
  // Bounded: at most 5 continuation bytes.
  for (;;) {
    if (next >= bytes.length || shift > 28) throw new FieldSectionError('bad integer');
    const b = bytes[next++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next };
  }
}

/** A string literal whose H bit sits just above a `prefixBits` length (RFC 9204 §4.1.2). */
function readString(bytes: Uint8Array, offset: number, prefixBits: number): { value: string; next: number } {
  const huffman = (bytes[offset]! >> prefixBits) & 1;
  const length = readPrefixed(bytes, offset, prefixBits);
  const end = length.next + length.value;
  if (end > bytes.length) throw new FieldSectionError('truncated string');
  const raw = bytes.subarray(length.next, end);
  return { value: huffman ? decodeHuffman(raw) : new TextDecoder().decode(raw), next: end };
}

function staticEntry(index: number): readonly [string, string] {
  const entry = QPACK_STATIC_TABLE[index];
  if (!entry) throw new FieldSectionError(`static table index ${index} out of range`);
  return entry;
}

/**
 * The field lines of a QPACK field section (RFC 9204 §4.5) from a peer that uses no dynamic
 * table (we advertise a capacity of 0): throws `FieldSectionError` on anything else.
 */
export function decodeFieldSection(block: Uint8Array): [name: string, value: string][] {
  // §4.5.1: Required Insert Count must be 0 without a dynamic table; the Base is then unused.
  const required = readPrefixed(block, 0, 8);
  if (required.value !== 0) throw new FieldSectionError('dynamic table reference (Required Insert Count > 0)');
  let offset = readPrefixed(block, required.next, 7).next;
  const fields: [string, string][] = [];
  // Bounded by the block: every representation consumes at least one byte.
  while (offset < block.length) {
    const first = block[offset]!;
    if (first & 0x80) {
      // §4.5.2 Indexed Field Line: 1 T index(6).
      if (!(first & 0x40)) throw new FieldSectionError('dynamic table reference');
      const index = readPrefixed(block, offset, 6);
      fields.push([...staticEntry(index.value)]);
      offset = index.next;
    } else if (first & 0x40) {
      // §4.5.4 Literal Field Line with Name Reference: 0 1 N T index(4), value.
      if (!(first & 0x10)) throw new FieldSectionError('dynamic table reference');
      const index = readPrefixed(block, offset, 4);
      const value = readString(block, index.next, 7);
      fields.push([staticEntry(index.value)[0], value.value]);
      offset = value.next;
    } else if (first & 0x20) {
      // §4.5.6 Literal Field Line with Literal Name: 0 0 1 N H length(3), name, value.
      const name = readString(block, offset, 3);
      const value = readString(block, name.next, 7);
      fields.push([name.value, value.value]);
      offset = value.next;
    } else {
      // §4.5.3 / §4.5.5: post-base forms, dynamic table only.
      throw new FieldSectionError('dynamic table reference (post-base)');
    }
  }
  return fields;
}
