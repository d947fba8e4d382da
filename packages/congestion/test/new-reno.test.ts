import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initialWindowFor, minimumWindowFor, NewReno, windowPacingRate } from '../src/index.js';

const MDS = 1200;

test('RFC 9002 §7.2: initial window = min(10*mds, max(2*mds, 14720)), minimum = 2*mds', () => {
  assert.is(initialWindowFor(1200), 12000);
  assert.is(initialWindowFor(1472), 14720);
  assert.is(initialWindowFor(1500), 14720);
  assert.is(initialWindowFor(9000), 18000);
  assert.is(minimumWindowFor(1200), 2400);
  const cc = new NewReno({ maxDatagramSize: MDS });
  assert.is(cc.congestionWindow, 12000);
  assert.is(cc.minimumWindow, 2400);
  assert.is(cc.slowStartThreshold, Infinity);
  assert.ok(cc.inSlowStart);
});

test('RFC 9002 §7.3.1: slow start grows by the bytes acknowledged', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketAcked(10, 1200, 0, false);
  assert.is(cc.congestionWindow, 13200);
  cc.onPacketAcked(11, 1000, 1, false);
  assert.is(cc.congestionWindow, 14200);
});

test('RFC 9002 §7.8: no growth for packets sent while application-limited', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketAcked(10, 1200, 0, true);
  assert.is(cc.congestionWindow, 12000);
});

test('RFC 9002 §7.3.2 / B.6: loss enters recovery, halves the window, ssthresh = cwnd/2', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketAcked(10, 8000, 0, false); // 20000
  assert.is(cc.congestionWindow, 20000);
  cc.onPacketsLost(100, 1200, 50);
  assert.is(cc.slowStartThreshold, 10000);
  assert.is(cc.congestionWindow, 10000);
  assert.is(cc.recoveryStartTime, 100);
  assert.not.ok(cc.inSlowStart);
});

test('RFC 9002 §7.3.2: no second reduction for losses of packets sent before recovery start', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketsLost(100, 1200, 50); // 12000 -> 6000
  assert.is(cc.congestionWindow, 6000);
  cc.onPacketsLost(120, 2400, 90); // sent before recovery start (100): ignored
  assert.is(cc.congestionWindow, 6000);
  cc.onPacketsLost(130, 1200, 100); // sent at the start instant: still in recovery (<=)
  assert.is(cc.congestionWindow, 6000);
  cc.onEcnCongestionEvent(140, 99); // ECN-CE for a packet from before recovery: ignored
  assert.is(cc.congestionWindow, 6000);
  // A packet sent after recovery began is lost: a new congestion event.
  cc.onPacketsLost(200, 1200, 150);
  assert.is(cc.congestionWindow, 3000);
  assert.is(cc.recoveryStartTime, 200);
});

test('RFC 9002 §7.3.2: no growth for acks of packets sent before recovery; recovery ends on ack of a later packet', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketsLost(100, 1200, 50); // cwnd 6000, ssthresh 6000
  cc.onPacketAcked(110, 1200, 60, false); // sent before recovery: no change
  cc.onPacketAcked(110, 1200, 100, false); // sent at recovery start: no change
  assert.is(cc.congestionWindow, 6000);
  // Congestion avoidance after recovery: one MDS per window acknowledged.
  cc.onPacketAcked(120, 3000, 101, false);
  assert.is(cc.congestionWindow, 6000);
  cc.onPacketAcked(121, 2999, 102, false);
  assert.is(cc.congestionWindow, 6000);
  cc.onPacketAcked(122, 1, 103, false); // 6000 bytes acked = one window
  assert.is(cc.congestionWindow, 7200);
  // The next increase needs a full new window (7200 bytes).
  cc.onPacketAcked(123, 7199, 104, false);
  assert.is(cc.congestionWindow, 7200);
  cc.onPacketAcked(124, 1, 105, false);
  assert.is(cc.congestionWindow, 8400);
});

test('RFC 9002 §7.3.3: congestion avoidance adds at most one MDS per window over many acks', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketsLost(1, 1200, 0); // cwnd = ssthresh = 6000
  let t = 2;
  // Acknowledge 10 windows' worth of 1200-byte packets, tracking the expected window by hand.
  let expected = 6000;
  let counter = 0;
  for (let i = 0; i < 200; i++) {
    cc.onPacketAcked(t, 1200, t, false);
    counter += 1200;
    if (counter >= expected) {
      counter -= expected;
      expected += 1200;
    }
    assert.is(cc.congestionWindow, expected);
    t++;
  }
  assert.ok(cc.congestionWindow > 6000 && cc.congestionWindow < 6000 + 200 * 1200 / 5);
});

test('RFC 9002 §7.2: the window never falls below the minimum on loss', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  for (let i = 0; i < 10; i++) {
    cc.onPacketsLost(100 + i * 10, 1200, 95 + i * 10);
    assert.ok(cc.congestionWindow >= 2400);
  }
  assert.is(cc.congestionWindow, 2400);
  assert.is(cc.slowStartThreshold, 1200);
});

test('RFC 9002 §7.6.2: persistent congestion collapses to the minimum window and leaves recovery', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onPacketAcked(10, 20000, 0, false); // 32000
  cc.onPacketsLost(100, 1200, 90); // 16000
  assert.is(cc.congestionWindow, 16000);
  cc.onPersistentCongestion(100);
  assert.is(cc.congestionWindow, 2400);
  assert.is(cc.recoveryStartTime, -Infinity);
  // Slow start again (cwnd < ssthresh = 16000): an ack of an old packet grows the window.
  assert.ok(cc.inSlowStart);
  cc.onPacketAcked(110, 1200, 95, false);
  assert.is(cc.congestionWindow, 3600);
});

test('RFC 9002 B.7: ECN-CE increase is a congestion event like a loss', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.onEcnCongestionEvent(50, 40);
  assert.is(cc.congestionWindow, 6000);
  assert.is(cc.recoveryStartTime, 50);
});

test('RFC 9002 §7 / B.6: canSend respects the window, plus one packet on entering recovery', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  assert.ok(cc.canSend(10800));
  assert.not.ok(cc.canSend(10801));
  assert.ok(cc.canSend(11000, 1000));
  assert.is(cc.availableWindow(11000), 1000);
  assert.is(cc.availableWindow(13000), 0);
  cc.onPacketsLost(100, 1200, 50); // cwnd 6000
  assert.ok(cc.canSend(9000), 'one packet may be sent to speed up recovery');
  assert.is(cc.availableWindow(9000), 1200);
  cc.onPacketSent(101, 1200, 7, true, 10200);
  assert.not.ok(cc.canSend(9000));
  assert.is(cc.availableWindow(9000), 0);
});

test('RFC 9002 §7.7: pacing rate = 1.25 * cwnd / srtt', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  assert.is(cc.pacingRate(100), (1.25 * 12000) / 100);
  assert.is(windowPacingRate(12000, 0), Infinity);
});

test('RFC 9002 §7.2: initial window follows a datagram size change before any event', () => {
  const cc = new NewReno({ maxDatagramSize: MDS });
  cc.setMaxDatagramSize(1472);
  assert.is(cc.congestionWindow, 14720);
  assert.is(cc.minimumWindow, 2944);
  cc.onPacketAcked(1, 1000, 0, false);
  cc.setMaxDatagramSize(1200); // window has grown: left alone
  assert.is(cc.congestionWindow, 15720);
});

test.run();
