/**
 * Receive-side reassembly of a byte stream from out-of-order, overlapping ranges
 * (STREAM frames, RFC 9000 §2.2, and CRYPTO frames, §19.6).
 *
 * A peer chooses how its bytes are split and ordered, so every cost here is bounded by what it
 * sent, whatever the order (RFC 9000 §21.5 asks for resistance to resource exhaustion):
 *
 * - In-order data that arrives while nothing is held out of order goes to a queue of "ready"
 *   pieces. Large pieces of a datagram the caller hands over (`owned`) are kept as views, without
 *   a copy, only when they cover at least half of their underlying buffer; anything else is
 *   copied, so a small piece never pins a whole datagram.
 * - Everything else is copied into fixed-size pages (a Map keyed by offset / PAGE_SIZE) with a
 *   bitmap of the bytes received. Inserting costs O(1) per page touched plus the bytes copied,
 *   whatever the order (a sorted array of segments made descending one-byte frames quadratic),
 *   and memory is at most about one page per PAGE_SIZE of offsets between the read offset and
 *   the highest offset, which flow control bounds (RFC 9000 §4.1), instead of a per-frame
 *   record and datagram for each byte.
 *
 * Flow control limits are the caller's to enforce before inserting (RFC 9000 §4.1); this buffer
 * enforces the final-size rules of §4.5.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

/** Bytes per page of out-of-order storage. */
const PAGE_SIZE = 4096;
/** Smallest page allocation; pages grow by doubling up to PAGE_SIZE as bytes land further in. */
const MIN_PAGE_BYTES = 64;
/** In-order pieces at least this long may go to the ready queue (smaller ones go to pages). */
const MIN_READY_PIECE = 256;

interface Page {
  /** Absolute offset of the page's first byte (a multiple of PAGE_SIZE). */
  readonly start: number;
  /** Storage for [start, start + data.length); grows up to PAGE_SIZE. */
  data: Uint8Array;
  /** One bit per byte of `data`: set once that byte was received. */
  bits: Uint32Array;
}

export class RecvBuffer {
  /** In-order pieces covering [readOffset, readyEnd), oldest first from `readyHead`. */
  private ready: Uint8Array[] = [];
  private readyHead = 0;
  private readyEnd = 0;
  /** Pages holding bytes at or above `readyEnd`, keyed by offset / PAGE_SIZE. */
  /** Made with the first page (streams read in order in large pieces never need one). */
  private pages: Map<number, Page> | undefined;
  /** Every byte in [readOffset, contiguousEnd) is held. */
  private contiguousEnd = 0;
  private _readOffset = 0;
  private _highestOffset = 0;
  private _finalSize: number | undefined = undefined;
  private _bufferedBytes = 0;
  /** Bytes at or above this offset are not stored (reliable reset, or discard). */
  private storeLimit = Number.POSITIVE_INFINITY;

  /** Offset of the next byte `read` returns; everything below has been handed to the reader. */
  get readOffset(): number {
    return this._readOffset;
  }

  /** The highest offset + 1 of any byte received (or the final size of a reset); flow control counts this. */
  get highestOffset(): number {
    return this._highestOffset;
  }

  /** The stream's final size, once a FIN or a reset announced it (RFC 9000 §4.5). */
  get finalSize(): number | undefined {
    return this._finalSize;
  }

  /** Bytes held in memory (received, not yet read). */
  get bufferedBytes(): number {
    return this._bufferedBytes;
  }

  /** Where delivery to the reader ends: the final size, or less after `limitDelivery`. */
  get deliveryEnd(): number | undefined {
    if (this._finalSize === undefined) return undefined;
    return Math.min(this._finalSize, this.storeLimit);
  }

