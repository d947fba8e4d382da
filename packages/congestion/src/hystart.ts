/**
 * HyStart++ (RFC 9406): a slow start that leaves exponential growth when the round's minimum RTT
 * rises, spends up to CSS_ROUNDS rounds in Conservative Slow Start (CSS), and returns to slow start
 * if the rise proves spurious.
 *
 * Rounds are counted by packet number (RFC 9406 §4.2 "windowEnd" = SND.NXT): a round ends when a
 * packet sent after its start is acknowledged, i.e. a packet number above the largest one sent
 * when the round started. The owner (a window-based controller) reports sends and
 * one call per ACK frame; this class only decides the phase and how much of the acknowledged bytes
 * the window may grow by. It never touches the window itself.
 */

/** RFC 9406 §4.3 MIN_RTT_THRESH, ms. */
export const HYSTART_MIN_RTT_THRESH_MS = 4;
/** RFC 9406 §4.3 MAX_RTT_THRESH, ms. */
export const HYSTART_MAX_RTT_THRESH_MS = 16;
/** RFC 9406 §4.3 MIN_RTT_DIVISOR. */
export const HYSTART_MIN_RTT_DIVISOR = 8;
/** RFC 9406 §4.3 N_RTT_SAMPLE. */
export const HYSTART_N_RTT_SAMPLE = 8;
/** RFC 9406 §4.3 CSS_GROWTH_DIVISOR. */
export const HYSTART_CSS_GROWTH_DIVISOR = 4;
/** RFC 9406 §4.3 CSS_ROUNDS. */
export const HYSTART_CSS_ROUNDS = 5;

/** Where HyStart++ stands. */
export const HyStartPhase = {
  /** Standard slow start with delay-increase detection. */
  SLOW_START: 0,
  /** Conservative Slow Start: growth divided by CSS_GROWTH_DIVISOR. */
  CONSERVATIVE: 1,
  /** Left slow start for good (CSS rounds completed, loss, or ECN); the owner is in avoidance. */
  DONE: 2,
} as const;
export type HyStartPhase = (typeof HyStartPhase)[keyof typeof HyStartPhase];

/** Options of {@link HyStartPlusPlus}. */
export interface HyStartOptions {
  /**
   * RFC 9406 §4.3 L: at most this many datagrams of one ACK count towards growth. Infinity
   * (the default) is the RFC's choice for a paced sender; use 8 when not pacing.
   */
  ackLimitSegments?: number;
}

/** HyStart++ state for one path. Times in ms, sizes in bytes. */
export class HyStartPlusPlus {
  readonly #ackLimitSegments: number;
  #phase: HyStartPhase = HyStartPhase.SLOW_START;
  /** Largest packet number sent so far (SND.NXT - 1 in TCP terms); -1 before any send. */
  #largestSent = -1;
  /**
   * Largest packet number sent when the round started; acknowledging anything above it ends the
   * round (RFC 9406 §4.2 windowEnd = SND.NXT). -1 at start: the first ACK ends round 0.
   */
  #roundEnd = -1;
  #lastRoundMinRtt = Infinity;
  #currentRoundMinRtt = Infinity;
  #rttSampleCount = 0;
  #cssBaselineMinRtt = Infinity;
  /** Rounds counted in CSS, the partial round of entry included (RFC 9406 §4.2). */
  #cssRounds = 0;
  #rounds = 0;

  constructor(options: HyStartOptions = {}) {
    this.#ackLimitSegments = options.ackLimitSegments ?? Infinity;
  }

  /** Current phase. */
  get phase(): HyStartPhase {
    return this.#phase;
  }

  /** True while in standard slow start or CSS. */
  get active(): boolean {
    return this.#phase !== HyStartPhase.DONE;
  }

  /** True while in Conservative Slow Start. */
  get inConservativeSlowStart(): boolean {
    return this.#phase === HyStartPhase.CONSERVATIVE;
  }

  /** Rounds started so far (for tests and qlog). */
  get rounds(): number {
    return this.#rounds;
  }

  /** Minimum RTT of the round in progress (Infinity before a sample), ms. */
  get currentRoundMinRtt(): number {
    return this.#currentRoundMinRtt;
  }

  /** Minimum RTT of the previous round, ms. */
  get lastRoundMinRtt(): number {
    return this.#lastRoundMinRtt;
  }

