import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INITIAL_RTT_MS, RttEstimator } from '../../src/recovery/rtt.js';

test('RFC 9002 §6.2.2: initial RTT 333 ms, rttvar 166.5, a PTO of about one second', () => {
  const rtt = new RttEstimator();
  assert.is(INITIAL_RTT_MS, 333);
  assert.is(rtt.smoothedRtt, 333);
  assert.is(rtt.rttVar, 166.5);
  assert.is(rtt.minRtt, 0);
  assert.is(rtt.latestRtt, 0);
  assert.not.ok(rtt.hasSample);
  assert.is(rtt.ptoDuration(0), 999);
  assert.is(rtt.ptoDuration(25), 1024);
});

test('RFC 9002 §5.2, §5.3: the first sample resets the estimator and ignores ack delay', () => {
  const rtt = new RttEstimator();
  rtt.update(1000, 80, 30, 25, true);
  assert.ok(rtt.hasSample);
  assert.is(rtt.firstSampleTime, 1000);
  assert.is(rtt.latestRtt, 80);
  assert.is(rtt.minRtt, 80);
  assert.is(rtt.smoothedRtt, 80);
  assert.is(rtt.rttVar, 40);
});

test('RFC 9002 §5.3: later samples: EWMA 7/8 and 3/4 with the ack delay subtracted', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 100, 0, 25, true);
  rtt.update(1, 140, 20, 25, true); // adjusted 120
  assert.is(rtt.minRtt, 100);
  assert.is(rtt.rttVar, 0.75 * 50 + 0.25 * Math.abs(100 - 120));
  assert.is(rtt.smoothedRtt, 0.875 * 100 + 0.125 * 120);
});

test('RFC 9002 §5.3: after confirmation ack delay is capped at max_ack_delay; before, it is not', () => {
  const before = new RttEstimator();
  before.update(0, 100, 0, 25, false);
  before.update(1, 200, 60, 25, false); // delay 60 used in full: adjusted 140
  assert.is(before.smoothedRtt, 0.875 * 100 + 0.125 * 140);
  const after = new RttEstimator();
  after.update(0, 100, 0, 25, true);
  after.update(1, 200, 60, 25, true); // delay capped at 25: adjusted 175
  assert.is(after.smoothedRtt, 0.875 * 100 + 0.125 * 175);
});

test('RFC 9002 §5.3: the ack delay is not subtracted when that would go below min_rtt', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 100, 0, 25, true);
  rtt.update(1, 110, 20, 25, true); // 110 < 100 + 20: use 110 unadjusted
  assert.is(rtt.smoothedRtt, 0.875 * 100 + 0.125 * 110);
  assert.is(rtt.rttVar, 0.75 * 50 + 0.25 * 10);
});

test('RFC 9002 §5.2: min_rtt follows the lowest raw sample, ack delay ignored', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 100, 0, 25, true);
  rtt.update(1, 90, 50, 25, true);
  assert.is(rtt.minRtt, 90);
  rtt.update(2, 300, 0, 25, true);
  assert.is(rtt.minRtt, 90);
  assert.is(rtt.latestRtt, 300);
  // §5.2: after persistent congestion min_rtt restarts from the newest sample.
  rtt.onPersistentCongestion();
  assert.is(rtt.minRtt, 300);
});

test('RFC 9002 §6.2.1: PTO = srtt + max(4*rttvar, granularity) + max_ack_delay', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 100, 0, 25, true);
  assert.is(rtt.ptoDuration(0), 100 + 4 * 50);
  assert.is(rtt.ptoDuration(25), 100 + 4 * 50 + 25);
  // With no variance the granularity floor applies.
  const flat = new RttEstimator(333, 1);
  flat.update(0, 10, 0, 0, true);
  for (let i = 1; i < 200; i++) flat.update(i, 10, 0, 0, true);
  assert.ok(flat.rttVar * 4 < 1);
  assert.is(flat.ptoDuration(0), flat.smoothedRtt + 1);
  // §7.6.1: persistent congestion duration includes max_ack_delay, times the threshold.
  assert.is(rtt.persistentCongestionDuration(25, 3), 3 * (100 + 200 + 25));
});

test('RFC 9002 §6.1.2: loss delay = max(9/8 * max(srtt, latest_rtt), granularity)', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 80, 0, 25, true);
  assert.is(rtt.lossDelay(9 / 8), 90);
  rtt.update(1, 160, 0, 25, true); // latest above smoothed
  assert.is(rtt.lossDelay(9 / 8), 180);
  rtt.update(2, 40, 0, 25, true); // latest below smoothed
  assert.is(rtt.lossDelay(9 / 8), (9 / 8) * rtt.smoothedRtt);
  const tiny = new RttEstimator(333, 1);
  tiny.update(0, 0.1, 0, 0, true);
  assert.is(tiny.lossDelay(9 / 8), 1);
});

test('RFC 9002 §5.3: reset returns to the initial state, optionally with a new initial RTT', () => {
  const rtt = new RttEstimator();
  rtt.update(0, 80, 0, 25, true);
  rtt.reset(50);
  assert.not.ok(rtt.hasSample);
  assert.is(rtt.smoothedRtt, 50);
  assert.is(rtt.rttVar, 25);
  rtt.reset();
  assert.is(rtt.smoothedRtt, 333);
});

test.run();
