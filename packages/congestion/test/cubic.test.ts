import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type AckSample,
  createAckSample,
  Cubic,
  CUBIC_ALPHA,
  CUBIC_BETA,
  CUBIC_C,
  cubicK,
  cubicWindow,
  HyStartPhase,
} from '../src/index.js';

const MDS = 1200;

/** A mutable RTT view the tests set directly. */
function rttState(rtt: number) {
  return { latestRtt: rtt, smoothedRtt: rtt, rttVar: rtt / 2, minRtt: rtt, hasSample: true };
}

/**
 * Drives one ACK frame the way the tracker does: `onPacketAcked` per packet, then
 * `onPacketsAcked`. Packets are `[packetNumber, timeSent]` of MDS bytes each.
 */
class Driver {
  readonly rtt = rttState(100);
  readonly sample: AckSample = createAckSample(this.rtt);
  nextPn = 0;
  constructor(readonly cc: Cubic) {}

  send(now: number, count: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < count; i++) {
      const pn = this.nextPn++;
      this.cc.onPacketSent(now, MDS, pn, true, 0);
      out.push([pn, now]);
    }
    return out;
  }

  ack(now: number, packets: Array<[number, number]>, rttSample = -1, appLimited = false): void {
    let largest = -1;
    let largestSent = 0;
    for (const [pn, sent] of packets) {
      this.cc.onPacketAcked(now, MDS, sent, appLimited);
      if (pn > largest) {
        largest = pn;
        largestSent = sent;
      }
    }
    const s = this.sample;
    s.now = now;
    s.ackedBytes = packets.length * MDS;
    s.ackedPackets = packets.length;
    s.largestAckedPacketNumber = largest;
    s.largestAckedSentTime = largestSent;
    s.rttUpdated = rttSample >= 0;
    if (rttSample >= 0) this.rtt.latestRtt = rttSample;
    this.cc.onPacketsAcked(s);
  }

  /** Sends and immediately acknowledges `count` packets, one ACK frame. */
  sendAndAck(now: number, count: number, rttSample = -1): void {
    this.ack(now, this.send(now, count), rttSample);
  }
}

function close(actual: number, expected: number, eps: number, msg?: string): void {
  assert.ok(Math.abs(actual - expected) <= eps, `${msg ?? ''} ${actual} vs ${expected}`);
}

test('RFC 9438 §4: constants C = 0.4, beta = 0.7, alpha = 3(1-beta)/(1+beta)', () => {
  assert.is(CUBIC_C, 0.4);
  assert.is(CUBIC_BETA, 0.7);
  close(CUBIC_ALPHA, 0.9 / 1.7, 1e-12);
});

test('RFC 9438 §4.2 Eq. 1-2: K and W_cubic(t) at several points', () => {
  // W_max = 100 segments, cwnd_epoch = beta * W_max = 70: K = cbrt(100 * 0.3 / 0.4) = cbrt(75).
  const k = cubicK(100, 70);
  close(k, Math.cbrt((100 * (1 - 0.7)) / 0.4), 1e-12);
  close(k, 4.2171633265, 1e-9);
  // W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max, symmetric around K.
  close(cubicWindow(0, k, 100), 70, 1e-9);
  close(cubicWindow(k, k, 100), 100, 1e-12);
  for (const t of [0.5, 1, 2, 3, 4, 5, 6, 8, 10]) {
    const expected = 0.4 * (t - k) ** 3 + 100;
    close(cubicWindow(t, k, 100), expected, 1e-9, `t=${t}`);
    // Odd symmetry around (K, W_max).
    close(cubicWindow(k + t, k, 100) - 100, 100 - cubicWindow(k - t, k, 100), 1e-9);
  }
  // Epoch at or above W_max: K = 0 (convex region from the start).
  assert.is(cubicK(50, 60), 0);
  assert.is(cubicK(60, 60), 0);
});

