/**
 * Loss recovery across the three packet number spaces (RFC 9002 §5-§7, Appendix A): RTT
 * samples, acknowledgment processing, packet/time-threshold loss detection, the loss
 * detection timer with PTO and its backoff, persistent congestion, and discarding a space.
 *
 * Frame-blind and sans-IO. The connection calls, with `now` in ms:
 *   - `onPacketSent` for every packet it sends (ACK-only packets too, `inFlight = false`);
 *   - `onAckReceived` for every ACK frame;
 *   - `onLossDetectionTimeout` when `lossDetectionTimer` has passed;
 *   - `discardSpace` when Initial or Handshake keys are dropped (RFC 9001 §4.9);
 *   - the state setters (`onHandshakeConfirmed`, `onHandshakeKeysAvailable`,
 *     `setAmplificationBlocked`, `setMaxAckDelay`, `onAppLimited`) when those facts change.
 * Acknowledged, lost and discarded packets come back with their `tokens`; the connection
 * requeues the frames of lost packets.
 */

import { QuicError, TransportErrorCode } from '../errors.js';
import type { AckSample, CongestionHooks } from './congestion-hooks.js';
import { DeliveryRateEstimator } from './delivery-rate.js';
import { PACKET_NUMBER_SPACE_COUNT, PacketNumberSpace } from './packet-number-space.js';
import { PersistentCongestionDetector } from './persistent-congestion.js';
import { DEFAULT_MAX_ACK_DELAY_MS, INITIAL_RTT_MS, RttEstimator, TIMER_GRANULARITY_MS } from './rtt.js';
import { type AckedRange, SentPacket, SentPacketTracker } from './sent-packet-tracker.js';

/** RFC 9002 §6.1.1 kPacketThreshold. */
export const PACKET_THRESHOLD = 3;
/** RFC 9002 §6.1.2 kTimeThreshold. */
export const TIME_THRESHOLD = 9 / 8;
/** RFC 9002 §7.6.1 kPersistentCongestionThreshold. */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;
/** The PTO backoff exponent stops growing here; the idle timeout ends the connection long before. */
const MAX_PTO_BACKOFF_EXPONENT = 30;
/** RFC 9000 §19.3 ACK frame type, for the error raised on an acknowledgment of an unsent packet. */
const ACK_FRAME_TYPE = 0x02;

/** ECN counts of an ACK_ECN frame (RFC 9000 §19.3.2). */
export interface EcnCountsLike {
  readonly ect0: number;
  readonly ect1: number;
  readonly ce: number;
}

/** What the loss detection timer asked for. */
export const TimeoutAction = {
  /** The timer had not expired, or was stale: nothing to do. */
  NONE: 0,
  /** Time-threshold loss detection declared packets lost (`lost`). */
  LOSS: 1,
  /** PTO: send `probes` ack-eliciting packets in `space` (RFC 9002 §6.2.4), bypassing the window. */
  PTO: 2,
} as const;
export type TimeoutAction = (typeof TimeoutAction)[keyof typeof TimeoutAction];

/**
 * Result of one ACK frame. Borrowed: the object and its arrays are reused by the next
 * `onAckReceived` call, so consume them (or copy) before calling again.
 */
export interface AckOutcome<T> {
  /** Newly acknowledged packets, ascending packet number. */
  readonly acked: readonly SentPacket<T>[];
  /** Packets this ACK declared lost, ascending packet number (requeue their frames). */
  readonly lost: readonly SentPacket<T>[];
  /**
   * Packets declared lost earlier that this ACK acknowledged after all: the loss was
   * spurious (reordering). Their bytes already left flight; their frames may have been sent
   * again. Reported once per packet, while the lost packet is still retained (one PTO).
   */
  readonly spuriouslyLost: readonly SentPacket<T>[];
  /** A new RTT sample was taken (RFC 9002 §5.1). */
  rttUpdated: boolean;
  /** The losses established persistent congestion (RFC 9002 §7.6). */
  persistentCongestion: boolean;
  /** The peer's ECN-CE count grew (RFC 9002 §7.1). */
  ecnCongestion: boolean;
}

