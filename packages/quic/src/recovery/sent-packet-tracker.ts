/**
 * Sent packets of one packet number space (RFC 9002 §6, A.1): plain records in packet-number
 * order, acknowledgment by ranges, and packet/time-threshold loss detection.
 *
 * Bytes in flight of the space live here and change in exactly two places: `onSent` adds a
 * packet, `#release` removes it, and `#release` is the one path shared by acknowledgment,
 * loss and discard. A record leaves the LIVE state at most once, so its bytes are released at
 * most once, and `assertInvariants` re-derives the counters from the records.
 */

import type { PacketNumberSpace } from './packet-number-space.js';

/** Lifecycle of a sent packet. Only LIVE packets count toward bytes in flight. */
export const SentPacketState = {
  LIVE: 0,
  ACKED: 1,
  LOST: 2,
  DISCARDED: 3,
} as const;
export type SentPacketState = (typeof SentPacketState)[keyof typeof SentPacketState];

/** One range of an ACK frame, absolute packet numbers, `smallest <= largest`. */
export interface AckedRange {
  readonly smallest: number;
  readonly largest: number;
}

/**
 * A sent packet (RFC 9002 A.1.1). `tokens` is the connection's opaque record of what the
 * packet carried; it comes back unchanged when the packet is acknowledged, lost or discarded.
 * Fields other than the RFC ones are recovery bookkeeping; read them, never write them.
 */
export class SentPacket<T> {
  /** Send order across all spaces of the connection (persistent congestion, §7.6.2). */
  seq = 0;
  state: SentPacketState = SentPacketState.LIVE;
  /** Delivery-rate stamps taken at send (draft-cheng-iccrg-delivery-rate-estimation §3.2). */
  delivered = 0;
  deliveredTime = 0;
  firstSentTime = 0;
  /** Bytes in flight right after this packet was sent. */
  txInFlight = 0;
  /** Bytes declared lost on the connection before this packet was sent (BBR's P.lost). */
  lostBefore = 0;
  /** Sent while the sender was application-limited (RFC 9002 §7.8). */
  appLimited = false;
  /**
   * LOST packets stay known until this time so a late acknowledgment reveals the loss as
   * spurious (RFC 9002 A.1, RFC 9000 §13.3); -Infinity otherwise.
   */
  retainUntil = -Infinity;
  /** Set once a LOST packet was acknowledged after all (reported once). */
  spuriouslyLost = false;
  /**
   * Set by the sender right after `onPacketSent` (the one field it writes): a PMTU probe
   * (RFC 9000 §14.4) or a probe on another path, whose loss is no congestion signal.
   */
  congestionExempt = false;

  constructor(
    readonly packetNumber: number,
    readonly timeSent: number,
    readonly size: number,
    readonly ackEliciting: boolean,
    readonly inFlight: boolean,
    readonly tokens: T,
  ) {}
}

/** Skipped packet numbers remembered per space for optimistic-ACK detection. */
const MAX_SKIPPED_REMEMBERED = 8;
/** Compact once this many dead records sit at the front and they are half the array. */
const COMPACT_THRESHOLD = 256;
/**
 * Live records of packets that are not in flight (ACK-only) kept at most. They only tell us,
 * when acknowledged, which of our ACK ranges the peer has seen (RFC 9000 §13.2.4); a peer that
 * never acknowledges must not make us keep one per packet it elicits (issue 12 #6). Beyond
 * this the oldest is forgotten, as if lost (ACK frames are never retransmitted, §13.3).
 */
const MAX_ACK_ONLY_RECORDS = 1024;