test('RFC 9438 §4.6: loss sets ssthresh = cwnd * 0.7, cwnd = ssthresh, W_max = cwnd', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false });
  const d = new Driver(cc);
  d.sendAndAck(10, 90); // slow start: 10 + 90 segments
  assert.is(cc.congestionWindow, 100 * MDS);
  cc.onPacketsLost(100, MDS, 50);
  assert.is(cc.congestionWindow, 70 * MDS);
  assert.is(cc.slowStartThreshold, 70 * MDS);
  close(cc.wMax, 100, 1e-9);
  close(cc.cwndPrior, 100, 1e-9);
  assert.not.ok(cc.inSlowStart);
  // RFC 9002 §7.3.2: a loss of a packet sent before recovery began does not reduce again.
  cc.onPacketsLost(110, MDS, 90);
  assert.is(cc.congestionWindow, 70 * MDS);
});

test('RFC 9438 §4.7: fast convergence lowers W_max when cwnd < W_max; off: W_max = cwnd', () => {
  for (const fast of [true, false]) {
    const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: fast });
    const d = new Driver(cc);
    d.sendAndAck(10, 90); // 100 segments
    cc.onPacketsLost(100, MDS, 50); // W_max 100, cwnd 70
    // Second loss in a new recovery period, at cwnd 70 < W_max 100.
    cc.onPacketsLost(300, MDS, 200);
    close(cc.cwndPrior, 70, 1e-9);
    close(cc.wMax, fast ? (70 * (1 + 0.7)) / 2 : 70, 1e-9, `fast=${fast}`);
    assert.is(cc.congestionWindow, Math.floor(70 * MDS * 0.7));
  }
});

test('RFC 9438 §4.2: the first avoidance ACK starts the epoch and grows towards W_cubic(t + RTT)', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
  const d = new Driver(cc);
  d.rtt.smoothedRtt = 100;
  d.sendAndAck(10, 90);
  cc.onPacketsLost(1000, MDS, 900); // cwnd 70 segments, W_max 100
  // An ACK of a packet sent after recovery began: epoch at t = 1010 ms.
  d.sendAndAck(1010, 1);
  assert.is(cc.epochStart, 1010);
  const k = Math.cbrt(75);
  close(cc.k, k, 1e-9);
  // At t = 0, W_cubic(0) = cwnd_epoch = 70 while W_est already grew by alpha / 70: the
  // Reno-friendly region applies and cwnd = W_est (RFC 9438 §4.3).
  const wEst1 = 70 + CUBIC_ALPHA / 70;
  close(cc.wEst, wEst1, 1e-9);
  close(cc.congestionWindow, Math.floor(wEst1 * MDS), 0);
  // 100 ms later W_cubic(0.1) = 72.08 > W_est: target = W_cubic(0.1 + RTT), clamped to
  // [cwnd, 1.5 cwnd], and cwnd += (target - cwnd) / cwnd for the one acknowledged segment.
  const cwnd = cc.congestionWindow / MDS;
  d.sendAndAck(1110, 1);
  assert.ok(cubicWindow(0.1, k, 100) > cc.wEst);
  const target = 0.4 * (0.2 - k) ** 3 + 100;
  const expected = cwnd + (target - cwnd) / cwnd;
  close(cc.congestionWindow, Math.floor(expected * MDS), 1);
  close(cc.wEst, wEst1 + CUBIC_ALPHA / cwnd, 1e-6); // cwnd read back floored to bytes
});

test('RFC 9438 §4.4-4.5: with a long RTT the window follows the cubic curve, plateaus at W_max, then probes', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
  const d = new Driver(cc);
  const rtt = 200;
  d.rtt.smoothedRtt = rtt;
  d.sendAndAck(10, 90);
  cc.onPacketsLost(1000, MDS, 900); // 70 segments, W_max 100
  const k = Math.cbrt(75);
  const epoch = 1001;
  // One ACK per segment spread over each RTT (a fully used window), for 12 s.
  let now = epoch;
  let checked = 0;
  for (let step = 0; step < 100_000 && now < epoch + 12_000; step++) {
    const perAck = rtt / (cc.congestionWindow / MDS);
    d.sendAndAck(now, 1);
    const t = (now - epoch) / 1000;
    const w = cc.congestionWindow / MDS;
    // The window stays between W_cubic(t) (minus one segment of rounding) and W_cubic(t + RTT).
    if (t > 0.5) {
      assert.ok(w >= cubicWindow(t, k, 100) - 1, `t=${t} w=${w} below curve ${cubicWindow(t, k, 100)}`);
      assert.ok(w <= cubicWindow(t + rtt / 1000, k, 100) + 1, `t=${t} w=${w} above curve`);
      checked++;
    }
    now += perAck;
  }
  assert.ok(checked > 1000);
  // Near K the window plateaus at W_max (concave region ends there).
  assert.ok(cc.congestionWindow / MDS > 100, 'probing past W_max in the convex region');
  // Reno-friendly estimate stayed below the curve on this long-RTT path.
  assert.ok(cc.wEst < cc.congestionWindow / MDS);
});

