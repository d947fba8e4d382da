/**
 * Stream count limits (RFC 9000 §4.6), one instance per stream type and side.
 *
 * `LocalStreamLimit`: streams we open, capped by the peer's MAX_STREAMS; says when to send
 * STREAMS_BLOCKED (once per limit). `RemoteStreamLimit`: streams the peer opens, capped by the
 * limit we advertise; a stream beyond it is a STREAM_LIMIT_ERROR, and credit is replenished
 * (a MAX_STREAMS update) as the peer's streams close, keeping its concurrency roughly constant.
 */

import { QuicError, TransportErrorCode } from '../errors.js';
import { MAX_STREAMS_LIMIT } from './stream-id.js';

/** Streams of one type that this endpoint opens. */
export class LocalStreamLimit {
  private _max: number;
  private _opened = 0;
  private blockedSentAt = -1;

  /** @param initialMax the peer's initial_max_streams_bidi/uni transport parameter (RFC 9000 §18.2). */
  constructor(initialMax: number) {
    this._max = Math.min(initialMax, MAX_STREAMS_LIMIT);
  }

  /** Cumulative number of streams the peer allows us to open. */
  get max(): number {
    return this._max;
  }

  /** Streams opened so far (the next stream's index). */
  get opened(): number {
    return this._opened;
  }

  /** Streams that may still be opened. */
  get available(): number {
    return this._max - this._opened;
  }

  /** Opens a stream: returns its index within its type, or undefined when the peer's limit is reached. */
  tryOpen(): number | undefined {
    if (this._opened >= this._max) return undefined;
    return this._opened++;
  }

  /**
   * A MAX_STREAMS frame arrived. Returns true if the limit grew; a value that does not increase it
   * is ignored (RFC 9000 §4.6).
   * @throws QuicError FRAME_ENCODING_ERROR above 2^60 (RFC 9000 §4.6, §19.11).
   */
  onMaxStreams(max: number): boolean {
    if (max > MAX_STREAMS_LIMIT) throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `MAX_STREAMS ${max} above 2^60`);
    if (max <= this._max) return false;
    this._max = max;
    return true;
  }

  /**
   * True if a STREAMS_BLOCKED frame should be sent: the application wants a stream, none is
   * available, and none was sent for this limit yet (RFC 9000 §4.6, §19.14).
   */
  shouldSendBlocked(wantsToOpen: boolean): boolean {
    return wantsToOpen && this._opened >= this._max && this.blockedSentAt !== this._max;
  }

  /** STREAMS_BLOCKED carrying the current `max` was sent. */
  onBlockedSent(): void {
    this.blockedSentAt = this._max;
  }

  /** STREAMS_BLOCKED carrying `max` was lost: allow another if still blocked there. */
  onBlockedLost(max: number): void {
    if (this.blockedSentAt === max) this.blockedSentAt = -1;
  }
}

/** Streams of one type that the peer opens. */
export class RemoteStreamLimit {
  private _max: number;
  private _window: number;
  /** Streams the peer opened (highest index + 1; lower ones open implicitly, §3.2). */
  private _opened = 0;
  private _closed = 0;
  private _updatePending = false;

  /** @param maxConcurrent how many of the peer's streams may be open at once; also the initial limit. */
  constructor(maxConcurrent: number) {
    this._window = Math.min(maxConcurrent, MAX_STREAMS_LIMIT);
    this._max = this._window;
  }

  /** The limit last advertised (cumulative count). */
  get max(): number {
    return this._max;
  }

  /** Streams the peer has opened (cumulative). */
  get opened(): number {
    return this._opened;
  }

  /** Streams of the peer that are closed (cumulative). */
  get closed(): number {
    return this._closed;
  }

  /** True when a MAX_STREAMS update should be sent. */
  get updatePending(): boolean {
    return this._updatePending;
  }

  /**
   * A frame referenced the peer's stream with `index`. Returns how many streams it opens
   * (itself and any lower-numbered ones not yet open, RFC 9000 §3.2), 0 if already open.
   * @throws QuicError STREAM_LIMIT_ERROR beyond the limit we advertised (RFC 9000 §4.6).
   */
  onPeerStream(index: number): number {
    if (index >= this._max) {
      throw new QuicError(TransportErrorCode.STREAM_LIMIT_ERROR, `peer stream index ${index} beyond limit ${this._max}`);
    }
    if (index < this._opened) return 0;
    const added = index + 1 - this._opened;
    this._opened = index + 1;
    return added;
  }

  /**
   * One of the peer's streams reached a terminal state in both directions: its slot is given back.
   * An update is due once half the window (at least one stream) has been freed.
   */
  onStreamClosed(): void {
    if (this._closed >= this._opened) return;
    this._closed++;
    this.checkUpdate();
  }

  /** Changes how many concurrent peer streams are allowed (a lower value takes effect as credit is not renewed). */
  setMaxConcurrent(maxConcurrent: number): void {
    this._window = Math.min(maxConcurrent, MAX_STREAMS_LIMIT);
    this.checkUpdate();
  }

  /** Takes the new limit to advertise in MAX_STREAMS and marks it sent. */
  takeUpdate(): number {
    this._max = Math.max(this._max, Math.min(this._closed + this._window, MAX_STREAMS_LIMIT));
    this._updatePending = false;
    return this._max;
  }

  /** MAX_STREAMS carrying `max` was lost: resend if it is still the current limit (§13.3). */
  onUpdateLost(max: number): void {
    if (max === this._max) this._updatePending = true;
  }

  private checkUpdate(): void {
    const next = Math.min(this._closed + this._window, MAX_STREAMS_LIMIT);
    if (next - this._max >= Math.max(1, Math.floor(this._window / 2))) this._updatePending = true;
  }
}
