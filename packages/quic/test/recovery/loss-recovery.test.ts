import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { LossRecovery, TimeoutAction } from '../../src/recovery/loss-recovery.js';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import type { SentPacket } from '../../src/recovery/sent-packet-tracker.js';
import { RecordingController } from './recording-controller.js';

const { INITIAL, HANDSHAKE, APPLICATION } = PacketNumberSpace;

interface Harness {
  lr: LossRecovery<string>;
  cc: RecordingController;
  send(space: PacketNumberSpace, pn: number, now: number, size?: number, ackEliciting?: boolean, inFlight?: boolean): void;
  ack(space: PacketNumberSpace, ranges: [number, number][], now: number, ackDelay?: number, ecn?: { ect0: number; ect1: number; ce: number }): ReturnType<LossRecovery<string>['onAckReceived']>;
  timeout(now: number): ReturnType<LossRecovery<string>['onLossDetectionTimeout']>;
}

/** A LossRecovery with a real NewReno, checking the invariants after every event. */
function harness(opts: { isServer: boolean; confirmed?: boolean; maxAckDelayMs?: number }): Harness {
  const cc = new RecordingController();
  const lr = new LossRecovery<string>({ isServer: opts.isServer, congestion: cc, maxAckDelayMs: opts.maxAckDelayMs ?? 25 });
  if (opts.confirmed) lr.onHandshakeConfirmed(0);
  return {
    lr,
    cc,
    send(space, pn, now, size = 1000, ackEliciting = true, inFlight = true) {
      lr.onPacketSent(space, pn, now, size, ackEliciting, inFlight, `${space}:${pn}`);
      lr.assertInvariants();
    },
    ack(space, ranges, now, ackDelay = 0, ecn) {
      const out = lr.onAckReceived(
        space,
        ranges.map(([smallest, largest]) => ({ smallest, largest })),
        ackDelay,
        now,
        ecn,
      );
      lr.assertInvariants();
      return out;
    },
    timeout(now) {
      const out = lr.onLossDetectionTimeout(now);
      lr.assertInvariants();
      return out;
    },
  };
}

const tokens = (packets: readonly SentPacket<string>[]): string[] => packets.map((p) => p.tokens);

test('RFC 9002 A.5/A.7: acknowledged packets come back with their tokens; bytes in flight drop', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 10);
  h.send(APPLICATION, 2, 20, 500);
  assert.is(h.lr.bytesInFlight, 2500);
  assert.is(h.lr.tracker(APPLICATION).bytesInFlight, 2500);
  assert.is(h.cc.of('sent').map((c) => c.bytesInFlight).join(), '1000,2000,2500');
  const out = h.ack(APPLICATION, [[0, 2]], 100);
  assert.equal(tokens(out.acked), ['2:0', '2:1', '2:2']);
  assert.equal(out.lost.length, 0);
  assert.ok(out.rttUpdated);
  assert.is(h.lr.rtt.latestRtt, 80);
  assert.is(h.lr.rtt.smoothedRtt, 80);
  assert.is(h.lr.bytesInFlight, 0);
  // NewReno slow start: +2500.
  assert.is(h.cc.congestionWindow, 14500);
  const all = h.cc.of('ackedAll');
  assert.is(all.length, 1);
  assert.is(all[0]!.sample.ackedBytes, 2500);
  assert.is(all[0]!.sample.ackedPackets, 3);
  assert.is(all[0]!.sample.largestAckedPacketNumber, 2);
  assert.is(all[0]!.sample.priorBytesInFlight, 2500);
  assert.is(all[0]!.sample.bytesInFlight, 0);
  // A server with nothing in flight arms no timer.
  assert.is(h.lr.lossDetectionTimer, Infinity);
});

