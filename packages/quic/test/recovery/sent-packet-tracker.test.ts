import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import { SentPacket, SentPacketState, SentPacketTracker } from '../../src/recovery/sent-packet-tracker.js';

function packet(pn: number, time: number, size = 100, ackEliciting = true, inFlight = true): SentPacket<number> {
  return new SentPacket(pn, time, size, ackEliciting, inFlight, pn);
}

test('ranges acknowledge exactly the live packets inside them, ascending, once', () => {
  const t = new SentPacketTracker<number>(PacketNumberSpace.APPLICATION);
  for (let pn = 0; pn < 20; pn++) if (pn !== 7) t.onSent(packet(pn, pn));
  t.assertInvariants();
  const out: SentPacket<number>[] = [];
  t.onAck(
    [
      { smallest: 15, largest: 17 },
      { smallest: 5, largest: 8 },
      { smallest: 0, largest: 1 },
    ],
    0,
    out,
    [],
  );
  t.assertInvariants();
  assert.equal(out.map((p) => p.tokens), [0, 1, 5, 6, 8, 15, 16, 17]);
  assert.ok(out.every((p) => p.state === SentPacketState.ACKED));
  assert.is(t.largestAcked, 17);
  assert.is(t.bytesInFlight, 100 * (19 - 8));
  const again: SentPacket<number>[] = [];
  t.onAck([{ smallest: 0, largest: 17 }], 0, again, []);
  assert.equal(again.map((p) => p.tokens), [2, 3, 4, 9, 10, 11, 12, 13, 14]);
  t.assertInvariants();
});

test('released records are dropped from the front and the array compacts; lookups stay right', () => {
  const t = new SentPacketTracker<number>(PacketNumberSpace.APPLICATION);
  const n = 5000;
  for (let pn = 0; pn < n; pn++) t.onSent(packet(pn * 2, pn)); // even numbers only
  const out: SentPacket<number>[] = [];
  // Acknowledge in chunks from the front, leaving every 100th packet outstanding for a while.
  for (let base = 0; base < n * 2; base += 200) {
    out.length = 0;
    t.onAck([{ smallest: base + 2, largest: base + 198 }], 0, out, []);
    t.assertInvariants();
    assert.is(out.length, 99);
  }
  assert.is(t.outstanding, n / 100);
  assert.equal(t.outstandingPackets().map((p) => p.packetNumber).slice(0, 3), [0, 200, 400]);
  out.length = 0;
  t.onAck([{ smallest: 0, largest: n * 2 }], 0, out, []);
  assert.is(out.length, n / 100);
  assert.is(t.outstanding, 0);
  assert.is(t.bytesInFlight, 0);
  t.assertInvariants();
  assert.is(t.oldestOutstanding(), undefined);
});

test('RFC 9002 §6.1: detectLost applies the packet and time thresholds below the largest acked only', () => {
  const t = new SentPacketTracker<number>(PacketNumberSpace.HANDSHAKE);
  for (let pn = 0; pn < 10; pn++) t.onSent(packet(pn, pn * 10));
  const acked: SentPacket<number>[] = [];
  t.onAck([{ smallest: 6, largest: 6 }], 70, acked, []);
  const lost: SentPacket<number>[] = [];
  // now 70, loss delay 25: time threshold covers sent <= 45 (pn 0..4), packet threshold pn <= 3.
  t.detectLost(70, 25, 3, 100, lost);
  assert.equal(lost.map((p) => p.packetNumber), [0, 1, 2, 3, 4]);
  assert.is(t.lossTime, 50 + 25, 'pn 5 pending by time; 7..9 are above the largest acked');
  t.assertInvariants();
  // A late acknowledgment of lost packets within the retention (100 ms) reports them spurious, once.
  const late: SentPacket<number>[] = [];
  const spurious: SentPacket<number>[] = [];
  t.onAck([{ smallest: 0, largest: 2 }], 150, late, spurious);
  assert.is(late.length, 0);
  assert.equal(spurious.map((p) => p.packetNumber), [0, 1, 2]);
  assert.ok(spurious.every((p) => p.state === SentPacketState.LOST));
  spurious.length = 0;
  t.onAck([{ smallest: 0, largest: 4 }], 160, late, spurious);
  assert.equal(spurious.map((p) => p.packetNumber), [3, 4]);
  assert.is(t.bytesInFlight, 100 * 4, 'spurious acknowledgments do not touch bytes in flight');
  t.assertInvariants();
  // After the retention, lost packets are forgotten: nothing to report.
  const t2 = new SentPacketTracker<number>(PacketNumberSpace.HANDSHAKE);
  for (let pn = 0; pn < 5; pn++) t2.onSent(packet(pn, 0));
  t2.onAck([{ smallest: 4, largest: 4 }], 10, [], []);
  const lost2: SentPacket<number>[] = [];
  t2.detectLost(10, 5, 3, 20, lost2);
  assert.equal(lost2.map((p) => p.packetNumber), [0, 1, 2, 3]);
  const spurious2: SentPacket<number>[] = [];
  t2.onAck([{ smallest: 3, largest: 4 }], 29, [], spurious2);
  assert.equal(spurious2.map((p) => p.packetNumber), [3]);
  t2.onAck([{ smallest: 0, largest: 2 }], 31, [], spurious2);
  assert.equal(spurious2.map((p) => p.packetNumber), [3], 'pn 0..2 were forgotten at 30');
  t2.assertInvariants();
});

test('non-in-flight packets never touch bytes in flight; release is once only', () => {
  const t = new SentPacketTracker<number>(PacketNumberSpace.INITIAL);
  t.onSent(packet(0, 0, 50, false, false));
  t.onSent(packet(1, 0, 1200, false, true)); // PADDING only: in flight, not ack-eliciting
  assert.is(t.bytesInFlight, 1200);
  assert.is(t.ackElicitingInFlight, 0);
  const out: SentPacket<number>[] = [];
  t.releaseAll(true, out);
  assert.is(out.length, 2);
  assert.is(t.bytesInFlight, 0);
  assert.ok(t.discarded);
  t.assertInvariants();
  assert.throws(() => t.onSent(packet(2, 1)));
});

test.run();