/** Sent packets and loss-detection state of one packet number space. */
export class SentPacketTracker<T> {
  readonly space: PacketNumberSpace;
  /** Records in ascending packet number; entries before `#head` are dropped. */
  #packets: SentPacket<T>[] = [];
  #head = 0;
  #bytesInFlight = 0;
  #ackElicitingInFlight = 0;
  #liveCount = 0;
  /** Live records that are not in flight (ACK-only packets). */
  #ackOnlyLive = 0;
  /** Index from which to look for the oldest live ACK-only record (only moves forward). */
  #ackOnlyCursor = 0;
  /** Records (from `#head`) above which dead ones in the middle are swept out. */
  #sweepAt = 4 * COMPACT_THRESHOLD;
  #largestSent = -1;
  #discarded = false;
  /** Recently skipped packet numbers (RFC 9000 §21.4); an ACK naming one is a violation. */
  readonly #skipped: number[] = [];
  /** RFC 9002 A.3 largest_acked_packet; -1 until the first ACK. */
  largestAcked = -1;
  /** RFC 9002 A.3 loss_time; Infinity when no time-threshold loss is pending. */
  lossTime = Infinity;
  /** RFC 9002 A.3 time_of_last_ack_eliciting_packet; -Infinity when none. */
  timeOfLastAckEliciting = -Infinity;

  constructor(space: PacketNumberSpace) {
    this.space = space;
  }

  /** Sum of the sizes of this space's in-flight packets not yet acknowledged, lost or discarded. */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  /** Number of ack-eliciting in-flight packets outstanding (RFC 9002 §6.2). */
  get ackElicitingInFlight(): number {
    return this.#ackElicitingInFlight;
  }

  /** Number of tracked packets (in flight or not). */
  get outstanding(): number {
    return this.#liveCount;
  }

  /** Largest packet number sent in this space; -1 if none. */
  get largestSent(): number {
    return this.#largestSent;
  }

  /** True once the space's keys were discarded (RFC 9002 §6.4). */
  get discarded(): boolean {
    return this.#discarded;
  }