test('RFC 9438 §4.2: the target is clamped to 1.5 * cwnd (growth at most half a segment per segment acknowledged)', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
  const d = new Driver(cc);
  d.rtt.smoothedRtt = 100;
  d.sendAndAck(10, 90);
  cc.onPacketsLost(1000, MDS, 900); // 70 segments, W_max 100
  d.sendAndAck(1010, 1); // epoch
  const cwnd = cc.congestionWindow / MDS;
  // 30 s later (not application-limited): W_cubic(t + RTT) is far above 1.5 * cwnd.
  assert.ok(cubicWindow(30.1, cc.k, 100) > 1.5 * cwnd);
  d.sendAndAck(31_010, 1);
  close(cc.congestionWindow / MDS, cwnd + (1.5 * cwnd - cwnd) / cwnd, 1e-3);
  // ... and never shrinks: a target below cwnd is raised to cwnd.
  const cc2 = new Cubic({ maxDatagramSize: MDS, hystart: false });
  const d2 = new Driver(cc2);
  d2.sendAndAck(10, 90);
  cc2.onPacketsLost(1000, MDS, 900);
  let w = cc2.congestionWindow;
  for (let i = 0; i < 50; i++) {
    d2.sendAndAck(1010 + i, 1);
    assert.ok(cc2.congestionWindow >= w);
    w = cc2.congestionWindow;
  }
});

test('RFC 9438 §4.3: at a small RTT the Reno-friendly W_est dominates', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
  const d = new Driver(cc);
  d.rtt.smoothedRtt = 1;
  d.sendAndAck(0, 90);
  cc.onPacketsLost(10, MDS, 5); // 70 segments, W_max 100, K = 4.2 s
  // 1 ms RTT: acknowledge a full window each ms for 300 ms; the cubic curve barely moves from 70
  // while W_est grows by about alpha segments per window.
  let now = 11;
  for (let r = 0; r < 300; r++) {
    const segments = Math.floor(cc.congestionWindow / MDS);
    for (let i = 0; i < segments; i++) d.sendAndAck(now, 1);
    now += 1;
  }
  const t = (now - 1 - 11) / 1000;
  const w = cc.congestionWindow / MDS;
  assert.ok(cubicWindow(t, cc.k, 100) < cc.wEst, 'cubic curve below W_est');
  close(w, cc.wEst, 1 / MDS + 1e-6, 'cwnd = W_est');
  // About alpha segments per RTT over 300 RTTs (until W_est reaches cwnd_prior, then 1 per RTT).
  assert.ok(w > 70 + 0.5 * 100 && w < 70 + 300, `w=${w}`);
  assert.ok(w > cubicWindow(t + 0.001, cc.k, 100));
});

test('RFC 9438 §4.3: alpha becomes 1 once W_est reaches cwnd_prior', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
  const d = new Driver(cc);
  d.rtt.smoothedRtt = 1;
  d.sendAndAck(0, 10); // 20 segments
  cc.onPacketsLost(10, MDS, 5); // 14 segments, cwnd_prior 20
  let now = 11;
  // Grow (Reno-friendly at 1 ms RTT) until W_est passes cwnd_prior.
  for (let i = 0; i < 100_000 && cc.wEst < 20; i++) d.sendAndAck(now++ / 50 + 11, 1);
  assert.ok(cc.wEst >= 20);
  // Now one window of ACKs adds one segment to W_est (alpha = 1).
  const w0 = cc.wEst;
  const cwnd = cc.congestionWindow / MDS;
  d.sendAndAck(now / 50 + 11, 1);
  close(cc.wEst - w0, 1 / cwnd, 1e-5); // cwnd read back floored to bytes
});

