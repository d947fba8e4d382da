/**
 * The interface between loss recovery and a congestion controller (RFC 9002 §7).
 *
 * Loss recovery (the sent-packet tracker in @purequic/quic) owns bytes in flight and decides
 * which packets are acknowledged or lost; the controller only hears about those events and
 * answers how much may be sent. Controllers are frame-blind and sans-IO: every input carries
 * `now` in milliseconds, and nothing here reads a clock or arms a timer.
 *
 * Call order for one ACK frame (RFC 9002 A.7 processes losses before acknowledgments grow
 * the window): `onEcnCongestionEvent` if the peer's CE count grew, `onPacketsLost` if in-flight
 * packets were declared lost, `onPersistentCongestion` if that loss established it, then
 * `onPacketAcked` once per newly acknowledged in-flight packet (ascending packet number), then
 * `onPacketsAcked` once with the aggregate `AckSample`.
 */

import type { DeliveryRateEstimator, RateSample } from './delivery-rate.js';

/** Read-only view of the path's RTT estimate (RFC 9002 §5); all values in ms. */
export interface RttView {
  /** Most recent RTT sample (§5.1); 0 before the first sample. */
  readonly latestRtt: number;
  /** Exponentially weighted RTT (§5.3); the initial RTT before the first sample. */
  readonly smoothedRtt: number;
  /** Mean deviation of RTT samples (§5.3). */
  readonly rttVar: number;
  /** Minimum RTT seen (§5.2); 0 before the first sample. */
  readonly minRtt: number;
  /** False until the first RTT sample was taken. */
  readonly hasSample: boolean;
}

/**
 * What one ACK frame delivered, handed to the controller once per ACK frame that newly
 * acknowledged at least one packet. The object may be reused by the caller: read it during
 * the call, never keep it.
 *
 * The delivery-rate fields follow draft-cheng-iccrg-delivery-rate-estimation §3 (the rate
 * sample BBR consumes); window-based controllers can ignore them.
 */
export interface AckSample {
  /** Time the ACK was processed, ms. */
  now: number;
  /** Sum of the sizes of the newly acknowledged in-flight packets. */
  ackedBytes: number;
  /** Number of newly acknowledged in-flight packets. */
  ackedPackets: number;
  /** Packet number of the largest newly acknowledged packet (any packet, in flight or not). */
  largestAckedPacketNumber: number;
  /** Send time of that packet, ms. */
  largestAckedSentTime: number;
  /** Bytes in flight before the acknowledged packets were released. */
  priorBytesInFlight: number;
  /** Bytes in flight after the acknowledged (and any lost) packets were released. */
  bytesInFlight: number;
  /** True when this ACK produced a new RTT sample (RFC 9002 §5.1). */
  rttUpdated: boolean;
  /** The path's RTT estimate after this ACK. */
  rtt: RttView;
  /** Bytes delivered over the connection's lifetime, including this ACK. */
  delivered: number;
  /** Value of `delivered` when the sampled packet was sent. */
  priorDelivered: number;
  /** Interval of the rate sample, ms; 0 when there is no valid sample. */
  deliveryInterval: number;
  /** Delivery rate in bytes per ms, `(delivered - priorDelivered) / deliveryInterval`; 0 when no valid sample. */
  deliveryRate: number;
  /** Bytes in flight when the sampled packet was sent (BBR's tx_in_flight). */
  sampleTxInFlight: number;
  /** True when the sampled packet was sent while the sender was application-limited. */
  appLimited: boolean;
  /**
   * Optional full rate sample from a {@link DeliveryRateEstimator} run by the caller
   * (draft-ietf-ccwg-bbr "Delivery Rate Samples"); BBR prefers it to the summary fields above,
   * window-based controllers ignore it. Reused by the caller like the rest of this object.
   */
  rateSample?: RateSample;
}

/** Creates an `AckSample` with every field zero, for callers that reuse one object. */
export function createAckSample(rtt: RttView): AckSample {
  return {
    now: 0,
    ackedBytes: 0,
    ackedPackets: 0,
    largestAckedPacketNumber: -1,
    largestAckedSentTime: 0,
    priorBytesInFlight: 0,
    bytesInFlight: 0,
    rttUpdated: false,
    rtt,
    delivered: 0,
    priorDelivered: 0,
    deliveryInterval: 0,
    deliveryRate: 0,
    sampleTxInFlight: 0,
    appLimited: false,
  };
}

/**
 * A sender-side congestion controller for one path (RFC 9002 §7). Bytes in flight are not kept
 * here; the caller passes them where a decision needs them.
 */
