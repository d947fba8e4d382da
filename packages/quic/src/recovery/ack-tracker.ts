/**
 * Receive side of acknowledgments for one packet number space (RFC 9000 §13.2): which packet
 * numbers arrived (as ranges), duplicate detection, when an ACK frame is due, its ranges,
 * ACK Delay and ECN counts, and forgetting ranges once an ACK that carried them was itself
 * acknowledged (§13.2.4).
 *
 * The connection calls `onPacketReceived` after a packet was decrypted (and skips the packet
 * when it returns false), polls `ackDeadline`, writes `ackFrame(now)` into an outgoing packet,
 * then calls `onAckSent()` and keeps the returned largest acknowledged number in that packet's
 * recovery tokens; when that packet is acknowledged it calls `onAckFrameAcked(largest)`.
 */

import { PacketNumberSpace } from './packet-number-space.js';

/** ECN field of the IP header a packet arrived with (RFC 3168 codepoints). */
export const EcnCodepoint = {
  NOT_ECT: 0b00,
  ECT1: 0b01,
  ECT0: 0b10,
  CE: 0b11,
} as const;
export type EcnCodepoint = (typeof EcnCodepoint)[keyof typeof EcnCodepoint];

/** A range of received packet numbers, `smallest <= largest`. */
export interface ReceivedRange {
  smallest: number;
  largest: number;
}

/** ECN counts for an ACK_ECN frame (RFC 9000 §19.3.2). */
export interface AckEcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** Content of an ACK frame to send. Borrowed: valid until the tracker changes. */
export interface PendingAck {
  /** Highest range first, at most the requested number of ranges. */
  readonly ranges: readonly ReceivedRange[];
  /** Time since the largest acknowledged packet arrived, ms (RFC 9000 §13.2.5). */
  ackDelayMs: number;
  /** ECN counts, present once any packet of the space arrived with an ECN codepoint. */
  ecn: AckEcnCounts | undefined;
}

/** Options of {@link AckTracker}. */
export interface AckTrackerOptions {
  /** Our max_ack_delay (RFC 9000 §18.2), ms; applies to the Application Data space. Default 25. */
  maxAckDelayMs?: number;
  /** Ack-eliciting packets that make an Application Data ACK due at once (§13.2.2); default 2. */
  ackElicitingThreshold?: number;
  /** Ranges remembered; beyond it the oldest are dropped (§13.2.3). Default 128. */
  maxRanges?: number;
}

/** Received packet numbers and ACK scheduling for one packet number space. */
export class AckTracker {
  readonly space: PacketNumberSpace;
  #maxAckDelay: number;
  readonly #threshold: number;
  readonly #maxRanges: number;
  /** Ascending, disjoint, non-adjacent ranges. */
  readonly #ranges: ReceivedRange[] = [];
  /** Packet numbers below this are treated as duplicates: their ranges were dropped. */
  #floor = 0;
  #largestReceived = -1;
  #largestReceivedTime = 0;
  #largestAckEliciting = -1;
  #ackElicitingSinceAck = 0;
  /** Packets received since the last ACK frame was sent (any kind). */
  #newSinceAck = 0;
  #deadline = Infinity;
  readonly #ecn: AckEcnCounts = { ect0: 0, ect1: 0, ce: 0 };
  #ecnSeen = false;
  readonly #out: ReceivedRange[] = [];
  readonly #pending: PendingAck = { ranges: this.#out, ackDelayMs: 0, ecn: undefined };

  constructor(space: PacketNumberSpace, options: AckTrackerOptions = {}) {
    this.space = space;
    this.#maxAckDelay = options.maxAckDelayMs ?? 25;
    this.#threshold = options.ackElicitingThreshold ?? 2;
    this.#maxRanges = options.maxRanges ?? 128;
  }

  /** Largest packet number received (RFC 9000 §13.2.3: always kept, for packet number decoding); -1 if none. */
  get largestReceived(): number {
    return this.#largestReceived;
  }

  /**
   * When an ACK frame must be sent (ms): `-Infinity`/a past time means now, Infinity means
   * no ACK is due (nothing ack-eliciting is waiting).
   */
  get ackDeadline(): number {
    return this.#deadline;
  }

  /** True when an ACK frame should go out at `now`. */
  ackDue(now: number): boolean {
    return this.#deadline <= now;
  }

  /** Ack-eliciting packets received since the last ACK frame was sent. */
  get ackElicitingPending(): number {
    return this.#ackElicitingSinceAck;
  }