test('RFC 9002 §5.1: no RTT sample unless the largest is newly acked and something ack-eliciting is', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.ack(APPLICATION, [[0, 0]], 50);
  assert.is(h.lr.rtt.latestRtt, 50);
  // Duplicate ACK: nothing new, no sample.
  const dup = h.ack(APPLICATION, [[0, 0]], 500);
  assert.is(dup.acked.length, 0);
  assert.not.ok(dup.rttUpdated);
  assert.is(h.lr.rtt.latestRtt, 50);
  // Largest newly acked but not ack-eliciting (an ACK-only packet): no sample.
  h.send(APPLICATION, 1, 600, 50, false, false);
  const onlyAck = h.ack(APPLICATION, [[0, 1]], 700);
  assert.equal(tokens(onlyAck.acked), ['2:1']);
  assert.not.ok(onlyAck.rttUpdated);
  assert.is(h.lr.rtt.latestRtt, 50);
  // Largest already acked, a smaller ack-eliciting one newly acked: no sample.
  h.send(APPLICATION, 2, 800);
  h.send(APPLICATION, 3, 810);
  h.ack(APPLICATION, [[3, 3]], 850);
  assert.is(h.lr.rtt.latestRtt, 40);
  const late = h.ack(APPLICATION, [[2, 3]], 900);
  assert.equal(tokens(late.acked), ['2:2']);
  assert.not.ok(late.rttUpdated);
  assert.is(h.lr.rtt.latestRtt, 40);
});

test('RFC 9002 §5.3: ack delay subtracted in Handshake/App spaces, ignored for Initial', () => {
  const h = harness({ isServer: true });
  h.send(INITIAL, 0, 0);
  h.ack(INITIAL, [[0, 0]], 100);
  h.send(INITIAL, 1, 100);
  h.ack(INITIAL, [[1, 1]], 200, 30); // Initial: delay ignored, adjusted 100
  assert.is(h.lr.rtt.smoothedRtt, 100);
  h.send(HANDSHAKE, 0, 200);
  h.ack(HANDSHAKE, [[0, 0]], 340, 30); // 140 - 30 = 110 (not confirmed: no cap)
  assert.is(h.lr.rtt.smoothedRtt, 0.875 * 100 + 0.125 * 110);
});

test('RFC 9002 §6.1.1/§6.1.2: packet threshold 3, time threshold 9/8 with loss timer', () => {
  const h = harness({ isServer: true, confirmed: true });
  for (let pn = 0; pn <= 5; pn++) h.send(APPLICATION, pn, 0);
  // RTT 100: loss delay 112.5, nothing old enough to be lost by time.
  const first = h.ack(APPLICATION, [[3, 3]], 100);
  assert.equal(tokens(first.acked), ['2:3']);
  assert.equal(tokens(first.lost), ['2:0'], 'only pn 0 is 3 below the largest acked');
  assert.is(h.lr.tracker(APPLICATION).lossTime, 112.5);
  assert.is(h.lr.lossDetectionTimer, 112.5, 'the loss timer, not a PTO');
  const second = h.ack(APPLICATION, [[4, 4]], 101);
  assert.equal(tokens(second.lost), ['2:1']);
  const lossDelay = (9 / 8) * Math.max(h.lr.rtt.smoothedRtt, h.lr.rtt.latestRtt);
  assert.is(h.lr.lossDetectionTimer, lossDelay);
  // Before the deadline the timer does nothing.
  assert.is(h.timeout(lossDelay - 0.001).action, TimeoutAction.NONE);
  const fired = h.timeout(lossDelay);
  assert.is(fired.action, TimeoutAction.LOSS);
  assert.is(fired.space, APPLICATION);
  assert.equal(tokens(fired.lost), ['2:2']);
  // pn 5 is still outstanding, above the largest acked: a PTO now, from its send time.
  assert.is(h.lr.tracker(APPLICATION).outstanding, 1);
  assert.is(h.lr.lossDetectionTimer, 0 + h.lr.rtt.ptoDuration(25));
  // The controller saw three loss events (one per batch) with 1000 bytes each.
  assert.equal(h.cc.of('lost').map((c) => c.lostBytes), [1000, 1000, 1000]);
});

test('RFC 9002 §6.1.2: a loss timer firing at its deadline always declares the packet lost (rounding)', () => {
  // Found by the randomized test: with these times (deadline - lossDelay) rounds below the
  // send time, and a check written as timeSent <= now - lossDelay re-armed the same deadline.
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 12.3);
  h.send(APPLICATION, 1, 12.3 + 4.9);
  h.ack(APPLICATION, [[1, 1]], 93.1);
  const deadline = h.lr.lossDetectionTimer;
  assert.is(deadline, 12.3 + (9 / 8) * (93.1 - (12.3 + 4.9)));
  assert.ok(deadline - (9 / 8) * h.lr.rtt.latestRtt < 12.3, 'the rounding case');
  const fired = h.timeout(deadline);
  assert.is(fired.action, TimeoutAction.LOSS);
  assert.equal(tokens(fired.lost), ['2:0']);
});

