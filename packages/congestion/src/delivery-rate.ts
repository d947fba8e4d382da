/**
 * Delivery-rate sampling as draft-ietf-ccwg-bbr "Delivery Rate Samples" specifies it (the
 * per-connection C state, per-packet P state and the per-ACK rate sample RS).
 *
 * The caller (the sent-packet tracker) keeps one {@link DeliveryPacketState} with each in-flight
 * packet record and calls, in this order:
 *   - `onPacketSent(p, now, bytesInFlight)` after each in-flight packet is sent;
 *   - per ACK frame: `beginAck()`, `onPacketLost(p)` for each packet it declares lost,
 *     `onPacketAcked(p, now)` for each newly acknowledged in-flight packet, then
 *     `endAck(minRtt)`, which completes {@link DeliveryRateEstimator.sample};
 *   - `onPacketLost(p)` (outside an ACK) when a timer declares packets lost;
 *   - `markAppLimited(bytesInFlight)` when the sender runs out of data with room in the window.
 *
 * The sample object is reused: consumers read it during the call it is handed to and never keep it.
 * Times are ms (never negative), volumes bytes, rates bytes per ms.
 */

/**
 * Per-packet delivery state (draft-ietf-ccwg-bbr "Per-packet (P) state"). Field names match the
 * tracker's sent-packet record where it already has them.
 */
export interface DeliveryPacketState {
  /** P.packet_id: the packet number (monotonic within the space being sampled). */
  readonly packetNumber: number;
  /** P.send_time, ms. */
  readonly timeSent: number;
  /** Bytes counted in flight. */
  readonly size: number;
  /** P.delivered: C.delivered when the packet was sent. */
  delivered: number;
  /** P.delivered_time: C.delivered_time when the packet was sent; -1 once acknowledged. */
  deliveredTime: number;
  /** P.first_send_time: C.first_send_time when the packet was sent. */
  firstSentTime: number;
  /** P.is_app_limited. */
  appLimited: boolean;
  /** P.tx_in_flight: bytes in flight right after this packet was sent (itself included). */
  txInFlight: number;
  /** P.lost: C.lost when the packet was sent. */
  lost: number;
}

/** The per-ACK rate sample (draft-ietf-ccwg-bbr "Rate Sample (rs) Output" and "Per-ACK Rate Sample State"). */
export interface RateSample {
  /** True when this ACK newly acknowledged at least one in-flight packet. */
  hasData: boolean;
  /** RS.delivery_rate, bytes per ms; 0 when no reliable sample. */
  deliveryRate: number;
  /** RS.is_app_limited: the newest acknowledged packet was sent while application-limited. */
  isAppLimited: boolean;
  /** RS.interval, ms: the longer of the send and ACK phases; 0 when no reliable sample. */
  interval: number;
  /** RS.delivered: bytes delivered over the sampling interval. */
  delivered: number;
  /** RS.prior_delivered: P.delivered of the newest acknowledged packet. */
  priorDelivered: number;
  /** RS.prior_time: P.delivered_time of the newest acknowledged packet. */
  priorTime: number;
  /** RS.send_elapsed, ms. */
  sendElapsed: number;
  /** RS.ack_elapsed, ms. */
  ackElapsed: number;
  /** RS.newly_acked: bytes newly acknowledged by this ACK. */
  newlyAcked: number;
  /** RS.newly_lost: bytes newly declared lost while processing this ACK. */
  newlyLost: number;
  /** RS.lost: bytes declared lost between the newest acknowledged packet's send and now. */
  lost: number;
  /** RS.tx_in_flight: bytes in flight when the newest acknowledged packet was sent. */
  txInFlight: number;
  /** RS.rtt: now minus the newest acknowledged packet's send time, ms; -1 if none. */
  rtt: number;
  /** RS.last_acked_packet_id; -1 if none. */
  lastAckedPacketNumber: number;
  /** C.delivered after this ACK. */
  totalDelivered: number;
  /** C.lost after this ACK. */
  totalLost: number;
}

/** Creates a zeroed {@link RateSample}, for callers that reuse one object. */
export function createRateSample(): RateSample {
  return {
    hasData: false,
    deliveryRate: 0,
    isAppLimited: false,
    interval: 0,
    delivered: 0,
    priorDelivered: 0,
    priorTime: 0,
    sendElapsed: 0,
    ackElapsed: 0,
    newlyAcked: 0,
    newlyLost: 0,
    lost: 0,
    txInFlight: 0,
    rtt: -1,
    lastAckedPacketNumber: -1,
    totalDelivered: 0,
    totalLost: 0,
  };
}

/** Marker in `deliveredTime` for a packet already acknowledged (the draft uses 0). */
const ACKNOWLEDGED = -1;

