/**
 * RTT estimation (RFC 9002 §5) and the durations derived from it (PTO §6.2.1, persistent
 * congestion §7.6.1). All values are milliseconds.
 */

/** RFC 9002 §6.2.2: initial RTT when no previous estimate exists. */
export const INITIAL_RTT_MS = 333;
/** RFC 9002 §6.1.2 kGranularity: local timer granularity. */
export const TIMER_GRANULARITY_MS = 1;
/** RFC 9000 §18.2: max_ack_delay default when the transport parameter is absent. */
export const DEFAULT_MAX_ACK_DELAY_MS = 25;

/** RTT estimator for one path (RFC 9002 §5). Structurally an `RttView` of @purequic/congestion. */
export class RttEstimator {
  /** RFC 9002 §5.1 latest_rtt; 0 before the first sample. */
  latestRtt = 0;
  /** RFC 9002 §5.3 smoothed_rtt. */
  smoothedRtt: number;
  /** RFC 9002 §5.3 rttvar. */
  rttVar: number;
  /** RFC 9002 §5.2 min_rtt; 0 before the first sample. */
  minRtt = 0;
  /** False until the first sample (RFC 9002 A.3 first_rtt_sample == 0). */
  hasSample = false;
  /** Time of the first sample (RFC 9002 A.3 first_rtt_sample); -Infinity before it. */
  firstSampleTime = -Infinity;
  readonly #initialRtt: number;
  readonly #granularity: number;

  constructor(initialRttMs: number = INITIAL_RTT_MS, granularityMs: number = TIMER_GRANULARITY_MS) {
    this.#initialRtt = initialRttMs;
    this.#granularity = granularityMs;
    // RFC 9002 §5.3: smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2.
    this.smoothedRtt = initialRttMs;
    this.rttVar = initialRttMs / 2;
  }

  /** The timer granularity this estimator was built with (kGranularity). */
  get granularity(): number {
    return this.#granularity;
  }

  /**
   * Adds one RTT sample (RFC 9002 §5, A.7 UpdateRtt).
   *
   * @param latestRtt ack time minus send time of the largest acknowledged packet
   * @param ackDelay the peer's reported ACK delay, already scaled to ms
   * @param maxAckDelay the peer's max_ack_delay (ms); caps `ackDelay` once the handshake is confirmed
   * @param handshakeConfirmed RFC 9001 §4.1.2
   */
  update(now: number, latestRtt: number, ackDelay: number, maxAckDelay: number, handshakeConfirmed: boolean): void {
    this.latestRtt = latestRtt;
    if (!this.hasSample) {
      // RFC 9002 §5.2, §5.3: the first sample resets the estimator, history is dropped.
      this.hasSample = true;
      this.firstSampleTime = now;
      this.minRtt = latestRtt;
      this.smoothedRtt = latestRtt;
      this.rttVar = latestRtt / 2;
      return;
    }
    // RFC 9002 §5.2: min_rtt ignores acknowledgment delay.
    if (latestRtt < this.minRtt) this.minRtt = latestRtt;
    // RFC 9002 §5.3: the peer's max_ack_delay only caps the delay after handshake confirmation.
    let delay = ackDelay > 0 ? ackDelay : 0;
    if (handshakeConfirmed && delay > maxAckDelay) delay = maxAckDelay;
    // RFC 9002 §5.3: never subtract the delay when that would go below min_rtt.
    const adjusted = latestRtt >= this.minRtt + delay ? latestRtt - delay : latestRtt;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /**
   * RFC 9002 §6.2.1: smoothed_rtt + max(4*rttvar, kGranularity), plus `maxAckDelay` when the
   * Application Data space is concerned (Initial and Handshake use 0).
   */
  ptoDuration(maxAckDelay: number): number {
    const variance = 4 * this.rttVar;
    return this.smoothedRtt + (variance > this.#granularity ? variance : this.#granularity) + maxAckDelay;
  }

  /**
   * RFC 9002 §7.6.1: (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) *
   * kPersistentCongestionThreshold, max_ack_delay included whatever the space.
   */
  persistentCongestionDuration(maxAckDelay: number, threshold: number): number {
    return this.ptoDuration(maxAckDelay) * threshold;
  }

  /** RFC 9002 §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity). */
  lossDelay(timeThreshold: number): number {
    const rtt = this.latestRtt > this.smoothedRtt ? this.latestRtt : this.smoothedRtt;
    const delay = timeThreshold * rtt;
    return delay > this.#granularity ? delay : this.#granularity;
  }

  /** RFC 9002 §5.2: after persistent congestion, min_rtt restarts from the newest sample. */
  onPersistentCongestion(): void {
    if (this.hasSample) this.minRtt = this.latestRtt;
  }

  /**
   * Back to the initial state, e.g. for a new path (RFC 9002 §5.3, RFC 9000 §9.4).
   * `initialRttMs` may carry a measured PATH_CHALLENGE delay or a resumed estimate (§6.2.2).
   */
  reset(initialRttMs: number = this.#initialRtt): void {
    this.latestRtt = 0;
    this.minRtt = 0;
    this.hasSample = false;
    this.firstSampleTime = -Infinity;
    this.smoothedRtt = initialRttMs;
    this.rttVar = initialRttMs / 2;
  }
}
