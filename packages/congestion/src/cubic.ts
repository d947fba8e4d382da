/**
 * CUBIC congestion control (RFC 9438) for QUIC, with HyStart++ (RFC 9406) as its slow start.
 *
 * The window is kept in bytes; the cubic function is evaluated in segments of
 * `maxDatagramSize` and seconds, as RFC 9438 §4.1 states it. Recovery periods, the minimum window
 * and persistent congestion follow RFC 9002 §7 exactly as NewReno does.
 *
 * Acknowledgments are applied once per ACK frame (`onPacketsAcked`): `onPacketAcked` only sums the
 * bytes that may grow the window (not application-limited, RFC 9438 §5.8 / RFC 9002 §7.8; not sent
 * before the current recovery period, RFC 9002 §7.3.2), so an ACK covering many packets is one
 * "new ACK" with segments_acked > 1 (RFC 9438 §4.1 definitions).
 *
 * Spurious losses (RFC 9438 §4.9.2): the state before a loss-driven reduction is saved; once every
 * byte declared lost in that congestion event is reported spurious (`onSpuriousLoss`) and cwnd is
 * still below cwnd_prior, the saved state is restored. ECN-CE events are never undone.
 */

import {
  type AckSample,
  type CongestionController,
  initialWindowFor,
  minimumWindowFor,
  windowPacingRate,
} from './controller.js';
import { HyStartPlusPlus, type HyStartOptions } from './hystart.js';

/** RFC 9438 §4.1 C, segments / s^3. */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6 beta_cubic. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3 alpha_cubic = 3 * (1 - beta) / (1 + beta). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/**
 * RFC 9438 §4.2 Eq. 2: K = cbrt((W_max - cwnd_epoch) / C), seconds; 0 when the epoch starts at
 * or above W_max. Windows in segments.
 */
export function cubicK(wMax: number, cwndEpoch: number, c: number = CUBIC_C): number {
  return wMax > cwndEpoch ? Math.cbrt((wMax - cwndEpoch) / c) : 0;
}

/** RFC 9438 §4.2 Eq. 1: W_cubic(t) = C * (t - K)^3 + W_max; t and K in seconds, windows in segments. */
export function cubicWindow(t: number, k: number, wMax: number, c: number = CUBIC_C): number {
  const d = t - k;
  return c * d * d * d + wMax;
}

/** Options of {@link Cubic}. */
export interface CubicOptions {
  /** Maximum datagram size in bytes (RFC 9002 B.2); default 1200. */
  maxDatagramSize?: number;
  /** Override the initial window (bytes); default per RFC 9002 §7.2. */
  initialWindow?: number;
  /**
   * RFC 9438 §4.7 fast convergence; default true. The RFC says to disable it where a single CUBIC
   * flow has the path to itself.
   */
  fastConvergence?: boolean;
  /** Use HyStart++ for the initial slow start (RFC 9438 §4.10 SHOULD); default true. */
  hystart?: boolean;
  /** Options for HyStart++. */
  hystartOptions?: HyStartOptions;
}

/** CUBIC (RFC 9438) for one path. Times in ms, sizes in bytes. */
export class Cubic implements CongestionController {
  #maxDatagramSize: number;
  /** Window in bytes, fractional: CUBIC's per-ACK increments are often below one byte. */
  #window: number;
  #ssthresh = Infinity;
  #recoveryStartTime = -Infinity;
  #recoverySendAllowed = false;
  readonly #fixedInitialWindow: number | undefined;
  readonly #fastConvergence: boolean;
  readonly #hystart: HyStartPlusPlus | undefined;

  // RFC 9438 §4.1 variables, windows in segments, times in ms.
  #wMax = 0;
  #cwndPrior = 0;
  #k = 0;
  /** t_epoch; -Infinity until the first ACK of the current congestion-avoidance stage. */
  #epochStart = -Infinity;
  #cwndEpoch = 0;
  #wEst = 0;
  /**
   * No congestion event defined W_max for this stage (after HyStart++ left slow start without
   * loss, or after persistent congestion): RFC 9438 §4.8 / §4.10 use K = 0 and
   * W_max = cwnd at the start of the stage.
   */
  #wMaxFromEpoch = false;
  /** Time of the last ACK seen in congestion avoidance, to keep idle time out of t. */
  #lastAckTime = -Infinity;
  /** Bytes from the current ACK frame that may grow the window. */
  #pendingAckedBytes = 0;
  /** The ACK frame in progress acknowledged something that was not application-limited. */
  #ackHadGrowthCandidates = false;