  /** Records a sent packet (RFC 9002 A.5). Packet numbers must increase. */
  onSent(packet: SentPacket<T>): void {
    if (this.#discarded) throw new Error(`recovery: packet sent in discarded space ${this.space}`);
    if (packet.packetNumber <= this.#largestSent) {
      throw new Error(`recovery: packet number ${packet.packetNumber} not above ${this.#largestSent}`);
    }
    this.#largestSent = packet.packetNumber;
    this.#packets.push(packet);
    this.#liveCount++;
    if (!packet.inFlight && ++this.#ackOnlyLive > MAX_ACK_ONLY_RECORDS) this.#forgetOldestAckOnly();
    if (this.#packets.length - this.#head > this.#sweepAt) this.#sweep(packet.timeSent);
    if (packet.inFlight) {
      this.#bytesInFlight += packet.size;
      if (packet.ackEliciting) {
        this.#ackElicitingInFlight++;
        this.timeOfLastAckEliciting = packet.timeSent;
      }
    }
  }

  /**
   * Records that `pn` was deliberately not used (RFC 9000 §21.4: skipping packet numbers
   * exposes a peer that acknowledges packets it never received). Later packets must be above it.
   */
  skip(pn: number): void {
    if (pn <= this.#largestSent) throw new Error(`recovery: skipped packet number ${pn} not above ${this.#largestSent}`);
    this.#largestSent = pn;
    this.#skipped.push(pn);
    if (this.#skipped.length > MAX_SKIPPED_REMEMBERED) this.#skipped.shift();
  }

  /**
   * The largest packet number in `ranges` that was never sent (above the largest sent, or
   * skipped), or -1 if all of them could have been sent. Call before `onAck`.
   */
  findUnsent(ranges: readonly AckedRange[]): number {
    const first = ranges[0];
    if (first === undefined) return -1;
    if (first.largest > this.#largestSent) return first.largest;
    const skipped = this.#skipped;
    for (let i = skipped.length - 1; i >= 0; i--) {
      const pn = skipped[i]!;
      for (let r = 0; r < ranges.length; r++) {
        const range = ranges[r]!;
        if (pn > range.largest) continue;
        if (pn >= range.smallest) return pn;
      }
    }
    return -1;
  }

  /**
   * Marks packets in `ranges` (highest first, as in an ACK frame) acknowledged and appends the
   * newly acknowledged ones to `out` in ascending packet number. Packets declared lost and
   * still retained go to `spurious` instead, once each (their bytes left flight at the loss);
   * other numbers are skipped. Updates `largestAcked` (RFC 9002 A.7).
   */
  onAck(ranges: readonly AckedRange[], now: number, out: SentPacket<T>[], spurious: SentPacket<T>[]): void {
    const first = ranges[0];
    if (first === undefined) return;
    if (first.largest > this.largestAcked) this.largestAcked = first.largest;
    const packets = this.#packets;
    const end = packets.length;
    // Lowest range first, so `out` ends up ascending.
    for (let r = ranges.length - 1; r >= 0; r--) {
      const range = ranges[r]!;
      let i = this.#lowerBound(range.smallest);
      for (; i < end; i++) {
        const p = packets[i]!;
        if (p.packetNumber > range.largest) break;
        if (p.state !== SentPacketState.LIVE) {
          if (p.state === SentPacketState.LOST && !p.spuriouslyLost && p.retainUntil > now) {
            p.spuriouslyLost = true;
            spurious.push(p);
          }
          continue;
        }
        this.#release(p, SentPacketState.ACKED);
        out.push(p);
      }
    }
    this.#trimFront(now);
  }

  /**
   * RFC 9002 §6.1 / A.10 DetectAndRemoveLostPackets: declares lost every live packet at or
   * below the largest acknowledged that is `packetThreshold` packets older than it or was
   * sent `lossDelay` ms before `now`, appending them to `out` in ascending packet number,
   * and re-computes `lossTime` for the rest. Lost packets stay known for `retainMs` to detect
   * spurious losses.
   */
  detectLost(now: number, lossDelay: number, packetThreshold: number, retainMs: number, out: SentPacket<T>[]): void {
    this.lossTime = Infinity;
    const largestAcked = this.largestAcked;
    if (largestAcked < 0) return;
    const packets = this.#packets;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.packetNumber > largestAcked) break;
      if (p.state !== SentPacketState.LIVE) continue;
      // §6.1.2: lost once sent lossDelay ago. The deadline is computed exactly as the loss
      // timer is (timeSent + lossDelay), so a timer firing at it always finds the packet lost;
      // `timeSent <= now - lossDelay` can round the other way and re-arm the same deadline.
      const deadline = p.timeSent + lossDelay;
      // §6.1.1 packet threshold, §6.1.2 time threshold.
      if (deadline <= now || largestAcked >= p.packetNumber + packetThreshold) {
        this.#release(p, SentPacketState.LOST);
        p.retainUntil = now + retainMs;
        out.push(p);
      } else if (deadline < this.lossTime) {
        this.lossTime = deadline;
      }
    }
    this.#trimFront(now);
  }

  /**
   * Releases every tracked packet, appending them to `out` (RFC 9002 §6.4, A.11). With
   * `permanent` the space's keys are gone and nothing more may be sent in it; without it
   * the space stays usable (Retry, rejected 0-RTT) and packet numbers keep increasing.
   */
  releaseAll(permanent: boolean, out: SentPacket<T>[]): void {
    const packets = this.#packets;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.state !== SentPacketState.LIVE) continue;
      this.#release(p, SentPacketState.DISCARDED);
      out.push(p);
    }
    this.#packets = [];
    this.#head = 0;
    this.#ackOnlyCursor = 0;
    this.lossTime = Infinity;
    this.timeOfLastAckEliciting = -Infinity;
    if (permanent) this.#discarded = true;
  }

  /** The oldest live packet, e.g. to choose what a PTO probe retransmits. */
  oldestOutstanding(): SentPacket<T> | undefined {
    const packets = this.#packets;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.state === SentPacketState.LIVE) return p;
    }
    return undefined;
  }

  /** Live packets in ascending packet number (a new array; for probes and diagnostics). */
  outstandingPackets(): SentPacket<T>[] {
    const result: SentPacket<T>[] = [];
    const packets = this.#packets;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.state === SentPacketState.LIVE) result.push(p);
    }
    return result;
  }

  /**
   * Re-derives bytes in flight, the ack-eliciting count and the live count from the records
   * and throws if they differ from the counters, or if ordering is broken. For tests.
   */
  assertInvariants(): void {
    let bytes = 0;
    let eliciting = 0;
    let live = 0;
    let previous = -1;
    const packets = this.#packets;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.packetNumber <= previous) throw new Error(`recovery invariant: space ${this.space} records out of order`);
      previous = p.packetNumber;
      if (p.state !== SentPacketState.LIVE) continue;
      live++;
      if (p.inFlight) {
        bytes += p.size;
        if (p.ackEliciting) eliciting++;
      }
    }
    if (bytes !== this.#bytesInFlight) {
      throw new Error(`recovery invariant: space ${this.space} bytesInFlight ${this.#bytesInFlight} != ${bytes}`);
    }
    if (eliciting !== this.#ackElicitingInFlight) {
      throw new Error(`recovery invariant: space ${this.space} ackElicitingInFlight ${this.#ackElicitingInFlight} != ${eliciting}`);
    }
    if (live !== this.#liveCount) throw new Error(`recovery invariant: space ${this.space} live ${this.#liveCount} != ${live}`);
    if (this.#bytesInFlight < 0) throw new Error(`recovery invariant: space ${this.space} negative bytes in flight`);
    if (this.#discarded && live !== 0) throw new Error(`recovery invariant: discarded space ${this.space} has packets`);
  }

  /**
   * The one place a packet leaves flight: acknowledgment, loss and discard all come here.
   * A packet is released exactly once; a second release is a bug and throws.
   */
  #release(p: SentPacket<T>, state: SentPacketState): void {
    if (p.state !== SentPacketState.LIVE) {
      throw new Error(`recovery: packet ${p.packetNumber} in space ${this.space} released twice`);
    }
    p.state = state;
    this.#liveCount--;
    if (!p.inFlight) {
      this.#ackOnlyLive--;
      return;
    }
    this.#bytesInFlight -= p.size;
    if (p.ackEliciting) this.#ackElicitingInFlight--;
    if (this.#bytesInFlight < 0) throw new Error(`recovery: negative bytes in flight in space ${this.space}`);
  }

  /** Forgets the oldest live ACK-only record (amortised O(1): the cursor only moves forward). */
  #forgetOldestAckOnly(): void {
    const packets = this.#packets;
    let i = Math.max(this.#ackOnlyCursor, this.#head);
    for (; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.state === SentPacketState.LIVE && !p.inFlight) {
        this.#release(p, SentPacketState.DISCARDED);
        break;
      }
    }
    this.#ackOnlyCursor = i + 1;
  }

  /**
   * Removes released records anywhere in the array (those behind a live record at the front are
   * out of `#trimFront`'s reach, e.g. when the peer acknowledges nothing), keeping live ones and
   * lost ones still retained. Runs when the array doubled since the last sweep: amortised O(1).
   */
  #sweep(now: number): void {
    const packets = this.#packets;
    let out = 0;
    let cursor = 0;
    for (let i = this.#head; i < packets.length; i++) {
      const p = packets[i]!;
      const keep = p.state === SentPacketState.LIVE || (p.state === SentPacketState.LOST && p.retainUntil > now && !p.spuriouslyLost);
      if (i === this.#ackOnlyCursor) cursor = out;
      if (keep) packets[out++] = p;
    }
    if (this.#ackOnlyCursor >= packets.length) cursor = out;
    packets.length = out;
    this.#head = 0;
    this.#ackOnlyCursor = cursor;
    this.#sweepAt = Math.max(4 * COMPACT_THRESHOLD, 2 * out);
  }

  /** First index at or after `#head` whose packet number is >= `pn`. */
  #lowerBound(pn: number): number {
    const packets = this.#packets;
    let lo = this.#head;
    let hi = packets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (packets[mid]!.packetNumber < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Drops released records from the front (lost ones once their retention ended); compacts
   * the array now and then.
   */
  #trimFront(now: number): void {
    const packets = this.#packets;
    let head = this.#head;
    for (; head < packets.length; head++) {
      const p = packets[head]!;
      if (p.state === SentPacketState.LIVE) break;
      if (p.state === SentPacketState.LOST && p.retainUntil > now && !p.spuriouslyLost) break;
    }
    if (head === packets.length) {
      packets.length = 0;
      head = 0;
    } else if (head >= COMPACT_THRESHOLD && head * 2 >= packets.length) {
      packets.copyWithin(0, head);
      packets.length -= head;
      this.#ackOnlyCursor = Math.max(0, this.#ackOnlyCursor - head);
      head = 0;
    }
    if (head === 0 && packets.length === 0) this.#ackOnlyCursor = 0;
    this.#head = head;
  }
}
