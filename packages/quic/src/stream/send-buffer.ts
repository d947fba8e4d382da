/**
 * Send-side byte store of one stream (or CRYPTO stream): what the application wrote, what was
 * sent, what the peer acknowledged and what was declared lost.
 *
 * The packet builder asks `nextChunk(maxLength, maxNewBytes)` for the next range to put in a
 * STREAM frame (lost ranges first, RFC 9000 §13.3, then new data), then copies its bytes with
 * `copyTo`. Bytes are freed once acknowledged contiguously from the start. A reset discards
 * everything; a reliable reset (RESET_STREAM_AT, draft-ietf-quic-reliable-stream-reset §4)
 * keeps delivering bytes below the reliable size and nothing above.
 */

import { RangeSet } from './range-set.js';

/** Stands for "no ranges" where a set was never needed (only read, never written). */
const NO_RANGES = new RangeSet();

/** One range to send, returned by `SendBuffer.nextChunk`. The object is reused: read it before the next call. */
export interface SendChunk {
  offset: number;
  length: number;
  /** Carry the FIN bit (RFC 9000 §19.8). */
  fin: boolean;
  /** True for a retransmission of data declared lost (takes no new flow control credit, §4.1). */
  retransmit: boolean;
}

export class SendBuffer {
  /** Written chunks not yet freed, from index `head`; `chunkOffsets[i]` is the stream offset of `chunks[i]`. */
  private readonly chunks: Uint8Array[] = [];
  private readonly chunkOffsets: number[] = [];
  private head = 0;

  private _writeOffset = 0;
  private _sentOffset = 0;
  private _ackedOffset = 0;
  /** Acknowledged ranges above `_ackedOffset` (made on the first acknowledgement out of order). */
  private acked: RangeSet | undefined;
  /** Ranges declared lost and not yet retransmitted or acknowledged (made on the first loss). */
  private lost: RangeSet | undefined;

  private finQueued = false;
  private finSent = false;
  private finAcked = false;
  private finLost = false;

  /** Bytes at or above this offset are never sent again (reset: the reliable size, else +inf). */
  private sendLimit = Number.POSITIVE_INFINITY;
  private _isReset = false;
  /** The final size announced by the first reset (then fixed). */
  private resetFinalSize: number | undefined = undefined;

  /** Handed out by `nextChunk`, reused (made on the first call). */
  private chunk: SendChunk | undefined;

  /** Total bytes written by the application. */
  get writeOffset(): number {
    return this._writeOffset;
  }

  /** One past the highest byte ever sent. */
  get sentOffset(): number {
    return this._sentOffset;
  }

  /** Every byte below this offset is acknowledged and freed. */
  get ackedOffset(): number {
    return this._ackedOffset;
  }

  /**
   * Bytes written and not yet acknowledged from the front (0 once released after a reset).
   * Memory is freed per written chunk, so up to one partly acknowledged chunk more is held.
   */
  get bufferedBytes(): number {
    return this.head < this.chunks.length ? this._writeOffset - this._ackedOffset : 0;
  }

  /** Bytes written but never sent (ignoring flow control). */
  get unsentBytes(): number {
    return Math.max(0, Math.min(this._writeOffset, this.sendLimit) - this._sentOffset);
  }

  /** True once `finish()` was called. */
  get isFinished(): boolean {
    return this.finQueued;
  }

  /** True once `reset`/`resetAt` was called. */
  get isReset(): boolean {
    return this._isReset;
  }

  /** The reliable size after a reset (0 for a plain reset), undefined if not reset. */
  get reliableSize(): number | undefined {
    return this._isReset ? this.sendLimit : undefined;
  }

  /**
   * Final size to put in RESET_STREAM / RESET_STREAM_AT: the highest offset sent, or the
   * reliable size if data up to it is still to be sent (RFC 9000 §4.5). It counts against flow
   * control like data (draft reliable-stream-reset §3): the connection must hold credit for
   * `finalSizeForReset - sentOffset` more bytes before sending the frame.
   */
  get finalSizeForReset(): number {
    // Draft reliable-stream-reset §5 / RFC 9000 §4.5: fixed by the first reset; a later reset
    // may lower the reliable size but never change the final size.
    if (this.resetFinalSize !== undefined) return this.resetFinalSize;
    const reliable = this._isReset ? this.sendLimit : 0;
    return Math.max(this._sentOffset, reliable);
  }

  /**
   * Appends application data. The buffer keeps the view without copying: the caller must not
   * modify `data` afterwards. Returns false (and drops the data) after `finish` or a reset.
   */
  write(data: Uint8Array): boolean {
    if (this.finQueued || this._isReset) return false;
    if (data.length === 0) return true;
    this.chunks.push(data);
    this.chunkOffsets.push(this._writeOffset);
    this._writeOffset += data.length;
    return true;
  }