  // RFC 9438 §4.9.2 undo state of the last loss-driven congestion event.
  #undoValid = false;
  #undoWindow = 0;
  #undoCwndPrior = 0;
  #undoSsthresh = 0;
  #undoWMax = 0;
  #undoK = 0;
  #undoEpochStart = 0;
  #undoWEst = 0;
  #undoWMaxFromEpoch = false;
  /** Bytes declared lost in that event, and how many of them proved spurious. */
  #eventLostBytes = 0;
  #eventSpuriousBytes = 0;

  constructor(options: CubicOptions = {}) {
    this.#maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.#fixedInitialWindow = options.initialWindow;
    this.#window = this.initialWindow;
    this.#fastConvergence = options.fastConvergence ?? true;
    this.#hystart = options.hystart === false ? undefined : new HyStartPlusPlus(options.hystartOptions);
  }

  get congestionWindow(): number {
    return Math.floor(this.#window);
  }

  get maxDatagramSize(): number {
    return this.#maxDatagramSize;
  }

  /** Slow-start threshold in bytes (Infinity until slow start ends). */
  get slowStartThreshold(): number {
    return this.#ssthresh;
  }

  /** RFC 9002 §7.2 kInitialWindow for the current datagram size. */
  get initialWindow(): number {
    return this.#fixedInitialWindow ?? initialWindowFor(this.#maxDatagramSize);
  }

  /** RFC 9002 §7.2 kMinimumWindow. */
  get minimumWindow(): number {
    return minimumWindowFor(this.#maxDatagramSize);
  }

  /** True while cwnd < ssthresh. */
  get inSlowStart(): boolean {
    return this.#window < this.#ssthresh;
  }

  /** The HyStart++ state, if enabled. */
  get hystart(): HyStartPlusPlus | undefined {
    return this.#hystart;
  }

  /** RFC 9438 W_max in segments (0 before the first congestion event). */
  get wMax(): number {
    return this.#wMax;
  }

  /** RFC 9438 K in seconds for the current congestion-avoidance stage. */
  get k(): number {
    return this.#k;
  }

  /** RFC 9438 W_est in segments. */
  get wEst(): number {
    return this.#wEst;
  }

  /** RFC 9438 cwnd_prior in segments. */
  get cwndPrior(): number {
    return this.#cwndPrior;
  }

  /** t_epoch in ms; -Infinity when the current stage has not started yet. */
  get epochStart(): number {
    return this.#epochStart;
  }

  /** Start time of the current (or last) recovery period; -Infinity if none. */
  get recoveryStartTime(): number {
    return this.#recoveryStartTime;
  }

  /** RFC 9002 B.5 InCongestionRecovery. */
  inRecovery(sentTime: number): boolean {
    return sentTime <= this.#recoveryStartTime;
  }

  canSend(bytesInFlight: number, packetBytes: number = this.#maxDatagramSize): boolean {
    return this.#recoverySendAllowed || bytesInFlight + packetBytes <= this.#window;
  }

  availableWindow(bytesInFlight: number): number {
    const room = Math.floor(this.#window) - bytesInFlight;
    if (this.#recoverySendAllowed) return Math.max(room, this.#maxDatagramSize);
    return room > 0 ? room : 0;
  }

  pacingRate(smoothedRtt: number): number {
    return windowPacingRate(this.#window, smoothedRtt);
  }

  onPacketSent(_now: number, _bytes: number, packetNumber: number, _isRetransmittable: boolean, _bytesInFlight: number): void {
    this.#recoverySendAllowed = false;
    this.#hystart?.onPacketSent(packetNumber);
  }

  onPacketAcked(_now: number, bytes: number, timeSent: number, appLimited: boolean): void {
    // RFC 9438 §5.8 / RFC 9002 §7.8: no growth from packets sent while application-limited.
    if (appLimited) return;
    this.#ackHadGrowthCandidates = true;
    // RFC 9002 §7.3.2: no growth for packets sent before the recovery period began.
    if (this.inRecovery(timeSent)) return;
    this.#pendingAckedBytes += bytes;
  }

  onPacketsAcked(sample: AckSample): void {
    const acked = this.#pendingAckedBytes;
    const candidates = this.#ackHadGrowthCandidates;
    this.#pendingAckedBytes = 0;
    this.#ackHadGrowthCandidates = false;
    const now = sample.now;
    const hystart = this.#hystart;
    const inSlowStart = this.#window < this.#ssthresh;
    if (inSlowStart && hystart !== undefined && hystart.active && this.#ssthresh === Infinity) {
      // RFC 9406 §4.2 per-ACK steps; the phase may change to CSS, back, or to avoidance.
      hystart.onAck(sample.largestAckedPacketNumber, sample.rttUpdated ? sample.rtt.latestRtt : -1);
      if (!hystart.active) {
        this.#leaveSlowStartWithoutLoss();
      } else if (acked > 0) {
        this.#window += hystart.growth(acked, this.#maxDatagramSize);
        return;
      }
    } else if (inSlowStart) {
      // RFC 9002 §7.3.1: slow start grows by the bytes acknowledged.
      this.#window += acked;
      return;
    }
    if (this.#window < this.#ssthresh) return;
    if (acked === 0) {
      // RFC 9438 §4.2: t excludes periods in which cwnd was not updated because the sender was
      // application-limited; shift the epoch by the idle ACK interval.
      if (!candidates && this.#epochStart !== -Infinity && this.#lastAckTime !== -Infinity && now > this.#lastAckTime) {
        this.#epochStart += now - this.#lastAckTime;
      }
      this.#lastAckTime = now;
      return;
    }
    this.#congestionAvoidance(now, acked, sample.rtt.smoothedRtt);
    this.#lastAckTime = now;
  }

  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void {
    if (lostBytes <= 0) return;
    if (this.inRecovery(largestLostSentTime)) {
      // More losses of the same congestion event: an undo needs them all to be spurious.
      this.#eventLostBytes += lostBytes;
      return;
    }
    this.#saveUndoState();
    this.#onCongestionEvent(now, largestLostSentTime);
    this.#eventLostBytes = lostBytes;
    this.#eventSpuriousBytes = 0;
  }

  /**
   * RFC 9438 §4.9.2: packets declared lost were acknowledged after all. When every byte lost in
   * the last congestion event proved spurious and cwnd is still below cwnd_prior, restore the
   * state saved before the reduction.
   */
  onSpuriousLoss(_now: number, bytes: number, largestSentTime: number): void {
    if (!this.#undoValid || largestSentTime > this.#recoveryStartTime) return;
    this.#eventSpuriousBytes += bytes;
    if (this.#eventSpuriousBytes < this.#eventLostBytes) return;
    this.#undoValid = false;
    if (this.#window / this.#maxDatagramSize >= this.#cwndPrior) return;
    this.#window = this.#undoWindow;
    this.#cwndPrior = this.#undoCwndPrior;
    this.#ssthresh = this.#undoSsthresh;
    this.#wMax = this.#undoWMax;
    this.#k = this.#undoK;
    this.#epochStart = this.#undoEpochStart;
    this.#wEst = this.#undoWEst;
    this.#wMaxFromEpoch = this.#undoWMaxFromEpoch;
  }

  onPersistentCongestion(_now: number): void {
    this.#undoValid = false;
    // RFC 9002 §7.6.2: collapse to the minimum window; RFC 9438 §4.8: the next avoidance stage
    // uses K = 0 and W_max = cwnd at its start, like after a timeout.
    this.#window = this.minimumWindow;
    this.#recoveryStartTime = -Infinity;
    this.#recoverySendAllowed = false;
    this.#epochStart = -Infinity;
    this.#wMaxFromEpoch = true;
    this.#pendingAckedBytes = 0;
  }

  onEcnCongestionEvent(now: number, sentTimeOfLargestAcked: number): void {
    // RFC 9002 §7.1 / B.7: an ECN-CE increase is a congestion event like a loss.
    if (this.inRecovery(sentTimeOfLargestAcked)) return;
    this.#undoValid = false;
    this.#onCongestionEvent(now, sentTimeOfLargestAcked);
  }

  onAppLimited(_now: number, _bytesInFlight: number): void {
    // Packets are marked by the tracker; onPacketAcked honours the mark.
  }

  setMaxDatagramSize(bytes: number): void {
    const wasInitial = this.#window === this.initialWindow && this.#ssthresh === Infinity;
    const ratio = this.#maxDatagramSize / bytes;
    this.#maxDatagramSize = bytes;
    if (wasInitial) this.#window = this.initialWindow;
    if (this.#window < this.minimumWindow) this.#window = this.minimumWindow;
    // Segment-valued state keeps its byte meaning under the new segment size.
    this.#wMax *= ratio;
    this.#cwndPrior *= ratio;
    this.#cwndEpoch *= ratio;
    this.#wEst *= ratio;
  }

  /** RFC 9438 §4.9.2: the variables restored if the coming reduction proves spurious. */
  #saveUndoState(): void {
    this.#undoValid = true;
    this.#undoWindow = this.#window;
    this.#undoCwndPrior = this.#cwndPrior;
    this.#undoSsthresh = this.#ssthresh;
    this.#undoWMax = this.#wMax;
    this.#undoK = this.#k;
    this.#undoEpochStart = this.#epochStart;
    this.#undoWEst = this.#wEst;
    this.#undoWMaxFromEpoch = this.#wMaxFromEpoch;
  }

  /** RFC 9438 §4.10: HyStart++ ended slow start without loss; W_max is undefined. */
  #leaveSlowStartWithoutLoss(): void {
    this.#ssthresh = this.#window;
    this.#cwndPrior = this.#window / this.#maxDatagramSize;
    this.#wMaxFromEpoch = true;
    this.#epochStart = -Infinity;
  }

  /** RFC 9438 §4.2-4.5: one ACK in congestion avoidance acknowledging `ackedBytes`. */
  #congestionAvoidance(now: number, ackedBytes: number, smoothedRtt: number): void {
    const mds = this.#maxDatagramSize;
    let cwnd = this.#window / mds;
    if (this.#epochStart === -Infinity) {
      // Start of a congestion-avoidance stage (t_epoch, cwnd_epoch, K, W_est).
      this.#epochStart = now;
      this.#cwndEpoch = cwnd;
      if (this.#wMaxFromEpoch || this.#wMax < cwnd) {
        this.#wMax = cwnd;
        this.#wMaxFromEpoch = false;
      }
      this.#k = cubicK(this.#wMax, this.#cwndEpoch);
      this.#wEst = this.#cwndEpoch;
    }
    const segmentsAcked = ackedBytes / mds;
    const t = (now - this.#epochStart) / 1000;
    const rtt = smoothedRtt / 1000;
    // RFC 9438 §4.3 Eq. 4; alpha becomes 1 once W_est reached cwnd_prior.
    const alpha = this.#wEst >= this.#cwndPrior ? 1 : CUBIC_ALPHA;
    this.#wEst += (alpha * segmentsAcked) / cwnd;
    const wCubic = cubicWindow(t, this.#k, this.#wMax);
    if (wCubic < this.#wEst) {
      // RFC 9438 §4.3: Reno-friendly region, cwnd = W_est.
      if (this.#wEst > cwnd) cwnd = this.#wEst;
    } else {
      // RFC 9438 §4.2: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd]; §4.4/4.5: grow by
      // (target - cwnd) / cwnd per acknowledged segment.
      let target = cubicWindow(t + rtt, this.#k, this.#wMax);
      if (target < cwnd) target = cwnd;
      else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
      cwnd += ((target - cwnd) / cwnd) * segmentsAcked;
    }
    this.#window = cwnd * mds;
  }

  /** RFC 9438 §4.6-4.7 multiplicative decrease with fast convergence; RFC 9002 B.6 recovery. */
  #onCongestionEvent(now: number, sentTime: number): void {
    // RFC 9002 §7.3.2: one reduction per recovery period.
    if (this.inRecovery(sentTime)) return;
    this.#recoveryStartTime = now;
    this.#recoverySendAllowed = true;
    this.#pendingAckedBytes = 0;
    // RFC 9406 §4.2: loss or ECN in slow start or CSS ends HyStart++.
    this.#hystart?.exit();
    const mds = this.#maxDatagramSize;
    const cwnd = this.#window / mds;
    this.#cwndPrior = cwnd;
    this.#wMax = this.#fastConvergence && cwnd < this.#wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    this.#wMaxFromEpoch = false;
    // RFC 9438 §4.6 uses cwnd for flight_size, allowed since growth stops when not cwnd-limited.
    const minimum = this.minimumWindow;
    let ssthresh = Math.floor(this.#window * CUBIC_BETA);
    if (ssthresh < minimum) ssthresh = minimum;
    this.#ssthresh = ssthresh;
    this.#window = ssthresh;
    this.#epochStart = -Infinity;
  }
}
