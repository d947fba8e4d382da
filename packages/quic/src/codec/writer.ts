/**
 * A byte writer: appends into a buffer that grows by doubling, or into a fixed buffer given by
 * the caller (the packet path writes straight into its send buffer and checks space first).
 * Encoding only ever sees our own values, so misuse is a programming error (RangeError).
 */

import { varintLength, writeVarint, writeVarintBig } from './varint.js';

export class ByteWriter {
  buf: Uint8Array;
  offset: number;
  private readonly fixed: boolean;

  /**
   * @param initial a capacity to start with (growable), or a buffer to write into (fixed size).
   * @param offset where to start writing in a given buffer.
   */
  constructor(initial: number | Uint8Array = 256, offset = 0) {
    if (typeof initial === 'number') {
      this.buf = new Uint8Array(initial);
      this.fixed = false;
    } else {
      this.buf = initial;
      this.fixed = true;
    }
    this.offset = offset;
  }

  get capacity(): number {
    return this.buf.length;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.offset + n;
    if (needed <= this.buf.length) return;
    if (this.fixed) throw new RangeError(`writer overflow: need ${needed}, have ${this.buf.length}`);
    let size = Math.max(16, this.buf.length * 2);
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    const b = this.buf;
    const o = this.offset;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.offset = o + 2;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    const b = this.buf;
    const o = this.offset;
    b[o] = v >>> 16;
    b[o + 1] = v >>> 8;
    b[o + 2] = v;
    this.offset = o + 3;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const o = this.offset;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.offset = o + 4;
    return this;
  }

  varint(v: number, forcedLength?: 1 | 2 | 4 | 8): this {
    this.ensure(forcedLength ?? varintLength(v));
    this.offset = writeVarint(this.buf, this.offset, v, forcedLength);
    return this;
  }

  varintBig(v: bigint, forcedLength?: 1 | 2 | 4 | 8): this {
    this.ensure(8);
    this.offset = writeVarintBig(this.buf, this.offset, v, forcedLength);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buf.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  /** Writes `n` zero bytes (PADDING frames are zero bytes, RFC 9000 §19.1). */
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return this;
  }

  varintPrefixed(data: Uint8Array): this {
    return this.varint(data.length).bytes(data);
  }

  u8Prefixed(data: Uint8Array): this {
    if (data.length > 0xff) throw new RangeError('u8-prefixed field too long');
    return this.u8(data.length).bytes(data);
  }

  u16Prefixed(data: Uint8Array): this {
    if (data.length > 0xffff) throw new RangeError('u16-prefixed field too long');
    return this.u16(data.length).bytes(data);
  }

  u24Prefixed(data: Uint8Array): this {
    if (data.length > 0xff_ffff) throw new RangeError('u24-prefixed field too long');
    return this.u24(data.length).bytes(data);
  }

  /**
   * Reserves a length field of `size` bytes, runs `body`, then fills in the length of what
   * `body` wrote. Used for TLS's nested u8/u16/u24 vectors.
   */
  lengthPrefixed(size: 1 | 2 | 3, body: (w: this) => void): this {
    this.ensure(size);
    const at = this.offset;
    this.offset += size;
    body(this);
    const len = this.offset - at - size;
    if (len >= 2 ** (8 * size)) throw new RangeError('length-prefixed body too long');
    for (let i = size - 1, v = len; i >= 0; i--, v >>>= 8) this.buf[at + i] = v & 0xff;
    return this;
  }

  /** A view of everything written so far. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }

  /** A copy of everything written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.offset);
  }
}
