/**
 * State machine of the receiving part of a stream (RFC 9000 §3.2), extended for reliable resets
 * (RESET_STREAM_AT, draft-ietf-quic-reliable-stream-reset §6: such a reset moves the stream to
 * "Size Known", and it reaches "Data Recvd" once every byte below the reliable size arrived).
 *
 * Reset, STOP_SENDING and close paths are idempotent and never throw, in any order. The only
 * throw is for a peer changing a reset's error code, which the draft (§5) makes a connection
 * error of type STREAM_STATE_ERROR. Byte accounting (final size checks) lives in `RecvBuffer`;
 * the caller reports its milestones here.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

export const RecvState = {
  RECV: 0,
  SIZE_KNOWN: 1,
  DATA_RECVD: 2,
  DATA_READ: 3,
  RESET_RECVD: 4,
  RESET_READ: 5,
} as const;
export type RecvState = (typeof RecvState)[keyof typeof RecvState];

const RECV_STATE_NAMES = ['Recv', 'Size Known', 'Data Recvd', 'Data Read', 'Reset Recvd', 'Reset Read'] as const;

/** The RFC's name of a receiving state, e.g. `Size Known`. */
export function recvStateName(state: RecvState): string {
  return RECV_STATE_NAMES[state];
}

export class RecvStateMachine {
  private _state: RecvState = RecvState.RECV;
  private _resetErrorCode: number | undefined = undefined;
  private _reliableSize: number | undefined = undefined;
  private _stopSendingErrorCode: number | undefined = undefined;
  private _stopSendingPending = false;

  get state(): RecvState {
    return this._state;
  }

  /** Error code of the peer's reset, once one arrived (even if it was suppressed, see `onReset`). */
  get resetErrorCode(): number | undefined {
    return this._resetErrorCode;
  }

  /** Smallest reliable size the peer announced (0 for RESET_STREAM), undefined if not reset. */
  get reliableSize(): number | undefined {
    return this._reliableSize;
  }

  /** Error code of our STOP_SENDING, once the application stopped reading. */
  get stopSendingErrorCode(): number | undefined {
    return this._stopSendingErrorCode;
  }

  /** True while a STOP_SENDING frame waits to be (re)sent. */
  get stopSendingPending(): boolean {
    return this._stopSendingPending;
  }

  /** True in "Data Read" or "Reset Read". */
  get isTerminal(): boolean {
    return this._state === RecvState.DATA_READ || this._state === RecvState.RESET_READ;
  }

  /** True in "Recv": MAX_STREAM_DATA updates are still useful (§3.2: not needed once the size is known). */
  get wantsFlowControlUpdates(): boolean {
    return this._state === RecvState.RECV && this._stopSendingErrorCode === undefined;
  }

  /** A STREAM frame with FIN arrived: "Recv" -> "Size Known" (§3.2). */
  onFinalSizeKnown(): boolean {
    if (this._state !== RecvState.RECV) return false;
    this._state = RecvState.SIZE_KNOWN;
    return true;
  }

  /** The buffer holds every byte up to the final (or reliable) size: "Size Known" -> "Data Recvd" (§3.2). */
  onAllDataReceived(): boolean {
    if (this._state !== RecvState.SIZE_KNOWN) return false;
    this._state = RecvState.DATA_RECVD;
    this._stopSendingPending = false;
    return true;
  }

  /** The application read everything: "Data Recvd" -> "Data Read" (§3.2). */
  onAllDataRead(): boolean {
    if (this._state !== RecvState.DATA_RECVD) return false;
    this._state = RecvState.DATA_READ;
    return true;
  }

  /**
   * RESET_STREAM (`reliableSize` 0) or RESET_STREAM_AT arrived. Returns true if the state changed.
   *
   * - "Recv"/"Size Known": a plain reset enters "Reset Recvd" (§3.2); a reliable one enters
   *   "Size Known" with the reliable size as the delivery limit (draft §6).
   * - "Data Recvd"/"Data Read": every byte is here; the reset is suppressed (§3.2 allows it) and
   *   only its error code is recorded.
   * - Already reset: a lower reliable size lowers the limit, a higher one is ignored (draft §5),
   *   a plain reset after a reliable one enters "Reset Recvd".
   *
   * The caller checks the final size with `RecvBuffer.setFinalSize` first.
   * @throws QuicError STREAM_STATE_ERROR if the error code differs from an earlier reset (draft §5).
   */
  onReset(errorCode: number, reliableSize = 0): boolean {
    if (this._resetErrorCode !== undefined && this._resetErrorCode !== errorCode) {
      throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `reset error code changed from ${this._resetErrorCode} to ${errorCode}`);
    }
    this._resetErrorCode = errorCode;
    const previous = this._reliableSize;
    // Draft §5: a reset raising the reliable size is ignored.
    if (previous !== undefined && reliableSize >= previous) return false;
    this._reliableSize = reliableSize;
    const s = this._state;
    if (s === RecvState.DATA_RECVD || s === RecvState.DATA_READ || s === RecvState.RESET_READ) return false;
    this._stopSendingPending = false;
    if (reliableSize === 0) {
      if (s === RecvState.RESET_RECVD) return false;
      this._state = RecvState.RESET_RECVD;
      return true;
    }
    if (s === RecvState.RECV) {
      this._state = RecvState.SIZE_KNOWN;
      return true;
    }
    // Already "Size Known": only the delivery limit moved; the caller re-checks completeness.
    return true;
  }

  /**
   * The application was told about the reset: "Reset Recvd" -> "Reset Read" (§3.2). After a
   * RESET_STREAM_AT that happens once the reliable part was read, from "Size Known" or
   * "Data Recvd" (draft-ietf-quic-reliable-stream-reset §6), so the stream can be forgotten.
   */
  onResetRead(): boolean {
    const reliable = this._resetErrorCode !== undefined && (this._reliableSize ?? 0) > 0;
    const fromReliable = reliable && (this._state === RecvState.SIZE_KNOWN || this._state === RecvState.DATA_RECVD);
    if (this._state !== RecvState.RESET_RECVD && !fromReliable) return false;
    this._state = RecvState.RESET_READ;
    return true;
  }

  /**
   * The application stops reading (RFC 9000 §3.5). Returns true if a STOP_SENDING frame should
   * be sent: only the first time, and only in "Recv" or "Size Known". Idempotent, never throws.
   */
  stopSending(errorCode: number): boolean {
    if (this._stopSendingErrorCode !== undefined) return false;
    this._stopSendingErrorCode = errorCode;
    if (this._state !== RecvState.RECV && this._state !== RecvState.SIZE_KNOWN) return false;
    this._stopSendingPending = true;
    return true;
  }

  /** The STOP_SENDING frame was put in a packet. */
  onStopSendingSent(): void {
    this._stopSendingPending = false;
  }

  /**
   * A packet with our STOP_SENDING was lost: resend it only while still in "Recv"/"Size Known"
   * without a reset from the peer (§3.5: otherwise it is unnecessary).
   */
  onStopSendingLost(): boolean {
    if (this._stopSendingErrorCode === undefined || this._resetErrorCode !== undefined) return false;
    if (this._state !== RecvState.RECV && this._state !== RecvState.SIZE_KNOWN) return false;
    this._stopSendingPending = true;
    return true;
  }

  /**
   * The connection closed: a stream not yet terminal ends in "Reset Read" (the connection's own
   * close event tells the application). Never throws.
   */
  onConnectionClosed(): boolean {
    this._stopSendingPending = false;
    if (this.isTerminal) return false;
    this._state = RecvState.RESET_READ;
    return true;
  }
}
