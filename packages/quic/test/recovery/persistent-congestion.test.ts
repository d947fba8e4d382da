import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PersistentCongestionDetector } from '../../src/recovery/persistent-congestion.js';
import { RttEstimator } from '../../src/recovery/rtt.js';
import { SentPacket } from '../../src/recovery/sent-packet-tracker.js';

/** RTT 100 (srtt 100, rttvar 50): duration (100 + 200 + 25) * 3 = 975 ms. */
function rttAfterSample(): RttEstimator {
  const rtt = new RttEstimator();
  rtt.update(10, 100, 0, 25, true);
  return rtt;
}

function sent(d: PersistentCongestionDetector, pn: number, time: number, ackEliciting = true): SentPacket<null> {
  const p = new SentPacket<null>(pn, time, 1000, ackEliciting, true, null);
  d.onPacketSent(p);
  return p;
}

test('RFC 9002 §7.6.1: strictly longer than the duration establishes it', () => {
  const rtt = rttAfterSample();
  assert.is(rtt.persistentCongestionDuration(25, 3), 975);
  const d = new PersistentCongestionDetector();
  const a = sent(d, 0, 20);
  const b = sent(d, 1, 995);
  assert.not.ok(d.isPersistent([a, b], rtt, 25, 3), 'exactly the duration is not enough');
  const c = sent(d, 2, 996);
  assert.ok(d.isPersistent([a, b, c], rtt, 25, 3));
});

test('RFC 9002 §7.6.2: only ack-eliciting packets, sent after the first RTT sample, count', () => {
  const rtt = rttAfterSample();
  const d = new PersistentCongestionDetector();
  const beforeSample = sent(d, 0, 5);
  const mid = sent(d, 1, 500);
  const notEliciting = sent(d, 2, 2000, false);
  assert.not.ok(d.isPersistent([beforeSample, mid, notEliciting], rtt, 25, 3));
  const noSample = new RttEstimator();
  const d2 = new PersistentCongestionDetector();
  assert.not.ok(d2.isPersistent([sent(d2, 0, 20), sent(d2, 1, 5000)], noSample, 25, 3));
});

test('RFC 9002 §7.6.2: an acknowledgment of any packet sent in between splits the period', () => {
  const rtt = rttAfterSample();
  const d = new PersistentCongestionDetector();
  const a = sent(d, 0, 20);
  const other = sent(d, 0, 400); // another space, same time range
  const b = sent(d, 1, 2000);
  d.onPacketAcked(other);
  assert.not.ok(d.isPersistent([a, b], rtt, 25, 3));
  // An acknowledgment outside the two send times does not matter.
  const d2 = new PersistentCongestionDetector();
  const x = sent(d2, 0, 20);
  const y = sent(d2, 1, 2000);
  const later = sent(d2, 2, 2100);
  d2.onPacketAcked(later);
  assert.ok(d2.isPersistent([x, y], rtt, 25, 3));
});

test('send-order numbers are reused around the ring: stale bits never count, old spans are refused', () => {
  const rtt = rttAfterSample();
  const d = new PersistentCongestionDetector();
  const first = sent(d, 0, 20);
  // 70,000 packets later (beyond the 65,536-packet window) the answer is unknown: refused.
  let last = first;
  for (let i = 1; i <= 70_000; i++) {
    last = sent(d, i, 20 + i * 0.1);
    if (i % 3 === 0) d.onPacketAcked(last);
  }
  assert.not.ok(d.isPersistent([first, last], rtt, 25, 3));
  // Within the window, bits from the previous lap (every third packet was acknowledged) were
  // cleared when the numbers were reused: unacknowledged packets in between do not split.
  const a = sent(d, 70_001, 10_000);
  for (let i = 0; i < 30; i++) sent(d, 70_002 + i, 10_000 + i);
  const b = sent(d, 70_100, 12_000);
  assert.ok(d.isPersistent([a, b], rtt, 25, 3));
});

test.run();