  /** Marks the end of the stream: the last byte written will carry FIN. Idempotent. */
  finish(): void {
    if (this._isReset) return;
    this.finQueued = true;
  }

  /** True if there is something to send: a lost range, new data, or a FIN. */
  hasPendingData(): boolean {
    if ((this.lost !== undefined && !this.lost.isEmpty()) || this.finLost) return true;
    if (this._sentOffset < Math.min(this._writeOffset, this.sendLimit)) return true;
    return this.finQueued && !this.finSent && !this._isReset;
  }

  /** True if lost data (or a lost FIN) waits for retransmission. */
  hasRetransmission(): boolean {
    return (this.lost !== undefined && !this.lost.isEmpty()) || this.finLost;
  }

  /**
   * The next range to send: a lost range first, else new data limited to `maxNewBytes` (the
   * flow control credit, RFC 9000 §4.1), with at most `maxLength` bytes. A FIN alone is returned
   * with length 0. The range counts as sent on return. Returns undefined if nothing fits.
   * The returned object is reused by the next call.
   */
  nextChunk(maxLength: number, maxNewBytes = Number.POSITIVE_INFINITY): SendChunk | undefined {
    const c = (this.chunk ??= { offset: 0, length: 0, fin: false, retransmit: false });
    const lost = this.lost;
    if (lost !== undefined && !lost.isEmpty() && maxLength > 0) {
      const start = lost.takeFirst(maxLength);
      const len = lost.takenLength;
      c.offset = start;
      c.length = len;
      c.retransmit = true;
      c.fin = false;
      // RFC 9000 §13.3: a lost FIN is resent with the last bytes if they go out together.
      if (this.finLost && start + len === this._writeOffset) {
        c.fin = true;
        this.finLost = false;
      }
      return c;
    }
    if (this.finLost) {
      c.offset = this._writeOffset;
      c.length = 0;
      c.fin = true;
      c.retransmit = true;
      this.finLost = false;
      return c;
    }
    const limit = Math.min(this._writeOffset, this.sendLimit);
    const available = Math.min(limit - this._sentOffset, maxLength, Math.max(0, maxNewBytes));
    const finPending = this.finQueued && !this.finSent && !this._isReset;
    if (available > 0) {
      c.offset = this._sentOffset;
      c.length = available;
      c.retransmit = false;
      this._sentOffset += available;
      c.fin = finPending && this._sentOffset === this._writeOffset;
      if (c.fin) this.finSent = true;
      return c;
    }
    if (finPending && this._sentOffset === this._writeOffset) {
      c.offset = this._sentOffset;
      c.length = 0;
      c.fin = true;
      c.retransmit = false;
      this.finSent = true;
      return c;
    }
    return undefined;
  }

  /**
   * Copies the bytes `[offset, offset + length)` into `dest` at `destOffset`. The range must be
   * unacknowledged (as any range `nextChunk` returned before its acknowledgement).
   */
  copyTo(offset: number, length: number, dest: Uint8Array, destOffset: number): void {
    if (length === 0) return;
    let i = this.chunkIndexOf(offset);
    let at = offset;
    let out = destOffset;
    const end = offset + length;
    // Bounded by the number of held chunks.
    while (at < end) {
      const data = this.chunks[i];
      if (data === undefined) throw new RangeError(`send buffer range ${offset}+${length} not held`);
      const base = this.chunkOffsets[i] as number;
      const from = at - base;
      const to = Math.min(data.length, end - base);
      dest.set(from === 0 && to === data.length ? data : data.subarray(from, to), out);
      out += to - from;
      at = base + to;
      i++;
    }
  }

  /** The bytes `[offset, offset + length)`: a view when inside one chunk, else a copy. */
  view(offset: number, length: number): Uint8Array {
    const i = this.chunkIndexOf(offset);
    const data = this.chunks[i];
    if (data !== undefined) {
      const from = offset - (this.chunkOffsets[i] as number);
      if (from + length <= data.length) return data.subarray(from, from + length);
    }
    const out = new Uint8Array(length);
    this.copyTo(offset, length, out, 0);
    return out;
  }

