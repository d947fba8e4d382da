/**
 * Data flow control (RFC 9000 §4.1, §4.2) for one stream or for the whole connection.
 *
 * `SendCredit` is the sender's view of a limit the peer granted (MAX_DATA / MAX_STREAM_DATA):
 * how much may still be sent, and when to say DATA_BLOCKED / STREAM_DATA_BLOCKED (once per
 * limit). `ReceiveWindow` is the receiver's: it detects violations (FLOW_CONTROL_ERROR), decides
 * when a MAX_DATA / MAX_STREAM_DATA update is due, and grows the window when the application
 * drains it in under ~2 round trips (auto-tuning, §4.2 suggests one like TCP's).
 * Time (`now`, ms) and the RTT are passed in; nothing here reads a clock.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

/** Largest flow control limit: a varint (RFC 9000 §16). Numbers are exact up to 2^53. */
const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

/** Sender side of one flow control limit (connection MAX_DATA or stream MAX_STREAM_DATA). */
export class SendCredit {
  private _limit: number;
  private _used = 0;
  /** The limit a *_BLOCKED frame was last sent for, or -1. */
  private blockedSentAt = -1;

  /** @param initialLimit from the peer's transport parameters (RFC 9000 §18.2). */
  constructor(initialLimit: number) {
    this._limit = initialLimit;
  }

  /** The peer's current limit (absolute offset / total bytes). */
  get limit(): number {
    return this._limit;
  }

  /** Bytes sent against the limit. */
  get used(): number {
    return this._used;
  }

  /** Bytes that may still be sent. */
  get available(): number {
    return Math.max(0, this._limit - this._used);
  }

  /** True if no credit is left. */
  get isBlocked(): boolean {
    return this._used >= this._limit;
  }

  /**
   * Records `bytes` of new data sent. Exceeding the limit is a bug in the caller (RFC 9000 §4.1:
   * "Senders MUST NOT send data in excess of either limit").
   */
  consume(bytes: number): void {
    if (this._used + bytes > this._limit) throw new RangeError(`flow control: ${this._used}+${bytes} exceeds limit ${this._limit}`);
    this._used += bytes;
  }

  /**
   * A MAX_DATA / MAX_STREAM_DATA frame arrived. Returns true if the limit grew; a frame that does
   * not increase it is ignored (RFC 9000 §4.1).
   */
  onMaxUpdate(limit: number): boolean {
    if (limit <= this._limit) return false;
    this._limit = limit;
    return true;
  }

  /**
   * True if a DATA_BLOCKED / STREAM_DATA_BLOCKED frame should be sent now: data waits, the
   * credit is exhausted and no such frame was sent yet for this limit (RFC 9000 §4.1).
   * The caller passes whether it has data waiting.
   */
  shouldSendBlocked(hasDataWaiting: boolean): boolean {
    return hasDataWaiting && this.isBlocked && this.blockedSentAt !== this._limit;
  }

  /** The *_BLOCKED frame carrying the current `limit` was sent. */
  onBlockedSent(): void {
    this.blockedSentAt = this._limit;
  }

  /** The *_BLOCKED frame carrying `limit` was lost: allow another if still blocked at that limit. */
  onBlockedLost(limit: number): void {
    if (this.blockedSentAt === limit) this.blockedSentAt = -1;
  }
}

/** Options of a receive window. */
export interface ReceiveWindowOptions {
  /** Window advertised in the transport parameters (bytes). */
  initialWindow: number;
  /** The largest the window may grow to by auto-tuning (bytes). Defaults to `initialWindow` (no tuning). */
  maxWindow?: number;
}

/** Receiver side of one flow control limit (the stream's, or the connection's summed over streams). */
export class ReceiveWindow {
  private _limit: number;
  private _window: number;
  private readonly maxWindow: number;
  private _received = 0;
  private _consumed = 0;
  private _updatePending = false;
  /** Auto-tuning epoch: when the last full window started to be consumed, and at what offset. */
  private epochStartMs: number | undefined = undefined;
  private epochStartConsumed = 0;

  constructor(options: ReceiveWindowOptions) {
    this._window = options.initialWindow;
    this.maxWindow = Math.max(options.initialWindow, options.maxWindow ?? options.initialWindow);
    this._limit = options.initialWindow;
  }

  /** The limit last advertised to the peer. */
  get limit(): number {
    return this._limit;
  }

  /** Current window size (what an update adds on top of the consumed bytes). */
  get window(): number {
    return this._window;
  }

  /** Bytes the peer has sent (highest offset for a stream, sum over streams for the connection). */
  get received(): number {
    return this._received;
  }

  /** Bytes the application has consumed. */
  get consumed(): number {
    return this._consumed;
  }

  /** True when a MAX_DATA / MAX_STREAM_DATA update should be sent. */
  get updatePending(): boolean {
    return this._updatePending;
  }

  /**
   * The peer's total sent rose to `total` (a stream's highest offset, or the connection's sum).
   * Lower values (reordering, retransmission) are ignored.
   * @throws QuicError FLOW_CONTROL_ERROR above the advertised limit (RFC 9000 §4.1).
   */
  onReceived(total: number): void {
    if (total <= this._received) return;
    if (total > this._limit) {
      throw new QuicError(TransportErrorCode.FLOW_CONTROL_ERROR, `peer sent up to ${total}, limit is ${this._limit}`);
    }
    this._received = total;
  }

  /** `bytes` more were received (for the connection: the increase of one stream's highest offset). */
  onReceivedBytes(bytes: number): void {
    if (bytes > 0) this.onReceived(this._received + bytes);
  }

  /**
   * The application consumed `bytes` more (read them, or a reset released them). `now` and
   * `rttMs` (smoothed RTT) drive auto-tuning: a window drained in under two round trips means
   * the window, not the application, limits throughput, so it doubles (up to the maximum).
   */
  onConsumed(bytes: number, now: number, rttMs: number): void {
    if (bytes <= 0) return;
    if (this.epochStartMs === undefined) {
      this.epochStartMs = now;
      this.epochStartConsumed = this._consumed;
    }
    this._consumed += bytes;
    if (this._consumed - this.epochStartConsumed >= this._window) {
      if (this._window < this.maxWindow && rttMs > 0 && now - this.epochStartMs < 2 * rttMs) {
        this._window = Math.min(this._window * 2, this.maxWindow);
      }
      this.epochStartMs = now;
      this.epochStartConsumed = this._consumed;
    }
    this.checkUpdate();
  }

  /**
   * Raises the window to at least `bytes`, even beyond the tuning maximum (e.g. to keep the
   * connection's window above a stream's that grew).
   */
  ensureWindow(bytes: number): void {
    if (bytes <= this._window) return;
    this._window = bytes;
    this.checkUpdate();
  }

  /**
   * Takes the new limit to advertise and marks it sent: consumed + window (RFC 9000 §4.2).
   * Call when `updatePending`; the limit never shrinks.
   */
  takeUpdate(): number {
    this._limit = Math.min(MAX_LIMIT, Math.max(this._limit, this._consumed + this._window));
    this._updatePending = false;
    return this._limit;
  }

  /** The packet with the update carrying `limit` was lost: resend if it is still the current limit (§13.3). */
  onUpdateLost(limit: number): void {
    if (limit === this._limit) this._updatePending = true;
  }

  /** An update is due once the peer's remaining credit, counted from consumption, falls to half the window. */
  private checkUpdate(): void {
    if (this._limit >= MAX_LIMIT) return;
    if (this._consumed + this._window - this._limit >= this._window / 2) this._updatePending = true;
  }
}
