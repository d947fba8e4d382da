import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AckTracker, EcnCodepoint } from '../../src/recovery/ack-tracker.js';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import { createPrng } from '../helpers/prng.js';

const { INITIAL, HANDSHAKE, APPLICATION } = PacketNumberSpace;

function receive(t: AckTracker, pn: number, now: number, ackEliciting = true, ecn: EcnCodepoint = EcnCodepoint.NOT_ECT): boolean {
  const fresh = t.onPacketReceived(pn, now, ackEliciting, ecn);
  t.assertInvariants();
  return fresh;
}

const pairs = (t: AckTracker): [number, number][] => t.rangesSnapshot().map((r) => [r.smallest, r.largest]);

test('RFC 9000 §13.2.1: Initial and Handshake ack-eliciting packets are acknowledged immediately', () => {
  for (const space of [INITIAL, HANDSHAKE]) {
    const t = new AckTracker(space);
    assert.is(t.ackDeadline, Infinity);
    receive(t, 0, 10);
    assert.is(t.ackDeadline, 10);
    assert.ok(t.ackDue(10));
  }
});

test('RFC 9000 §13.2.1/§13.2.2: application space waits max_ack_delay or the second ack-eliciting packet', () => {
  const t = new AckTracker(APPLICATION, { maxAckDelayMs: 25 });
  receive(t, 0, 100);
  assert.is(t.ackDeadline, 125);
  assert.not.ok(t.ackDue(124));
  assert.ok(t.ackDue(125));
  receive(t, 1, 110);
  assert.is(t.ackDeadline, 110, 'second ack-eliciting packet: due now');
  const frame = t.ackFrame(112)!;
  assert.equal(frame.ranges.map((r) => [r.smallest, r.largest]), [[0, 1]]);
  assert.is(frame.ackDelayMs, 2);
  assert.is(t.onAckSent(), 1);
  assert.is(t.ackDeadline, Infinity);
  assert.not.ok(t.hasNewPackets);
  // The next lone packet starts a new max_ack_delay period.
  receive(t, 2, 200);
  assert.is(t.ackDeadline, 225);
});

test('RFC 9000 §13.2.1: non-ack-eliciting packets are recorded but never make an ACK due', () => {
  const t = new AckTracker(APPLICATION);
  for (let pn = 0; pn < 10; pn++) receive(t, pn, pn, false);
  assert.is(t.ackDeadline, Infinity);
  assert.ok(t.hasNewPackets);
  assert.is(t.ackElicitingPending, 0);
  assert.equal(pairs(t), [[0, 9]]);
  const h = new AckTracker(HANDSHAKE);
  receive(h, 0, 0, false);
  assert.is(h.ackDeadline, Infinity);
});

test('RFC 9000 §13.2.1: a gap before a new ack-eliciting packet makes the ACK immediate', () => {
  const t = new AckTracker(APPLICATION, { maxAckDelayMs: 25 });
  receive(t, 0, 0);
  t.ackFrame(0);
  t.onAckSent();
  receive(t, 2, 10); // 1 missing
  assert.is(t.ackDeadline, 10);
  assert.equal(pairs(t), [[2, 2], [0, 0]]);
});

test('RFC 9000 §13.2.1: a packet below an already received ack-eliciting packet makes it immediate', () => {
  const t = new AckTracker(APPLICATION, { maxAckDelayMs: 25 });
  receive(t, 0, 0);
  receive(t, 2, 1);
  t.ackFrame(1);
  t.onAckSent();
  receive(t, 1, 20); // reordered, fills the gap
  assert.is(t.ackDeadline, 20);
  assert.equal(pairs(t), [[0, 2]]);
});

test('RFC 9000 §13.2.1: no immediate ACK when the gap is filled by non-ack-eliciting packets', () => {
  const t = new AckTracker(APPLICATION, { maxAckDelayMs: 25 });
  receive(t, 0, 0);
  t.ackFrame(0);
  t.onAckSent();
  receive(t, 1, 5, false);
  receive(t, 2, 10);
  assert.is(t.ackDeadline, 35);
});