test('RFC 9002 A.1 / RFC 9000 §13.3: a late ACK of a packet declared lost reports a spurious loss', () => {
  const h = harness({ isServer: true, confirmed: true });
  for (let pn = 0; pn <= 4; pn++) h.send(APPLICATION, pn, 0);
  const first = h.ack(APPLICATION, [[3, 4]], 100);
  assert.equal(tokens(first.lost), ['2:0', '2:1']);
  assert.is(h.lr.bytesInFlight, 1000);
  // Reordered: pn 0 and 1 did arrive.
  const late = h.ack(APPLICATION, [[3, 4], [0, 1]], 110);
  assert.equal(tokens(late.spuriouslyLost), ['2:0', '2:1']);
  assert.is(late.acked.length, 0);
  assert.is(h.lr.bytesInFlight, 1000, 'bytes left flight once, at the loss');
  assert.equal(h.cc.of('spurious'), [{ kind: 'spurious', now: 110, bytes: 2000, largestSentTime: 0 }]);
  // Reported once.
  const again = h.ack(APPLICATION, [[0, 4]], 120);
  assert.equal(tokens(again.acked), ['2:2']);
  assert.is(again.spuriouslyLost.length, 0);
});

test('RFC 9002 §6.2.1: PTO = srtt + max(4*rttvar, g) + max_ack_delay, doubling per expiry, reset by ACK', () => {
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  h.send(APPLICATION, 0, 0);
  assert.is(h.lr.lossDetectionTimer, 333 + 4 * 166.5 + 25);
  assert.is(h.timeout(1023).action, TimeoutAction.NONE);
  const pto1 = h.timeout(1024);
  assert.is(pto1.action, TimeoutAction.PTO);
  assert.is(pto1.space, APPLICATION);
  assert.is(pto1.probes, 2);
  assert.not.ok(pto1.antiDeadlock);
  assert.is(h.lr.ptoCount, 1);
  assert.is(h.lr.pendingProbes(APPLICATION), 2);
  // §6.2.1: the PTO does not declare anything lost.
  assert.is(pto1.lost.length, 0);
  assert.is(h.lr.bytesInFlight, 1000);
  // Backoff doubles the whole period, max_ack_delay included.
  assert.is(h.lr.lossDetectionTimer, 2 * 1024);
  h.send(APPLICATION, 1, 1024);
  assert.is(h.lr.pendingProbes(APPLICATION), 1);
  h.send(APPLICATION, 2, 1024);
  assert.is(h.lr.pendingProbes(APPLICATION), 0);
  assert.is(h.lr.lossDetectionTimer, 1024 + 2 * 1024);
  const pto2 = h.timeout(3072);
  assert.is(pto2.action, TimeoutAction.PTO);
  assert.is(h.lr.ptoCount, 2);
  assert.is(h.lr.lossDetectionTimer, 1024 + 4 * 1024);
  // An acknowledgment resets the backoff.
  const out = h.ack(APPLICATION, [[2, 2]], 5200);
  assert.is(h.lr.ptoCount, 0);
  assert.equal(tokens(out.lost), ['2:0']);
});

test('RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed', () => {
  const h = harness({ isServer: true });
  h.send(APPLICATION, 0, 0);
  assert.is(h.lr.lossDetectionTimer, Infinity);
  h.send(HANDSHAKE, 0, 10);
  // Handshake PTO: no max_ack_delay.
  assert.is(h.lr.lossDetectionTimer, 10 + 999);
  h.ack(HANDSHAKE, [[0, 0]], 110);
  assert.is(h.lr.lossDetectionTimer, Infinity);
  h.lr.onHandshakeConfirmed(120);
  h.lr.assertInvariants();
  assert.is(h.lr.lossDetectionTimer, 0 + h.lr.rtt.ptoDuration(25));
});

