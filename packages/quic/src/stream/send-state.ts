/**
 * State machine of the sending part of a stream (RFC 9000 §3.1), extended for reliable resets
 * (RESET_STREAM_AT, draft-ietf-quic-reliable-stream-reset §6: such a reset acts like a FIN, so
 * the stream goes to "Data Sent" and ends in "Data Recvd" once the frame and every byte below
 * the reliable size are acknowledged).
 *
 * Every reset, STOP_SENDING and close path is idempotent and never throws, whatever order they
 * arrive in: RESET_STREAM requests, STOP_SENDING, an application close and CONNECTION_CLOSE can
 * all hit one stream while processing one packet. Methods return whether they changed anything.
 */

export const SendState = {
  READY: 0,
  SEND: 1,
  DATA_SENT: 2,
  RESET_SENT: 3,
  DATA_RECVD: 4,
  RESET_RECVD: 5,
} as const;
export type SendState = (typeof SendState)[keyof typeof SendState];

const SEND_STATE_NAMES = ['Ready', 'Send', 'Data Sent', 'Reset Sent', 'Data Recvd', 'Reset Recvd'] as const;

/** The RFC's name of a sending state, e.g. `Data Sent`. */
export function sendStateName(state: SendState): string {
  return SEND_STATE_NAMES[state];
}

export class SendStateMachine {
  private _state: SendState = SendState.READY;
  private _resetErrorCode: number | undefined = undefined;
  private _reliableSize: number | undefined = undefined;
  private _stopSendingErrorCode: number | undefined = undefined;
  /** The RESET_STREAM / RESET_STREAM_AT frame must be (re)sent. */
  private _resetFramePending = false;
  /** The reset frame carrying the current (smallest) reliable size was acknowledged. */
  private resetFrameAcked = false;
  /** Every byte owed (all data + FIN, or data below the reliable size) was acknowledged. */
  private dataAcked = false;

  get state(): SendState {
    return this._state;
  }

  /** Error code of the reset, once the stream was reset (locally or on STOP_SENDING). */
  get resetErrorCode(): number | undefined {
    return this._resetErrorCode;
  }

  /** Reliable size of a reset: 0 for RESET_STREAM, more for RESET_STREAM_AT; undefined if not reset. */
  get reliableSize(): number | undefined {
    return this._reliableSize;
  }

  /** Error code of the STOP_SENDING the peer sent, if any. */
  get stopSendingErrorCode(): number | undefined {
    return this._stopSendingErrorCode;
  }

  /** True while a RESET_STREAM (reliable size 0) or RESET_STREAM_AT frame waits to be sent. */
  get resetFramePending(): boolean {
    return this._resetFramePending;
  }

  /** True if the stream was reset (plain or reliable). */
  get isReset(): boolean {
    return this._resetErrorCode !== undefined;
  }

  /** True in "Data Recvd" or "Reset Recvd": nothing more will ever be sent. */
  get isTerminal(): boolean {
    return this._state === SendState.DATA_RECVD || this._state === SendState.RESET_RECVD;
  }

  /** True if the application may still write and new data may be sent ("Ready" or "Send", not reset). */
  get canSendNewData(): boolean {
    return (this._state === SendState.READY || this._state === SendState.SEND) && !this.isReset;
  }

  /** True if stream data (new or retransmitted) may still go out: not terminal, not plainly reset. */
  get mayCarryData(): boolean {
    return this._state <= SendState.DATA_SENT;
  }

  /** A STREAM or STREAM_DATA_BLOCKED frame was sent: "Ready" -> "Send" (§3.1). */
  onStreamFrameSent(): boolean {
    if (this._state !== SendState.READY) return false;
    this._state = SendState.SEND;
    return true;
  }

  /** A STREAM frame with FIN was sent: "Ready"/"Send" -> "Data Sent" (§3.1). */
  onFinSent(): boolean {
    if (this._state !== SendState.READY && this._state !== SendState.SEND) return false;
    this._state = SendState.DATA_SENT;
    return true;
  }