  /**
   * Adds `data` received at `offset`; `fin` marks `offset + data.length` as the final size.
   * Returns how many new bytes were stored.
   *
   * `owned` says the caller gives up `data` (it will never be modified): the buffer may then keep
   * a view of it instead of copying, when that view covers at least half of its underlying
   * buffer. Otherwise new bytes are copied, as the view usually points into a packet buffer that
   * is reused.
   *
   * @throws QuicError FINAL_SIZE_ERROR when the data contradicts a known final size.
   */
  insert(offset: number, data: Uint8Array, fin = false, owned = false): number {
    const end = offset + data.length;
    const finalSize = this._finalSize;
    if (finalSize !== undefined) {
      // RFC 9000 §4.5: once the final size is known it cannot change, and no data may lie beyond it.
      if (end > finalSize) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `data up to ${end} beyond final size ${finalSize}`);
      if (fin && end !== finalSize) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `final size changed from ${finalSize} to ${end}`);
    } else if (fin) {
      // RFC 9000 §4.5: a final size below data already received is an error.
      if (end < this._highestOffset) {
        throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `final size ${end} below received offset ${this._highestOffset}`);
      }
      this._finalSize = end;
    }
    // Pages holding nothing unread (all read up to contiguousEnd, nothing received beyond it)
    // are dropped, so that in-order data goes back to the ready queue without a copy: a page
    // the reader stopped in the middle of would otherwise keep every later byte of the stream
    // on the copying path after one loss.
    if (this.pages !== undefined && this._readOffset === this.contiguousEnd && this._highestOffset <= this.contiguousEnd) this.pages = undefined;
    if (end > this._highestOffset) this._highestOffset = end;

    // Everything below readyEnd (which is at least readOffset) is already held.
    const start = Math.max(offset, this.readyEnd);
    const stop = Math.min(end, this.storeLimit);
    if (start >= stop) return 0;
    const piece = start === offset && stop === end ? data : data.subarray(start - offset, stop - offset);
    if ((this.pages === undefined || this.pages.size === 0) && start === this.readyEnd && piece.length >= MIN_READY_PIECE) {
      // In order with nothing held beyond: queue it whole. Keep the caller's view only if it is
      // most of its buffer, so retained memory stays within twice the bytes held.
      this.ready.push(owned && piece.length * 2 >= piece.buffer.byteLength ? piece : piece.slice());
      this.readyEnd = stop;
      this.contiguousEnd = stop;
      this._bufferedBytes += piece.length;
      return piece.length;
    }
    const stored = this.storePaged(start, piece);
    this._bufferedBytes += stored;
    if (start <= this.contiguousEnd && stop > this.contiguousEnd) this.advanceContiguous();
    return stored;
  }

  /** Copies `piece` (bytes from `start`) into pages; returns how many bytes were new. */
  private storePaged(start: number, piece: Uint8Array): number {
    const stop = start + piece.length;
    let stored = 0;
    // Bounded: each round advances `at` to the next page boundary or `stop`.
    for (let at = start; at < stop; ) {
      const index = Math.floor(at / PAGE_SIZE);
      const pageStart = index * PAGE_SIZE;
      const until = Math.min(stop, pageStart + PAGE_SIZE);
      const page = this.pageFor(index, pageStart, until - pageStart);
      page.data.set(piece.subarray(at - start, until - start), at - pageStart);
      stored += setBits(page.bits, at - pageStart, until - pageStart);
      at = until;
    }
    return stored;
  }

  /** The page at `index`, created or grown so that it holds `length` bytes. */
  private pageFor(index: number, pageStart: number, length: number): Page {
    const pages = (this.pages ??= new Map());
    let page = pages.get(index);
    if (page !== undefined && page.data.length >= length) return page;
    let size = page === undefined ? MIN_PAGE_BYTES : page.data.length * 2;
    while (size < length) size *= 2;
    size = Math.min(size, PAGE_SIZE);
    const data = new Uint8Array(size);
    const bits = new Uint32Array(Math.ceil(size / 32));
    if (page === undefined) {
      page = { start: pageStart, data, bits };
      pages.set(index, page);
    } else {
      data.set(page.data);
      bits.set(page.bits);
      page.data = data;
      page.bits = bits;
    }
    return page;
  }

  /** Moves `contiguousEnd` over received bytes; each byte is passed once in the buffer's life. */
  private advanceContiguous(): void {
    let at = this.contiguousEnd;
    for (;;) {
      const index = Math.floor(at / PAGE_SIZE);
      const page = this.pages?.get(index);
      if (page === undefined) break;
      const from = at - page.start;
      const to = firstClearBit(page.bits, from, page.data.length);
      at = page.start + to;
      if (to < PAGE_SIZE) break;
    }
    this.contiguousEnd = Math.min(at, this.storeLimit);
  }

  /**
   * Records the final size from RESET_STREAM / RESET_STREAM_AT (RFC 9000 §4.5, §19.4). The
   * final size then counts as received for flow control, so `highestOffset` becomes it.
   * @throws QuicError FINAL_SIZE_ERROR when it differs from a known final size or lies below received data.
   */
  setFinalSize(size: number): void {
    if (this._finalSize !== undefined) {
      if (size !== this._finalSize) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `final size changed from ${this._finalSize} to ${size}`);
      return;
    }
    if (size < this._highestOffset) {
      throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `final size ${size} below received offset ${this._highestOffset}`);
    }
    this._finalSize = size;
    this._highestOffset = size;
  }

  /**
   * Stops storing bytes at or above `offset` and frees any held (RESET_STREAM_AT: only data
   * below the reliable size must be delivered, draft-ietf-quic-reliable-stream-reset §4).
   * Only ever lowers the limit.
   */
  limitDelivery(offset: number): void {
    if (offset >= this.storeLimit) return;
    const limit = Math.max(offset, this._readOffset);
    this.storeLimit = limit;
    // Ready pieces: drop or cut those reaching past the limit (walking back from readyEnd).
    let pieceEnd = this.readyEnd;
    for (let i = this.ready.length - 1; i >= this.readyHead && pieceEnd > limit; i--) {
      const piece = this.ready[i] as Uint8Array;
      const pieceStart = pieceEnd - piece.length;
      if (pieceStart >= limit) this.ready.pop();
      else this.ready[i] = piece.subarray(0, limit - pieceStart);
      pieceEnd = pieceStart;
    }
    if (this.readyEnd > limit) this.readyEnd = limit;
    // Pages: drop those wholly above the limit, clear the bits above it in the one it cuts.
    let held = this.readyEnd - this._readOffset;
    for (const [index, page] of this.pages ?? NO_PAGES) {
      if (page.start >= limit) {
        this.pages!.delete(index);
        continue;
      }
      const pageEnd = page.start + page.data.length;
      if (pageEnd > limit) clearBits(page.bits, limit - page.start, page.data.length);
      const from = Math.max(this._readOffset, this.readyEnd, page.start) - page.start;
      if (from < page.data.length) held += countBits(page.bits, from, page.data.length);
    }
    this._bufferedBytes = held;
    if (this.contiguousEnd > limit) this.contiguousEnd = limit;
  }

  /** Frees everything held and stores nothing more (after a reset or STOP_SENDING); accounting continues. */
  discard(): void {
    this.limitDelivery(this._readOffset);
    // Pages below the limit hold only bytes already read: nothing of them is needed any more.
    this.pages = undefined;
    this.ready = [];
    this.readyHead = 0;
  }

  /** True if a byte at `readOffset` is available. */
  hasReadable(): boolean {
    return this.contiguousEnd > this._readOffset;
  }

  /** Contiguous bytes available from `readOffset`. */
  readableBytes(): number {
    return this.contiguousEnd - this._readOffset;
  }

  /**
   * Returns up to `maxBytes` contiguous bytes at `readOffset` and advances past them, or
   * undefined if none are available. The result is a view of one stored piece or page (no
   * copy), so one call may return fewer bytes than are readable; call again for more.
   */
  read(maxBytes = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    if (maxBytes <= 0 || this.contiguousEnd <= this._readOffset) return undefined;
    let out: Uint8Array;
    if (this.readyHead < this.ready.length) {
      const piece = this.ready[this.readyHead] as Uint8Array;
      if (maxBytes >= piece.length) {
        out = piece;
        this.ready[this.readyHead++] = EMPTY;
        if (this.readyHead === this.ready.length) {
          this.ready.length = 0;
          this.readyHead = 0;
        }
      } else {
        out = piece.subarray(0, maxBytes);
        this.ready[this.readyHead] = piece.subarray(maxBytes);
      }
    } else {
      const index = Math.floor(this._readOffset / PAGE_SIZE);
      const page = this.pages!.get(index) as Page;
      const from = this._readOffset - page.start;
      const n = Math.min(maxBytes, this.contiguousEnd - this._readOffset, page.data.length - from);
      out = page.data.subarray(from, from + n);
      // A page read to its end holds nothing more: its bytes beyond were never stored.
      if (from + n === page.data.length) this.pages!.delete(index);
    }
    this._readOffset += out.length;
    this._bufferedBytes -= out.length;
    if (this.readyHead === this.ready.length) this.readyEnd = this._readOffset;
    return out;
  }

  /** Reads every contiguous byte available as one array (copies when more than one segment). */
  readAll(): Uint8Array | undefined {
    const total = this.readableBytes();
    if (total === 0) return undefined;
    const first = this.read() as Uint8Array;
    if (first.length === total) return first;
    const out = new Uint8Array(total);
    out.set(first, 0);
    let at = first.length;
    // Bounded: each read returns at least one byte of the `total` counted above.
    while (at < total) {
      const next = this.read(total - at) as Uint8Array;
      out.set(next, at);
      at += next.length;
    }
    return out;
  }

  /** True once every byte up to `deliveryEnd` has been received (RFC 9000 §3.2 "Data Recvd"). */
  isAllReceived(): boolean {
    const end = this.deliveryEnd;
    return end !== undefined && this.contiguousEnd >= end;
  }

  /** True once the reader has consumed everything up to `deliveryEnd` (RFC 9000 §3.2 "Data Read"). */
  isAllRead(): boolean {
    const end = this.deliveryEnd;
    return end !== undefined && this._readOffset >= end;
  }
}

