/**
 * QPACK wire primitives (RFC 9204 §4.1): prefixed integers (RFC 7541 §5.1) and N-bit-prefix string
 * literals (RFC 7541 §5.2, RFC 9204 §4.1.2), plus the byte<->string conversions they need.
 *
 * Readers never throw: they return a status (NEED_MORE, TOO_LARGE) so the caller maps it to the
 * error of its context (a truncated field section is DECOMPRESSION_FAILED; a truncated encoder
 * stream instruction just waits for more bytes).
 */

import { huffmanEncode, huffmanEncodeAscii, huffmanEncodedLength } from './huffman.js';
import { HUFFMAN_LENGTHS } from './huffman-table.js';

const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS);

/** Status: the input ended inside the item. */
export const NEED_MORE = -1;
/** Status: the integer exceeds 2^62 - 1 or uses more than 10 continuation bytes (RFC 9204 §4.1.1). */
export const TOO_LARGE = -2;

/** RFC 9204 §4.1.1: integers up to 62 bits must decode; anything larger is an error here. */
const MAX_INTEGER = (1n << 62n) - 1n;
/** 62 bits need at most 9 continuation bytes after any prefix; one more tolerates a zero pad. */
const MAX_CONTINUATION_BYTES = 10;

const EMPTY = new Uint8Array(0);

/** A cursor over a byte range; `int` and `stringHeader` advance `pos` only on success. */
export class Reader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** Set by `stringHeader`: the H bit. */
  huffman = false;
  /** Set by `stringHeader`: the encoded length of the string that follows. */
  length = 0;

  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /**
   * Reads a prefixed integer (RFC 7541 §5.1) whose prefix is the low `prefixBits` bits of the
   * byte at `pos`. Returns the value, NEED_MORE or TOO_LARGE. Values above 2^53 are approximate;
   * every caller range-checks them against far smaller limits.
   */
  int(prefixBits: number): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos >= end) return NEED_MORE;
    const max = (1 << prefixBits) - 1;
    const start = pos;
    let value = buf[pos++]! & max;
    if (value === max) {
      let multiplier = 1;
      for (let i = 0; ; i++) {
        if (i === MAX_CONTINUATION_BYTES) return TOO_LARGE;
        if (pos >= end) return NEED_MORE;
        const b = buf[pos++]!;
        value += (b & 0x7f) * multiplier;
        if ((b & 0x80) === 0) break;
        multiplier *= 128;
      }
      // Past 2^53 the float sum is inexact: decide the 62-bit bound exactly (rare path).
      if (value >= 2 ** 53 && exactInteger(buf, start, pos, max) > MAX_INTEGER) return TOO_LARGE;
    }
    this.pos = pos;
    return value;
  }

  /**
   * Reads the header of an N-bit prefix string literal (RFC 9204 §4.1.2): the H bit at
   * 1 << (n - 1) and the length as an (n - 1)-bit prefix integer. Sets `huffman` and `length`;
   * returns 0, NEED_MORE or TOO_LARGE. Does not check that the string's bytes are present.
   */
  stringHeader(n: number): number {
    if (this.pos >= this.end) return NEED_MORE;
    const huffman = (this.buf[this.pos]! & (1 << (n - 1))) !== 0;
    const length = this.int(n - 1);
    if (length < 0) return length;
    this.huffman = huffman;
    this.length = length;
    return 0;
  }
}

/** The exact value of the prefixed integer in buf[start, end) (prefix value `max`, continuations). */
function exactInteger(buf: Uint8Array, start: number, end: number, max: number): bigint {
  let value = BigInt(max);
  let shift = 0n;
  for (let i = start + 1; i < end; i++) {
    value += BigInt(buf[i]! & 0x7f) << shift;
    shift += 7n;
  }
  return value;
}

// ---- strings ----------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();
/**
 * Strings up to this length take the ASCII fast path through String.fromCharCode; longer ones go
 * to TextDecoder, whose fixed per-call cost is then outweighed by its vectorised decoding.
 */
const FAST_ASCII_MAX = 24;

/**
 * Decodes buf[start, end) as UTF-8 (malformed sequences become U+FFFD). Short ASCII strings, the
 * most common field values, skip TextDecoder's per-call cost.
 */
export function bytesToString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len <= FAST_ASCII_MAX) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