test('RFC 9002 §6.2.1/§6.2.4: earliest of the Initial and Handshake PTOs; probes for the other space too', () => {
  const h = harness({ isServer: true });
  h.send(INITIAL, 0, 0);
  h.send(HANDSHAKE, 0, 50);
  assert.is(h.lr.lossDetectionTimer, 999);
  const pto = h.timeout(999);
  assert.is(pto.space, INITIAL);
  assert.is(h.lr.pendingProbes(INITIAL), 2);
  assert.is(h.lr.pendingProbes(HANDSHAKE), 1);
  // §6.2.1: a timeout in one space doubles the other's PTO too.
  h.send(INITIAL, 1, 999);
  h.send(INITIAL, 2, 999);
  assert.is(h.lr.lossDetectionTimer, 50 + 2 * 999);
  const pto2 = h.timeout(50 + 2 * 999);
  assert.is(pto2.space, HANDSHAKE);
});

test('RFC 9002 §6.2.2.1: client anti-deadlock PTO; Initial without and Handshake with handshake keys', () => {
  const h = harness({ isServer: false });
  h.send(INITIAL, 0, 0, 1200);
  assert.is(h.lr.lossDetectionTimer, 999);
  h.ack(INITIAL, [[0, 0]], 100);
  // Nothing in flight, but the server may be amplification-limited: armed from now.
  assert.is(h.lr.bytesInFlight, 0);
  assert.not.ok(h.lr.peerCompletedAddressValidation);
  assert.is(h.lr.lossDetectionTimer, 100 + 100 + 4 * 50);
  const pto = h.timeout(400);
  assert.is(pto.action, TimeoutAction.PTO);
  assert.ok(pto.antiDeadlock);
  assert.is(pto.space, INITIAL);
  assert.is(pto.probes, 1);
  assert.is(h.lr.pendingProbes(INITIAL), 1);
  assert.is(h.lr.ptoCount, 1);
  assert.is(h.lr.lossDetectionTimer, 400 + 2 * 300);
  h.lr.onHandshakeKeysAvailable(500);
  assert.is(h.lr.lossDetectionTimer, 500 + 2 * 300);
  const pto2 = h.timeout(1100);
  assert.ok(pto2.antiDeadlock);
  assert.is(pto2.space, HANDSHAKE);
  assert.is(h.lr.ptoCount, 2);
});

test('RFC 9002 §6.2.1: a client keeps the PTO backoff on Initial ACKs until a Handshake ACK', () => {
  const h = harness({ isServer: false });
  h.send(INITIAL, 0, 0, 1200);
  h.timeout(999);
  h.timeout(999 + 2 * 999);
  assert.is(h.lr.ptoCount, 2);
  h.ack(INITIAL, [[0, 0]], 3100);
  assert.is(h.lr.ptoCount, 2, 'Initial ACK: backoff kept');
  h.lr.onHandshakeKeysAvailable(3100);
  h.send(HANDSHAKE, 0, 3100);
  h.ack(HANDSHAKE, [[0, 0]], 3200);
  assert.ok(h.lr.peerCompletedAddressValidation);
  assert.is(h.lr.ptoCount, 0, 'Handshake ACK: backoff reset');
  // Address validated and nothing in flight: no timer.
  assert.is(h.lr.lossDetectionTimer, Infinity);
  // A server resets on any ACK.
  const s = harness({ isServer: true });
  s.send(INITIAL, 0, 0);
  s.timeout(999);
  assert.is(s.lr.ptoCount, 1);
  s.send(INITIAL, 1, 999);
  s.ack(INITIAL, [[1, 1]], 1100);
  assert.is(s.lr.ptoCount, 0);
});

test('RFC 9002 §6.2.2.1: a client with only 0-RTT in flight before confirmation still probes', () => {
  const h = harness({ isServer: false });
  h.send(INITIAL, 0, 0, 1200);
  h.send(APPLICATION, 0, 0, 1200); // 0-RTT
  h.ack(INITIAL, [[0, 0]], 100);
  assert.is(h.lr.lossDetectionTimer, 100 + 300);
  const pto = h.timeout(400);
  assert.ok(pto.antiDeadlock);
  assert.is(pto.space, INITIAL);
});

