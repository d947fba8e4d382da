/**
 * BBR version 3 (draft-ietf-ccwg-bbr, editors' copy after -06) as a {@link CongestionController}:
 * the state machine (Startup, Drain, ProbeBW DOWN/CRUISE/REFILL/UP, ProbeRTT), loss and ECN
 * responses, and the per-ACK step order of the draft's UpdateOnACK. The path model lives in
 * model.ts, the pacing and cwnd formulas in control.ts.
 *
 * Inputs, beyond the window-controller calls every controller gets:
 *   - per ACK frame, `onPacketsAcked(sample)`: the rate sample is `sample.rateSample` when the
 *     caller runs a {@link DeliveryRateEstimator}, otherwise it is rebuilt from the summary fields
 *     of the {@link AckSample} (RS.lost then comes from a small ring of C.lost values recorded at
 *     send time, keyed by packet number);
 *   - per lost packet, `onPacketLostDetail(...)` (optional) gives the draft's HandleLostPacket its
 *     per-packet inputs; without it the loss-rate check runs once per ACK on RS.lost.
 *
 * Outputs: `congestionWindow`, `pacingRate()` (bytes per ms, for {@link Pacer.setRate}) and
 * `sendQuantum`.
 *
 * Choices where the draft leaves room, each marked in the code:
 *   - ECN: the draft defines no specific response but requires CE to count as congestion; a CE
 *     increase is noted as a loss in the round (the short-term model shrinks once per round).
 *   - MarkConnectionAppLimited in ProbeRTT is done on the controller side: samples of packets sent
 *     before the mark cleared count as application-limited for the max_bw filter.
 *   - The Startup high-loss exit counts lost packets in place of lost ranges.
 *   - IsRenoCoexistenceProbeTime counts TargetInflight in datagrams.
 */

import {
  type AckSample,
  type CongestionController,
  initialWindowFor,
  minimumWindowFor,
} from '../controller.js';
import type { DeliveryRateEstimator, RateSample } from '../delivery-rate.js';
import type { Pacer } from '../pacer.js';
import {
  BBR_BETA,
  BBR_DEFAULT_CWND_GAIN,
  BBR_DRAIN_PACING_GAIN,
  BBR_FULL_BW_COUNT,
  BBR_FULL_BW_GROWTH,
  BBR_LOSS_THRESH,
  BBR_MAX_RENO_PROBE_ROUNDS,
  BBR_MIN_PIPE_CWND_SEGMENTS,
  BBR_PROBE_BW_CRUISE_PACING_GAIN,
  BBR_PROBE_BW_DOWN_PACING_GAIN,
  BBR_PROBE_BW_UP_CWND_GAIN,
  BBR_PROBE_BW_UP_PACING_GAIN,
  BBR_PROBE_RTT_CWND_GAIN,
  BBR_PROBE_RTT_DURATION_MS,
  BBR_STARTUP_FULL_LOSS_COUNT,
  BBR_STARTUP_PACING_GAIN,
  BbrAckPhase,
  BbrState,
} from './constants.js';
import {
  grownCwnd,
  inflightWithHeadroom,
  maxInflightFor,
  minPipeCwnd,
  modelCwndCap,
  pacingRateWithGain,
  probeRttCwnd,
  quantizationBudget,
  sendQuantumFor,
} from './control.js';
import { AckSampleAdapter } from './ack-adapter.js';
import { BbrModel } from './model.js';
import { seededRandom } from './random.js';

/** Options of {@link Bbr}. */
export interface BbrOptions {
  /** Maximum datagram size (C.SMSS for QUIC) in bytes; default 1200. */
  maxDatagramSize?: number;
  /** C.InitialCwnd in bytes; default per RFC 9002 §7.2. */
  initialWindow?: number;
  /** Time of creation, ms (the draft's OnInit stamps); default 0. */
  now?: number;
  /** Uniform random numbers in [0, 1) for PickProbeWait; default a generator seeded by `randomSeed`. */
  random?: () => number;
  /** Seed of the default generator; default 1. */
  randomSeed?: number;
}

/** "Not set" for the ProbeRTT done stamp (the draft uses 0, a valid virtual time here). */
const UNSET = -1;

/** BBRv3 for one path. Times ms, volumes bytes, rates bytes per ms. */
export class Bbr implements CongestionController {
  /** The path model (exposed read-mostly for tests and qlog). */
  readonly model: BbrModel;
  #smss: number;
  readonly #fixedInitialWindow: number | undefined;
  readonly #random: () => number;

  #state: BbrState = BbrState.STARTUP;
  #pacingGain = BBR_STARTUP_PACING_GAIN;
  #cwndGain = BBR_DEFAULT_CWND_GAIN;
  #cwnd: number;
  #pacingRate: number;
  #sendQuantum: number;
  #priorCwnd = 0;

