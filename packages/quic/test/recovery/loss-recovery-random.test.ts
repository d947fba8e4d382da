/**
 * Randomized loss recovery: a sender (LossRecovery + NewReno) and a receiver (AckTracker per
 * space) over a lossy, reordering network on virtual time, with space discards and junk ACKs.
 * After every event the invariants are checked, and a model kept by the test itself checks
 * that every packet's bytes leave flight exactly once (acknowledged, lost or discarded).
 * Replay a failure with RECOVERY_SEED=<seed printed in the message>.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AckTracker } from '../../src/recovery/ack-tracker.js';
import { LossRecovery, TimeoutAction } from '../../src/recovery/loss-recovery.js';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import { type SentPacket, SentPacketState } from '../../src/recovery/sent-packet-tracker.js';
import { createPrng, seedFromEnv, type Prng } from '../helpers/prng.js';
import { RecordingController } from './recording-controller.js';

const { INITIAL, HANDSHAKE, APPLICATION } = PacketNumberSpace;

interface Token {
  id: number;
  space: PacketNumberSpace;
  pn: number;
  size: number;
  inFlight: boolean;
  returned: 'acked' | 'lost' | 'discarded' | undefined;
  spurious: boolean;
}

type InTransit =
  | { arrival: number; kind: 'packet'; space: PacketNumberSpace; pn: number; ackEliciting: boolean }
  | {
      arrival: number;
      kind: 'ack';
      space: PacketNumberSpace;
      ranges: { smallest: number; largest: number }[];
      delay: number;
      ecn?: { ect0: number; ect1: number; ce: number } | undefined;
    };

interface RunStats {
  sent: number;
  acked: number;
  lost: number;
  discarded: number;
  ptos: number;
  lossTimeouts: number;
  persistent: number;
  spurious: number;
  ecn: number;
}

function run(seed: number, packetsToSend: number): RunStats {
  const prng: Prng = createPrng(seed);
  const isServer = prng.chance(0.5);
  const lossRate = 0.02 + prng.int(20) / 100; // 2%..21%
  const ackLossRate = prng.int(15) / 100;
  const baseDelay = 5 + prng.int(60);
  const jitter = prng.int(40);
  const cc = new RecordingController();
  const lr = new LossRecovery<Token>({ isServer, congestion: cc, maxAckDelayMs: 25 });
  const receivers = [new AckTracker(INITIAL), new AckTracker(HANDSHAKE), new AckTracker(APPLICATION, { maxRanges: 16 })];
  const nextPn = [0, 0, 0];
  const discarded = [false, false, false];
  const tokens: Token[] = [];
  const sentBySpace: number[][] = [[], [], []];
  /** ECN-CE counts the junk ACKs report, per space (only ever growing, as a peer's would). */
  const ceReported = [0, 0, 0];
  const network: InTransit[] = [];
  const stats: RunStats = { sent: 0, acked: 0, lost: 0, discarded: 0, ptos: 0, lossTimeouts: 0, persistent: 0, spurious: 0, ecn: 0 };
  let modelBytesInFlight = 0;
  let now = 0;
  let handshakeConfirmed = false;
  let blocked = false;
  /** Until then the network drops everything (a path outage: PTOs, persistent congestion). */
  let blackoutUntil = -Infinity;
  const where = (): string => `seed ${seed} t=${now}`;

  function check(): void {
    lr.assertInvariants();
    assert.is(lr.bytesInFlight, modelBytesInFlight, `${where()}: bytes in flight vs model`);
    assert.ok(lr.bytesInFlight >= 0, where());
    // Liveness: with ack-eliciting packets in flight in an armable space, some timer is set.
    const armable =
      lr.tracker(INITIAL).ackElicitingInFlight + lr.tracker(HANDSHAKE).ackElicitingInFlight + (handshakeConfirmed ? lr.tracker(APPLICATION).ackElicitingInFlight : 0);
    if (armable > 0 && !blocked) assert.ok(Number.isFinite(lr.lossDetectionTimer), `${where()}: no timer with packets in flight`);
  }

  function settle(packets: readonly SentPacket<Token>[], how: 'acked' | 'lost' | 'discarded'): void {
    const expectedState = how === 'acked' ? SentPacketState.ACKED : how === 'lost' ? SentPacketState.LOST : SentPacketState.DISCARDED;
    let previous = -1;
    for (const p of packets) {
      const t = p.tokens;
      assert.is(t.returned, undefined, `${where()}: packet ${t.space}:${t.pn} returned twice (${t.returned}, then ${how})`);
      assert.is(p.state, expectedState, where());
      t.returned = how;
      if (how !== 'discarded') assert.ok(p.packetNumber > previous, `${where()}: ${how} not ascending`);
      previous = p.packetNumber;
      if (t.inFlight) modelBytesInFlight -= t.size;
      stats[how]++;
    }
  }

  function activeSpaces(): PacketNumberSpace[] {
    const spaces: PacketNumberSpace[] = [];
    for (const s of [INITIAL, HANDSHAKE, APPLICATION]) if (!discarded[s]) spaces.push(s);
    return spaces;
  }

  function send(space: PacketNumberSpace, forceAckEliciting = false): void {
    // Sender-side packet number skips now and then (RFC 9000 §21.4 optimistic-ACK defence).
    if (prng.chance(0.02)) lr.onPacketNumberSkipped(space, nextPn[space]!++);
    const pn = nextPn[space]!++;
    const ackEliciting = forceAckEliciting || prng.chance(0.85);
    const inFlight = ackEliciting || prng.chance(0.3);
    const size = 40 + prng.int(1400);
    const token: Token = { id: tokens.length, space, pn, size, inFlight, returned: undefined, spurious: false };
    tokens.push(token);
    sentBySpace[space]!.push(pn);
    lr.onPacketSent(space, pn, now, size, ackEliciting, inFlight, token);
    if (inFlight) modelBytesInFlight += size;
    stats.sent++;
    check();
    if (now >= blackoutUntil && !prng.chance(lossRate)) {
      network.push({ arrival: now + baseDelay + prng.int(jitter + 1), kind: 'packet', space, pn, ackEliciting });
    }
  }

  function deliver(item: InTransit): void {
    if (item.kind === 'packet') {
      const receiver = receivers[item.space]!;
      if (discarded[item.space]) return;
      receiver.onPacketReceived(item.pn, now, item.ackEliciting);
      receiver.assertInvariants();
      return;
    }
    if (discarded[item.space]) return;
    const outcome = lr.onAckReceived(item.space, item.ranges, item.delay, now, item.ecn);
    if (outcome.ecnCongestion) stats.ecn++;
    for (const p of outcome.spuriouslyLost) {
      assert.is(p.tokens.returned, 'lost', `${where()}: spurious loss of a packet not lost`);
      assert.not.ok(p.tokens.spurious, `${where()}: spurious loss reported twice`);
      p.tokens.spurious = true;
      stats.spurious++;
    }
    settle(outcome.lost, 'lost');
    settle(outcome.acked, 'acked');
    if (outcome.persistentCongestion) stats.persistent++;
    check();
    // Sometimes the receiver learns its ACK arrived (the ack of an ACK, §13.2.4).
    if (prng.chance(0.3)) receivers[item.space]!.onAckFrameAcked(item.ranges[0]!.largest);
  }

  /** A junk-but-valid ACK straight from the sender's view: random ranges of sent numbers. */
  function randomAck(space: PacketNumberSpace): void {
    // Random ranges over packet numbers that were really sent (never a skipped one).
    const sentPns = sentBySpace[space]!;
    if (sentPns.length === 0) return;
    const ranges: { smallest: number; largest: number }[] = [];
    let topIndex = sentPns.length - 1 - prng.int(Math.min(sentPns.length, 10));
    for (let i = 0; i < 1 + prng.int(4) && topIndex >= 0; i++) {
      let bottomIndex = topIndex;
      // Extend down over consecutive packet numbers only.
      for (let k = prng.int(6); k > 0 && bottomIndex > 0 && sentPns[bottomIndex - 1] === sentPns[bottomIndex]! - 1; k--) bottomIndex--;
      ranges.push({ smallest: sentPns[bottomIndex]!, largest: sentPns[topIndex]! });
      topIndex = bottomIndex - 2 - prng.int(4);
    }
    const ecn = prng.chance(0.3) ? { ect0: 0, ect1: 0, ce: ceReported[space]! += prng.int(2) } : undefined;
    network.push({ arrival: now, kind: 'ack', space, ranges, delay: prng.int(30), ecn });
  }

  function receiverAcks(): void {
    for (const space of activeSpaces()) {
      const receiver = receivers[space]!;
      if (!receiver.ackDue(now)) continue;
      const frame = receiver.ackFrame(now, 1 + prng.int(8));
      if (frame === undefined) continue;
      const ranges = frame.ranges.map((r) => ({ smallest: r.smallest, largest: r.largest }));
      receiver.onAckSent();
      if (now >= blackoutUntil && !prng.chance(ackLossRate)) network.push({ arrival: now + baseDelay + prng.int(jitter + 1), kind: 'ack', space, ranges, delay: frame.ackDelayMs });
    }
  }

  // Handshake progress: which spaces exist, when they are discarded, when confirmation comes.
  const handshakeKeysAt = Math.floor(packetsToSend * (0.02 + prng.int(5) / 100));
  const initialDiscardAt = handshakeKeysAt + 5 + prng.int(20);
  const confirmAt = initialDiscardAt + 10 + prng.int(50);
  const handshakeDiscardAt = confirmAt + prng.int(20);

  for (let step = 0; step < packetsToSend * 20 && stats.sent < packetsToSend; step++) {
    // Handshake milestones, counted in packets sent.
    if (stats.sent >= handshakeKeysAt) lr.onHandshakeKeysAvailable(now);
    if (stats.sent >= initialDiscardAt && !discarded[INITIAL]) {
      discarded[INITIAL] = true;
      settle(lr.discardSpace(INITIAL, now), 'discarded');
      receivers[INITIAL]!.discard();
      check();
    }
    if (stats.sent >= confirmAt && !handshakeConfirmed) {
      handshakeConfirmed = true;
      lr.onHandshakeConfirmed(now);
      check();
    }
    if (stats.sent >= handshakeDiscardAt && !discarded[HANDSHAKE]) {
      discarded[HANDSHAKE] = true;
      settle(lr.discardSpace(HANDSHAKE, now), 'discarded');
      receivers[HANDSHAKE]!.discard();
      check();
    }
    if (isServer && stats.sent < confirmAt && prng.chance(0.05)) {
      blocked = !blocked;
      lr.setAmplificationBlocked(blocked, now);
      check();
    } else if (blocked && stats.sent >= confirmAt) {
      blocked = false;
      lr.setAmplificationBlocked(false, now);
      check();
    }

    // Next event: a network arrival, the loss detection timer, or a send opportunity.
    let nextArrival = Infinity;
    let nextIndex = -1;
    for (let i = 0; i < network.length; i++) {
      if (network[i]!.arrival < nextArrival) {
        nextArrival = network[i]!.arrival;
        nextIndex = i;
      }
    }
    const timer = lr.lossDetectionTimer;
    const windowOpen = cc.reno.canSend(lr.bytesInFlight);
    const sendAt = windowOpen ? now + prng.int(4) : Infinity;
    const next = Math.min(nextArrival, timer, sendAt);
    if (next === Infinity) {
      // Window full of packets that elicit nothing (e.g. PADDING only) and no timer: the
      // connection must send something ack-eliciting (RFC 9000 §13.2.1); do so here.
      send(prng.pick(activeSpaces()), true);
      continue;
    }
    if (next > now) now = next;
    if (prng.chance(0.0005)) blackoutUntil = now + 500 + prng.int(2500);

    if (nextIndex >= 0 && nextArrival <= now) {
      const [item] = network.splice(nextIndex, 1);
      deliver(item!);
      receiverAcks();
      continue;
    }
    if (timer <= now) {
      const outcome = lr.onLossDetectionTimeout(now);
      if (outcome.action === TimeoutAction.LOSS) {
        stats.lossTimeouts++;
        settle(outcome.lost, 'lost');
        if (outcome.persistentCongestion) stats.persistent++;
      } else if (outcome.action === TimeoutAction.PTO) {
        stats.ptos++;
        assert.ok(outcome.probes >= 1, where());
        assert.ok(!discarded[outcome.space], `${where()}: PTO for a discarded space`);
        if (outcome.space === APPLICATION) assert.ok(handshakeConfirmed || !outcome.antiDeadlock, where());
      }
      check();
      // Probes bypass the congestion window (RFC 9002 §7.5).
      for (const space of activeSpaces()) {
        for (let i = 0; i < 3 && lr.pendingProbes(space) > 0; i++) send(space);
      }
      continue;
    }
    if (prng.chance(0.03)) {
      const spaces = activeSpaces();
      randomAck(prng.pick(spaces));
      continue;
    }
    const spaces = activeSpaces();
    // Mostly the newest space; the application space only once 0-RTT/1-RTT could be used.
    const space = prng.chance(0.8) ? spaces[spaces.length - 1]! : prng.pick(spaces);
    if (prng.chance(0.02)) {
      lr.onAppLimited(now);
      check();
      continue;
    }
    if (windowOpen) send(space);
  }

  // Drain: deliver what is in the network, then discard every space.
  for (let i = 0; i < 10_000 && network.length > 0; i++) {
    network.sort((a, b) => a.arrival - b.arrival);
    const item = network.shift()!;
    if (item.arrival > now) now = item.arrival;
    deliver(item);
    receiverAcks();
  }
  for (const space of activeSpaces()) {
    discarded[space] = true;
    settle(lr.discardSpace(space, now), 'discarded');
    check();
  }
  assert.is(lr.bytesInFlight, 0, where());
  assert.is(modelBytesInFlight, 0, where());
  for (const t of tokens) assert.ok(t.returned !== undefined, `${where()}: packet ${t.space}:${t.pn} never returned`);
  assert.is(stats.acked + stats.lost + stats.discarded, stats.sent, where());
  return stats;
}

test('randomized ack/loss/reorder/discard: invariants after every event, each packet released exactly once', () => {
  const base = seedFromEnv('RECOVERY_SEED', 0x9002_0001);
  const seeds = process.env.RECOVERY_SEED ? [base] : [base, base + 1, base + 2, base + 3, base + 4, base + 5];
  const total: RunStats = { sent: 0, acked: 0, lost: 0, discarded: 0, ptos: 0, lossTimeouts: 0, persistent: 0, spurious: 0, ecn: 0 };
  for (const seed of seeds) {
    const stats = run(seed, 4000);
    if (process.env.RECOVERY_VERBOSE) console.log(seed, JSON.stringify(stats));
    for (const k of Object.keys(total) as (keyof RunStats)[]) total[k] += stats[k];
  }
  // The scenarios exercised every outcome.
  assert.ok(total.sent >= 6 * 4000 * 0.9, `sent ${total.sent}`);
  assert.ok(total.acked > 0 && total.lost > 0 && total.discarded > 0, JSON.stringify(total));
  assert.ok(total.ptos > 0 && total.lossTimeouts > 0 && total.persistent > 0 && total.spurious > 0 && total.ecn > 0, JSON.stringify(total));
});

test.run();