/** Connection-side delivery-rate sampler producing one {@link RateSample} per ACK frame. */
export class DeliveryRateEstimator {
  /** The sample completed by the last `endAck` (reused). */
  readonly sample: RateSample = createRateSample();
  /** C.delivered: bytes acknowledged over the connection's lifetime. */
  delivered = 0;
  /** C.lost: bytes declared lost over the connection's lifetime. */
  lost = 0;
  /** C.delivered_time, ms. */
  deliveredTime = 0;
  /** C.first_send_time, ms. */
  firstSentTime = 0;
  /** C.app_limited: `delivered` value that ends the application-limited phase; 0 when not limited. */
  appLimitedUntil = 0;

  /** Draft "Transmitting a data packet": snapshot the delivery state into `p`. `bytesInFlight` includes `p`. */
  onPacketSent(p: DeliveryPacketState, now: number, bytesInFlight: number): void {
    // Nothing was in flight: start the sampling intervals now.
    if (bytesInFlight - p.size <= 0) {
      this.firstSentTime = now;
      this.deliveredTime = now;
    }
    p.firstSentTime = this.firstSentTime;
    p.deliveredTime = this.deliveredTime;
    p.delivered = this.delivered;
    p.appLimited = this.appLimitedUntil !== 0;
    p.txInFlight = bytesInFlight;
    p.lost = this.lost;
  }

  /** Draft InitRateSample: call at the start of each ACK frame. */
  beginAck(): void {
    const rs = this.sample;
    rs.hasData = false;
    rs.rtt = -1;
    rs.priorTime = 0;
    rs.interval = 0;
    rs.deliveryRate = 0;
    rs.delivered = 0;
    rs.newlyAcked = 0;
    rs.newlyLost = 0;
    rs.lost = 0;
    rs.txInFlight = 0;
    rs.isAppLimited = false;
    rs.sendElapsed = 0;
    rs.ackElapsed = 0;
    rs.priorDelivered = 0;
    rs.lastAckedPacketNumber = -1;
  }

  /** Draft UpdateRateSample: one newly acknowledged in-flight packet. */
  onPacketAcked(p: DeliveryPacketState, now: number): void {
    if (p.deliveredTime === ACKNOWLEDGED) return;
    const rs = this.sample;
    this.delivered += p.size;
    this.deliveredTime = now;
    rs.newlyAcked += p.size;
    // The most recently sent packet among those acknowledged carries the sample.
    if (
      !rs.hasData ||
      p.timeSent > this.firstSentTime ||
      (p.timeSent === this.firstSentTime && p.packetNumber > rs.lastAckedPacketNumber)
    ) {
      rs.hasData = true;
      rs.priorDelivered = p.delivered;
      rs.priorTime = p.deliveredTime;
      rs.isAppLimited = p.appLimited;
      rs.sendElapsed = p.timeSent - p.firstSentTime;
      rs.ackElapsed = this.deliveredTime - p.deliveredTime;
      rs.lastAckedPacketNumber = p.packetNumber;
      rs.txInFlight = p.txInFlight;
      rs.lost = this.lost - p.lost;
      rs.rtt = now - p.timeSent;
      this.firstSentTime = p.timeSent;
    }
    p.deliveredTime = ACKNOWLEDGED;
  }

  /**
   * A packet was declared lost: C.lost grows. Returns RS.lost as seen from that packet
   * (C.lost - P.lost, the packet itself included), the `lostSinceSent` BBR's per-loss step needs.
   */
  onPacketLost(p: DeliveryPacketState): number {
    this.lost += p.size;
    this.sample.newlyLost += p.size;
    return this.lost - p.lost;
  }

  /**
   * Draft GenerateRateSample: completes {@link sample} after the ACK's packets were processed.
   * `minRtt` is the path's minimum RTT (0 if unknown). Returns true when the sample carries a
   * delivery rate.
   */
  endAck(minRtt: number): boolean {
    const rs = this.sample;
    // The application-limited bubble is acknowledged and gone.
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    rs.totalDelivered = this.delivered;
    rs.totalLost = this.lost;
    if (!rs.hasData) return false;
    rs.interval = rs.sendElapsed > rs.ackElapsed ? rs.sendElapsed : rs.ackElapsed;
    rs.delivered = this.delivered - rs.priorDelivered;
    // An interval below min_rtt is implausible (ACK compression): no reliable rate.
    if (rs.interval < minRtt || rs.interval <= 0) {
      rs.interval = 0;
      return false;
    }
    rs.deliveryRate = rs.delivered / rs.interval;
    return true;
  }

  /** Draft MarkConnectionAppLimited. */
  markAppLimited(bytesInFlight: number): void {
    const until = this.delivered + bytesInFlight;
    this.appLimitedUntil = until > 1 ? until : 1;
  }
}
