/**
 * What loss recovery calls on a congestion controller. This is the subset of
 * `CongestionController` from @purequic/congestion that recovery drives, restated here
 * structurally because @purequic/quic does not depend on that package: any controller from
 * it (NewReno, later CUBIC and BBR) satisfies this interface as is.
 */

/** Read-only RTT estimate (ms), the shape of `RttEstimator`. */
export interface RttSnapshot {
  readonly latestRtt: number;
  readonly smoothedRtt: number;
  readonly rttVar: number;
  readonly minRtt: number;
  readonly hasSample: boolean;
}

/**
 * Aggregate of one ACK frame's processing, passed to `onPacketsAcked`. Recovery reuses one
 * object: controllers read it during the call and never keep it. Field meanings are those of
 * `AckSample` in @purequic/congestion.
 */
export interface AckSample {
  now: number;
  ackedBytes: number;
  ackedPackets: number;
  largestAckedPacketNumber: number;
  largestAckedSentTime: number;
  priorBytesInFlight: number;
  bytesInFlight: number;
  rttUpdated: boolean;
  rtt: RttSnapshot;
  delivered: number;
  priorDelivered: number;
  deliveryInterval: number;
  deliveryRate: number;
  sampleTxInFlight: number;
  appLimited: boolean;
}

/**
 * The congestion controller as loss recovery sees it. For one ACK frame recovery calls, in
 * this order: `onEcnCongestionEvent` (if the CE count grew), `onPacketsLost` (if in-flight
 * packets were declared lost), `onPersistentCongestion` (if established), `onPacketAcked` per
 * newly acknowledged in-flight packet in ascending packet number, then `onPacketsAcked` once
 * (RFC 9002 A.7: losses are processed before acknowledgments grow the window).
 */
export interface CongestionHooks {
  onPacketSent(now: number, bytes: number, packetNumber: number, isRetransmittable: boolean, bytesInFlight: number): void;
  onPacketAcked(now: number, bytes: number, timeSent: number, appLimited: boolean): void;
  onPacketsAcked(sample: AckSample): void;
  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void;
  /**
   * Optional per-packet loss detail for model-based controllers (BBR): once per lost in-flight
   * packet, before `onPacketsLost` for the same batch. `txInFlight` is the bytes in flight
   * right after it was sent, `lostSinceSent` the bytes declared lost since it was sent (itself
   * included), `appLimited` its application-limited mark.
   */
  onPacketLostDetail?(now: number, bytes: number, txInFlight: number, lostSinceSent: number, appLimited: boolean): void;
  onPersistentCongestion(now: number): void;
  onEcnCongestionEvent(now: number, sentTimeOfLargestAcked: number): void;
  onAppLimited(now: number, bytesInFlight: number): void;
  /**
   * Optional: in-flight packets declared lost earlier were acknowledged after all (before
   * the other calls for that ACK frame); `largestSentTime` is the latest send time among them.
   */
  onSpuriousLoss?(now: number, bytes: number, largestSentTime: number): void;
}
