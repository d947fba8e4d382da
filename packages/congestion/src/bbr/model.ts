/**
 * BBR's network path model (draft-ietf-ccwg-bbr "Updating Network Path Model Parameters" and
 * "Updating the Model Upon Packet Loss"): packet-timed rounds, the max_bw filter, min_rtt with the
 * ProbeRTT schedule, ACK aggregation (extra_acked), and the short- and long-term bounds learned
 * from loss. The state machine in bbr.ts drives it; fields are public for that owner and for tests.
 * Times ms, volumes bytes, rates bytes per ms.
 */

import type { RateSample } from '../delivery-rate.js';
import {
  BBR_BETA,
  BBR_EXTRA_ACKED_FILTER_LEN,
  BBR_MAX_BW_FILTER_LEN,
  BBR_MIN_RTT_FILTER_LEN_MS,
  BBR_PROBE_RTT_INTERVAL_MS,
} from './constants.js';
import { WindowedMaxFilter } from './filters.js';

/** BBR's path model for one path. */
export class BbrModel {
  // ---- packet-timed rounds (draft "BBR.round_count")
  /** BBR.round_count. */
  roundCount = 0;
  /** BBR.round_start: this ACK started a new round. */
  roundStart = false;
  /** BBR.next_round_delivered. */
  nextRoundDelivered = 0;
  /** BBR.rounds_since_probe_up. */
  roundsSinceProbeUp = 0;

  // ---- data rate
  /** BBR.max_bw_filter over BBR.cycle_count. */
  readonly maxBwFilter = new WindowedMaxFilter(BBR_MAX_BW_FILTER_LEN);
  /** BBR.max_bw. */
  maxBw = 0;
  /** BBR.cycle_count, the max_bw filter's virtual time. */
  cycleCount = 0;
  /** BBR.bw_shortterm. */
  bwShortterm = Infinity;
  /** BBR.bw = min(max_bw, bw_shortterm). */
  bw = 0;

  // ---- min_rtt and the ProbeRTT schedule
  /** BBR.min_rtt, ms. */
  minRtt = Infinity;
  /** BBR.min_rtt_stamp, ms. */
  minRttStamp: number;
  /** BBR.probe_rtt_min_delay, ms. */
  probeRttMinDelay = Infinity;
  /** BBR.probe_rtt_min_stamp, ms. */
  probeRttMinStamp: number;
  /** BBR.probe_rtt_expired. */
  probeRttExpired = false;

  // ---- data volume
  /** BBR.bdp = bw * min_rtt. */
  bdp = 0;
  /** BBR.extra_acked. */
  extraAcked = 0;
  /** BBR.extra_acked_filter over BBR.round_count. */
  readonly extraAckedFilter = new WindowedMaxFilter(BBR_EXTRA_ACKED_FILTER_LEN);
  /** BBR.extra_acked_interval_start, ms. */
  extraAckedIntervalStart: number;
  /** BBR.extra_acked_delivered. */
  extraAckedDelivered = 0;
  /** BBR.inflight_longterm. */
  inflightLongterm = Infinity;
  /** BBR.inflight_shortterm. */
  inflightShortterm = Infinity;

  // ---- congestion signals of the current round
  /** BBR.bw_latest: one-round max of delivery rate samples. */
  bwLatest = 0;
  /** BBR.inflight_latest: one-round max of RS.delivered. */
  inflightLatest = 0;
  /** BBR.loss_round_delivered. */
  lossRoundDelivered = 0;
  /** BBR.loss_round_start. */
  lossRoundStart = false;
  /** BBR.is_loss_in_round. */
  isLossInRound = false;

  constructor(now: number) {
    this.minRttStamp = now;
    this.probeRttMinStamp = now;
    this.extraAckedIntervalStart = now;
  }

  /** Draft StartRound. */
  startRound(totalDelivered: number): void {
    this.nextRoundDelivered = totalDelivered;
  }

  /** Draft UpdateRound: a round ends when a packet sent after its start is acknowledged. */
  updateRound(rs: RateSample): void {
    if (rs.hasData && rs.priorDelivered >= this.nextRoundDelivered) {
      this.startRound(rs.totalDelivered);
      this.roundCount++;
      this.roundsSinceProbeUp++;
      this.roundStart = true;
    } else {
      this.roundStart = false;
    }
  }

  /**
   * Draft UpdateMaxBw: application-limited samples count only when they exceed the estimate.
   * `appLimited` is the sample's mark (possibly widened by the owner, e.g. in ProbeRTT).
   */
  updateMaxBw(rs: RateSample, appLimited: boolean): void {
    this.updateRound(rs);
    if (rs.deliveryRate > 0 && (rs.deliveryRate >= this.maxBw || !appLimited)) {
      this.maxBw = this.maxBwFilter.update(rs.deliveryRate, this.cycleCount);
    }
  }