  /**
   * The send buffer reports every owed byte acknowledged: "Data Sent" -> "Data Recvd" (§3.1);
   * after a reliable reset only once its frame is acknowledged too.
   */
  onAllDataAcked(): boolean {
    this.dataAcked = true;
    return this.tryFinishReliable();
  }

  /**
   * Abandons sending with `errorCode`; `reliableSize` > 0 asks for a reliable reset
   * (RESET_STREAM_AT) delivering that many bytes first. A later call may only lower the reliable
   * size (draft §5: "MUST NOT increase"), and keeps the first error code (draft §5: "MUST NOT
   * change the Application Error Code"). Pass the size the send buffer accepted (`SendBuffer.resetAt`).
   * Returns true if a (new) reset frame must be sent; never throws.
   */
  reset(errorCode: number, reliableSize = 0): boolean {
    if (this.isTerminal) return false;
    const size = Math.max(0, reliableSize);
    if (this._resetErrorCode !== undefined) {
      const current = this._reliableSize ?? 0;
      if (size >= current) return false;
      this._reliableSize = size;
    } else {
      this._resetErrorCode = errorCode;
      this._reliableSize = size;
    }
    this._resetFramePending = true;
    this.resetFrameAcked = false;
    if (size === 0) {
      // RFC 9000 §3.1: a plain reset, from "Ready", "Send" or "Data Sent", enters "Reset Sent".
      this._state = SendState.RESET_SENT;
    } else {
      // Draft §6: RESET_STREAM_AT is like a FIN: the stream enters "Data Sent".
      this._state = SendState.DATA_SENT;
      // Bytes owed are fewer now; whether they are all acknowledged is re-reported by the buffer.
      this.dataAcked = false;
    }
    return true;
  }

  /**
   * The peer sent STOP_SENDING (RFC 9000 §3.5): the stream must be reset with a RESET_STREAM
   * (draft §7: a plain one even if a reliable reset is in progress). Records the peer's code and
   * resets with it unless already reset. Returns true if a reset frame must be sent; never throws.
   */
  onStopSending(errorCode: number): boolean {
    if (this._stopSendingErrorCode === undefined) this._stopSendingErrorCode = errorCode;
    return this.reset(this._resetErrorCode ?? errorCode, 0);
  }

  /** The reset frame was put in a packet. */
  onResetFrameSent(): void {
    this._resetFramePending = false;
  }

  /**
   * A packet carrying a reset frame with `reliableSize` was lost: resend only if that frame is
   * still the current one and not yet acknowledged.
   */
  onResetFrameLost(reliableSize = 0): boolean {
    if (this.isTerminal || this.resetFrameAcked || this._reliableSize !== reliableSize) return false;
    this._resetFramePending = true;
    return true;
  }

  /**
   * A reset frame with `reliableSize` was acknowledged: "Reset Sent" -> "Reset Recvd" (§3.1), or
   * for a reliable reset, "Data Recvd" once the owed data is acknowledged too (draft §6). An
   * acknowledgement of an older frame with a larger reliable size does not count.
   */
  onResetFrameAcked(reliableSize = 0): boolean {
    if (this.isTerminal || this._reliableSize !== reliableSize) return false;
    this.resetFrameAcked = true;
    this._resetFramePending = false;
    if (this._state === SendState.RESET_SENT) {
      this._state = SendState.RESET_RECVD;
      return true;
    }
    return this.tryFinishReliable();
  }

  /**
   * The connection closed (CONNECTION_CLOSE sent or received, idle timeout, stateless reset):
   * a stream not yet terminal ends in "Reset Recvd" — nothing more will be delivered. Never throws.
   */
  onConnectionClosed(): boolean {
    this._resetFramePending = false;
    if (this.isTerminal) return false;
    this._state = SendState.RESET_RECVD;
    return true;
  }

  private tryFinishReliable(): boolean {
    if (this._state !== SendState.DATA_SENT || !this.dataAcked) return false;
    // A reliable reset also needs its frame acknowledged; a FIN-ended stream does not.
    if (this.isReset && !this.resetFrameAcked) return false;
    this._state = SendState.DATA_RECVD;
    return true;
  }
}
