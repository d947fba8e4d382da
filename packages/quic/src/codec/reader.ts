/**
 * A bounds-checked cursor over network bytes.
 *
 * Every read past `end` throws a QuicError with the reader's `errorCode`, so a parser built on it
 * can never leak a RangeError/TypeError: the code says what kind of input was malformed
 * (FRAME_ENCODING_ERROR for frames, TRANSPORT_PARAMETER_ERROR for transport parameters, ...).
 * Slices are views (`subarray`), not copies: callers that keep bytes beyond the datagram's life copy.
 */

import { QuicError, TransportErrorCode } from '../errors.js';
import { readVarintAt, readVarintBigAt, varintLengthFromFirstByte } from './varint.js';

export class ByteReader {
  readonly buf: Uint8Array;
  offset: number;
  end: number;
  errorCode: number;

  constructor(buf: Uint8Array, offset = 0, end = buf.length, errorCode: number = TransportErrorCode.FRAME_ENCODING_ERROR) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
    this.errorCode = errorCode;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  isEmpty(): boolean {
    return this.offset >= this.end;
  }

  fail(reason: string): never {
    throw new QuicError(this.errorCode, reason);
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.end) this.fail(`truncated ${what}`);
  }

  u8(): number {
    this.need(1, 'uint8');
    return this.buf[this.offset++] as number;
  }

  peekU8(): number {
    this.need(1, 'uint8');
    return this.buf[this.offset] as number;
  }

  u16(): number {
    this.need(2, 'uint16');
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 2;
    return ((b[o] as number) << 8) | (b[o + 1] as number);
  }

  u24(): number {
    this.need(3, 'uint24');
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 3;
    return ((b[o] as number) << 16) | ((b[o + 1] as number) << 8) | (b[o + 2] as number);
  }

  u32(): number {
    this.need(4, 'uint32');
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 4;
    return ((b[o] as number) * 0x100_0000) + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number));
  }

  /** A varint as a number (exact up to 2^53-1, see varint.ts). */
  varint(): number {
    const v = readVarintAt(this.buf, this.offset, this.end, this.errorCode);
    this.offset += varintLengthFromFirstByte(this.buf[this.offset] as number);
    return v;
  }

  /** A varint exactly, as a bigint. */
  varintBig(): bigint {
    const v = readVarintBigAt(this.buf, this.offset, this.end, this.errorCode);
    this.offset += varintLengthFromFirstByte(this.buf[this.offset] as number);
    return v;
  }

  /** `n` bytes as a view into the underlying buffer. */
  bytes(n: number): Uint8Array {
    if (n < 0 || !Number.isSafeInteger(n)) this.fail('invalid length');
    this.need(n, `${n}-byte field`);
    const o = this.offset;
    this.offset = o + n;
    return this.buf.subarray(o, o + n);
  }

  /** The rest of the input as a view. */
  rest(): Uint8Array {
    const o = this.offset;
    this.offset = this.end;
    return this.buf.subarray(o, this.end);
  }

  /** A varint length followed by that many bytes (view). */
  varintPrefixed(): Uint8Array {
    return this.bytes(this.varint());
  }

  /** A one-byte length followed by that many bytes (view). */
  u8Prefixed(): Uint8Array {
    return this.bytes(this.u8());
  }

  /** A two-byte length followed by that many bytes (view). */
  u16Prefixed(): Uint8Array {
    return this.bytes(this.u16());
  }

  /** A three-byte length followed by that many bytes (view). */
  u24Prefixed(): Uint8Array {
    return this.bytes(this.u24());
  }

  skip(n: number): void {
    this.bytes(n);
  }
}
