/**
 * ECN on the current path (RFC 9000 §13.4, RFC 9002 §7.1, RFC 9000 Appendix A.4).
 *
 * We mark our packets ECT(0) and check, from the peer's ACK_ECN counts, that the marks survive
 * the path: validation fails (and we stop marking) when an ACK newly acknowledges ECT packets
 * without ECN counts, when the ECT(0)+CE counts grow less than the number of ECT(0) packets it
 * newly acknowledges, when a count goes down or exceeds what we sent, when ECT(1) shows up
 * (we never send it), or when every packet of the testing period is lost (§13.4.2.1, A.4).
 * A CE count that grows is a congestion signal; loss recovery turns it into a congestion event
 * (RFC 9002 §7.1, B.7) — the connection passes the counts on only while ECN is not failed.
 *
 * Node.js 20's `node:dgram` can neither set the ECN field of outgoing datagrams nor report it
 * for received ones: a `dgram.Socket` offers setTTL, setBroadcast, the multicast options and
 * the buffer sizes, but nothing for IP_TOS / IPV6_TCLASS, and a 'message' event's RemoteInfo
 * carries only address, family, port and size (no IP_RECVTOS / IPV6_RECVTCLASS control data).
 * So on real sockets the endpoint ignores `Transmit.ecn` and reports every datagram as
 * not-ECT. Our packets then really leave unmarked while we believe them ECT(0): the peer's
 * ACKs carry no ECN counts (or zero ones), validation fails on the first ACK of a marked
 * packet, and we stop "marking" — the same outcome as a path that bleaches ECN, so nothing
 * is mis-signalled. The whole code path is exercised in the simulator, whose links carry the
 * codepoint and can CE-mark like an AQM (test/connection/ecn.test.ts).
 *
 * Which packets were marked is kept as packet-number ranges per space (marking changes only on
 * a path change or a validation failure), so nothing is stored per packet.
 */

import type { EcnCountsLike } from '../recovery/loss-recovery.js';

/** IP-header ECN codepoints (RFC 3168 §5). */
export const ECN_NOT_ECT = 0;
export const ECN_ECT1 = 1;
export const ECN_ECT0 = 2;
export const ECN_CE = 3;

/** RFC 9000 A.4: packets marked while testing before we wait for the outcome. */
export const ECN_TESTING_PACKETS = 10;

export type EcnState = 'testing' | 'unknown' | 'capable' | 'failed';

interface SpaceEcn {
  /** ECT(0)-marked packets sent in this space. */
  sent: number;
  /** ECT(0)-marked packets newly acknowledged, counted from the ACKs, not yet checked. */
  newlyAcked: number;
  /** Largest counts the peer reported. */
  ect0: number;
  ect1: number;
  ce: number;
  /** Packet numbers sent marked: [from, to) pairs, `to` = Infinity while still marking. */
  marked: number[];
}

function newSpace(): SpaceEcn {
  return { sent: 0, newlyAcked: 0, ect0: 0, ect1: 0, ce: 0, marked: [] };
}

export class EcnValidator {
  state: EcnState;
  /** Lost ECT packets while no ECT packet was acknowledged yet (all lost: validation fails). */
  #lostWhileTesting = 0;
  #anyAcked = false;
  #testingSent = 0;
  /** Per packet number space, made with its first marked packet or ACK, dropped when the space is discarded. */
  readonly #spaces: (SpaceEcn | undefined)[] = [];
  /** Counters for tests and qlog. */
  readonly stats = { ceReported: 0, failures: 0 };

  constructor(enabled: boolean) {
    this.state = enabled ? 'testing' : 'failed';
  }

  /** The codepoint to put on the next datagram. */
  get codepoint(): number {
    // RFC 9000 A.4: mark while testing or once capable; in "unknown" wait for the verdict.
    return this.state === 'testing' || this.state === 'capable' ? ECN_ECT0 : ECN_NOT_ECT;
  }