  /**
   * True when packets arrived since the last ACK frame: an ACK may ride along in any packet
   * sent in this space (§13.2.1), even if none is due yet.
   */
  get hasNewPackets(): boolean {
    return this.#newSinceAck > 0;
  }

  /** Number of ranges remembered. */
  get rangeCount(): number {
    return this.#ranges.length;
  }

  /** Changes our max_ack_delay (e.g. from settings); affects packets received from now on. */
  setMaxAckDelay(ms: number): void {
    this.#maxAckDelay = ms;
  }

  /** True if `pn` was already received (or is too old to tell, below the forgotten ranges). */
  isDuplicate(pn: number): boolean {
    if (pn < this.#floor) return true;
    const i = this.#searchFrom(pn);
    const r = this.#ranges[i];
    return r !== undefined && r.smallest <= pn && pn <= r.largest;
  }

  /**
   * Records a processed packet. Returns false for a duplicate (RFC 9000 §12.3: the packet must
   * not be processed again, and its ECN mark is not counted, §13.4.1).
   */
  onPacketReceived(pn: number, now: number, ackEliciting: boolean, ecn: EcnCodepoint = EcnCodepoint.NOT_ECT): boolean {
    if (pn < this.#floor) return false;
    const rangeIndex = this.#insert(pn);
    if (rangeIndex < 0) return false;
    this.#newSinceAck++;
    if (pn > this.#largestReceived) {
      this.#largestReceived = pn;
      this.#largestReceivedTime = now;
    }
    if (ecn !== EcnCodepoint.NOT_ECT) {
      // RFC 9000 §13.4.1: count each processed packet's ECN codepoint.
      this.#ecnSeen = true;
      if (ecn === EcnCodepoint.ECT0) this.#ecn.ect0++;
      else if (ecn === EcnCodepoint.ECT1) this.#ecn.ect1++;
      else this.#ecn.ce++;
    }
    if (!ackEliciting) {
      // RFC 9000 §13.2.1: a non-ack-eliciting packet never causes an ACK by itself.
      return true;
    }
    this.#ackElicitingSinceAck++;
    let immediate =
      // RFC 9000 §13.2.1: Initial and Handshake packets are acknowledged immediately.
      this.space !== PacketNumberSpace.APPLICATION ||
      // §13.2.2: at least every second ack-eliciting packet.
      this.#ackElicitingSinceAck >= this.#threshold ||
      // §13.2.1: CE-marked packets are acknowledged immediately.
      ecn === EcnCodepoint.CE;
    if (pn < this.#largestAckEliciting) {
      // §13.2.1: out of order, below an ack-eliciting packet already received.
      immediate = true;
    } else {
      // §13.2.1: above the largest ack-eliciting packet with packets missing in between.
      const range = this.#ranges[rangeIndex]!;
      if (range.smallest > this.#largestAckEliciting + 1) immediate = true;
      this.#largestAckEliciting = pn;
    }
    if (immediate) {
      if (now < this.#deadline) this.#deadline = now;
    } else {
      // §13.2.1: within max_ack_delay of the first unacknowledged ack-eliciting packet.
      const due = now + this.#maxAckDelay;
      if (due < this.#deadline) this.#deadline = due;
    }
    return true;
  }

  /**
   * The ACK frame to send now: ranges highest first (at most `maxRanges`, the oldest omitted
   * as RFC 9000 §13.2.3 asks when a frame would be too large), the ACK Delay in ms measured
   * from the arrival of the largest packet (§13.2.5), ECN counts if ever seen. Undefined when
   * there is nothing to acknowledge. Borrowed: use before the next call into this tracker.
   */
  ackFrame(now: number, maxRanges: number = 32): PendingAck | undefined {
    const ranges = this.#ranges;
    if (ranges.length === 0) return undefined;
    const out = this.#out;
    out.length = 0;
    const limit = maxRanges < ranges.length ? maxRanges : ranges.length;
    for (let i = ranges.length - 1; out.length < limit; i--) out.push(ranges[i]!);
    const pending = this.#pending;
    const delay = now - this.#largestReceivedTime;
    pending.ackDelayMs = delay > 0 ? delay : 0;
    pending.ecn = this.#ecnSeen ? this.#ecn : undefined;
    return pending;
  }

  /**
   * An ACK frame from `ackFrame` was sent: nothing is due until new ack-eliciting packets
   * arrive. Returns the frame's Largest Acknowledged, to keep with the sent packet for
   * `onAckFrameAcked` (§13.2.4).
   */
  onAckSent(): number {
    this.#ackElicitingSinceAck = 0;
    this.#newSinceAck = 0;
    this.#deadline = Infinity;
    return this.#largestReceived;
  }

  /**
   * A packet carrying our ACK frame with Largest Acknowledged `largestAcked` was acknowledged:
   * stop reporting ranges at or below it (RFC 9000 §13.2.4). Packets in those ranges are
   * then refused as duplicates (§13.2.3: a minimum packet number replaces the dropped ranges).
   */
  onAckFrameAcked(largestAcked: number): void {
    const ranges = this.#ranges;
    let drop = 0;
    while (drop < ranges.length && ranges[drop]!.largest <= largestAcked) drop++;
    if (drop === 0) return;
    const newFloor = ranges[drop - 1]!.largest + 1;
    ranges.splice(0, drop);
    if (newFloor > this.#floor) this.#floor = newFloor;
  }

  /** Drops all state when the space's keys are discarded (RFC 9001 §4.9). */
  discard(): void {
    this.#ranges.length = 0;
    this.#out.length = 0;
    this.#deadline = Infinity;
    this.#ackElicitingSinceAck = 0;
    this.#newSinceAck = 0;
  }

  /** Ranges highest first, as a new array (tests, diagnostics). */
  rangesSnapshot(): ReceivedRange[] {
    const result: ReceivedRange[] = [];
    for (let i = this.#ranges.length - 1; i >= 0; i--) {
      const r = this.#ranges[i]!;
      result.push({ smallest: r.smallest, largest: r.largest });
    }
    return result;
  }

  /** Throws if the ranges are not ascending, disjoint and non-adjacent, or exceed the bound. */
  assertInvariants(): void {
    const ranges = this.#ranges;
    if (ranges.length > this.#maxRanges) throw new Error(`ack tracker: ${ranges.length} ranges > ${this.#maxRanges}`);
    let previous = this.#floor - 2;
    for (const r of ranges) {
      if (r.smallest > r.largest) throw new Error('ack tracker: inverted range');
      if (r.smallest <= previous + 1) throw new Error('ack tracker: ranges overlap or touch');
      previous = r.largest;
    }
    if (ranges.length > 0 && ranges[ranges.length - 1]!.largest !== this.#largestReceived) {
      throw new Error('ack tracker: top range does not end at the largest received');
    }
  }

  /** Index of the first range whose `largest + 1 >= pn` (the one that could hold or absorb pn). */
  #searchFrom(pn: number): number {
    const ranges = this.#ranges;
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[mid]!.largest + 1 < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds `pn` to the ranges. Returns the index of the range now holding `pn`, or -1 for a
   * duplicate, or when `pn` would be the oldest range and the bound dropped it at once.
   */
  #insert(pn: number): number {
    const ranges = this.#ranges;
    const n = ranges.length;
    // Fast path: the next packet in order extends the top range.
    if (n > 0) {
      const top = ranges[n - 1]!;
      if (pn === top.largest + 1) {
        top.largest = pn;
        return n - 1;
      }
      if (pn > top.largest + 1) {
        ranges.push({ smallest: pn, largest: pn });
        return this.#enforceBound(n);
      }
    } else {
      ranges.push({ smallest: pn, largest: pn });
      return 0;
    }
    const i = this.#searchFrom(pn);
    const r = ranges[i]!; // exists: pn <= top.largest + 1
    if (r.smallest <= pn && pn <= r.largest) return -1;
    if (pn === r.largest + 1) {
      r.largest = pn;
      const next = ranges[i + 1];
      if (next !== undefined && next.smallest === pn + 1) {
        r.largest = next.largest;
        ranges.splice(i + 1, 1);
      }
      return i;
    }
    if (pn === r.smallest - 1) {
      // The range below ends before pn - 1 (else the search would have found it).
      r.smallest = pn;
      return i;
    }
    ranges.splice(i, 0, { smallest: pn, largest: pn });
    return this.#enforceBound(i);
  }

  /** Drops the oldest range when over the bound; returns where index `i` moved to. */
  #enforceBound(i: number): number {
    const ranges = this.#ranges;
    if (ranges.length <= this.#maxRanges) return i;
    const dropped = ranges.shift()!;
    // §13.2.3: a rising minimum packet number stands in for the dropped range.
    this.#floor = dropped.largest + 1;
    return i - 1;
  }
}