  // Startup / full pipe (draft "Startup Parameters and State").
  #fullBwReached = false;
  #fullBwNow = false;
  #fullBw = 0;
  #fullBwCount = 0;
  #drainStartRound = 0;

  // ProbeBW (draft "ProbeBW State").
  #ackPhase: BbrAckPhase = BbrAckPhase.INIT;
  #isBwProbeSample = false;
  #bwProbeUpAcked = 0;
  #probeUpAckedPerInc = Infinity;
  #bwProbeUpRounds = 0;
  #bwProbeWait = 0;
  #cycleStamp = 0;
  #prevProbeTooHigh = false;
  #prevProbePrecautionary = false;

  // ProbeRTT and idle restart.
  #probeRttDoneStamp = UNSET;
  #probeRttRoundDone = false;
  #idleRestart = false;

  // Undo state (draft "Undo State"); -1 = None.
  #undoState: BbrState | -1 = -1;
  #undoBwShortterm = 0;
  #undoInflightShortterm = 0;
  #undoInflightLongterm = 0;

  // Connection state the controller mirrors (draft "Transport Connection State").
  #delivered = 0;
  #bytesInFlight = 0;
  /** C.app_limited: delivered value ending the application-limited phase; 0 when not limited. */
  #appLimitedUntil = 0;
  #cwndLimitedThisRound = false;
  #cwndLimitedLastRound = false;
  #recoveryStartTime = -Infinity;
  #inRecovery = false;
  #recoveryStartRound = 0;
  #hadRttSample = false;
  /** Loss detail arrived for the current loss batch; onPacketsLost must not count it again. */
  #lossDetailSeen = false;
  /** Bytes lost in the current (or last) loss episode, and how many proved spurious. */
  #episodeLostBytes = 0;
  #episodeSpuriousBytes = 0;

  // Startup high-loss exit, per round.
  #lostInRound = 0;
  #lossEventsInRound = 0;
  #deliveredAtRoundStart = 0;

  /** Rate samples for callers that give only the AckSample summary; also keeps C.lost. */
  readonly #adapter = new AckSampleAdapter();

  constructor(options: BbrOptions = {}) {
    const now = options.now ?? 0;
    this.#smss = options.maxDatagramSize ?? 1200;
    this.#fixedInitialWindow = options.initialWindow;
    this.#random = options.random ?? seededRandom(options.randomSeed ?? 1);
    this.model = new BbrModel(now);
    this.#cwnd = this.initialWindow;
    // Draft InitPacingRate: nominal bandwidth = InitialCwnd / (srtt or 1 ms); redone at the first
    // RTT sample (onPacketsAcked), as the draft computes it "after the first non-zero RTT sample".
    this.#pacingRate = BBR_STARTUP_PACING_GAIN * this.initialWindow;
    this.#sendQuantum = sendQuantumFor(this.#pacingRate, this.#smss);
    this.model.resetCongestionSignals();
    this.model.resetShortTermModel();
    this.#resetFullBw();
    this.#enterStartup();
  }

  // ------------------------------------------------------------------ getters