test('RFC 9002 §6.2.2.1: a server at the amplification limit arms no PTO; unblocking re-arms it', () => {
  const h = harness({ isServer: true });
  h.send(INITIAL, 0, 0, 1200);
  assert.is(h.lr.lossDetectionTimer, 999);
  h.lr.setAmplificationBlocked(true, 10);
  assert.is(h.lr.lossDetectionTimer, Infinity);
  assert.is(h.timeout(5000).action, TimeoutAction.NONE);
  h.lr.setAmplificationBlocked(false, 2000);
  // A timer in the past: the connection runs the timeout at once (RFC 9002 A.6).
  assert.ok(h.lr.lossDetectionTimer <= 2000);
  const pto = h.timeout(2000);
  assert.is(pto.action, TimeoutAction.PTO);
  assert.is(pto.space, INITIAL);
});

test('RFC 9002 §7.6: persistent congestion, the example of §7.6.3 in ms', () => {
  // #1 at 0, #2 at 100, ack of #1 at 120 (the first RTT sample), #3-#7 at 200..600, PTO probes
  // #8 and #9, ack of #9 at 2020: #2-#8 are lost. §7.6.2 counts only packets sent after the
  // first RTT sample, so #2 (sent at 100, before the sample at 120) does not start the period
  // (the RFC's table counts it; its pseudocode does not); #8 is sent at 1500 so that #3..#8
  // span 1300 ms.
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 100);
  h.ack(APPLICATION, [[0, 0]], 120);
  const times = [200, 300, 400, 500, 600, 1500, 2000];
  times.forEach((t, i) => h.send(APPLICATION, i + 2, t));
  const out = h.ack(APPLICATION, [[8, 8]], 2020);
  assert.equal(tokens(out.lost), ['2:1', '2:2', '2:3', '2:4', '2:5', '2:6', '2:7']);
  // srtt 107.5, rttvar 70: duration (107.5 + 280 + 25) * 3 = 1237.5 < 1300.
  assert.is(h.lr.rtt.persistentCongestionDuration(25, 3), 1237.5);
  assert.ok(out.persistentCongestion);
  assert.is(h.cc.of('persistent').length, 1);
  assert.is(h.cc.congestionWindow, 2400 + 1000, 'minimum window, then slow start grows it by the acked packet');
  // §5.2: min_rtt restarts from the newest sample.
  assert.is(h.lr.rtt.minRtt, 20);
});

test('RFC 9002 §7.6.1: a span not above the duration is not persistent congestion', () => {
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 100);
  h.ack(APPLICATION, [[0, 0]], 120);
  // #3..#8 span 1200 ms < 1237.5 (the example's own timing, #8 at 1400).
  [200, 300, 400, 500, 600, 1400, 2000].forEach((t, i) => h.send(APPLICATION, i + 2, t));
  const out = h.ack(APPLICATION, [[8, 8]], 2020);
  assert.is(out.lost.length, 7);
  assert.not.ok(out.persistentCongestion);
});

test('RFC 9002 §7.6.2: no persistent congestion when a packet in between was acknowledged', () => {
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 100);
  h.ack(APPLICATION, [[0, 0]], 120);
  [200, 300, 400, 500, 600, 1500, 2000].forEach((t, i) => h.send(APPLICATION, i + 2, t));
  const out = h.ack(APPLICATION, [[8, 8], [4, 4]], 2020);
  assert.equal(tokens(out.lost), ['2:1', '2:2', '2:3', '2:5', '2:6', '2:7']);
  assert.not.ok(out.persistentCongestion);
  assert.is(h.cc.of('persistent').length, 0);
});

test('RFC 9002 §7.6.2: an acknowledgment in another space between the two losses also prevents it', () => {
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 100);
  h.ack(APPLICATION, [[0, 0]], 120);
  [200, 300, 400, 500, 600].forEach((t, i) => h.send(APPLICATION, i + 2, t));
  // A Handshake ACK-only packet sent at 700 and acknowledged (no RTT sample: not ack-eliciting).
  h.send(HANDSHAKE, 0, 700, 50, false, false);
  h.send(APPLICATION, 7, 1500);
  h.send(APPLICATION, 8, 2000);
  const hs = h.ack(HANDSHAKE, [[0, 0]], 2010);
  assert.not.ok(hs.rttUpdated);
  const out = h.ack(APPLICATION, [[8, 8]], 2020);
  assert.is(out.lost.length, 7);
  assert.not.ok(out.persistentCongestion, 'the run splits at 700: 200..600 and 1500 alone');
});