test('RFC 9002 §7.3.2: no growth from packets sent before recovery; §7.8: none when app-limited', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false });
  const d = new Driver(cc);
  const old = d.send(0, 20);
  cc.onPacketsLost(100, MDS, 50);
  const w = cc.congestionWindow;
  d.ack(110, old);
  assert.is(cc.congestionWindow, w, 'acks of pre-recovery packets');
  const fresh = d.send(120, 5);
  d.ack(130, fresh, -1, true);
  assert.is(cc.congestionWindow, w, 'application-limited packets');
  assert.is(cc.epochStart, -Infinity, 'no epoch started by app-limited ACKs');
  // Slow start too: an app-limited ACK does not grow.
  const ss = new Cubic({ maxDatagramSize: MDS });
  const d2 = new Driver(ss);
  d2.ack(1, d2.send(0, 5), 50, true);
  assert.is(ss.congestionWindow, 12000);
});

test('RFC 9438 §4.2: t excludes application-limited periods', () => {
  const mk = () => {
    const cc = new Cubic({ maxDatagramSize: MDS, hystart: false, fastConvergence: false });
    const d = new Driver(cc);
    d.rtt.smoothedRtt = 100;
    d.sendAndAck(10, 90);
    cc.onPacketsLost(1000, MDS, 900);
    d.sendAndAck(1010, 1);
    return { cc, d };
  };
  const busy = mk();
  const idle = mk();
  // The idle flow spends 3 s application-limited (only app-limited ACKs), then both ACK once.
  for (let t = 1100; t <= 4100; t += 100) idle.d.ack(t, idle.d.send(t, 1), -1, true);
  assert.is(idle.cc.epochStart, 1010 + 3090, 'epoch moved by the application-limited time');
  busy.d.sendAndAck(1110, 1);
  idle.d.sendAndAck(4200, 1); // 100 ms after the last application-limited ACK
  assert.ok(busy.cc.congestionWindow > 70 * MDS);
  close(idle.cc.congestionWindow, busy.cc.congestionWindow, 0);
});

test('RFC 9002 §7.6.2: persistent congestion collapses to the minimum window; RFC 9438 §4.8 K = 0 afterwards', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false });
  const d = new Driver(cc);
  d.sendAndAck(10, 90);
  cc.onPacketsLost(100, MDS, 50); // ssthresh 70 segments
  cc.onPersistentCongestion(100);
  assert.is(cc.congestionWindow, 2 * MDS);
  assert.ok(cc.inSlowStart);
  // Slow start back to ssthresh, then avoidance with K = 0 and W_max = cwnd at the epoch.
  d.sendAndAck(200, 68);
  assert.is(cc.congestionWindow, 70 * MDS);
  d.sendAndAck(210, 1);
  assert.is(cc.k, 0);
  close(cc.wMax, 70, 1e-9);
});

test('RFC 9002 §7.1 / B.7: ECN-CE is a congestion event like a loss', () => {
  const cc = new Cubic({ maxDatagramSize: MDS });
  cc.onEcnCongestionEvent(50, 40);
  assert.is(cc.congestionWindow, 8400);
  assert.is(cc.slowStartThreshold, 8400);
  assert.is(cc.recoveryStartTime, 50);
  assert.ok(cc.hystart !== undefined && !cc.hystart.active);
  // The window never goes below the minimum.
  for (let i = 0; i < 10; i++) cc.onEcnCongestionEvent(100 + i * 10, 95 + i * 10);
  assert.is(cc.congestionWindow, 2400);
});