test('RFC 9000 §13.2.1: CE-marked packets are acknowledged immediately; ECN counts per codepoint', () => {
  const t = new AckTracker(APPLICATION);
  receive(t, 0, 0, true, EcnCodepoint.ECT0);
  assert.is(t.ackDeadline, 25);
  receive(t, 1, 1, false, EcnCodepoint.ECT1);
  receive(t, 2, 2, true, EcnCodepoint.CE);
  assert.is(t.ackDeadline, 2);
  const frame = t.ackFrame(3)!;
  assert.equal(frame.ecn, { ect0: 1, ect1: 1, ce: 1 });
  // §13.4.1: duplicates do not count.
  assert.not.ok(receive(t, 2, 4, true, EcnCodepoint.CE));
  assert.equal(t.ackFrame(4)!.ecn, { ect0: 1, ect1: 1, ce: 1 });
  // Without any ECN mark, no counts are reported.
  const plain = new AckTracker(APPLICATION);
  receive(plain, 0, 0);
  assert.is(plain.ackFrame(0)!.ecn, undefined);
});

test('RFC 9000 §12.3: duplicates are detected and refused', () => {
  const t = new AckTracker(APPLICATION);
  assert.ok(receive(t, 5, 0));
  assert.not.ok(receive(t, 5, 1));
  assert.ok(t.isDuplicate(5));
  assert.not.ok(t.isDuplicate(4));
  assert.ok(receive(t, 3, 2));
  assert.not.ok(receive(t, 3, 3));
  assert.ok(receive(t, 4, 4));
  assert.equal(pairs(t), [[3, 5]]);
  assert.not.ok(receive(t, 4, 5));
});

test('ranges merge and split correctly under reordering', () => {
  const t = new AckTracker(APPLICATION);
  for (const pn of [10, 12, 14, 11, 16, 13, 0, 15, 2, 1]) receive(t, pn, 0);
  assert.equal(pairs(t), [[10, 16], [0, 2]]);
  assert.is(t.largestReceived, 16);
});

test('RFC 9000 §13.2.3: at most N ranges in a frame, highest first; the oldest are omitted', () => {
  const t = new AckTracker(APPLICATION);
  for (let pn = 0; pn < 40; pn += 2) receive(t, pn, pn);
  const frame = t.ackFrame(100, 3)!;
  assert.equal(frame.ranges.map((r) => [r.smallest, r.largest]), [[38, 38], [36, 36], [34, 34]]);
  assert.is(frame.ackDelayMs, 100 - 38);
  assert.is(t.ackFrame(100)!.ranges.length, 20);
});

test('RFC 9000 §13.2.3: a bounded number of ranges; the oldest are dropped and then refused', () => {
  const t = new AckTracker(APPLICATION, { maxRanges: 4 });
  for (let pn = 0; pn < 20; pn += 2) receive(t, pn, pn);
  assert.is(t.rangeCount, 4);
  assert.equal(pairs(t), [[18, 18], [16, 16], [14, 14], [12, 12]]);
  // Below the dropped ranges (0..10) nothing can be told apart from a duplicate: refused.
  assert.ok(t.isDuplicate(10));
  assert.not.ok(receive(t, 10, 30));
  assert.not.ok(receive(t, 1, 30));
  // At and above the floor (11) a gap is still accepted.
  assert.ok(receive(t, 11, 31));
  assert.ok(receive(t, 13, 31));
  assert.equal(pairs(t), [[18, 18], [16, 16], [11, 14]]);
  // A packet that would become a new oldest range at the bound is dropped at once and refused.
  const small = new AckTracker(APPLICATION, { maxRanges: 2 });
  receive(small, 10, 0);
  receive(small, 20, 1);
  assert.not.ok(receive(small, 5, 2));
  assert.equal(pairs(small), [[20, 20], [10, 10]]);
  assert.ok(small.isDuplicate(5));
  assert.not.ok(small.isDuplicate(6));
});

