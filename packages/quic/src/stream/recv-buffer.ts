/**
 * Receive-side reassembly of a byte stream from out-of-order, overlapping ranges
 * (STREAM frames, RFC 9000 §2.2, and CRYPTO frames, §19.6).
 *
 * Only bytes never seen before are stored: overlaps and duplicates are dropped, and each stored
 * segment is a private copy (or, when the caller hands over ownership, the caller's view), so the
 * memory held is at most `highestOffset - readOffset` bytes. Flow control limits are the
 * caller's to enforce before inserting (RFC 9000 §4.1); this buffer enforces the final-size
 * rules of §4.5.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

interface Segment {
  offset: number;
  data: Uint8Array;
}

export class RecvBuffer {
  /** Disjoint stored segments ascending by offset, all at or above `readOffset`. */
  private readonly segments: Segment[] = [];
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
   * the view instead of copying. Otherwise new bytes are copied, as the view usually points into
   * a packet buffer that is reused.
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
    if (end > this._highestOffset) this._highestOffset = end;

    const start = Math.max(offset, this._readOffset);
    const stop = Math.min(end, this.storeLimit);
    if (start >= stop) return 0;
    return this.storeNew(offset, data, start, stop, owned);
  }

  /** Stores the parts of `[start, stop)` (bytes of `data`, which begins at `dataOffset`) not yet held. */
  private storeNew(dataOffset: number, data: Uint8Array, start: number, stop: number, owned: boolean): number {
    const segs = this.segments;
    let i = this.firstSegmentEndingAfter(start);
    let cursor = start;
    let stored = 0;
    // Each iteration consumes one existing segment or fills the final gap, so this ends after
    // at most segments.length + 1 rounds.
    while (cursor < stop) {
      const seg = segs[i];
      const gapEnd = seg === undefined ? stop : Math.min(seg.offset, stop);
      if (cursor < gapEnd) {
        const whole = owned && cursor === dataOffset && gapEnd === dataOffset + data.length;
        const bytes = whole ? data : data.slice(cursor - dataOffset, gapEnd - dataOffset);
        segs.splice(i, 0, { offset: cursor, data: bytes });
        i++;
        stored += gapEnd - cursor;
      }
      if (seg === undefined || seg.offset >= stop) break;
      cursor = Math.max(cursor, seg.offset + seg.data.length);
      i++;
    }
    this._bufferedBytes += stored;
    return stored;
  }

  /** Index of the first segment whose end is above `offset` (binary search). */
  private firstSegmentEndingAfter(offset: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid] as Segment;
      if (s.offset + s.data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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
    this.storeLimit = Math.max(offset, this._readOffset);
    const segs = this.segments;
    while (segs.length > 0) {
      const last = segs[segs.length - 1] as Segment;
      const lastEnd = last.offset + last.data.length;
      if (lastEnd <= this.storeLimit) break;
      if (last.offset >= this.storeLimit) {
        segs.pop();
        this._bufferedBytes -= last.data.length;
      } else {
        const keep = this.storeLimit - last.offset;
        this._bufferedBytes -= last.data.length - keep;
        last.data = last.data.subarray(0, keep);
      }
    }
  }

  /** Frees everything held and stores nothing more (after a reset or STOP_SENDING); accounting continues. */
  discard(): void {
    this.limitDelivery(this._readOffset);
  }

  /** True if a byte at `readOffset` is available. */
  hasReadable(): boolean {
    const first = this.segments[0];
    return first !== undefined && first.offset === this._readOffset;
  }

  /** Contiguous bytes available from `readOffset` (walks the in-order segments). */
  readableBytes(): number {
    let expected = this._readOffset;
    for (const seg of this.segments) {
      if (seg.offset !== expected) break;
      expected += seg.data.length;
    }
    return expected - this._readOffset;
  }

  /**
   * Returns up to `maxBytes` contiguous bytes at `readOffset` and advances past them, or
   * undefined if none are available. The result is a view of one stored segment (no copy), so
   * one call may return fewer bytes than are readable; call again for more.
   */
  read(maxBytes = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    const seg = this.segments[0];
    if (seg === undefined || seg.offset !== this._readOffset || maxBytes <= 0) return undefined;
    const len = seg.data.length;
    let out: Uint8Array;
    if (maxBytes >= len) {
      out = seg.data;
      this.segments.shift();
      this._readOffset += len;
      this._bufferedBytes -= len;
    } else {
      out = seg.data.subarray(0, maxBytes);
      seg.data = seg.data.subarray(maxBytes);
      seg.offset += maxBytes;
      this._readOffset += maxBytes;
      this._bufferedBytes -= maxBytes;
    }
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
    // Stored segments are disjoint and lie in [readOffset, deliveryEnd), so a full count means no gap.
    return end !== undefined && this._readOffset + this._bufferedBytes >= end;
  }

  /** True once the reader has consumed everything up to `deliveryEnd` (RFC 9000 §3.2 "Data Read"). */
  isAllRead(): boolean {
    const end = this.deliveryEnd;
    return end !== undefined && this._readOffset >= end;
  }
}