test('RFC 9438 §4.10 + RFC 9406: HyStart++ leaves slow start on an RTT rise, CSS grows by a quarter, then avoidance with K = 0', () => {
  const cc = new Cubic({ maxDatagramSize: MDS });
  const d = new Driver(cc);
  const hs = cc.hystart!;
  let now = 0;
  // Rounds of 10 packets, every ACK with an RTT sample.
  const round = (rtt: number) => {
    const pkts = d.send(now, 10);
    now += rtt;
    for (const p of pkts) d.ack(now, [p], rtt);
  };
  round(50);
  round(50);
  assert.is(hs.phase, HyStartPhase.SLOW_START);
  const before = cc.congestionWindow;
  round(50);
  assert.is(cc.congestionWindow, before + 10 * MDS, 'slow start: +1 MDS per MDS acknowledged');
  // RTT rises by 10 ms >= max(4, min(50/8, 16)) = 6.25 ms: CSS after the 8th sample.
  const w0 = cc.congestionWindow;
  round(60);
  assert.is(hs.phase, HyStartPhase.CONSERVATIVE);
  // 7 ACKs at full growth; the 8th sample switches to CSS before its own growth: 3 at a quarter.
  assert.is(cc.congestionWindow, w0 + 7 * MDS + (3 * MDS) / 4);
  for (let r = 2; r <= 5; r++) round(60);
  assert.is(hs.phase, HyStartPhase.CONSERVATIVE);
  assert.ok(cc.inSlowStart);
  const w1 = cc.congestionWindow;
  round(60); // its first ACK ends CSS: avoidance
  assert.is(hs.phase, HyStartPhase.DONE);
  assert.not.ok(cc.inSlowStart);
  assert.is(cc.slowStartThreshold, w1);
  assert.is(cc.k, 0);
  close(cc.wMax, w1 / MDS, 1e-9);
  close(cc.cwndPrior, w1 / MDS, 1e-9);
  assert.ok(cc.congestionWindow < w1 + 10 * MDS / 4, 'avoidance grows slower than CSS');
});

test('HyStart++ without an RTT rise: slow start continues until loss', () => {
  const cc = new Cubic({ maxDatagramSize: MDS });
  const d = new Driver(cc);
  let now = 0;
  for (let r = 0; r < 8; r++) {
    const n = cc.congestionWindow / MDS;
    const pkts = d.send(now, n);
    now += 40;
    for (const p of pkts) d.ack(now, [p], 40);
  }
  assert.is(cc.hystart!.phase, HyStartPhase.SLOW_START);
  assert.is(cc.congestionWindow, 12000 * 2 ** 8);
  cc.onPacketsLost(now, MDS, now - 10);
  assert.is(cc.hystart!.phase, HyStartPhase.DONE);
  assert.is(cc.congestionWindow, Math.floor(12000 * 2 ** 8 * 0.7));
});

test('RFC 9438 §4.9.2: a reduction is undone once every byte lost in its event proved spurious', () => {
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false });
  const d = new Driver(cc);
  d.sendAndAck(10, 90); // 100 segments
  cc.onPacketsLost(100, 2 * MDS, 50); // 70 segments
  cc.onPacketsLost(105, MDS, 60); // same congestion event (sent before recovery began)
  assert.is(cc.congestionWindow, 70 * MDS);
  cc.onSpuriousLoss(110, 2 * MDS, 50);
  assert.is(cc.congestionWindow, 70 * MDS, 'one lost packet is still unexplained');
  cc.onSpuriousLoss(111, MDS, 60);
  assert.is(cc.congestionWindow, 100 * MDS);
  assert.is(cc.slowStartThreshold, Infinity);
  assert.ok(cc.inSlowStart);
  // Only once.
  cc.onSpuriousLoss(112, MDS, 60);
  assert.is(cc.congestionWindow, 100 * MDS);
});

test('RFC 9438 §4.9.2: no undo after an ECN-CE reduction, nor for packets of a later event', () => {
  const ecn = new Cubic({ maxDatagramSize: MDS, hystart: false });
  ecn.onEcnCongestionEvent(100, 50);
  ecn.onSpuriousLoss(110, MDS, 40);
  assert.is(ecn.congestionWindow, 8400);
  const cc = new Cubic({ maxDatagramSize: MDS, hystart: false });
  cc.onPacketsLost(100, MDS, 50); // 8400
  cc.onSpuriousLoss(110, MDS, 150); // sent after the recovery start: not this event's loss
  assert.is(cc.congestionWindow, 8400);
});

test('RFC 9002 B.6: one packet may be sent on entering recovery', () => {
  const cc = new Cubic({ maxDatagramSize: MDS });
  cc.onPacketsLost(100, MDS, 50);
  assert.ok(cc.canSend(20000));
  assert.is(cc.availableWindow(20000), MDS);
  cc.onPacketSent(101, MDS, 7, true, 21200);
  assert.not.ok(cc.canSend(20000));
});

test.run();
