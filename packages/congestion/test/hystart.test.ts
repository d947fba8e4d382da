import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HyStartPhase,
  HyStartPlusPlus,
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
  HYSTART_MAX_RTT_THRESH_MS,
  HYSTART_MIN_RTT_DIVISOR,
  HYSTART_MIN_RTT_THRESH_MS,
  HYSTART_N_RTT_SAMPLE,
} from '../src/index.js';

const MDS = 1200;

/**
 * One round: sends `count` packets from `firstPn`, then acknowledges them one ACK each with the
 * RTT `rtt(i)`. The first of these ACKs ends the previous round (its packet number is above the
 * largest sent when that round started). Returns the next packet number.
 */
function round(h: HyStartPlusPlus, firstPn: number, count: number, rtt: (i: number) => number): number {
  for (let i = 0; i < count; i++) h.onPacketSent(firstPn + i);
  for (let i = 0; i < count; i++) h.onAck(firstPn + i, rtt(i));
  return firstPn + count;
}

test('RFC 9406 §4.3: the recommended constants', () => {
  assert.is(HYSTART_MIN_RTT_THRESH_MS, 4);
  assert.is(HYSTART_MAX_RTT_THRESH_MS, 16);
  assert.is(HYSTART_MIN_RTT_DIVISOR, 8);
  assert.is(HYSTART_N_RTT_SAMPLE, 8);
  assert.is(HYSTART_CSS_GROWTH_DIVISOR, 4);
  assert.is(HYSTART_CSS_ROUNDS, 5);
});

test('RFC 9406 §4.2: rounds end when a packet sent after the round start is acknowledged', () => {
  const h = new HyStartPlusPlus();
  for (let pn = 0; pn < 10; pn++) h.onPacketSent(pn);
  h.onAck(0, 50); // first ACK: round 1 starts, its end is pn 9
  assert.is(h.rounds, 1);
  for (let pn = 10; pn < 20; pn++) h.onPacketSent(pn);
  for (let pn = 1; pn <= 9; pn++) h.onAck(pn, 50);
  assert.is(h.rounds, 1, 'packets sent before the round started do not end it');
  h.onAck(10, 50);
  assert.is(h.rounds, 2);
  assert.is(h.lastRoundMinRtt, 50);
  assert.is(h.currentRoundMinRtt, 50);
});

test('RFC 9406 §4.2: steady RTT never leaves slow start', () => {
  const h = new HyStartPlusPlus();
  let pn = 0;
  for (let r = 0; r < 30; r++) pn = round(h, pn, 20, (i) => 100 + (i % 3)); // jitter below the threshold
  assert.is(h.phase, HyStartPhase.SLOW_START);
  assert.ok(h.rounds >= 30);
});

test('RFC 9406 §4.2: an RTT rise of at least RttThresh enters CSS; a smaller rise does not', () => {
  // lastRoundMinRTT 100 ms: RttThresh = max(4, min(100/8, 16)) = 12.5 ms.
  const below = new HyStartPlusPlus();
  let pn = round(below, 0, 10, () => 100);
  pn = round(below, pn, 10, () => 100);
  pn = round(below, pn, 10, () => 112.4);
  assert.is(below.phase, HyStartPhase.SLOW_START);

  const h = new HyStartPlusPlus();
  pn = round(h, 0, 10, () => 100);
  pn = round(h, pn, 10, () => 100);
  // The check runs once N_RTT_SAMPLE samples were taken in the round: not at the 7th.
  for (let i = 0; i < 10; i++) h.onPacketSent(pn + i);
  for (let i = 0; i < 7; i++) h.onAck(pn + i, 112.5);
  assert.is(h.phase, HyStartPhase.SLOW_START, 'fewer than N_RTT_SAMPLE samples');
  h.onAck(pn + 7, 112.5);
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  assert.is(h.cssBaselineMinRtt, 112.5);
});