  /** Index of the chunk holding `offset` (binary search from `head`). */
  private chunkIndexOf(offset: number): number {
    const offs = this.chunkOffsets;
    let lo = this.head;
    let hi = offs.length - 1;
    if (hi < lo || offset < (offs[lo] as number)) throw new RangeError(`send buffer offset ${offset} not held`);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((offs[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The peer acknowledged a STREAM frame carrying `[offset, offset + length)` (and FIN if `fin`). */
  onAcked(offset: number, length: number, fin: boolean): void {
    const end = offset + length;
    if (fin) {
      this.finAcked = true;
      this.finLost = false;
    }
    // After a reset whose owed bytes are all acknowledged, nothing is tracked any more.
    if (end <= this._ackedOffset || (this._isReset && this._ackedOffset >= this.sendLimit)) return;
    // A late acknowledgement of a range already declared lost makes its retransmission needless.
    if (this.lost !== undefined && !this.lost.isEmpty()) this.lost.remove(offset, end);
    if (offset > this._ackedOffset) {
      // A hole remains below: remember the range until the hole is acknowledged.
      (this.acked ??= new RangeSet()).add(offset, end);
      return;
    }
    const acked = this.acked ?? NO_RANGES;
    // Common case, in-order acknowledgement: advance directly, then absorb ranges now contiguous.
    let ackedTo = end;
    while (!acked.isEmpty() && (acked.firstStart as number) <= ackedTo) {
      ackedTo = Math.max(ackedTo, acked.firstEnd as number);
      acked.takeFirst(Number.POSITIVE_INFINITY);
    }
    this._ackedOffset = ackedTo;
    if (this._isReset && ackedTo >= this.sendLimit) this.releaseAll();
    else this.freeAcked();
  }

  /** A STREAM frame carrying `[offset, offset + length)` (and FIN if `fin`) was declared lost (RFC 9002 §6). */
  onLost(offset: number, length: number, fin: boolean): void {
    if (fin && !this.finAcked && !this._isReset) this.finLost = true;
    const start = Math.max(offset, this._ackedOffset);
    // Draft reliable-stream-reset §4: data above the reliable size SHOULD NOT be retransmitted.
    const end = Math.min(offset + length, this.sendLimit);
    if (start >= end) return;
    const lost = (this.lost ??= new RangeSet());
    lost.add(start, end);
    // Only requeue what the peer has not acknowledged.
    const acked = this.acked ?? NO_RANGES;
    for (let i = 0; i < acked.rangeCount; i++) {
      const s = acked.startAt(i);
      if (s >= end) break;
      const e = acked.endAt(i);
      if (e > start) lost.remove(Math.max(s, start), Math.min(e, end));
    }
  }

  /**
   * Abandons the stream (RESET_STREAM): nothing more is sent or retransmitted and all held
   * bytes are freed. Same as `resetAt(0)`. Idempotent.
   */
  reset(): void {
    this.resetAt(0);
  }

  /**
   * Reliable reset (RESET_STREAM_AT): bytes below `reliableSize` are still delivered
   * (sent, retransmitted), bytes above are dropped. The reliable size can only shrink (draft
   * reliable-stream-reset §5: "MUST NOT increase"); it is clamped to what was written.
   * Returns the effective reliable size. Never throws.
   */
  resetAt(reliableSize: number): number {
    const size = Math.max(0, Math.min(reliableSize, this.sendLimit, this._writeOffset));
    this.resetFinalSize ??= Math.max(this._sentOffset, size);
    this._isReset = true;
    this.sendLimit = size;
    this.finLost = false;
    this.lost?.removeFrom(size);
    // Everything still owed is acknowledged: release the memory now.
    if (size <= this._ackedOffset) this.releaseAll();
    return size;
  }

  private releaseAll(): void {
    this.chunks.length = 0;
    this.chunkOffsets.length = 0;
    this.head = 0;
    this.acked = undefined;
    this.lost = undefined;
  }

  /**
   * True once the peer has everything it is owed: all data and the FIN, or after a reset all
   * data below the reliable size (the reset frame's own acknowledgement is the state machine's
   * business, RFC 9000 §3.1).
   */
  isAllAcked(): boolean {
    if (this._isReset) return this._ackedOffset >= this.sendLimit;
    return this.finQueued && this.finAcked && this._ackedOffset >= this._writeOffset;
  }

  /** Frees chunks wholly below `ackedOffset`. */
  private freeAcked(): void {
    const chunks = this.chunks;
    const offs = this.chunkOffsets;
    let h = this.head;
    while (h < chunks.length && (offs[h] as number) + (chunks[h] as Uint8Array).length <= this._ackedOffset) {
      (chunks as (Uint8Array | undefined)[])[h] = undefined;
      h++;
    }
    this.head = h;
    // Compact now and then so the arrays do not grow without bound on a long-lived stream.
    if (h > 64 && h * 2 > chunks.length) {
      chunks.splice(0, h);
      offs.splice(0, h);
      this.head = 0;
    }
  }
}
