/**
 * Persistent congestion detection (RFC 9002 §7.6): each sent packet gets a send-order number
 * across all spaces, and a ring of bits records which recent ones were acknowledged, so
 * "nothing sent between these two lost packets was acknowledged, in any space" (§7.6.2) is a
 * scan of bits rather than a search through every space.
 */

import type { RttEstimator } from './rtt.js';
import type { SentPacket } from './sent-packet-tracker.js';

/** Send-order window in which the "acknowledged in between?" question is answerable. */
const HISTORY_BITS = 1 << 16;
const HISTORY_MASK = HISTORY_BITS - 1;

/** Send order and acknowledgment history of one connection. */
export class PersistentCongestionDetector {
  #nextSeq = 0;
  /** Bit per recent send-order number: set once that packet was acknowledged. */
  readonly #acked = new Uint8Array(HISTORY_BITS >>> 3);

  /** Assigns the next send-order number to a packet being sent. */
  onPacketSent(packet: SentPacket<unknown>): void {
    const seq = this.#nextSeq++;
    packet.seq = seq;
    const bit = seq & HISTORY_MASK;
    this.#acked[bit >>> 3]! &= ~(1 << (bit & 7));
  }

  /** Records an acknowledged packet (any space, in flight or not). */
  onPacketAcked(packet: SentPacket<unknown>): void {
    const bit = packet.seq & HISTORY_MASK;
    this.#acked[bit >>> 3]! |= 1 << (bit & 7);
  }

  /**
   * RFC 9002 §7.6.2 over one batch of lost packets (ascending send order): true if two
   * ack-eliciting ones, both sent after the first RTT sample, with nothing acknowledged in any
   * space sent between them, were sent further apart than the persistent congestion duration
   * (§7.6.1, max_ack_delay included whatever the space).
   */
  isPersistent(lost: readonly SentPacket<unknown>[], rtt: RttEstimator, maxAckDelay: number, threshold: number): boolean {
    if (!rtt.hasSample) return false;
    const duration = rtt.persistentCongestionDuration(maxAckDelay, threshold);
    let start: SentPacket<unknown> | undefined;
    let previous: SentPacket<unknown> | undefined;
    for (let i = 0; i < lost.length; i++) {
      const p = lost[i]!;
      // §7.6.2: only ack-eliciting packets, only those sent after an RTT sample existed.
      if (!p.ackEliciting || p.timeSent <= rtt.firstSampleTime) continue;
      if (start === undefined || previous === undefined || this.#ackedBetween(previous.seq, p.seq)) {
        start = p;
      } else if (p.timeSent - start.timeSent > duration) {
        return true;
      }
      previous = p;
    }
    return false;
  }

  /** True if any packet sent strictly between send orders `a` and `b` was acknowledged. */
  #ackedBetween(a: number, b: number): boolean {
    // Beyond the history window the answer is unknown: assume an acknowledgment, so a very
    // long outage is never wrongly declared from stale bits (it is simply not declared).
    if (this.#nextSeq - a > HISTORY_BITS) return true;
    const acked = this.#acked;
    for (let s = a + 1; s < b; s++) {
      const bit = s & HISTORY_MASK;
      if ((acked[bit >>> 3]! & (1 << (bit & 7))) !== 0) return true;
    }
    return false;
  }
}