const EMPTY = new Uint8Array(0);
const NO_PAGES: ReadonlyMap<number, Page> = new Map();

/** Bits set in a 32-bit word. */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Mask of `n` bits (1..32) starting at bit `bit` of a word. */
function wordMask(bit: number, n: number): number {
  return n === 32 ? 0xffffffff : (((1 << n) - 1) << bit) >>> 0;
}

/** Sets bits [from, to); returns how many were clear before. */
function setBits(bits: Uint32Array, from: number, to: number): number {
  let added = 0;
  // Bounded: each round handles the rest of one 32-bit word.
  for (let i = from; i < to; ) {
    const w = i >>> 5;
    const bit = i & 31;
    const n = Math.min(32 - bit, to - i);
    const mask = wordMask(bit, n);
    const old = bits[w] as number;
    added += popcount32((mask & ~old) >>> 0);
    bits[w] = old | mask;
    i += n;
  }
  return added;
}

/** Clears bits [from, to). */
function clearBits(bits: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; ) {
    const w = i >>> 5;
    const bit = i & 31;
    const n = Math.min(32 - bit, to - i);
    bits[w] = (bits[w] as number) & ~wordMask(bit, n);
    i += n;
  }
}

/** Bits set in [from, to). */
function countBits(bits: Uint32Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; ) {
    const w = i >>> 5;
    const bit = i & 31;
    const n = Math.min(32 - bit, to - i);
    count += popcount32(((bits[w] as number) & wordMask(bit, n)) >>> 0);
    i += n;
  }
  return count;
}

/** The first clear bit in [from, limit), or `limit`. */
function firstClearBit(bits: Uint32Array, from: number, limit: number): number {
  // Bounded: each round moves to the next word.
  for (let i = from; i < limit; ) {
    const w = i >>> 5;
    const clear = ~(bits[w] as number) >>> (i & 31);
    if (clear !== 0) return Math.min(limit, i + 31 - Math.clz32(clear & -clear));
    i = (w + 1) << 5;
  }
  return limit;
}
