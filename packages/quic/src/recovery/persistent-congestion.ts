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
/**
 * The ring starts this small and doubles as packets are sent, up to HISTORY_BITS: an idle
 * connection has sent a few dozen packets, and 8 KB each for 10,000 of them would be 80 MB.
 */
const INITIAL_HISTORY_BITS = 256;

/** Send order and acknowledgment history of one connection. */
export class PersistentCongestionDetector {
  #nextSeq = 0;
  /** Bit per recent send-order number: set once that packet was acknowledged. */
  #acked = new Uint8Array(INITIAL_HISTORY_BITS >>> 3);
  /** Bits in #acked (a power of two). */
  #bits = INITIAL_HISTORY_BITS;

  /** Assigns the next send-order number to a packet being sent. */
  onPacketSent(packet: SentPacket<unknown>): void {
    const seq = this.#nextSeq++;
    packet.seq = seq;
    // Until the ring is full size it has never wrapped (it doubles when `seq` reaches its size),
    // so every bit keeps its index in the larger ring.
    if (seq >= this.#bits && this.#bits < HISTORY_BITS) {
      const larger = new Uint8Array(this.#acked.length * 2);
      larger.set(this.#acked);
      this.#acked = larger;
      this.#bits *= 2;
    }
    const bit = seq & (this.#bits - 1);
    this.#acked[bit >>> 3]! &= ~(1 << (bit & 7));
  }

  /** Records an acknowledged packet (any space, in flight or not). */
  onPacketAcked(packet: SentPacket<unknown>): void {
    const bit = packet.seq & (this.#bits - 1);
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
    if (this.#nextSeq - a > this.#bits) return true;
    const acked = this.#acked;
    const mask = this.#bits - 1;
    for (let s = a + 1; s < b; s++) {
      const bit = s & mask;
      if ((acked[bit >>> 3]! & (1 << (bit & 7))) !== 0) return true;
    }
    return false;
  }
}