test('RFC 9002 §7.6.2: packets sent before the first RTT sample do not establish it', () => {
  const h = harness({ isServer: true, confirmed: true, maxAckDelayMs: 25 });
  [0, 100, 200, 300, 400, 500, 600, 1400, 2000].forEach((t, i) => h.send(APPLICATION, i, t));
  const out = h.ack(APPLICATION, [[8, 8]], 2020);
  assert.is(out.lost.length, 8);
  assert.not.ok(out.persistentCongestion);
  // Only the ordinary loss response: one halving.
  assert.is(h.cc.congestionWindow, 6000);
});

test('RFC 9002 §7.3.2 with recovery: losses of packets sent before recovery start do not reduce again', () => {
  const h = harness({ isServer: true, confirmed: true });
  for (let pn = 0; pn < 8; pn++) h.send(APPLICATION, pn, pn);
  h.ack(APPLICATION, [[4, 4]], 100); // pn 0, 1 lost: cwnd 12000 -> 6000, recovery from t=100
  assert.is(h.cc.congestionWindow, 6000);
  assert.is(h.cc.reno.recoveryStartTime, 100);
  h.ack(APPLICATION, [[5, 5]], 101); // pn 2 lost (sent at 2 < 100): no second reduction
  assert.is(h.cc.of('lost').length, 2);
  assert.is(h.cc.congestionWindow, 6000);
  // Acks of packets sent before recovery do not grow the window.
  h.ack(APPLICATION, [[5, 7]], 102);
  assert.is(h.cc.congestionWindow, 6000);
  // A packet sent after recovery started ends it; its ack grows the window again.
  h.send(APPLICATION, 8, 150);
  h.ack(APPLICATION, [[8, 8]], 250);
  assert.ok(h.cc.congestionWindow >= 6000);
  assert.is(h.cc.of('acked').at(-1)!.timeSent, 150);
});

test('RFC 9002 §7.1 / B.7: an increased ECN-CE count is a congestion event keyed on the largest acked', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.send(APPLICATION, 1, 10);
  const out = h.ack(APPLICATION, [[0, 1]], 100, 0, { ect0: 1, ect1: 0, ce: 1 });
  assert.ok(out.ecnCongestion);
  assert.equal(h.cc.of('ecn'), [{ kind: 'ecn', now: 100, sentTime: 10 }]);
  assert.is(h.cc.congestionWindow, 6000);
  h.send(APPLICATION, 2, 110);
  const same = h.ack(APPLICATION, [[0, 2]], 200, 0, { ect0: 2, ect1: 0, ce: 1 });
  assert.not.ok(same.ecnCongestion);
  assert.is(h.cc.of('ecn').length, 1);
});

test('RFC 9002 §6.4: discarding a space releases its bytes once, resets timers and backoff', () => {
  const h = harness({ isServer: false });
  h.send(INITIAL, 0, 0, 1200);
  h.send(INITIAL, 1, 5, 1200);
  h.send(INITIAL, 2, 6, 50, false, false);
  h.lr.onHandshakeKeysAvailable(10);
  h.send(HANDSHAKE, 0, 10, 700);
  assert.is(h.lr.lossDetectionTimer, 5 + 999);
  h.timeout(5 + 999);
  assert.is(h.lr.ptoCount, 1);
  const dropped = h.lr.discardSpace(INITIAL, 20);
  h.lr.assertInvariants();
  assert.equal(tokens(dropped), ['0:0', '0:1', '0:2']);
  assert.is(h.lr.bytesInFlight, 700);
  assert.is(h.lr.tracker(INITIAL).bytesInFlight, 0);
  assert.ok(h.lr.tracker(INITIAL).discarded);
  assert.is(h.lr.ptoCount, 0);
  assert.is(h.lr.lossDetectionTimer, 10 + 999);
  assert.is(h.lr.pendingProbes(INITIAL), 0);
  // Nothing more can be sent or acknowledged in a discarded space.
  assert.throws(() => h.lr.onPacketSent(INITIAL, 3, 30, 1200, true, true, 'x'));
  assert.is(h.ack(INITIAL, [[0, 2]], 40).acked.length, 0);
  assert.is(h.lr.bytesInFlight, 700);
  // The controller was not told of losses: discarded is not lost.
  assert.is(h.cc.of('lost').length, 0);
});

