/**
 * NewReno congestion control as specified by RFC 9002 §7 and Appendix B.
 *
 * States (§7.3): slow start while cwnd < ssthresh; a recovery period that starts when a loss
 * or an ECN-CE increase is detected and ends when a packet sent after its start is
 * acknowledged; congestion avoidance otherwise.
 */

import {
  type AckSample,
  type CongestionController,
  initialWindowFor,
  minimumWindowFor,
  windowPacingRate,
} from './controller.js';

/** RFC 9002 B.2 kLossReductionFactor. */
export const LOSS_REDUCTION_FACTOR = 0.5;

/** Options of {@link NewReno}. */
export interface NewRenoOptions {
  /** Maximum datagram size in bytes (RFC 9002 B.2); default 1200, the QUIC minimum. */
  maxDatagramSize?: number;
  /** Override the initial window (bytes); default per RFC 9002 §7.2. */
  initialWindow?: number;
}

/** NewReno (RFC 9002 Appendix B). All times are ms on the caller's clock. */
export class NewReno implements CongestionController {
  #maxDatagramSize: number;
  #window: number;
  #ssthresh = Infinity;
  /**
   * RFC 9002 B.3 congestion_recovery_start_time. The RFC initialises it to 0; -Infinity says
   * "no recovery period" without treating a packet sent at virtual time 0 as sent in recovery.
   */
  #recoveryStartTime = -Infinity;
  /** RFC 3465 §2.1 byte counter for congestion avoidance (RFC 9002 B.5 allows it). */
  #bytesAckedInAvoidance = 0;
  /** RFC 9002 B.6 MaybeSendOnePacket: one packet may exceed the window after entering recovery. */
  #recoverySendAllowed = false;
  readonly #fixedInitialWindow: number | undefined;

  constructor(options: NewRenoOptions = {}) {
    this.#maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.#fixedInitialWindow = options.initialWindow;
    this.#window = this.initialWindow;
  }

  get congestionWindow(): number {
    return this.#window;
  }

  get maxDatagramSize(): number {
    return this.#maxDatagramSize;
  }

  /** Slow-start threshold in bytes (Infinity until the first congestion event). */
  get slowStartThreshold(): number {
    return this.#ssthresh;
  }

  /** Start time of the current (or last) recovery period; -Infinity if none. */
  get recoveryStartTime(): number {
    return this.#recoveryStartTime;
  }

  /** RFC 9002 §7.2 kInitialWindow for the current datagram size. */
  get initialWindow(): number {
    return this.#fixedInitialWindow ?? initialWindowFor(this.#maxDatagramSize);
  }

  /** RFC 9002 §7.2 kMinimumWindow. */
  get minimumWindow(): number {
    return minimumWindowFor(this.#maxDatagramSize);
  }

  /** True while cwnd < ssthresh (RFC 9002 §7.3.1). */
  get inSlowStart(): boolean {
    return this.#window < this.#ssthresh;
  }

  /** RFC 9002 B.5 InCongestionRecovery. */
  inRecovery(sentTime: number): boolean {
    return sentTime <= this.#recoveryStartTime;
  }

  canSend(bytesInFlight: number, packetBytes: number = this.#maxDatagramSize): boolean {
    return this.#recoverySendAllowed || bytesInFlight + packetBytes <= this.#window;
  }

  availableWindow(bytesInFlight: number): number {
    const room = this.#window - bytesInFlight;
    if (this.#recoverySendAllowed) return Math.max(room, this.#maxDatagramSize);
    return room > 0 ? room : 0;
  }

  pacingRate(smoothedRtt: number): number {
    return windowPacingRate(this.#window, smoothedRtt);
  }

  onPacketSent(_now: number, _bytes: number, _packetNumber: number, _isRetransmittable: boolean, _bytesInFlight: number): void {
    this.#recoverySendAllowed = false;
  }

  onPacketAcked(_now: number, bytes: number, timeSent: number, appLimited: boolean): void {
    // RFC 9002 §7.8 / B.5: no growth while application or flow-control limited.
    if (appLimited) return;
    // RFC 9002 §7.3.2: no growth for packets sent before or at the start of recovery.
    if (this.inRecovery(timeSent)) return;
    if (this.#window < this.#ssthresh) {
      // RFC 9002 §7.3.1 slow start: grow by the bytes acknowledged.
      this.#window += bytes;
      return;
    }
    // RFC 9002 §7.3.3: at most one max_datagram_size per congestion window acknowledged.
    this.#bytesAckedInAvoidance += bytes;
    if (this.#bytesAckedInAvoidance >= this.#window) {
      this.#bytesAckedInAvoidance -= this.#window;
      this.#window += this.#maxDatagramSize;
    }
  }

  onPacketsAcked(_sample: AckSample): void {
    // NewReno acts per packet (onPacketAcked); the aggregate carries nothing more for it.
  }

  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void {
    if (lostBytes <= 0) return;
    this.#onCongestionEvent(now, largestLostSentTime);
  }

  onPersistentCongestion(_now: number): void {
    // RFC 9002 §7.6.2 / B.8: collapse to the minimum window and leave any recovery period,
    // so the sender is in slow start again (cwnd < ssthresh).
    this.#window = this.minimumWindow;
    this.#recoveryStartTime = -Infinity;
    this.#bytesAckedInAvoidance = 0;
    this.#recoverySendAllowed = false;
  }

  onEcnCongestionEvent(now: number, sentTimeOfLargestAcked: number): void {
    // RFC 9002 B.7: an ECN-CE increase is a congestion event keyed on the largest acked packet.
    this.#onCongestionEvent(now, sentTimeOfLargestAcked);
  }

  onAppLimited(_now: number, _bytesInFlight: number): void {
    // The tracker marks packets sent while application-limited; onPacketAcked honours the mark.
  }

  setMaxDatagramSize(bytes: number): void {
    const wasInitial = this.#window === this.initialWindow && this.#ssthresh === Infinity;
    this.#maxDatagramSize = bytes;
    // RFC 9002 §7.2: recompute the initial window when the datagram size changes.
    if (wasInitial) this.#window = this.initialWindow;
    if (this.#window < this.minimumWindow) this.#window = this.minimumWindow;
  }

  /** RFC 9002 B.6 OnCongestionEvent. */
  #onCongestionEvent(now: number, sentTime: number): void {
    // RFC 9002 §7.3.2: one reduction per recovery period; losses of packets sent before it
    // started do not reduce again.
    if (this.inRecovery(sentTime)) return;
    this.#recoveryStartTime = now;
    this.#ssthresh = Math.floor(this.#window * LOSS_REDUCTION_FACTOR);
    this.#window = Math.max(this.#ssthresh, this.minimumWindow);
    this.#bytesAckedInAvoidance = 0;
    this.#recoverySendAllowed = true;
  }
}