test('RFC 9000 §13.2.4: ranges acknowledged by an acknowledged ACK are forgotten', () => {
  const t = new AckTracker(APPLICATION);
  for (const pn of [0, 1, 3, 4, 6]) receive(t, pn, pn);
  t.ackFrame(10);
  const largest = t.onAckSent();
  assert.is(largest, 6);
  receive(t, 7, 11);
  receive(t, 9, 12);
  // The ACK acknowledging up to 6 was itself acknowledged.
  t.onAckFrameAcked(largest);
  t.assertInvariants();
  // Ranges wholly at or below 6 go; [6, 7] straddles it and stays.
  assert.equal(pairs(t), [[9, 9], [6, 7]]);
  assert.is(t.largestReceived, 9);
  // Forgotten ranges are refused from now on (below 5); the gap 5 and the new 8 are not.
  assert.ok(t.isDuplicate(2));
  assert.ok(t.isDuplicate(4));
  assert.not.ok(t.isDuplicate(5));
  assert.ok(receive(t, 8, 13));
  assert.equal(pairs(t), [[6, 9]]);
  // An older ACK's acknowledgment changes nothing.
  t.onAckFrameAcked(3);
  assert.equal(pairs(t), [[6, 9]]);
});

test('RFC 9000 §13.2.4: forgetting a range that straddles the acked largest keeps it', () => {
  const t = new AckTracker(APPLICATION);
  for (let pn = 0; pn <= 5; pn++) receive(t, pn, pn);
  t.ackFrame(5);
  t.onAckSent();
  receive(t, 6, 6);
  t.onAckFrameAcked(4);
  assert.equal(pairs(t), [[0, 6]]);
  t.onAckFrameAcked(6);
  assert.equal(pairs(t), []);
  assert.is(t.ackFrame(7), undefined);
  assert.ok(receive(t, 7, 8));
  assert.equal(t.ackFrame(8)!.ranges.map((r) => [r.smallest, r.largest]), [[7, 7]]);
});

test('discard forgets everything for the space', () => {
  const t = new AckTracker(HANDSHAKE);
  receive(t, 0, 0);
  t.discard();
  assert.is(t.ackDeadline, Infinity);
  assert.is(t.ackFrame(1), undefined);
});

test('randomized: ranges always equal the set of accepted packet numbers (seeded)', () => {
  const seed = 0x5eed_ac4;
  const prng = createPrng(seed);
  for (let round = 0; round < 20; round++) {
    const maxRanges = 1 + prng.int(40);
    const t = new AckTracker(APPLICATION, { maxRanges });
    const accepted = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const pn = prng.int(300);
      const fresh = t.onPacketReceived(pn, i, prng.chance(0.7));
      t.assertInvariants();
      if (fresh) {
        assert.not.ok(accepted.has(pn), `seed ${seed}: ${pn} accepted twice`);
        accepted.add(pn);
      }
      if (prng.chance(0.05)) {
        const frame = t.ackFrame(i);
        if (frame !== undefined) {
          const largest = t.onAckSent();
          if (prng.chance(0.5)) t.onAckFrameAcked(largest - prng.int(20));
        }
      }
      // The ranges are exactly the accepted packet numbers above the forgotten floor.
      const ranges = t.rangesSnapshot();
      const fromRanges = new Set<number>();
      for (const r of ranges) for (let p = r.smallest; p <= r.largest; p++) fromRanges.add(p);
      for (const p of fromRanges) assert.ok(accepted.has(p), `seed ${seed}: ${p} reported but never accepted`);
      for (const p of accepted) {
        if (ranges.length > 0 && p >= ranges.at(-1)!.smallest) assert.ok(fromRanges.has(p), `seed ${seed}: ${p} accepted but missing`);
        // Everything accepted is refused again.
        assert.ok(t.isDuplicate(p), `seed ${seed}: ${p} not a duplicate`);
      }
    }
  }
});

test.run();