  /** RFC 9406 cssBaselineMinRtt (Infinity outside CSS), ms. */
  get cssBaselineMinRtt(): number {
    return this.#cssBaselineMinRtt;
  }

  /** An in-flight packet was sent. */
  onPacketSent(packetNumber: number): void {
    if (packetNumber > this.#largestSent) this.#largestSent = packetNumber;
  }

  /**
   * One ACK frame in slow start or CSS. `largestAcked` is the largest newly acknowledged packet
   * number; `rttSample` the RTT sample this ACK produced, or a negative number if none.
   * Call before {@link growth}; the phase may change here.
   */
  onAck(largestAcked: number, rttSample: number): void {
    if (this.#phase === HyStartPhase.DONE) return;
    // RFC 9406 §4.2: when windowEnd is acknowledged the round ends and a new one starts.
    if (largestAcked > this.#roundEnd && !this.#startRound()) return;
    if (rttSample >= 0) {
      if (rttSample < this.#currentRoundMinRtt) this.#currentRoundMinRtt = rttSample;
      this.#rttSampleCount++;
    }
    if (this.#rttSampleCount < HYSTART_N_RTT_SAMPLE) return;
    if (this.#phase === HyStartPhase.SLOW_START) {
      if (this.#currentRoundMinRtt === Infinity || this.#lastRoundMinRtt === Infinity) return;
      // RFC 9406 §4.2: RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / 8, MAX_RTT_THRESH)).
      const threshold = Math.max(
        HYSTART_MIN_RTT_THRESH_MS,
        Math.min(this.#lastRoundMinRtt / HYSTART_MIN_RTT_DIVISOR, HYSTART_MAX_RTT_THRESH_MS),
      );
      if (this.#currentRoundMinRtt >= this.#lastRoundMinRtt + threshold) {
        this.#cssBaselineMinRtt = this.#currentRoundMinRtt;
        this.#phase = HyStartPhase.CONSERVATIVE;
        // The partial round of entry counts towards CSS_ROUNDS.
        this.#cssRounds = 1;
      }
    } else if (this.#currentRoundMinRtt < this.#cssBaselineMinRtt) {
      // RFC 9406 §4.2: the RTT fell below the baseline; the exit was spurious.
      this.#cssBaselineMinRtt = Infinity;
      this.#cssRounds = 0;
      this.#phase = HyStartPhase.SLOW_START;
    }
  }

  /**
   * Bytes the window may grow by for `ackedBytes` newly acknowledged on one ACK:
   * min(N, L*SMSS) in slow start, divided by CSS_GROWTH_DIVISOR in CSS (RFC 9406 §4.2).
   */
  growth(ackedBytes: number, maxDatagramSize: number): number {
    const limited = Math.min(ackedBytes, this.#ackLimitSegments * maxDatagramSize);
    return this.#phase === HyStartPhase.CONSERVATIVE ? limited / HYSTART_CSS_GROWTH_DIVISOR : limited;
  }

  /** Loss, ECN-CE, or an owner decision ended slow start: HyStart++ is done. */
  exit(): void {
    this.#phase = HyStartPhase.DONE;
    this.#cssBaselineMinRtt = Infinity;
  }

  /**
   * Starts over in slow start (RFC 9406 §4.3 allows HyStart++ for a restart window), keeping the
   * packet-number position.
   */
  restart(): void {
    this.#phase = HyStartPhase.SLOW_START;
    this.#lastRoundMinRtt = Infinity;
    this.#currentRoundMinRtt = Infinity;
    this.#rttSampleCount = 0;
    this.#cssBaselineMinRtt = Infinity;
    this.#cssRounds = 0;
    this.#roundEnd = this.#largestSent;
  }

  /** Starts a round; false if CSS just completed and HyStart++ is done. */
  #startRound(): boolean {
    this.#rounds++;
    this.#roundEnd = this.#largestSent;
    if (this.#phase === HyStartPhase.CONSERVATIVE) {
      // RFC 9406 §4.2: after CSS_ROUNDS rounds, enter congestion avoidance.
      if (this.#cssRounds >= HYSTART_CSS_ROUNDS) {
        this.exit();
        return false;
      }
      this.#cssRounds++;
    }
    this.#lastRoundMinRtt = this.#currentRoundMinRtt;
    this.#currentRoundMinRtt = Infinity;
    this.#rttSampleCount = 0;
    return true;
  }
}