test('RFC 9000 §13.1: an ACK of a packet never sent is a PROTOCOL_VIOLATION', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  try {
    h.ack(APPLICATION, [[0, 1]], 10);
    assert.unreachable();
  } catch (e) {
    assert.ok(QuicError.is(e));
    assert.is((e as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION);
  }
  h.lr.assertInvariants();
  assert.is(h.lr.bytesInFlight, 1000);
});

test('RFC 9000 §21.4: an ACK naming a skipped packet number is a PROTOCOL_VIOLATION', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.lr.onPacketNumberSkipped(APPLICATION, 1);
  assert.throws(() => h.lr.onPacketSent(APPLICATION, 1, 1, 100, true, true, 'reuse'));
  h.send(APPLICATION, 2, 2);
  h.send(APPLICATION, 3, 3);
  // Ranges around the skipped number are fine.
  assert.is(h.ack(APPLICATION, [[2, 3], [0, 0]], 50).acked.length, 3);
  for (const ranges of [[[0, 3]], [[1, 1]], [[3, 3], [1, 1]]] as [number, number][][]) {
    try {
      h.ack(APPLICATION, ranges, 60);
      assert.unreachable();
    } catch (e) {
      assert.ok(QuicError.is(e), String(e));
      assert.is((e as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION);
    }
  }
});

test('per-packet loss detail for BBR: bytes in flight at send and bytes lost since, before the batch call', () => {
  const h = harness({ isServer: true, confirmed: true });
  for (let pn = 0; pn <= 4; pn++) h.send(APPLICATION, pn, 0);
  h.ack(APPLICATION, [[3, 4]], 100);
  h.send(APPLICATION, 5, 100);
  for (let pn = 6; pn <= 8; pn++) h.send(APPLICATION, pn, 101);
  h.ack(APPLICATION, [[7, 8]], 200);
  const losses = h.cc.calls.filter((c) => c.kind === 'lostDetail' || c.kind === 'lost').map((c) => c.kind === 'lostDetail' ? `${c.txInFlight}/${c.lostSinceSent}` : 'batch');
  // pn 0, 1 lost first (sent with 1000, 2000 in flight, nothing lost before them); then pn 2
  // (3000 in flight at send; 3000 lost since) and pn 5 (sent after 2000 were lost: 2000 since).
  assert.equal(losses, ['1000/1000', '2000/2000', 'batch', '3000/3000', '2000/2000', 'batch']);
});

test('ACK-only packets: tracked and acknowledged, never in flight, no timer, no congestion loss', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0, 40, false, false);
  assert.is(h.lr.bytesInFlight, 0);
  assert.is(h.lr.lossDetectionTimer, Infinity);
  assert.is(h.cc.of('sent').length, 0);
  for (let pn = 1; pn <= 4; pn++) h.send(APPLICATION, pn, pn);
  const out = h.ack(APPLICATION, [[3, 4]], 100);
  assert.equal(tokens(out.lost), ['2:0', '2:1']);
  // Only pn 1 counts as lost bytes.
  assert.equal(h.cc.of('lost').map((c) => c.lostBytes), [1000]);
});

test('delivery-rate sample (draft-cheng §3): bytes delivered over the longer of send and ack phases', () => {
  const h = harness({ isServer: true, confirmed: true });
  for (let pn = 0; pn < 10; pn++) h.send(APPLICATION, pn, pn);
  h.ack(APPLICATION, [[0, 9]], 100);
  const s = h.cc.of('ackedAll')[0]!.sample;
  assert.is(s.delivered, 10_000);
  assert.is(s.priorDelivered, 0);
  assert.is(s.deliveryInterval, 100);
  assert.is(s.deliveryRate, 100);
  assert.is(s.sampleTxInFlight, 10_000);
  assert.not.ok(s.appLimited);
  assert.is(h.lr.delivered, 10_000);
  // Second flight after idle: intervals restart at its first send.
  for (let pn = 10; pn < 15; pn++) h.send(APPLICATION, pn, 200 + pn);
  h.ack(APPLICATION, [[10, 14]], 310);
  const s2 = h.cc.of('ackedAll')[1]!.sample;
  assert.is(s2.priorDelivered, 10_000);
  assert.is(s2.delivered, 15_000);
  assert.is(s2.deliveryInterval, 100);
  assert.is(s2.deliveryRate, 50);
});

