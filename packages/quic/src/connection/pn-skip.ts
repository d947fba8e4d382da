/**
 * Deliberate gaps in our 1-RTT packet numbers (RFC 9000 §21.4 optimistic ACK attack): a peer
 * that acknowledges a number we never used is acknowledging packets it did not receive, to make
 * us send faster than the path allows. Loss recovery remembers the skipped numbers and answers
 * such an ACK with PROTOCOL_VIOLATION (SentPacketTracker.findUnsent).
 *
 * The gap positions come from the injected RNG, so a peer cannot predict them; they are rare
 * enough (one per MIN_INTERVAL..MIN_INTERVAL+SPAN packets) to cost a legitimate peer one more
 * ACK range now and then.
 */

/** Fewest packets between two skipped numbers. */
const MIN_INTERVAL = 32;
/** The interval is MIN_INTERVAL plus a uniform draw below SPAN. */
const SPAN = 256;

export class PacketNumberSkipper {
  /** The next packet number to skip; -1 until the first packet is sent. */
  #next = -1;

  constructor(private readonly random: (n: number) => Uint8Array) {}

  /**
   * Packet `pn` was just sent. Returns true when the number after it must be skipped (the
   * caller records the skip with loss recovery and moves its next packet number past it).
   */
  skipAfter(pn: number): boolean {
    if (this.#next < 0) this.#next = pn + 1 + this.#interval();
    if (pn + 1 !== this.#next) return false;
    this.#next = pn + 2 + this.#interval();
    return true;
  }

  #interval(): number {
    const b = this.random(2);
    return MIN_INTERVAL + ((((b[0] ?? 0) << 8) | (b[1] ?? 0)) % SPAN);
  }
}