/** Result of `onLossDetectionTimeout`. Borrowed like `AckOutcome`. */
export interface TimeoutOutcome<T> {
  action: TimeoutAction;
  /** The space whose timer fired. */
  space: PacketNumberSpace;
  /** LOSS: the packets declared lost, ascending packet number. */
  readonly lost: readonly SentPacket<T>[];
  /** PTO: ack-eliciting packets to send in `space` (also in `pendingProbes(space)`). */
  probes: number;
  /**
   * PTO with nothing in flight, at a client whose address the server may not have validated
   * (RFC 9002 §6.2.2.1): send a Handshake packet, or, without Handshake keys, an Initial packet
   * in a datagram of at least 1200 bytes.
   */
  antiDeadlock: boolean;
  /** LOSS: the losses established persistent congestion. */
  persistentCongestion: boolean;
}

/** Options of {@link LossRecovery}. */
export interface LossRecoveryOptions {
  /** Servers always consider the peer's address validation complete (RFC 9002 A.6). */
  isServer: boolean;
  /** The path's congestion controller. */
  congestion: CongestionHooks;
  /** RFC 9002 §6.2.2 kInitialRtt; default 333 ms. */
  initialRttMs?: number;
  /** The peer's max_ack_delay (RFC 9000 §18.2); default 25 ms until transport parameters arrive. */
  maxAckDelayMs?: number;
  /** RFC 9002 §6.1.2 kGranularity; default 1 ms. */
  granularityMs?: number;
  /** RFC 9002 §6.1.1 kPacketThreshold; default 3 (must not be below 3). */
  packetThreshold?: number;
  /** RFC 9002 §6.1.2 kTimeThreshold; default 9/8. */
  timeThreshold?: number;
  /** RFC 9002 §7.6.1 kPersistentCongestionThreshold; default 3. */
  persistentCongestionThreshold?: number;
  /** Probe packets asked for on a PTO (RFC 9002 §6.2.4 allows one or two); default 2. */
  probesPerPto?: number;
}

/** Loss detection and bytes in flight for one connection (one path). */
export class LossRecovery<T> {
  /** The path's RTT estimator (RFC 9002 §5). */
  readonly rtt: RttEstimator;
  /** The congestion controller; replace it with a fresh one after a Retry (RFC 9002 §6.3). */
  congestion: CongestionHooks;
  readonly #isServer: boolean;
  readonly #spaces: SentPacketTracker<T>[];
  readonly #packetThreshold: number;
  readonly #timeThreshold: number;
  readonly #pcThreshold: number;
  readonly #probesPerPto: number;
  #maxAckDelay: number;
  #ptoCount = 0;
  #timer = Infinity;
  #handshakeConfirmed = false;
  #hasHandshakeKeys = false;
  #receivedHandshakeAck = false;
  #amplificationBlocked = false;
  readonly #pendingProbes = [0, 0, 0];
  readonly #ecnCe = [0, 0, 0];
  readonly #persistentCongestion = new PersistentCongestionDetector();
  readonly #deliveryRate = new DeliveryRateEstimator();
  // Reused outputs.
  readonly #acked: SentPacket<T>[] = [];
  readonly #ackLost: SentPacket<T>[] = [];
  readonly #spurious: SentPacket<T>[] = [];
  readonly #ackOutcome: AckOutcome<T>;
  readonly #timeoutLost: SentPacket<T>[] = [];
  readonly #timeoutOutcome: TimeoutOutcome<T>;
  readonly #sample: AckSample;