  /** A packet went out in `space` with `codepoint` (from `codepoint` at build time). */
  onPacketSent(space: number, packetNumber: number, codepoint: number): void {
    const sp = (this.#spaces[space] ??= newSpace());
    const m = sp.marked;
    const open = m.length > 0 && m[m.length - 1] === Infinity;
    if (codepoint === ECN_ECT0) {
      sp.sent++;
      if (!open) {
        // Bounded: a new range only when marking restarts (new path), rare.
        if (m.length >= 32) m.splice(0, 2);
        m.push(packetNumber, Infinity);
      }
      if (this.state === 'testing' && ++this.#testingSent >= ECN_TESTING_PACKETS) this.state = 'unknown';
    } else if (open) {
      m[m.length - 1] = packetNumber;
    }
  }

  #wasMarked(sp: SpaceEcn, packetNumber: number): boolean {
    const m = sp.marked;
    for (let i = m.length - 2; i >= 0; i -= 2) {
      if (packetNumber >= m[i]! && packetNumber < m[i + 1]!) return true;
    }
    return false;
  }

  /** A packet was newly acknowledged (call for each, before `onAckFrame`). */
  onPacketAcked(space: number, packetNumber: number): void {
    const sp = this.#spaces[space];
    if (sp !== undefined && sp.marked.length > 0 && this.#wasMarked(sp, packetNumber)) {
      sp.newlyAcked++;
      this.#anyAcked = true;
    }
  }

  /** A packet was declared lost. */
  onPacketLost(space: number, packetNumber: number): void {
    if (this.state !== 'testing' && this.state !== 'unknown') return;
    const sp = this.#spaces[space];
    if (sp === undefined || this.#anyAcked || !this.#wasMarked(sp, packetNumber)) return;
    // RFC 9000 §13.4.2.1: all packets marked during testing lost: the path may drop ECT.
    if (++this.#lostWhileTesting >= ECN_TESTING_PACKETS) this.#fail();
  }

  /**
   * Checks the ACK frame's counts after its newly acknowledged packets were reported
   * (RFC 9000 §13.4.2.1). Returns the counts to hand to loss recovery (CE reaction), or
   * undefined when ECN is failed or the frame had none. `stale`: the frame did not raise the
   * largest acknowledged (reordered ACKs carry older counts): nothing is checked.
   */
  onAckFrame(space: number, ecn: EcnCountsLike | undefined, stale = false): EcnCountsLike | undefined {
    const sp = (this.#spaces[space] ??= newSpace());
    const newlyAcked = sp.newlyAcked;
    sp.newlyAcked = 0;
    if (this.state === 'failed' || stale) return undefined;
    if (ecn === undefined) {
      if (newlyAcked > 0) this.#fail(); // ECT packets acknowledged without ECN counts
      return undefined;
    }
    const ect0Growth = ecn.ect0 - sp.ect0;
    const ceGrowth = ecn.ce - sp.ce;
    if (
      ect0Growth < 0 ||
      ceGrowth < 0 ||
      ecn.ect1 < sp.ect1 ||
      ecn.ect1 > 0 || // we never send ECT(1)
      ecn.ect0 + ecn.ce > sp.sent ||
      ect0Growth + ceGrowth < newlyAcked
    ) {
      this.#fail();
      return undefined;
    }
    sp.ect0 = ecn.ect0;
    sp.ect1 = ecn.ect1;
    if (ceGrowth > 0) this.stats.ceReported += ceGrowth;
    sp.ce = ecn.ce;
    if (newlyAcked > 0 && this.state !== 'capable') this.state = 'capable';
    return ecn;
  }

  /** The space's keys were discarded (RFC 9001 §4.9): its counts are not needed again. */
  discardSpace(space: number): void {
    this.#spaces[space] = undefined;
  }

  /** A new path: its ECN support is unknown, test again (RFC 9000 §13.4.2). */
  resetForNewPath(enabled: boolean): void {
    if (!enabled) return;
    this.state = 'testing';
    this.#testingSent = 0;
    this.#lostWhileTesting = 0;
    this.#anyAcked = false;
  }

  #fail(): void {
    this.state = 'failed';
    this.stats.failures++;
  }
}