  /** Draft AdvanceMaxBwFilter: one ProbeBW cycle passed; samples older than the window age out. */
  advanceMaxBwFilter(): void {
    this.cycleCount++;
    this.maxBw = this.maxBwFilter.update(0, this.cycleCount);
  }

  /** Draft UpdateMinRTT. `rtt` is the sample's RTT or negative if none. */
  updateMinRtt(now: number, rtt: number): void {
    this.probeRttExpired = now > this.probeRttMinStamp + BBR_PROBE_RTT_INTERVAL_MS;
    if (rtt >= 0 && (rtt < this.probeRttMinDelay || this.probeRttExpired)) {
      this.probeRttMinDelay = rtt;
      this.probeRttMinStamp = now;
    }
    const minRttExpired = now > this.minRttStamp + BBR_MIN_RTT_FILTER_LEN_MS;
    if (this.probeRttMinDelay < this.minRtt || minRttExpired) {
      this.minRtt = this.probeRttMinDelay;
      this.minRttStamp = this.probeRttMinStamp;
    }
  }

  /** Draft UpdateACKAggregation: the excess of data acknowledged over what bw predicts. */
  updateAckAggregation(now: number, newlyAcked: number, cwnd: number, fullBwReached: boolean): void {
    const interval = now - this.extraAckedIntervalStart;
    let expected = this.bw * interval;
    // The ACK rate fell below the expected rate: the aggregation episode ended.
    if (this.extraAckedDelivered <= expected) {
      this.extraAckedDelivered = 0;
      this.extraAckedIntervalStart = now;
      expected = 0;
    }
    this.extraAckedDelivered += newlyAcked;
    let extra = this.extraAckedDelivered - expected;
    if (extra > cwnd) extra = cwnd;
    // In Startup only one round is remembered.
    this.extraAckedFilter.windowLength = fullBwReached ? BBR_EXTRA_ACKED_FILTER_LEN : 1;
    this.extraAcked = this.extraAckedFilter.update(extra, this.roundCount);
  }

  /** Draft UpdateLatestDeliverySignals (near the start of ACK processing). */
  updateLatestDeliverySignals(rs: RateSample): void {
    this.lossRoundStart = false;
    if (rs.deliveryRate > this.bwLatest) this.bwLatest = rs.deliveryRate;
    if (rs.delivered > this.inflightLatest) this.inflightLatest = rs.delivered;
    if (rs.hasData && rs.priorDelivered >= this.lossRoundDelivered) {
      this.lossRoundDelivered = rs.totalDelivered;
      this.lossRoundStart = true;
    }
  }

  /** Draft AdvanceLatestDeliverySignals (near the end of ACK processing). */
  advanceLatestDeliverySignals(rs: RateSample): void {
    if (this.lossRoundStart) {
      this.bwLatest = rs.deliveryRate;
      this.inflightLatest = rs.delivered;
    }
  }

  /** Draft ResetCongestionSignals. */
  resetCongestionSignals(): void {
    this.isLossInRound = false;
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }

  /** Draft ResetShortTermModel. */
  resetShortTermModel(): void {
    this.bwShortterm = Infinity;
    this.inflightShortterm = Infinity;
  }

  /** Draft InitLowerBounds: the first congestion episode of the cycle. */
  initLowerBounds(cwnd: number): void {
    if (this.bwShortterm === Infinity) this.bwShortterm = this.maxBw;
    if (this.inflightShortterm === Infinity) this.inflightShortterm = cwnd;
  }

  /** Draft LossLowerBounds: once per round with loss, move towards the latest delivery process. */
  lossLowerBounds(): void {
    this.bwShortterm = Math.max(this.bwLatest, BBR_BETA * this.bwShortterm);
    this.inflightShortterm = Math.max(this.inflightLatest, BBR_BETA * this.inflightShortterm);
  }

  /** Draft BoundBWForModel. */
  boundBwForModel(): void {
    this.bw = this.maxBw < this.bwShortterm ? this.maxBw : this.bwShortterm;
  }

  /** Draft BDPMultiple: gain * bw * min_rtt, or the initial window before an RTT sample. Sets `bdp`. */
  bdpMultiple(gain: number, initialCwnd: number): number {
    if (this.minRtt === Infinity) return initialCwnd;
    this.bdp = this.bw * this.minRtt;
    return gain * this.bdp;
  }
}