  constructor(options: LossRecoveryOptions) {
    this.#isServer = options.isServer;
    this.congestion = options.congestion;
    this.rtt = new RttEstimator(options.initialRttMs ?? INITIAL_RTT_MS, options.granularityMs ?? TIMER_GRANULARITY_MS);
    this.#maxAckDelay = options.maxAckDelayMs ?? DEFAULT_MAX_ACK_DELAY_MS;
    this.#packetThreshold = options.packetThreshold ?? PACKET_THRESHOLD;
    this.#timeThreshold = options.timeThreshold ?? TIME_THRESHOLD;
    this.#pcThreshold = options.persistentCongestionThreshold ?? PERSISTENT_CONGESTION_THRESHOLD;
    this.#probesPerPto = options.probesPerPto ?? 2;
    this.#spaces = [
      new SentPacketTracker<T>(PacketNumberSpace.INITIAL),
      new SentPacketTracker<T>(PacketNumberSpace.HANDSHAKE),
      new SentPacketTracker<T>(PacketNumberSpace.APPLICATION),
    ];
    this.#ackOutcome = {
      acked: this.#acked,
      lost: this.#ackLost,
      spuriouslyLost: this.#spurious,
      rttUpdated: false,
      persistentCongestion: false,
      ecnCongestion: false,
    };
    this.#timeoutOutcome = {
      action: TimeoutAction.NONE,
      space: PacketNumberSpace.INITIAL,
      lost: this.#timeoutLost,
      probes: 0,
      antiDeadlock: false,
      persistentCongestion: false,
    };
    this.#sample = {
      now: 0,
      ackedBytes: 0,
      ackedPackets: 0,
      largestAckedPacketNumber: -1,
      largestAckedSentTime: 0,
      priorBytesInFlight: 0,
      bytesInFlight: 0,
      rttUpdated: false,
      rtt: this.rtt,
      delivered: 0,
      priorDelivered: 0,
      deliveryInterval: 0,
      deliveryRate: 0,
      sampleTxInFlight: 0,
      appLimited: false,
    };
  }

  // ---------------------------------------------------------------- getters

  /** Bytes in flight over all spaces (RFC 9002 B.2 bytes_in_flight). */
  get bytesInFlight(): number {
    const s = this.#spaces;
    return s[0]!.bytesInFlight + s[1]!.bytesInFlight + s[2]!.bytesInFlight;
  }

  /** Ack-eliciting in-flight packets over all spaces. */
  get ackElicitingInFlight(): number {
    const s = this.#spaces;
    return s[0]!.ackElicitingInFlight + s[1]!.ackElicitingInFlight + s[2]!.ackElicitingInFlight;
  }

  /**
   * When `onLossDetectionTimeout` should be called (ms); Infinity when the timer is not armed.
   * It can lie in the past (RFC 9002 A.8: such a timer fires immediately).
   */
  get lossDetectionTimer(): number {
    return this.#timer;
  }

  /** RFC 9002 A.3 pto_count: consecutive PTOs without an acknowledgment. */
  get ptoCount(): number {
    return this.#ptoCount;
  }

  /** The peer's max_ack_delay in ms. */
  get maxAckDelay(): number {
    return this.#maxAckDelay;
  }

  get handshakeConfirmed(): boolean {
    return this.#handshakeConfirmed;
  }

  /** Bytes delivered (acknowledged in-flight bytes) over the connection's lifetime. */
  get delivered(): number {
    return this.#deliveryRate.delivered;
  }

  /** The tracker of one space (read access for the connection, e.g. the oldest packet for a probe). */
  tracker(space: PacketNumberSpace): SentPacketTracker<T> {
    return this.#spaces[space]!;
  }

  /** Probe packets still owed in `space` after a PTO; ack-eliciting sends count them down. */
  pendingProbes(space: PacketNumberSpace): number {
    return this.#pendingProbes[space]!;
  }

  /**
   * RFC 9002 A.6 PeerCompletedAddressValidation: servers assume it; a client knows it once a
   * Handshake packet was acknowledged or the handshake is confirmed.
   */
  get peerCompletedAddressValidation(): boolean {
    return this.#isServer || this.#receivedHandshakeAck || this.#handshakeConfirmed;
  }

  // ---------------------------------------------------------------- state changes

  /** RFC 9001 §4.1.2 handshake confirmed: enables the Application Data PTO (RFC 9002 §6.2.1). */
  onHandshakeConfirmed(now: number): void {
    if (this.#handshakeConfirmed) return;
    this.#handshakeConfirmed = true;
    this.#setLossDetectionTimer(now);
  }

  /** Handshake keys are installed: the anti-deadlock probe becomes a Handshake packet (§6.2.2.1). */
  onHandshakeKeysAvailable(now: number): void {
    if (this.#hasHandshakeKeys) return;
    this.#hasHandshakeKeys = true;
    this.#setLossDetectionTimer(now);
  }

  /**
   * The server reached (true) or left (false) its anti-amplification limit (RFC 9000 §8.1).
   * While blocked no PTO is armed (RFC 9002 §6.2.2.1). After unblocking, if
   * `lossDetectionTimer <= now`, call `onLossDetectionTimeout(now)` at once (RFC 9002 A.6).
   */
  setAmplificationBlocked(blocked: boolean, now: number): void {
    if (this.#amplificationBlocked === blocked) return;
    this.#amplificationBlocked = blocked;
    this.#setLossDetectionTimer(now);
  }

  /** The peer's max_ack_delay from its transport parameters (RFC 9000 §18.2), ms. */
  setMaxAckDelay(ms: number, now: number): void {
    this.#maxAckDelay = ms;
    this.#setLossDetectionTimer(now);
  }

  /**
   * The sender had nothing to send while the window had room (RFC 9002 §7.8). Packets sent
   * until everything now in flight is delivered carry the application-limited mark, and their
   * acknowledgments do not grow the window (nor yield rate samples marked as bandwidth-limited).
   */
  onAppLimited(now: number): void {
    const inFlight = this.bytesInFlight;
    this.#deliveryRate.onAppLimited(inFlight);
    this.congestion.onAppLimited(now, inFlight);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Records a sent packet (RFC 9002 A.5). `inFlight` is true when the packet has anything but
   * ACK (and CONNECTION_CLOSE) frames, PADDING included; `ackEliciting` when it has anything but
   * ACK, PADDING and CONNECTION_CLOSE. Returns the record (its `tokens` come back later).
   */
  onPacketSent(
    space: PacketNumberSpace,
    packetNumber: number,
    now: number,
    size: number,
    ackEliciting: boolean,
    inFlight: boolean,
    tokens: T,
  ): SentPacket<T> {
    const packet = new SentPacket<T>(packetNumber, now, size, ackEliciting, inFlight, tokens);
    this.#persistentCongestion.onPacketSent(packet);
    const tracker = this.#spaces[space]!;
    if (!inFlight) {
      tracker.onSent(packet);
      return packet;
    }
    const priorInFlight = this.bytesInFlight;
    this.#deliveryRate.onPacketSent(packet, now, priorInFlight);
    tracker.onSent(packet);
    if (ackEliciting && this.#pendingProbes[space]! > 0) this.#pendingProbes[space]!--;
    this.congestion.onPacketSent(now, size, packetNumber, ackEliciting, priorInFlight + size);
    this.#setLossDetectionTimer(now);
    return packet;
  }

  /**
   * The connection skipped packet number `pn` in `space` (RFC 9000 §21.4); an ACK that
   * acknowledges it is answered with PROTOCOL_VIOLATION. The next packet must be above it.
   */
  onPacketNumberSkipped(space: PacketNumberSpace, pn: number): void {
    this.#spaces[space]!.skip(pn);
  }

  // ---------------------------------------------------------------- acknowledgments

  /**
   * Processes one ACK frame (RFC 9002 A.7 OnAckReceived). `ranges` are highest first as in the
   * frame; `ackDelayMs` is the ACK Delay already scaled by the peer's ack_delay_exponent.
   * Throws PROTOCOL_VIOLATION for an acknowledgment of a packet number never sent
   * (RFC 9000 §13.1). The result is borrowed (see `AckOutcome`).
   */
  onAckReceived(
    space: PacketNumberSpace,
    ranges: readonly AckedRange[],
    ackDelayMs: number,
    now: number,
    ecn?: EcnCountsLike,
  ): AckOutcome<T> {
    const outcome = this.#ackOutcome;
    const acked = this.#acked;
    const lost = this.#ackLost;
    const spurious = this.#spurious;
    acked.length = 0;
    lost.length = 0;
    spurious.length = 0;
    outcome.rttUpdated = false;
    outcome.persistentCongestion = false;
    outcome.ecnCongestion = false;
    const tracker = this.#spaces[space]!;
    const first = ranges[0];
    if (first === undefined || tracker.discarded) return outcome;
    const unsent = tracker.findUnsent(ranges);
    if (unsent >= 0) {
      // RFC 9000 §13.1, §21.4: acknowledging a packet that was never sent (or was skipped).
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `ACK of unsent packet ${unsent}`, ACK_FRAME_TYPE);
    }
    // RFC 9002 A.6: a client learns the server validated its address from a Handshake ACK.
    if (space === PacketNumberSpace.HANDSHAKE) this.#receivedHandshakeAck = true;

    const priorInFlight = this.bytesInFlight;
    tracker.onAck(ranges, now, acked, spurious);
    if (spurious.length > 0) this.#onSpuriousLosses(now, spurious);
    if (acked.length === 0) return outcome;

    // Record acknowledgments in send order, for the persistent-congestion "nothing
    // acknowledged in between" rule (RFC 9002 §7.6.2).
    const pc = this.#persistentCongestion;
    let ackEliciting = false;
    for (let i = 0; i < acked.length; i++) {
      const p = acked[i]!;
      pc.onPacketAcked(p);
      if (p.ackEliciting) ackEliciting = true;
    }

    // RFC 9002 §5.1: a sample only when the largest acknowledged is newly acknowledged and at
    // least one newly acknowledged packet is ack-eliciting.
    const largestNewlyAcked = acked[acked.length - 1]!;
    if (largestNewlyAcked.packetNumber === first.largest && ackEliciting) {
      // RFC 9002 §5.3: acknowledgments of Initial packets are not delayed by the peer
      // (RFC 9000 §13.2.1), so their ACK Delay is ignored.
      const ackDelay = space === PacketNumberSpace.INITIAL ? 0 : ackDelayMs;
      this.rtt.update(now, now - largestNewlyAcked.timeSent, ackDelay, this.#maxAckDelay, this.#handshakeConfirmed);
      outcome.rttUpdated = true;
    }

    // RFC 9002 B.7 ProcessECN: an increase of the CE count is a congestion event.
    if (ecn !== undefined && ecn.ce > this.#ecnCe[space]!) {
      this.#ecnCe[space] = ecn.ce;
      outcome.ecnCongestion = true;
      this.congestion.onEcnCongestionEvent(now, largestNewlyAcked.timeSent);
    }

    // RFC 9002 §6.1: loss detection after every ACK that newly acknowledged something.
    tracker.detectLost(now, this.rtt.lossDelay(this.#timeThreshold), this.#packetThreshold, this.#lostRetention(), lost);
    if (lost.length > 0) outcome.persistentCongestion = this.#onPacketsLost(now, lost);

    this.#onPacketsAcked(now, acked, priorInFlight, outcome.rttUpdated, largestNewlyAcked);

    // RFC 9002 §6.2.1: the PTO backoff resets on acknowledgment, except at a client not yet
    // sure the server validated its address (it keeps backing off on Initial ACKs).
    if (this.peerCompletedAddressValidation) this.#ptoCount = 0;
    this.#setLossDetectionTimer(now);
    return outcome;
  }

  // ---------------------------------------------------------------- timer

  /**
   * RFC 9002 A.9 OnLossDetectionTimeout. Call when `now >= lossDetectionTimer`; earlier calls
   * return NONE. The result is borrowed (see `TimeoutOutcome`).
   */
  onLossDetectionTimeout(now: number): TimeoutOutcome<T> {
    const outcome = this.#timeoutOutcome;
    const lost = this.#timeoutLost;
    lost.length = 0;
    outcome.action = TimeoutAction.NONE;
    outcome.probes = 0;
    outcome.antiDeadlock = false;
    outcome.persistentCongestion = false;
    if (!(now >= this.#timer)) return outcome;

    const lossSpace = this.#earliestLossSpace();
    if (lossSpace >= 0) {
      // RFC 9002 §6.1.2: time-threshold loss detection.
      const tracker = this.#spaces[lossSpace]!;
      outcome.action = TimeoutAction.LOSS;
      outcome.space = lossSpace as PacketNumberSpace;
      tracker.detectLost(now, this.rtt.lossDelay(this.#timeThreshold), this.#packetThreshold, this.#lostRetention(), lost);
      if (lost.length > 0) outcome.persistentCongestion = this.#onPacketsLost(now, lost);
      this.#setLossDetectionTimer(now);
      return outcome;
    }

    if (this.#armableAckElicitingInFlight() === 0) {
      if (this.peerCompletedAddressValidation) {
        // Stale timer: nothing to probe for.
        this.#setLossDetectionTimer(now);
        return outcome;
      }
      // RFC 9002 §6.2.2.1: anti-deadlock probe by a client that may still be limited by the
      // server's anti-amplification limit.
      const space = this.#hasHandshakeKeys ? PacketNumberSpace.HANDSHAKE : PacketNumberSpace.INITIAL;
      outcome.action = TimeoutAction.PTO;
      outcome.space = space;
      outcome.antiDeadlock = true;
      outcome.probes = 1;
      if (this.#pendingProbes[space]! < 1) this.#pendingProbes[space] = 1;
    } else {
      // RFC 9002 §6.2.4: one or two ack-eliciting probes in the space whose PTO expired, and
      // ack-eliciting packets in the other spaces with data in flight.
      this.#ptoTime(now);
      const space = this.#ptoSpace;
      outcome.action = TimeoutAction.PTO;
      outcome.space = space;
      outcome.probes = this.#probesPerPto;
      this.#pendingProbes[space] = this.#probesPerPto;
      for (let s = 0; s < PACKET_NUMBER_SPACE_COUNT; s++) {
        if (s !== space && this.#spaces[s]!.ackElicitingInFlight > 0 && this.#pendingProbes[s]! < 1) this.#pendingProbes[s] = 1;
      }
    }
    // RFC 9002 §6.2.1: each expiry doubles the PTO period.
    this.#ptoCount++;
    this.#setLossDetectionTimer(now);
    return outcome;
  }

  /**
   * The caller is done with the last ACK or timeout outcome: its lists let go of the packet
   * records, so a connection that goes idle does not keep the last acknowledged packets (and the
   * tokens they carried) alive until the next ACK (issue 11). The lists keep their capacity.
   */
  releaseOutcomes(): void {
    this.#acked.length = 0;
    this.#ackLost.length = 0;
    this.#spurious.length = 0;
    this.#timeoutLost.length = 0;
  }

  // ---------------------------------------------------------------- discard

  /**
   * RFC 9002 §6.4 / A.11: Initial or Handshake keys were discarded. Every packet of the space
   * leaves flight (returned, borrowed by nobody: a new array) and the timers are re-armed.
   */
  discardSpace(space: PacketNumberSpace, now: number): SentPacket<T>[] {
    const out: SentPacket<T>[] = [];
    this.#spaces[space]!.releaseAll(space !== PacketNumberSpace.APPLICATION, out);
    this.#pendingProbes[space] = 0;
    // RFC 9002 A.11: discarding keys is forward progress; the backoff restarts.
    this.#ptoCount = 0;
    this.#setLossDetectionTimer(now);
    return out;
  }

  /**
   * 0-RTT was rejected (RFC 9002 §6.4): every Application Data packet sent so far (all 0-RTT)
   * leaves flight without a congestion signal. Returned so the connection can resend the data
   * in 1-RTT packets; the space stays usable and its packet numbers keep increasing.
   */
  onZeroRttRejected(now: number): SentPacket<T>[] {
    return this.discardSpace(PacketNumberSpace.APPLICATION, now);
  }

  /**
   * A Retry was accepted (RFC 9002 §6.3): loss recovery restarts. Initial and 0-RTT packets
   * leave flight (returned, to be sent again), the RTT estimator and PTO backoff reset. Set a
   * fresh `congestion` controller too. `initialRttMs` may be the time from the first Initial
   * to the Retry (§6.3 allows it as the initial RTT).
   */
  onRetry(now: number, initialRttMs?: number): SentPacket<T>[] {
    const out: SentPacket<T>[] = [];
    this.#spaces[PacketNumberSpace.INITIAL]!.releaseAll(false, out);
    this.#spaces[PacketNumberSpace.APPLICATION]!.releaseAll(false, out);
    this.#pendingProbes.fill(0);
    this.#ptoCount = 0;
    this.rtt.reset(initialRttMs);
    this.#setLossDetectionTimer(now);
    return out;
  }

  /**
   * The connection moved to a new path whose peer address was validated (RFC 9000 §9.4): the
   * RTT estimator and the congestion controller start over (`congestion` is the new path's
   * controller). Packets still in flight keep counting until acknowledged or lost.
   */
  resetPath(now: number, congestion: CongestionHooks, initialRttMs?: number): void {
    this.congestion = congestion;
    this.rtt.reset(initialRttMs);
    this.#ptoCount = 0;
    this.#deliveryRate.resetPath();
    this.#setLossDetectionTimer(now);
  }

  // ---------------------------------------------------------------- checks

  /**
   * Throws unless, per space and in total, bytes in flight equal the sum of the sizes of the
   * tracked in-flight packets (and the other counters agree). For tests, after every event.
   */
  assertInvariants(): void {
    let total = 0;
    for (const tracker of this.#spaces) {
      tracker.assertInvariants();
      total += tracker.bytesInFlight;
    }
    if (total !== this.bytesInFlight || total < 0) throw new Error(`recovery invariant: total bytes in flight ${this.bytesInFlight} != ${total}`);
    if (this.#timer !== Infinity && !Number.isFinite(this.#timer)) throw new Error(`recovery invariant: timer ${this.#timer}`);
  }

  // ---------------------------------------------------------------- internals

  /**
   * RFC 9002 B.8 OnPacketsLost for one batch: tells the controller, then checks persistent
   * congestion. Returns true if it was established.
   */
  #onPacketsLost(now: number, lost: readonly SentPacket<T>[]): boolean {
    const cc = this.congestion;
    const rate = this.#deliveryRate;
    const detail = cc.onPacketLostDetail;
    let lostBytes = 0;
    let largestLostSentTime = -Infinity;
    for (let i = 0; i < lost.length; i++) {
      const p = lost[i]!;
      // RFC 9000 §14.4: a lost PMTU probe (or probe on another path) is no congestion signal.
      if (!p.inFlight || p.congestionExempt) continue;
      lostBytes += p.size;
      if (p.timeSent > largestLostSentTime) largestLostSentTime = p.timeSent;
      const lostSinceSent = rate.onPacketLost(p);
      if (detail !== undefined) detail.call(cc, now, p.size, p.txInFlight, lostSinceSent, p.appLimited);
    }
    if (lostBytes > 0) this.congestion.onPacketsLost(now, lostBytes, largestLostSentTime);
    if (!this.#persistentCongestion.isPersistent(lost, this.rtt, this.#maxAckDelay, this.#pcThreshold)) return false;
    this.congestion.onPersistentCongestion(now);
    this.rtt.onPersistentCongestion();
    return true;
  }

  /** Lost packets stay known for one PTO period (with max_ack_delay) to spot spurious losses. */
  #lostRetention(): number {
    return this.rtt.ptoDuration(this.#maxAckDelay);
  }

  /** Tells the controller (if it listens) about losses that turned out spurious. */
  #onSpuriousLosses(now: number, spurious: readonly SentPacket<T>[]): void {
    const cc = this.congestion;
    if (cc.onSpuriousLoss === undefined) return;
    let bytes = 0;
    let largestSentTime = -Infinity;
    for (let i = 0; i < spurious.length; i++) {
      const p = spurious[i]!;
      if (!p.inFlight) continue;
      bytes += p.size;
      if (p.timeSent > largestSentTime) largestSentTime = p.timeSent;
    }
    if (bytes > 0) cc.onSpuriousLoss(now, bytes, largestSentTime);
  }

  /** Controller calls and the delivery-rate sample for the newly acknowledged packets. */
  #onPacketsAcked(
    now: number,
    acked: readonly SentPacket<T>[],
    priorInFlight: number,
    rttUpdated: boolean,
    largestNewlyAcked: SentPacket<T>,
  ): void {
    const cc = this.congestion;
    const rate = this.#deliveryRate;
    let ackedBytes = 0;
    let ackedPackets = 0;
    for (let i = 0; i < acked.length; i++) {
      const p = acked[i]!;
      if (!p.inFlight) continue;
      ackedBytes += p.size;
      ackedPackets++;
      rate.onPacketAcked(p);
      cc.onPacketAcked(now, p.size, p.timeSent, p.appLimited);
    }
    const sample = this.#sample;
    sample.now = now;
    sample.ackedBytes = ackedBytes;
    sample.ackedPackets = ackedPackets;
    sample.largestAckedPacketNumber = largestNewlyAcked.packetNumber;
    sample.largestAckedSentTime = largestNewlyAcked.timeSent;
    sample.priorBytesInFlight = priorInFlight;
    sample.bytesInFlight = this.bytesInFlight;
    sample.rttUpdated = rttUpdated;
    rate.finishAck(now, this.rtt.minRtt, sample);
    cc.onPacketsAcked(sample);
  }

  /** RFC 9002 A.8 GetLossTimeAndSpace: the space with the earliest loss time, or -1. */
  #earliestLossSpace(): number {
    let time = Infinity;
    let space = -1;
    for (let s = 0; s < PACKET_NUMBER_SPACE_COUNT; s++) {
      const t = this.#spaces[s]!.lossTime;
      if (t < time) {
        time = t;
        space = s;
      }
    }
    return space;
  }

  /**
   * Ack-eliciting packets in flight in the spaces a PTO may be armed for: Initial, Handshake,
   * and Application Data once the handshake is confirmed (RFC 9002 §6.2.1). Before
   * confirmation, 0-RTT or 1-RTT packets alone do not count, so a client that only has those
   * in flight still arms the anti-deadlock PTO of §6.2.2.1.
   */
  #armableAckElicitingInFlight(): number {
    const s = this.#spaces;
    const early = s[0]!.ackElicitingInFlight + s[1]!.ackElicitingInFlight;
    return this.#handshakeConfirmed ? early + s[2]!.ackElicitingInFlight : early;
  }

  /** Space chosen by the last `#ptoTime` call. */
  #ptoSpace: PacketNumberSpace = PacketNumberSpace.INITIAL;

  /** RFC 9002 A.8 GetPtoTimeAndSpace; sets `#ptoSpace`. */
  #ptoTime(now: number): number {
    const backoff = 2 ** (this.#ptoCount < MAX_PTO_BACKOFF_EXPONENT ? this.#ptoCount : MAX_PTO_BACKOFF_EXPONENT);
    // RFC 9002 §6.2.1: Initial and Handshake PTOs use max_ack_delay = 0.
    const duration = this.rtt.ptoDuration(0) * backoff;
    if (this.#armableAckElicitingInFlight() === 0) {
      // RFC 9002 §6.2.2.1: the anti-deadlock PTO runs from now.
      this.#ptoSpace = this.#hasHandshakeKeys ? PacketNumberSpace.HANDSHAKE : PacketNumberSpace.INITIAL;
      return now + duration;
    }
    let timeout = Infinity;
    let chosen: PacketNumberSpace = PacketNumberSpace.INITIAL;
    for (let s = 0; s < PACKET_NUMBER_SPACE_COUNT; s++) {
      const tracker = this.#spaces[s]!;
      if (tracker.ackElicitingInFlight === 0) continue;
      let d = duration;
      if (s === PacketNumberSpace.APPLICATION) {
        // RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed.
        if (!this.#handshakeConfirmed) break;
        d += this.#maxAckDelay * backoff;
      }
      const t = tracker.timeOfLastAckEliciting + d;
      if (t < timeout) {
        timeout = t;
        chosen = s as PacketNumberSpace;
      }
    }
    this.#ptoSpace = chosen;
    return timeout;
  }

  /** RFC 9002 A.8 SetLossDetectionTimer. */
  #setLossDetectionTimer(now: number): void {
    const lossSpace = this.#earliestLossSpace();
    if (lossSpace >= 0) {
      // RFC 9002 §6.2.1: no PTO while a time-threshold loss timer is set.
      this.#timer = this.#spaces[lossSpace]!.lossTime;
      return;
    }
    // RFC 9002 §6.2.2.1: a server blocked by the anti-amplification limit arms no PTO.
    if (this.#amplificationBlocked) {
      this.#timer = Infinity;
      return;
    }
    if (this.#armableAckElicitingInFlight() === 0 && this.peerCompletedAddressValidation) {
      this.#timer = Infinity;
      return;
    }
    this.#timer = this.#ptoTime(now);
  }
}