/** UTF-8 length of `s` as TextEncoder encodes it (lone surrogates become U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 2 UTF-16 units -> 4 bytes
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** True when every char code of `s` is below 0x80. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

// ---- writer -----------------------------------------------------------------------------------

/** A growable output buffer with the QPACK primitives. */
export class ByteSink {
  buf: Uint8Array;
  len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /**
   * Writes a prefixed integer (RFC 7541 §5.1): `flags` holds the bits above the `prefixBits`-bit
   * prefix of the first byte.
   */
  int(flags: number, prefixBits: number, value: number): void {
    this.reserve(11);
    const buf = this.buf;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      buf[this.len++] = flags | value;
      return;
    }
    buf[this.len++] = flags | max;
    let rest = value - max;
    while (rest >= 128) {
      buf[this.len++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    buf[this.len++] = rest;
  }

  /**
   * Writes an N-bit prefix string literal (RFC 9204 §4.1.2): `flags` holds the bits above the n
   * bits, the H bit is 1 << (n - 1), the length an (n - 1)-bit prefix integer. Huffman coding is
   * used when `huffman` allows it and it is strictly shorter.
   */
  string(flags: number, n: number, s: string, huffman: boolean): void {
    const hBit = 1 << (n - 1);
    // One pass: ASCII check and Huffman length together.
    let bits = 0;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      bits += LENGTHS[c]!;
    }
    if (ascii) {
      const hlen = huffman ? (bits + 7) >>> 3 : s.length;
      if (hlen < s.length) {
        this.int(flags | hBit, n - 1, hlen);
        this.reserve(hlen);
        this.len = huffmanEncodeAscii(s, this.buf, this.len);
      } else {
        this.int(flags, n - 1, s.length);
        this.reserve(s.length);
        const buf = this.buf;
        let p = this.len;
        for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
        this.len = p;
      }
      return;
    }
    const bytes = utf8Encoder.encode(s);
    const hlen = huffman ? huffmanEncodedLength(bytes, 0, bytes.length) : bytes.length;
    if (hlen < bytes.length) {
      this.int(flags | hBit, n - 1, hlen);
      this.reserve(hlen);
      this.len = huffmanEncode(bytes, 0, bytes.length, this.buf, this.len);
    } else {
      this.int(flags, n - 1, bytes.length);
      this.reserve(bytes.length);
      this.buf.set(bytes, this.len);
      this.len += bytes.length;
    }
  }

  /** The bytes written so far, copied; resets the sink. Undefined when empty. */
  take(): Uint8Array | undefined {
    if (this.len === 0) return undefined;
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

/**
 * A QPACK encoder or decoder stream arriving in any chunking (RFC 9204 §4.3, §4.4): complete
 * instructions are parsed straight from the chunk; only an incomplete tail is kept, and copied
 * once more when the next chunk completes it. The tail's size is bounded by the parser, which
 * rejects an instruction that could not fit as soon as its header is read.
 */
export class InstructionStream {
  #pending = new Uint8Array(0);
  #pendingLength = 0;

  /**
   * Runs `parse(buf, pos, end)` — the next position, or -1 when the instruction at `pos` is
   * incomplete — over everything that has arrived, and keeps what is left.
   */
  feed(data: Uint8Array, parse: (buf: Uint8Array, pos: number, end: number) => number): void {
    let buf: Uint8Array;
    let end: number;
    if (this.#pendingLength === 0) {
      buf = data;
      end = data.length;
    } else {
      this.#append(data);
      buf = this.#pending;
      end = this.#pendingLength;
    }
    let pos = 0;
    while (pos < end) {
      const next = parse(buf, pos, end);
      if (next < 0) break;
      pos = next;
    }
    if (buf === this.#pending) {
      this.#pending.copyWithin(0, pos, end);
      this.#pendingLength = end - pos;
    } else {
      this.#pendingLength = 0;
      if (pos < end) this.#append(data.subarray(pos));
    }
    if (this.#pendingLength === 0 && this.#pending.length > 4096) this.#pending = new Uint8Array(0);
  }

  #append(data: Uint8Array): void {
    const need = this.#pendingLength + data.length;
    if (need > this.#pending.length) {
      const next = new Uint8Array(Math.max(need, this.#pending.length * 2, 64));
      next.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = next;
    }
    this.#pending.set(data, this.#pendingLength);
    this.#pendingLength = need;
  }
}