test('RFC 9406 §4.2: RttThresh is clamped to [4, 16] ms', () => {
  const phaseAfter = (base: number, rise: number): HyStartPhase => {
    const h = new HyStartPlusPlus();
    let pn = round(h, 0, 10, () => base);
    pn = round(h, pn, 10, () => base);
    round(h, pn, 10, () => base + rise);
    return h.phase;
  };
  // 20 ms: 20/8 = 2.5 ms, raised to MIN_RTT_THRESH = 4 ms.
  assert.is(phaseAfter(20, 3.9), HyStartPhase.SLOW_START);
  assert.is(phaseAfter(20, 4), HyStartPhase.CONSERVATIVE);
  // 400 ms: 400/8 = 50 ms, capped at MAX_RTT_THRESH = 16 ms.
  assert.is(phaseAfter(400, 15.9), HyStartPhase.SLOW_START);
  assert.is(phaseAfter(400, 16), HyStartPhase.CONSERVATIVE);
  // 64 ms: 64/8 = 8 ms, inside the bounds.
  assert.is(phaseAfter(64, 7.9), HyStartPhase.SLOW_START);
  assert.is(phaseAfter(64, 8), HyStartPhase.CONSERVATIVE);
});

test('RFC 9406 §4.2: CSS lasts CSS_ROUNDS rounds, the partial entry round included, then avoidance', () => {
  const h = new HyStartPlusPlus();
  let pn = round(h, 0, 10, () => 100);
  pn = round(h, pn, 10, () => 100);
  pn = round(h, pn, 10, () => 120); // enters CSS during this round (round 1 of CSS)
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  // Rounds 2..5 of CSS, the RTT staying high.
  for (let r = 2; r <= HYSTART_CSS_ROUNDS; r++) {
    pn = round(h, pn, 10, () => 120);
    assert.is(h.phase, HyStartPhase.CONSERVATIVE, `CSS round ${r}`);
  }
  // The first ACK of the next round completes the fifth round: avoidance.
  h.onPacketSent(pn);
  h.onAck(pn, 120);
  assert.is(h.phase, HyStartPhase.DONE);
  assert.not.ok(h.active);
});

test('RFC 9406 §4.2: an RTT below the CSS baseline resumes slow start', () => {
  const h = new HyStartPlusPlus();
  let pn = round(h, 0, 10, () => 100);
  pn = round(h, pn, 10, () => 100);
  pn = round(h, pn, 10, () => 120);
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  // Next round: RTT back near 100 ms, below the 120 ms baseline, after 8 samples.
  for (let i = 0; i < 10; i++) h.onPacketSent(pn + i);
  for (let i = 0; i < 7; i++) h.onAck(pn + i, 101);
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  h.onAck(pn + 7, 101);
  assert.is(h.phase, HyStartPhase.SLOW_START);
  assert.is(h.cssBaselineMinRtt, Infinity);
  pn += 10;
  // It can enter CSS again later, and counts its rounds afresh.
  pn = round(h, pn, 10, () => 101);
  pn = round(h, pn, 10, () => 125);
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  for (let r = 2; r <= HYSTART_CSS_ROUNDS; r++) pn = round(h, pn, 10, () => 125);
  assert.is(h.phase, HyStartPhase.CONSERVATIVE);
  h.onPacketSent(pn);
  h.onAck(pn, 125);
  assert.is(h.phase, HyStartPhase.DONE);
});

test('RFC 9406 §4.2: growth is min(N, L*SMSS) in slow start and a quarter of it in CSS', () => {
  const paced = new HyStartPlusPlus();
  assert.is(paced.growth(100 * MDS, MDS), 100 * MDS, 'L = infinity when paced');
  const unpaced = new HyStartPlusPlus({ ackLimitSegments: 8 });
  assert.is(unpaced.growth(100 * MDS, MDS), 8 * MDS);
  assert.is(unpaced.growth(3 * MDS, MDS), 3 * MDS);
  let pn = round(unpaced, 0, 10, () => 100);
  pn = round(unpaced, pn, 10, () => 100);
  round(unpaced, pn, 10, () => 150);
  assert.ok(unpaced.inConservativeSlowStart);
  assert.is(unpaced.growth(100 * MDS, MDS), (8 * MDS) / 4);
  assert.is(unpaced.growth(2 * MDS, MDS), (2 * MDS) / 4);
});

test('RFC 9406 §4.2: loss or ECN (exit) ends HyStart++ in slow start and in CSS', () => {
  const h = new HyStartPlusPlus();
  round(h, 0, 10, () => 100);
  h.exit();
  assert.is(h.phase, HyStartPhase.DONE);
  // Further ACKs change nothing.
  round(h, 10, 10, () => 10);
  assert.is(h.phase, HyStartPhase.DONE);
  h.restart();
  assert.is(h.phase, HyStartPhase.SLOW_START);
});

test.run();
