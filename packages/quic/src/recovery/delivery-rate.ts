/**
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation §3): every in-flight
 * packet is stamped at send with the connection's delivery counters; when acknowledgments
 * arrive, the most recently sent acknowledged packet yields a rate sample for the controller
 * (BBR's input; window-based controllers ignore it). Also tracks application-limited periods
 * (RFC 9002 §7.8) so samples and window growth can discount them.
 */

import type { AckSample } from './congestion-hooks.js';
import type { SentPacket } from './sent-packet-tracker.js';

/** Delivery counters of one connection (path). */
export class DeliveryRateEstimator {
  /** Bytes of in-flight packets acknowledged over the connection's lifetime. */
  delivered = 0;
  /** Bytes of in-flight packets declared lost over the connection's lifetime. */
  lost = 0;
  #deliveredTime = 0;
  #firstSentTime = 0;
  /** `delivered` value up to which samples are application-limited; 0 when not limited. */
  #appLimitedUntil = 0;
  /** Most recently sent packet acknowledged in the current ACK. */
  #sampled: SentPacket<unknown> | undefined;

  /** True while packets are being sent in an application-limited period. */
  get appLimited(): boolean {
    return this.#appLimitedUntil !== 0;
  }

  /** Stamps an in-flight packet at send; `priorInFlight` excludes it (§3.2). */
  onPacketSent(packet: SentPacket<unknown>, now: number, priorInFlight: number): void {
    // §3.2: after an idle period the send and ACK intervals restart at this packet.
    if (priorInFlight === 0) {
      this.#firstSentTime = now;
      this.#deliveredTime = now;
    }
    packet.delivered = this.delivered;
    packet.deliveredTime = this.#deliveredTime;
    packet.firstSentTime = this.#firstSentTime;
    packet.appLimited = this.#appLimitedUntil !== 0;
    packet.txInFlight = priorInFlight + packet.size;
    packet.lostBefore = this.lost;
  }

  /**
   * One in-flight packet declared lost; returns the bytes lost since it was sent, itself
   * included (BBR's C.lost - P.lost, draft-ietf-ccwg-bbr "HandleLostPacket").
   */
  onPacketLost(packet: SentPacket<unknown>): number {
    this.lost += packet.size;
    return this.lost - packet.lostBefore;
  }

  /**
   * The sender is application-limited (RFC 9002 §7.8): packets sent until everything now in
   * flight is delivered carry the mark (BBR's C.app_limited).
   */
  onAppLimited(bytesInFlight: number): void {
    const until = this.delivered + bytesInFlight;
    this.#appLimitedUntil = until > 0 ? until : 1;
  }

  /** One newly acknowledged in-flight packet, in ascending send order within the ACK. */
  onPacketAcked(packet: SentPacket<unknown>): void {
    this.delivered += packet.size;
    this.#sampled = packet;
  }

  /**
   * Writes the rate sample of the ACK just processed into `sample` (`delivered`,
   * `priorDelivered`, `deliveryInterval`, `deliveryRate`, `sampleTxInFlight`, `appLimited`)
   * and starts over for the next ACK.
   */
  finishAck(now: number, minRtt: number, sample: AckSample): void {
    sample.delivered = this.delivered;
    sample.priorDelivered = 0;
    sample.deliveryInterval = 0;
    sample.deliveryRate = 0;
    sample.sampleTxInFlight = 0;
    sample.appLimited = false;
    const p = this.#sampled;
    if (p === undefined) return;
    this.#sampled = undefined;
    this.#deliveredTime = now;
    // §3.3: the interval is the longer of the send and ACK phases, so compression on either
    // side cannot inflate the rate.
    const sendElapsed = p.timeSent - p.firstSentTime;
    const ackElapsed = now - p.deliveredTime;
    const interval = sendElapsed > ackElapsed ? sendElapsed : ackElapsed;
    this.#firstSentTime = p.timeSent;
    sample.priorDelivered = p.delivered;
    sample.sampleTxInFlight = p.txInFlight;
    sample.appLimited = p.appLimited;
    // §3.3: an interval shorter than min_rtt is implausible; no rate then.
    if (interval > 0 && interval >= minRtt) {
      sample.deliveryInterval = interval;
      sample.deliveryRate = (this.delivered - p.delivered) / interval;
    }
    if (this.#appLimitedUntil !== 0 && this.delivered > this.#appLimitedUntil) this.#appLimitedUntil = 0;
  }

  /** A new path: the application-limited mark does not carry over. */
  resetPath(): void {
    this.#appLimitedUntil = 0;
  }
}