export interface CongestionController {
  /** Bytes allowed in flight. */
  readonly congestionWindow: number;
  /** The datagram size windows are counted in (RFC 9002 B.2 max_datagram_size). */
  readonly maxDatagramSize: number;

  /**
   * True if a packet of `packetBytes` (default `maxDatagramSize`) may be sent with
   * `bytesInFlight` already outstanding (RFC 9002 §7: bytes in flight must not exceed the
   * window). PTO probes bypass this check (§7.5).
   */
  canSend(bytesInFlight: number, packetBytes?: number): boolean;

  /** Bytes that may still be sent before the window is full (never negative). */
  availableWindow(bytesInFlight: number): number;

  /** Pacing rate in bytes per ms for the given smoothed RTT (RFC 9002 §7.7). */
  pacingRate(smoothedRtt: number): number;

  /**
   * An in-flight packet was sent (RFC 9002 B.4). `bytesInFlight` includes this packet.
   * Packets that are not in flight (ACK-only) are not reported.
   */
  onPacketSent(now: number, bytes: number, packetNumber: number, isRetransmittable: boolean, bytesInFlight: number): void;

  /**
   * One newly acknowledged in-flight packet (RFC 9002 B.5 OnPacketAcked), in ascending
   * packet-number order. `appLimited` is true when the packet was sent while the sender
   * was application-limited (§7.8: do not grow the window on such packets).
   */
  onPacketAcked(now: number, bytes: number, timeSent: number, appLimited: boolean): void;

  /** End of one ACK frame's processing, with its aggregate and delivery-rate sample. */
  onPacketsAcked(sample: AckSample): void;

  /**
   * In-flight packets were declared lost (RFC 9002 B.8). `largestLostSentTime` is the send
   * time of the most recently sent of them; it keys the recovery period (§7.3.2).
   */
  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void;

  /**
   * Optional per-packet loss detail for model-based controllers (draft-ietf-ccwg-bbr
   * "HandleLostPacket"): called once per lost in-flight packet, before `onPacketsLost` for the same
   * batch. `txInFlight` is the packet's bytes in flight at send (itself included), `lostSinceSent`
   * the bytes declared lost since it was sent (itself included: C.lost - P.lost), `appLimited` its
   * application-limited mark. {@link DeliveryRateEstimator.onPacketLost} returns `lostSinceSent`.
   */
  onPacketLostDetail?(now: number, bytes: number, txInFlight: number, lostSinceSent: number, appLimited: boolean): void;

  /** Persistent congestion was established (RFC 9002 §7.6.2): collapse to the minimum window. */
  onPersistentCongestion(now: number): void;

  /**
   * The peer reported an increased ECN-CE count (RFC 9002 B.7); `sentTimeOfLargestAcked` is
   * the send time of the largest packet that ACK acknowledged.
   */
  onEcnCongestionEvent(now: number, sentTimeOfLargestAcked: number): void;

  /** The sender ran out of data to send while the window had room (RFC 9002 §7.8). */
  onAppLimited(now: number, bytesInFlight: number): void;

  /**
   * Optional: in-flight packets that were declared lost were acknowledged after all (the loss
   * was spurious, e.g. reordering), `bytes` of them, the latest sent at `largestSentTime`.
   * Called before the other calls for that ACK frame. A controller may undo a reduction
   * (RFC 9438 §4.9) once everything lost in a congestion event turned out spurious.
   */
  onSpuriousLoss?(now: number, bytes: number, largestSentTime: number): void;

  /**
   * The path's maximum datagram size changed (RFC 9002 §7.2: windows are counted in it).
   */
  setMaxDatagramSize(bytes: number): void;
}

/** RFC 9002 §7.2: initial window = min(10 * mds, max(2 * mds, 14720)). */
export function initialWindowFor(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(2 * maxDatagramSize, 14720));
}

/** RFC 9002 §7.2: minimum window = 2 * mds. */
export function minimumWindowFor(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

/** RFC 9002 §7.7: the N in rate = N * cwnd / smoothed_rtt. */
export const PACING_GAIN = 1.25;

/** RFC 9002 §7.7: rate = N * congestion_window / smoothed_rtt, in bytes per ms. */
export function windowPacingRate(congestionWindow: number, smoothedRtt: number, gain: number = PACING_GAIN): number {
  if (!(smoothedRtt > 0)) return Infinity;
  return (gain * congestionWindow) / smoothedRtt;
}