  get congestionWindow(): number {
    return Math.floor(this.#cwnd);
  }

  get maxDatagramSize(): number {
    return this.#smss;
  }

  /** C.InitialCwnd. */
  get initialWindow(): number {
    return this.#fixedInitialWindow ?? initialWindowFor(this.#smss);
  }

  /** BBR.MinPipeCwnd in bytes. */
  get minPipeCwnd(): number {
    return minPipeCwnd(this.#smss, BBR_MIN_PIPE_CWND_SEGMENTS);
  }

  /** BBR.state. */
  get state(): BbrState {
    return this.#state;
  }

  /** BBR.pacing_gain. */
  get pacingGain(): number {
    return this.#pacingGain;
  }

  /** BBR.cwnd_gain. */
  get cwndGain(): number {
    return this.#cwndGain;
  }

  /** C.send_quantum in bytes. */
  get sendQuantum(): number {
    return this.#sendQuantum;
  }

  /** BBR.full_bw_reached. */
  get fullBwReached(): boolean {
    return this.#fullBwReached;
  }

  /** BBR.max_bw, bytes per ms. */
  get maxBw(): number {
    return this.model.maxBw;
  }

  /** BBR.bw, bytes per ms. */
  get bw(): number {
    return this.model.bw;
  }

  /** BBR.min_rtt, ms. */
  get minRtt(): number {
    return this.model.minRtt;
  }

  /** BBR.inflight_longterm (inflight_hi), bytes. */
  get inflightLongterm(): number {
    return this.model.inflightLongterm;
  }

  /** BBR.inflight_shortterm (inflight_lo), bytes. */
  get inflightShortterm(): number {
    return this.model.inflightShortterm;
  }

  /** BBR.prev_probe_too_high. */
  get prevProbeTooHigh(): boolean {
    return this.#prevProbeTooHigh;
  }

  /** True while in a loss recovery episode (RFC 9002 §7.3.2 recovery period). */
  get inRecovery(): boolean {
    return this.#inRecovery;
  }

  // ------------------------------------------------------------------ CongestionController

  canSend(bytesInFlight: number, packetBytes: number = this.#smss): boolean {
    return bytesInFlight + packetBytes <= this.#cwnd;
  }

  availableWindow(bytesInFlight: number): number {
    const room = Math.floor(this.#cwnd) - bytesInFlight;
    return room > 0 ? room : 0;
  }

  /** C.pacing_rate in bytes per ms; `smoothedRtt` is not used once BBR has its own estimate. */
  pacingRate(_smoothedRtt: number): number {
    return this.#pacingRate;
  }

  onPacketSent(now: number, bytes: number, packetNumber: number, _isRetransmittable: boolean, bytesInFlight: number): void {
    // Draft OnTransmit -> HandleRestartFromIdle, before the first packet after idle.
    if (bytesInFlight - bytes <= 0 && this.#appLimitedUntil !== 0) this.#handleRestartFromIdle(now);
    this.#adapter.onPacketSent(packetNumber);
    // C.is_cwnd_limited: the window was full at some point of the round.
    if (bytesInFlight + this.#smss > this.#cwnd) this.#cwndLimitedThisRound = true;
    this.#bytesInFlight = bytesInFlight;
  }

  onPacketAcked(_now: number, _bytes: number, _timeSent: number, _appLimited: boolean): void {
    // BBR works on the per-ACK rate sample (onPacketsAcked).
  }

  onPacketsAcked(sample: AckSample): void {
    const now = sample.now;
    const rs = sample.rateSample ?? this.#adapter.rateSampleFrom(sample);
    this.#bytesInFlight = sample.bytesInFlight;
    if (rs.hasData) this.#delivered = rs.totalDelivered;
    if (!this.#hadRttSample && sample.rtt.hasSample && sample.rtt.smoothedRtt > 0) {
      this.#hadRttSample = true;
      // Draft InitPacingRate with the first smoothed RTT, while no bandwidth sample exists.
      if (this.model.maxBw === 0) {
        this.#pacingRate = (BBR_STARTUP_PACING_GAIN * this.initialWindow) / sample.rtt.smoothedRtt;
      }
    }
    // RFC 9002 §7.3.2: recovery ends with the acknowledgment of a packet sent after it began;
    // draft "Modulating cwnd in Loss Recovery": restore the last known good cwnd.
    if (this.#inRecovery && sample.largestAckedSentTime > this.#recoveryStartTime) {
      this.#inRecovery = false;
      this.#restoreCwnd();
    }
    if (this.#appLimitedUntil !== 0 && this.#delivered > this.#appLimitedUntil) this.#appLimitedUntil = 0;
    this.#updateOnAck(now, rs, sample.bytesInFlight);
  }

  onPacketLostDetail(now: number, bytes: number, txInFlight: number, lostSinceSent: number, appLimited: boolean): void {
    // Draft HandleLostPacket.
    this.#lossDetailSeen = true;
    this.#noteLoss();
    this.#lostInRound += bytes;
    this.#lossEventsInRound++;
    if (!this.#isBwProbeSample) return;
    if (this.#isInflightTooHigh(lostSinceSent, txInFlight)) {
      this.#handleInflightTooHigh(now, this.#inflightAtLoss(bytes, txInFlight, lostSinceSent), appLimited);
    }
  }

  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void {
    if (lostBytes <= 0) return;
    this.#adapter.lost += lostBytes;
    if (!this.#lossDetailSeen) {
      this.#noteLoss();
      this.#lostInRound += lostBytes;
      this.#lossEventsInRound += Math.max(1, Math.round(lostBytes / this.#smss));
    }
    this.#lossDetailSeen = false;
    // RFC 9002 §7.3.2 recovery period; draft OnEnterFastRecovery saves cwnd and model state
    // (the model state was saved by NoteLoss at the first loss of the round, before any
    // HandleInflightTooHigh of this batch recorded its undo state).
    if (largestLostSentTime > this.#recoveryStartTime) {
      if (!this.#inRecovery) {
        this.#saveCwnd();
        this.#inRecovery = true;
        this.#recoveryStartRound = this.model.roundCount;
        this.#episodeLostBytes = 0;
        this.#episodeSpuriousBytes = 0;
      }
      this.#recoveryStartTime = now;
    }
    this.#episodeLostBytes += lostBytes;
  }

  onPersistentCongestion(_now: number): void {
    // Draft OnEnterRTO (save, then cut); RFC 9002 §7.6.2 fixes the cut at the minimum window.
    this.#saveCwnd();
    this.#saveStateUponLoss();
    this.#cwnd = minimumWindowFor(this.#smss);
    this.#inRecovery = false;
    this.#recoveryStartTime = -Infinity;
  }

  onEcnCongestionEvent(_now: number, _sentTimeOfLargestAcked: number): void {
    // Draft "ECN": CE marks MUST count as congestion; noted like a loss in this round.
    this.#noteLoss();
  }

  onAppLimited(_now: number, bytesInFlight: number): void {
    // Draft MarkConnectionAppLimited, mirrored for HandleRestartFromIdle.
    this.#markAppLimited(bytesInFlight);
  }

  setMaxDatagramSize(bytes: number): void {
    this.#smss = bytes;
    if (this.#cwnd < this.minPipeCwnd) this.#cwnd = this.minPipeCwnd;
  }

  /**
   * Lost packets were acknowledged after all. Once every byte lost in the last loss episode
   * proved spurious, run the draft's HandleSpuriousLossDetection.
   */
  onSpuriousLoss(_now: number, bytes: number, _largestSentTime: number): void {
    if (this.#episodeLostBytes <= 0) return;
    this.#episodeSpuriousBytes += bytes;
    if (this.#episodeSpuriousBytes < this.#episodeLostBytes) return;
    this.#episodeLostBytes = 0;
    this.#episodeSpuriousBytes = 0;
    this.#handleSpuriousLossDetection();
  }

  /** Draft HandleSpuriousLossDetection. */
  #handleSpuriousLossDetection(): void {
    this.#restoreCwnd();
    this.model.isLossInRound = false;
    this.#resetFullBw();
    const m = this.model;
    m.bwShortterm = Math.max(m.bwShortterm, this.#undoBwShortterm);
    m.inflightShortterm = Math.max(m.inflightShortterm, this.#undoInflightShortterm);
    m.inflightLongterm = Math.max(m.inflightLongterm, this.#undoInflightLongterm);
    if (this.#undoState === BbrState.STARTUP && this.#state !== BbrState.STARTUP) {
      this.#fullBwReached = false;
      if (this.#state !== BbrState.PROBE_RTT) this.#enterStartup();
    } else if (this.#undoState === BbrState.PROBE_BW_UP && this.#state !== BbrState.PROBE_BW_UP) {
      if (this.#state !== BbrState.PROBE_RTT) this.#startProbeBwRefill();
    }
    this.#undoState = -1;
  }

  // ------------------------------------------------------------------ per-ACK steps

  /** Draft UpdateOnACK: UpdateModelAndState then UpdateControlParameters. */
  #updateOnAck(now: number, rs: RateSample, inflight: number): void {
    const m = this.model;
    m.updateLatestDeliverySignals(rs);
    this.#updateCongestionSignals(rs);
    m.updateAckAggregation(now, rs.newlyAcked, this.#cwnd, this.#fullBwReached);
    this.#checkFullBwReached(rs);
    this.#checkStartupDone(rs);
    this.#checkDrainDone(now, inflight);
    this.#updateProbeBwCyclePhase(now, rs, inflight);
    m.updateMinRtt(now, rs.rtt);
    this.#checkProbeRtt(now, rs, inflight);
    m.advanceLatestDeliverySignals(rs);
    m.boundBwForModel();
    this.#setPacingRateWithGain(this.#pacingGain);
    this.#sendQuantum = sendQuantumFor(this.#pacingRate, this.#smss);
    this.#setCwnd(rs);
  }

  /** Draft UpdateCongestionSignals (with UpdateMaxBw and the per-round bookkeeping). */
  #updateCongestionSignals(rs: RateSample): void {
    const m = this.model;
    m.updateMaxBw(rs, this.#sampleAppLimited(rs));
    if (m.roundStart) {
      // C.is_cwnd_limited covers the last packet-timed round.
      this.#cwndLimitedLastRound = this.#cwndLimitedThisRound;
      this.#cwndLimitedThisRound = false;
    }
    if (!m.lossRoundStart) return;
    // Draft AdaptLowerBoundsFromCongestion, once per round.
    if (!this.#isProbingBw() && m.isLossInRound) {
      m.initLowerBounds(this.#cwnd);
      m.lossLowerBounds();
    }
    m.isLossInRound = false;
  }

  /** The sample's application-limited mark, widened by the ProbeRTT mark kept here. */
  #sampleAppLimited(rs: RateSample): boolean {
    return rs.isAppLimited || (this.#appLimitedUntil !== 0 && rs.priorDelivered < this.#appLimitedUntil);
  }

  get #isCwndLimited(): boolean {
    return this.#cwndLimitedThisRound || this.#cwndLimitedLastRound;
  }

  /** Draft CheckFullBWReached: three rounds without 25 % growth fill the pipe. */
  #checkFullBwReached(rs: RateSample): void {
    if (this.#fullBwNow || !this.model.roundStart || this.#sampleAppLimited(rs)) return;
    if (rs.deliveryRate >= this.#fullBw * BBR_FULL_BW_GROWTH) {
      this.#resetFullBw();
      this.#fullBw = rs.deliveryRate;
      return;
    }
    this.#fullBwCount++;
    this.#fullBwNow = this.#fullBwCount >= BBR_FULL_BW_COUNT;
    if (this.#fullBwNow) this.#fullBwReached = true;
  }

  #resetFullBw(): void {
    this.#fullBw = 0;
    this.#fullBwCount = 0;
    this.#fullBwNow = false;
  }

  /** Draft CheckStartupDone with CheckStartupHighLoss. */
  #checkStartupDone(rs: RateSample): void {
    if (this.model.roundStart) {
      if (this.#state === BbrState.STARTUP) this.#checkStartupHighLoss(rs);
      this.#lostInRound = 0;
      this.#lossEventsInRound = 0;
      this.#deliveredAtRoundStart = rs.totalDelivered;
    }
    if (this.#state === BbrState.STARTUP && this.#fullBwReached) this.#enterDrain();
  }

  /**
   * Draft "Exiting Startup Based on Packet Loss", evaluated when a round ends: recovery covered
   * the whole round, its loss rate exceeded LossThresh, and at least six losses (packets here,
   * ranges in the draft) were counted.
   */
  #checkStartupHighLoss(rs: RateSample): void {
    if (!this.#inRecovery || this.#recoveryStartRound >= this.model.roundCount - 1) return;
    if (this.#lossEventsInRound < BBR_STARTUP_FULL_LOSS_COUNT) return;
    const deliveredInRound = rs.totalDelivered - this.#deliveredAtRoundStart;
    if (this.#lostInRound <= BBR_LOSS_THRESH * (this.#lostInRound + deliveredInRound)) return;
    this.#undoState = BbrState.STARTUP;
    this.#fullBwReached = true;
    const m = this.model;
    m.bdpMultiple(1, this.initialWindow);
    m.inflightLongterm = Math.max(m.bdp, m.inflightLatest);
  }

  #checkDrainDone(now: number, inflight: number): void {
    if (
      this.#state === BbrState.DRAIN &&
      (inflight <= this.#inflight(this.model.bw, 1) || this.model.roundCount > this.#drainStartRound + 3)
    ) {
      this.#enterProbeBw(now);
    }
  }

  /** Draft UpdateProbeBWCyclePhase. */
  #updateProbeBwCyclePhase(now: number, rs: RateSample, inflight: number): void {
    if (!this.#fullBwReached) return;
    if (this.#adaptLongTermModel(now, rs)) return;
    switch (this.#state) {
      case BbrState.PROBE_BW_DOWN:
        if (this.#isTimeToProbeBw(now)) return;
        if (this.#isTimeToCruise(inflight)) this.#startProbeBwCruise();
        return;
      case BbrState.PROBE_BW_CRUISE:
        this.#isTimeToProbeBw(now);
        return;
      case BbrState.PROBE_BW_REFILL:
        // One round of REFILL, then UP.
        if (this.model.roundStart) {
          this.#isBwProbeSample = true;
          this.#startProbeBwUp(rs);
        }
        return;
      case BbrState.PROBE_BW_UP:
        if (this.#isTimeToGoDown(inflight, rs)) {
          this.#prevProbeTooHigh = false;
          this.#startProbeBwDown(now);
        }
        return;
      default:
        return;
    }
  }

  /** Draft AdaptLongTermModel; true if it decided a state transition. */
  #adaptLongTermModel(now: number, rs: RateSample): boolean {
    const m = this.model;
    if (this.#ackPhase === BbrAckPhase.PROBE_STARTING && m.roundStart) {
      this.#ackPhase = BbrAckPhase.PROBE_FEEDBACK;
    }
    if (this.#ackPhase === BbrAckPhase.PROBE_STOPPING && m.roundStart) {
      // The end of samples from the bandwidth probe.
      this.#isBwProbeSample = false;
      this.#ackPhase = BbrAckPhase.INIT;
      if (this.#inProbeBw() && !rs.isAppLimited) m.advanceMaxBwFilter();
      // Precautionary Bandwidth Probing: Acceleration.
      if (this.#inProbeBw() && this.#prevProbePrecautionary && !this.#prevProbeTooHigh) {
        this.#startProbeBwRefill();
        return true;
      }
    }
    if (this.#isInflightTooHigh(rs.lost, rs.txInFlight)) {
      // The loss rate of the samples from this probe exceeded LossThresh. The draft reacts per
      // lost packet (onPacketLostDetail); this ACK-time check covers callers without that detail
      // and reacts at most once per probe (HandleInflightTooHigh clears is_bw_probe_sample).
      if (this.#isBwProbeSample) {
        const before = this.#state;
        this.#handleInflightTooHigh(now, rs.txInFlight, rs.isAppLimited);
        return this.#state !== before;
      }
      return false;
    }
    // Loss rate is safe: adjust the upper bound upwards.
    if (m.inflightLongterm === Infinity) return false;
    if (rs.txInFlight > m.inflightLongterm) m.inflightLongterm = rs.txInFlight;
    if (this.#state === BbrState.PROBE_BW_UP) this.#probeInflightLongtermUpward(rs);
    return false;
  }

  /** Draft IsInflightTooHigh (QUIC always has selective acknowledgments). */
  #isInflightTooHigh(lost: number, txInFlight: number): boolean {
    return lost > txInFlight * BBR_LOSS_THRESH;
  }

  /** Draft HandleInflightTooHigh. */
  #handleInflightTooHigh(now: number, txInFlight: number, appLimited: boolean): void {
    this.#prevProbeTooHigh = true;
    this.#isBwProbeSample = false;
    const m = this.model;
    if (!appLimited) m.inflightLongterm = Math.max(txInFlight, this.#targetInflight() * BBR_BETA);
    if (this.#state === BbrState.PROBE_BW_UP) {
      this.#undoState = BbrState.PROBE_BW_UP;
      this.#startProbeBwDown(now);
    }
  }

  /** Draft InflightAtLoss: where within the lost packet the loss rate crossed LossThresh. */
  #inflightAtLoss(size: number, txInFlight: number, lostSinceSent: number): number {
    const inflightPrev = txInFlight - size;
    const lostPrev = lostSinceSent - size;
    const lostPrefix = (BBR_LOSS_THRESH * inflightPrev - lostPrev) / (1 - BBR_LOSS_THRESH);
    return inflightPrev + lostPrefix;
  }

  /** Draft NoteLoss. */
  #noteLoss(): void {
    const m = this.model;
    if (!m.isLossInRound) {
      m.lossRoundDelivered = this.#delivered;
      this.#saveStateUponLoss();
    }
    m.isLossInRound = true;
  }

  /** Draft ProbeInflightLongtermUpward. */
  #probeInflightLongtermUpward(rs: RateSample): void {
    const m = this.model;
    if (!this.#isCwndLimited || this.#cwnd < m.inflightLongterm) return;
    this.#bwProbeUpAcked += rs.newlyAcked;
    if (this.#bwProbeUpAcked >= this.#probeUpAckedPerInc) {
      const delta = Math.floor(this.#bwProbeUpAcked / this.#probeUpAckedPerInc);
      this.#bwProbeUpAcked -= delta * this.#probeUpAckedPerInc;
      m.inflightLongterm += delta * this.#smss;
    }
    if (m.roundStart) this.#raiseInflightLongtermSlope();
  }

  /** Draft RaiseInflightLongtermSlope: growth doubles each round of ProbeBW_UP. */
  #raiseInflightLongtermSlope(): void {
    const growthThisRound = 2 ** this.#bwProbeUpRounds;
    this.#bwProbeUpRounds = Math.min(this.#bwProbeUpRounds + 1, 30);
    this.#probeUpAckedPerInc = Math.max(this.#cwnd / growthThisRound, this.#smss);
  }

  #isTimeToCruise(inflight: number): boolean {
    const m = this.model;
    if (inflight > inflightWithHeadroom(m.inflightLongterm, this.minPipeCwnd, this.#smss)) return false;
    return inflight <= this.#inflight(m.maxBw, 1);
  }

  #isTimeToGoDown(inflight: number, rs: RateSample): boolean {
    const m = this.model;
    // Precautionary Bandwidth Probing: Deceleration.
    if (this.#prevProbeTooHigh && inflight >= m.inflightLongterm) {
      this.#prevProbePrecautionary = true;
      return true;
    }
    if (this.#isCwndLimited && this.#cwnd >= m.inflightLongterm) {
      // Bandwidth is limited by inflight_longterm: keep looking for a plateau.
      this.#resetFullBw();
      this.#fullBw = rs.deliveryRate;
    } else if (this.#fullBwNow) {
      return true;
    }
    return false;
  }

  /** Draft IsTimeToProbeBW: wall-clock wait or the Reno-coexistence round count. */
  #isTimeToProbeBw(now: number): boolean {
    if (now > this.#cycleStamp + this.#bwProbeWait || this.#isRenoCoexistenceProbeTime()) {
      this.#startProbeBwRefill();
      return true;
    }
    return false;
  }

  /** Draft PickProbeWait: 0 or 1 extra rounds, 2-3 s of wall clock. */
  #pickProbeWait(): void {
    this.model.roundsSinceProbeUp = Math.floor(this.#random() * 2);
    this.#bwProbeWait = 2000 + this.#random() * 1000;
  }

  #isRenoCoexistenceProbeTime(): boolean {
    const renoRounds = this.#targetInflight() / this.#smss;
    const rounds = renoRounds < BBR_MAX_RENO_PROBE_ROUNDS ? renoRounds : BBR_MAX_RENO_PROBE_ROUNDS;
    return this.model.roundsSinceProbeUp >= rounds;
  }

  /** Draft TargetInflight: the BDP unless congestion cut cwnd. */
  #targetInflight(): number {
    const m = this.model;
    m.bdpMultiple(1, this.initialWindow);
    const bdp = m.minRtt === Infinity ? this.initialWindow : m.bdp;
    return bdp < this.#cwnd ? bdp : this.#cwnd;
  }

  /** Draft CheckProbeRTT. */
  #checkProbeRtt(now: number, rs: RateSample, inflight: number): void {
    const m = this.model;
    if (this.#state !== BbrState.PROBE_RTT && m.probeRttExpired && !this.#idleRestart) {
      this.#enterProbeRtt();
      this.#saveCwnd();
      this.#probeRttDoneStamp = UNSET;
      this.#ackPhase = BbrAckPhase.PROBE_STOPPING;
      m.startRound(this.#delivered);
    }
    if (this.#state === BbrState.PROBE_RTT) this.#handleProbeRtt(now, inflight);
    if (rs.delivered > 0) this.#idleRestart = false;
  }

  #handleProbeRtt(now: number, inflight: number): void {
    // Low rate samples during ProbeRTT must not lower the model.
    this.#markAppLimited(inflight);
    const m = this.model;
    if (this.#probeRttDoneStamp === UNSET && inflight <= probeRttCwnd(m, this.initialWindow, this.minPipeCwnd)) {
      // Hold for ProbeRTTDuration and at least one round.
      this.#probeRttDoneStamp = now + BBR_PROBE_RTT_DURATION_MS;
      this.#probeRttRoundDone = false;
      m.startRound(this.#delivered);
    } else if (this.#probeRttDoneStamp !== UNSET) {
      if (m.roundStart) this.#probeRttRoundDone = true;
      if (this.#probeRttRoundDone) this.#checkProbeRttDone(now);
    }
  }

  #checkProbeRttDone(now: number): void {
    if (this.#probeRttDoneStamp !== UNSET && now > this.#probeRttDoneStamp) {
      // Schedule the next ProbeRTT.
      this.model.probeRttMinStamp = now;
      this.#restoreCwnd();
      this.#exitProbeRtt(now);
    }
  }

  #exitProbeRtt(now: number): void {
    this.model.resetShortTermModel();
    if (this.#fullBwReached) {
      this.#startProbeBwDown(now);
      this.#startProbeBwCruise();
    } else {
      this.#enterStartup();
    }
  }

  /** Draft HandleRestartFromIdle. */
  #handleRestartFromIdle(now: number): void {
    this.#idleRestart = true;
    this.model.extraAckedIntervalStart = now;
    if (this.#inProbeBw()) this.#setPacingRateWithGain(1);
    else if (this.#state === BbrState.PROBE_RTT) this.#checkProbeRttDone(now);
  }

  #markAppLimited(inflight: number): void {
    const until = this.#delivered + inflight;
    this.#appLimitedUntil = until > 1 ? until : 1;
  }

  // ------------------------------------------------------------------ state entries

  #enterStartup(): void {
    this.#state = BbrState.STARTUP;
    this.#pacingGain = BBR_STARTUP_PACING_GAIN;
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
  }

  #enterDrain(): void {
    this.#state = BbrState.DRAIN;
    this.#pacingGain = BBR_DRAIN_PACING_GAIN;
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
    this.#drainStartRound = this.model.roundCount;
  }

  #enterProbeBw(now: number): void {
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
    this.#startProbeBwDown(now);
  }

  #startProbeBwDown(now: number): void {
    this.model.resetCongestionSignals();
    this.#probeUpAckedPerInc = Infinity;
    this.#pickProbeWait();
    this.#cycleStamp = now;
    this.#ackPhase = BbrAckPhase.PROBE_STOPPING;
    this.model.startRound(this.#delivered);
    this.#state = BbrState.PROBE_BW_DOWN;
    this.#pacingGain = BBR_PROBE_BW_DOWN_PACING_GAIN;
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
  }

  #startProbeBwCruise(): void {
    this.#state = BbrState.PROBE_BW_CRUISE;
    this.#pacingGain = BBR_PROBE_BW_CRUISE_PACING_GAIN;
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
  }

  #startProbeBwRefill(): void {
    this.model.resetShortTermModel();
    this.#bwProbeUpRounds = 0;
    this.#bwProbeUpAcked = 0;
    this.#prevProbePrecautionary = false;
    this.#ackPhase = BbrAckPhase.REFILLING;
    this.model.startRound(this.#delivered);
    this.#state = BbrState.PROBE_BW_REFILL;
    this.#pacingGain = BBR_PROBE_BW_CRUISE_PACING_GAIN;
    this.#cwndGain = BBR_DEFAULT_CWND_GAIN;
  }

  #startProbeBwUp(rs: RateSample): void {
    this.#ackPhase = BbrAckPhase.PROBE_STARTING;
    this.model.startRound(this.#delivered);
    this.#resetFullBw();
    this.#fullBw = rs.deliveryRate;
    this.#state = BbrState.PROBE_BW_UP;
    this.#pacingGain = BBR_PROBE_BW_UP_PACING_GAIN;
    this.#cwndGain = BBR_PROBE_BW_UP_CWND_GAIN;
    this.#raiseInflightLongtermSlope();
  }

  #enterProbeRtt(): void {
    this.#state = BbrState.PROBE_RTT;
    this.#pacingGain = 1;
    this.#cwndGain = BBR_PROBE_RTT_CWND_GAIN;
  }

  #inProbeBw(): boolean {
    const s = this.#state;
    return (
      s === BbrState.PROBE_BW_DOWN ||
      s === BbrState.PROBE_BW_CRUISE ||
      s === BbrState.PROBE_BW_REFILL ||
      s === BbrState.PROBE_BW_UP
    );
  }

  #isProbingBw(): boolean {
    const s = this.#state;
    return s === BbrState.STARTUP || s === BbrState.PROBE_BW_REFILL || s === BbrState.PROBE_BW_UP;
  }

  // ------------------------------------------------------------------ control parameters

  /** Draft Inflight(bw, gain): gain * bw * min_rtt, quantized. */
  #inflight(bw: number, gain: number): number {
    const m = this.model;
    const bdp = m.minRtt === Infinity ? this.initialWindow : gain * bw * m.minRtt;
    return quantizationBudget(bdp, this.#sendQuantum, this.minPipeCwnd, this.#smss, this.#state);
  }

  #setPacingRateWithGain(gain: number): void {
    const rate = pacingRateWithGain(gain, this.model.bw);
    if (rate > 0 && (this.#fullBwReached || rate > this.#pacingRate)) this.#pacingRate = rate;
  }

  /** Draft SetCwnd with BoundCwndForProbeRTT and BoundCwndForModel. */
  #setCwnd(rs: RateSample): void {
    const minPipe = this.minPipeCwnd;
    const m = this.model;
    const maxInflight = maxInflightFor(m, this.#cwndGain, this.initialWindow, this.#sendQuantum, minPipe, this.#smss, this.#state);
    let cwnd = grownCwnd(this.#cwnd, rs.newlyAcked, maxInflight, this.#fullBwReached, rs.totalDelivered, this.initialWindow, minPipe);
    if (this.#state === BbrState.PROBE_RTT) {
      const probeCwnd = probeRttCwnd(m, this.initialWindow, minPipe);
      if (cwnd > probeCwnd) cwnd = probeCwnd;
    }
    const cap = modelCwndCap(this.#state, m, minPipe, this.#smss);
    this.#cwnd = cwnd < cap ? cwnd : cap;
  }

  /** Draft SaveCwnd: remember the last cwnd not reduced by recovery or ProbeRTT. */
  #saveCwnd(): void {
    if (!this.#inRecovery && this.#state !== BbrState.PROBE_RTT) this.#priorCwnd = this.#cwnd;
    else if (this.#cwnd > this.#priorCwnd) this.#priorCwnd = this.#cwnd;
  }

  #restoreCwnd(): void {
    if (this.#priorCwnd > this.#cwnd) this.#cwnd = this.#priorCwnd;
  }

  /** Draft SaveStateUponLoss. */
  #saveStateUponLoss(): void {
    this.#saveCwnd();
    this.#undoState = -1;
    const m = this.model;
    this.#undoBwShortterm = m.bwShortterm;
    this.#undoInflightShortterm = m.inflightShortterm;
    this.#undoInflightLongterm = m.inflightLongterm;
  }
}