test('RFC 9002 §7.8: packets sent while application-limited do not grow the window', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.lr.onAppLimited(0);
  assert.equal(h.cc.of('appLimited'), [{ kind: 'appLimited', now: 0, bytesInFlight: 1000 }]);
  h.send(APPLICATION, 1, 1);
  assert.ok(h.lr.tracker(APPLICATION).outstandingPackets()[1]!.appLimited);
  h.ack(APPLICATION, [[0, 1]], 100);
  // pn 0 (not limited) grew the window, pn 1 (limited) did not.
  assert.equal(h.cc.of('acked').map((c) => c.appLimited), [false, true]);
  assert.is(h.cc.congestionWindow, 13000);
  assert.ok(h.cc.of('ackedAll')[0]!.sample.appLimited);
  // Everything in flight at the mark is delivered: later packets are not limited.
  h.send(APPLICATION, 2, 101);
  h.ack(APPLICATION, [[2, 2]], 200);
  assert.is(h.cc.congestionWindow, 14000);
});

test('RFC 9002 §6.3: Retry returns Initial and 0-RTT packets and resets RTT and backoff', () => {
  const h = harness({ isServer: false });
  h.send(INITIAL, 0, 0, 1200);
  h.send(APPLICATION, 0, 1, 1200);
  h.timeout(999);
  assert.is(h.lr.ptoCount, 1);
  const back = h.lr.onRetry(1100, 80);
  h.lr.assertInvariants();
  assert.equal(tokens(back), ['0:0', '2:0']);
  assert.is(h.lr.bytesInFlight, 0);
  assert.is(h.lr.ptoCount, 0);
  assert.is(h.lr.rtt.smoothedRtt, 80);
  // Packet numbers continue after a Retry (RFC 9000 §17.2.5.3).
  h.send(INITIAL, 1, 1100, 1200);
  assert.is(h.lr.lossDetectionTimer, 1100 + 80 + 4 * 40);
});

test('RFC 9002 §6.4: rejected 0-RTT leaves flight, the space stays usable', () => {
  const h = harness({ isServer: false });
  h.send(APPLICATION, 0, 0, 1200);
  h.send(APPLICATION, 1, 0, 1200);
  const back = h.lr.onZeroRttRejected(50);
  h.lr.assertInvariants();
  assert.equal(tokens(back), ['2:0', '2:1']);
  assert.not.ok(h.lr.tracker(APPLICATION).discarded);
  h.send(APPLICATION, 2, 60);
  assert.is(h.lr.bytesInFlight, 1000);
});

test('RFC 9000 §9.4: a validated new path restarts RTT and congestion control', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 0, 0);
  h.ack(APPLICATION, [[0, 0]], 40);
  h.send(APPLICATION, 1, 50);
  assert.is(h.lr.rtt.smoothedRtt, 40);
  const fresh = new RecordingController();
  h.lr.resetPath(60, fresh);
  h.lr.assertInvariants();
  assert.not.ok(h.lr.rtt.hasSample);
  assert.is(h.lr.rtt.smoothedRtt, 333);
  assert.is(h.lr.bytesInFlight, 1000, 'packets in flight still count');
  assert.is(h.lr.lossDetectionTimer, 50 + 333 + 4 * 166.5 + 25);
  h.ack(APPLICATION, [[1, 1]], 70);
  assert.is(fresh.of('acked').length, 1, 'the new controller hears about acknowledgments');
  assert.is(h.cc.of('acked').length, 1, 'the old one no longer does');
});

test('packet numbers must increase within a space', () => {
  const h = harness({ isServer: true, confirmed: true });
  h.send(APPLICATION, 5, 0);
  assert.throws(() => h.lr.onPacketSent(APPLICATION, 5, 1, 100, true, true, 'dup'));
  assert.throws(() => h.lr.onPacketSent(APPLICATION, 4, 1, 100, true, true, 'back'));
  h.lr.assertInvariants();
  // Skipped packet numbers are fine.
  h.send(APPLICATION, 9, 2);
  assert.is(h.lr.bytesInFlight, 2000);
});

test.run();
