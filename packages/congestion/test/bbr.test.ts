import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type AckSample,
  Bbr,
  BBR_DRAIN_PACING_GAIN,
  BBR_PROBE_RTT_DURATION_MS,
  BBR_PROBE_RTT_INTERVAL_MS,
  BBR_STARTUP_PACING_GAIN,
  BbrState,
  createAckSample,
  createRateSample,
  inflightWithHeadroom,
  modelCwndCap,
  pacingRateWithGain,
  type RateSample,
  sendQuantumFor,
} from '../src/index.js';

const MDS = 1200;

interface AckOptions {
  /** Delivery rate of the sample, bytes per ms. */
  rate: number;
  /** Bytes in flight after the ACK. */
  inflight: number;
  rtt?: number;
  appLimited?: boolean;
  /** Bytes newly acknowledged; default 12000. */
  bytes?: number;
  /** RS.lost. */
  lost?: number;
  /** RS.tx_in_flight; default `inflight`. */
  txInFlight?: number;
  /** Virtual time advance before the ACK; default 100 ms. */
  dt?: number;
}

/**
 * Feeds BBR hand-made rate samples. Every ACK acknowledges a packet sent after the previous ACK
 * (P.delivered = C.delivered at the previous ACK), so every ACK starts a packet-timed round.
 */
class Driver {
  readonly rtt = { latestRtt: 100, smoothedRtt: 100, rttVar: 50, minRtt: 100, hasSample: true };
  readonly sample: AckSample = createAckSample(this.rtt);
  readonly rs: RateSample = createRateSample();
  total = 0;
  now = 0;
  pn = 0;
  constructor(readonly bbr: Bbr) {
    this.sample.rateSample = this.rs;
  }

  ack(o: AckOptions): void {
    this.now += o.dt ?? 100;
    const bytes = o.bytes ?? 12000;
    const rtt = o.rtt ?? 100;
    const rs = this.rs;
    rs.hasData = true;
    rs.priorDelivered = this.total;
    this.total += bytes;
    rs.totalDelivered = this.total;
    rs.delivered = bytes;
    rs.newlyAcked = bytes;
    rs.deliveryRate = o.rate;
    rs.interval = bytes / o.rate;
    rs.isAppLimited = o.appLimited ?? false;
    rs.rtt = rtt;
    rs.lost = o.lost ?? 0;
    rs.txInFlight = o.txInFlight ?? o.inflight;
    const s = this.sample;
    s.now = this.now;
    s.ackedBytes = bytes;
    s.ackedPackets = bytes / MDS;
    s.largestAckedPacketNumber = this.pn++;
    s.largestAckedSentTime = this.now - rtt;
    s.bytesInFlight = o.inflight;
    s.rttUpdated = true;
    this.rtt.latestRtt = rtt;
    this.bbr.onPacketsAcked(s);
  }

  /** Sends one packet with `inflight` bytes in flight after it. */
  send(inflight: number): void {
    this.bbr.onPacketSent(this.now, MDS, this.pn++, true, inflight);
  }
}

function close(actual: number, expected: number, eps: number, msg = ''): void {
  assert.ok(Math.abs(actual - expected) <= eps, `${msg} ${actual} vs ${expected}`);
}

/** Startup with growing then flat rates: ends in Drain at max_bw 470 bytes/ms. */
function toDrain(d: Driver): void {
  for (const rate of [100, 200, 400, 450, 460, 470]) d.ack({ rate, inflight: 100_000 });
}

test('draft OnInit / EnterStartup: Startup gains 2.77 and 2, initial window, pacing from the initial cwnd', () => {
  const bbr = new Bbr();
  assert.is(bbr.state, BbrState.STARTUP);
  assert.is(bbr.pacingGain, 2.77);
  assert.is(bbr.cwndGain, 2);
  assert.is(bbr.congestionWindow, 12000);
  assert.is(bbr.minRtt, Infinity);
  assert.is(bbr.inflightLongterm, Infinity);
  assert.is(bbr.inflightShortterm, Infinity);
  // InitPacingRate: 2.77 * InitialCwnd / 1 ms before an RTT sample.
  assert.is(bbr.pacingRate(0), 2.77 * 12000);
  // At the first smoothed RTT (100 ms): 2.77 * 12000 / 100.
  const d = new Driver(bbr);
  d.ack({ rate: 10, inflight: 10000 });
  close(bbr.pacingRate(100), (2.77 * 12000) / 100, 1e-9);
});

test('draft CheckFullBWReached: Startup -> Drain after 3 rounds without 25 % growth', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  d.ack({ rate: 100, inflight: 100_000 });
  d.ack({ rate: 200, inflight: 100_000 }); // +100 %: new baseline
  d.ack({ rate: 400, inflight: 100_000 }); // +100 %: new baseline
  // draft SetPacingRate: pacing = gain * bw * 0.99 while it grows in Startup.
  close(bbr.pacingRate(100), BBR_STARTUP_PACING_GAIN * 400 * 0.99, 1e-9);
  d.ack({ rate: 450, inflight: 100_000 }); // +12.5 %: plateau round 1
  d.ack({ rate: 460, inflight: 100_000 }); // plateau round 2
  assert.is(bbr.state, BbrState.STARTUP);
  assert.not.ok(bbr.fullBwReached);
  d.ack({ rate: 470, inflight: 100_000 }); // plateau round 3: the pipe is full
  assert.ok(bbr.fullBwReached);
  assert.is(bbr.state, BbrState.DRAIN);
  assert.is(bbr.pacingGain, BBR_DRAIN_PACING_GAIN);
  assert.is(bbr.cwndGain, 2);
  close(bbr.maxBw, 470, 0);
  // Drain paces at 0.5 * bw * 0.99 (the pipe is full, so the rate may fall).
  close(bbr.pacingRate(100), 0.5 * 470 * 0.99, 1e-9);
});

test('draft CheckFullBWReached: growth of 25 % or more restarts the count; app-limited rounds do not count', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  d.ack({ rate: 100, inflight: 100_000 });
  d.ack({ rate: 110, inflight: 100_000 });
  d.ack({ rate: 120, inflight: 100_000 });
  d.ack({ rate: 125, inflight: 100_000 }); // 125 >= 1.25 * 100: baseline 125, count 0
  d.ack({ rate: 130, inflight: 100_000 });
  d.ack({ rate: 130, inflight: 100_000 });
  assert.is(bbr.state, BbrState.STARTUP);
  for (let i = 0; i < 10; i++) d.ack({ rate: 130, inflight: 100_000, appLimited: true });
  assert.is(bbr.state, BbrState.STARTUP, 'application-limited plateaus are not a full pipe');
  d.ack({ rate: 130, inflight: 100_000 });
  assert.is(bbr.state, BbrState.DRAIN);
});

test('draft CheckDrainDone: Drain -> ProbeBW once inflight <= BDP', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  toDrain(d);
  // BDP = 470 bytes/ms * 100 ms = 47000 bytes.
  d.ack({ rate: 470, inflight: 60_000 });
  assert.is(bbr.state, BbrState.DRAIN);
  d.ack({ rate: 470, inflight: 47_000 });
  // EnterProbeBW starts in DOWN; with inflight <= BDP and no inflight_longterm, DOWN -> CRUISE.
  assert.is(bbr.state, BbrState.PROBE_BW_CRUISE);
  assert.is(bbr.pacingGain, 1);
  close(bbr.pacingRate(100), 470 * 0.99, 1e-9);
});

test('draft CheckDrainDone: Drain ends after 3 rounds even with a standing queue', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  toDrain(d);
  for (let i = 0; i < 3; i++) {
    d.ack({ rate: 470, inflight: 100_000 });
    assert.is(bbr.state, BbrState.DRAIN);
  }
  d.ack({ rate: 470, inflight: 100_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_DOWN);
  assert.is(bbr.pacingGain, 0.9);
  close(bbr.pacingRate(100), 0.9 * 470 * 0.99, 1e-9);
});

test('draft ProbeBW cycle: CRUISE -> REFILL after the probe wait, one round of REFILL, then UP at gains 1.25 / 2.25', () => {
  const bbr = new Bbr({ randomSeed: 7 });
  const d = new Driver(bbr);
  toDrain(d);
  d.ack({ rate: 470, inflight: 40_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_CRUISE);
  const cruiseStart = d.now;
  let refillAt = -1;
  for (let i = 0; i < 40 && refillAt < 0; i++) {
    d.ack({ rate: 470, inflight: 40_000 });
    if (bbr.state !== BbrState.PROBE_BW_CRUISE) refillAt = d.now;
  }
  assert.is(bbr.state, BbrState.PROBE_BW_REFILL);
  // Draft PickProbeWait: 2-3 s of wall clock (or sooner by the Reno-coexistence round count).
  assert.ok(refillAt - cruiseStart <= 3100, `waited ${refillAt - cruiseStart} ms`);
  assert.is(bbr.inflightShortterm, Infinity, 'REFILL resets the short-term model');
  d.ack({ rate: 470, inflight: 40_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_UP);
  assert.is(bbr.pacingGain, 1.25);
  assert.is(bbr.cwndGain, 2.25);
  close(bbr.pacingRate(100), 1.25 * 470 * 0.99, 1e-9);
  // UP ends when the pipe is full again: three rounds without 25 % growth.
  for (let i = 0; i < 3; i++) d.ack({ rate: 470, inflight: 50_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_DOWN);
});

/** Drives a fresh BBR into ProbeBW_UP with max_bw 470 bytes/ms and min_rtt 100 ms. */
function toProbeUp(): { bbr: Bbr; d: Driver } {
  const bbr = new Bbr({ randomSeed: 3 });
  const d = new Driver(bbr);
  toDrain(d);
  d.ack({ rate: 470, inflight: 40_000 });
  for (let i = 0; i < 50 && bbr.state !== BbrState.PROBE_BW_UP; i++) d.ack({ rate: 470, inflight: 40_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_UP);
  return { bbr, d };
}

test('draft HandleLostPacket: a loss rate above 2 % in ProbeBW_UP sets inflight_longterm at the crossing and goes DOWN', () => {
  const { bbr, d } = toProbeUp();
  // 900 of 50000 bytes lost (1.8 %): tolerated.
  bbr.onPacketLostDetail(d.now, MDS, 50_000, 900, false);
  assert.is(bbr.state, BbrState.PROBE_BW_UP);
  assert.is(bbr.inflightLongterm, Infinity);
  // 1200 of 50000 (2.4 %): InflightAtLoss = 48800 + (0.02 * 48800 - 0) / 0.98.
  bbr.onPacketLostDetail(d.now, MDS, 50_000, MDS, false);
  close(bbr.inflightLongterm, 48_800 + (0.02 * 48_800) / 0.98, 1e-6);
  assert.ok(bbr.prevProbeTooHigh);
  assert.is(bbr.state, BbrState.PROBE_BW_DOWN);
  // From the next ACK on, the volume cap in DOWN is inflight_longterm.
  d.ack({ rate: 470, inflight: 45_000 });
  assert.ok(bbr.congestionWindow <= bbr.inflightLongterm);
});

test('draft IsInflightTooHigh at ACK time: RS.lost / RS.tx_in_flight above 2 % reacts once per probe', () => {
  const { bbr, d } = toProbeUp();
  d.ack({ rate: 470, inflight: 50_000, lost: 900, txInFlight: 50_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_UP, '1.8 % is tolerated');
  d.ack({ rate: 470, inflight: 50_000, lost: 1100, txInFlight: 50_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_DOWN);
  // max(tx_in_flight, TargetInflight * beta) = max(50000, 47000 * 0.7).
  assert.is(bbr.inflightLongterm, 50_000);
});

test('draft HandleInflightTooHigh: the bound never drops below beta * TargetInflight', () => {
  const { bbr, d } = toProbeUp();
  // Heavy loss at a small tx_in_flight: the bound is 0.7 * min(BDP 47000, cwnd).
  bbr.onPacketLostDetail(d.now, MDS, 10_000, 5_000, false);
  close(bbr.inflightLongterm, 0.7 * Math.min(47_000, bbr.congestionWindow), 1e-6);
});

test('draft "When not Probing for Bandwidth": loss in CRUISE lowers bw_shortterm and inflight_shortterm by at most beta per round', () => {
  const bbr = new Bbr({ randomSeed: 5 });
  const d = new Driver(bbr);
  toDrain(d);
  d.ack({ rate: 470, inflight: 40_000 });
  assert.is(bbr.state, BbrState.PROBE_BW_CRUISE);
  const cwnd = bbr.congestionWindow;
  bbr.onPacketsLost(d.now, MDS, d.now - 50);
  d.ack({ rate: 200, inflight: 40_000, dt: 10 }); // round with loss ends: bw_latest = max(470, 200)
  close(bbr.model.bwShortterm, 470, 1e-9);
  close(bbr.inflightShortterm, Math.max(12_000, 0.7 * cwnd), 1e-6);
  bbr.onPacketsLost(d.now, MDS, d.now - 5);
  d.ack({ rate: 200, inflight: 40_000, dt: 10 }); // bw_latest 200 < 0.7 * 470
  close(bbr.model.bwShortterm, 0.7 * 470, 1e-9);
  close(bbr.bw, 0.7 * 470, 1e-9);
  close(bbr.pacingRate(100), 0.7 * 470 * 0.99, 1e-9);
  // A round without loss leaves the bounds alone.
  d.ack({ rate: 200, inflight: 40_000, dt: 10 });
  close(bbr.model.bwShortterm, 0.7 * 470, 1e-9);
});

test('draft ProbeRTT: entered when min delay is 5 s old, cwnd held at max(BDP/2, 4 MDS), left after 200 ms and a round', () => {
  assert.is(BBR_PROBE_RTT_INTERVAL_MS, 5000);
  assert.is(BBR_PROBE_RTT_DURATION_MS, 200);
  const bbr = new Bbr();
  const d = new Driver(bbr);
  // Application-limited samples keep BBR in Startup; the RTT never drops below its first value.
  d.ack({ rate: 100, inflight: 30_000, appLimited: true, dt: 50 }); // t = 50: min delay stamped
  const stamp = d.now;
  let enteredAt = -1;
  let cwndBefore = 0;
  for (let i = 0; i < 200 && enteredAt < 0; i++) {
    cwndBefore = bbr.congestionWindow;
    d.ack({ rate: 100, inflight: 30_000, appLimited: true, dt: 50 });
    if (bbr.state === BbrState.PROBE_RTT) enteredAt = d.now;
  }
  assert.is(enteredAt, stamp + 5050, 'first ACK more than 5 s after the stamp');
  assert.is(bbr.cwndGain, 0.5);
  // ProbeRTTCwnd = max(0.5 * bw * min_rtt, 4 * MDS) = max(5000, 4800).
  assert.is(bbr.congestionWindow, 5000);
  // Inflight still above the ProbeRTT cwnd: the 200 ms have not started.
  d.ack({ rate: 100, inflight: 8000, appLimited: true, dt: 50 });
  assert.is(bbr.state, BbrState.PROBE_RTT);
  d.ack({ rate: 100, inflight: 4000, appLimited: true, dt: 50 }); // done stamp = now + 200
  const holdStart = d.now;
  let exitedAt = -1;
  for (let i = 0; i < 20 && exitedAt < 0; i++) {
    d.ack({ rate: 100, inflight: 4000, appLimited: true, dt: 50 });
    if (bbr.state !== BbrState.PROBE_RTT) exitedAt = d.now;
  }
  assert.ok(exitedAt - holdStart > BBR_PROBE_RTT_DURATION_MS && exitedAt - holdStart <= BBR_PROBE_RTT_DURATION_MS + 50);
  // Not full yet: back to Startup, with the window restored.
  assert.is(bbr.state, BbrState.STARTUP);
  assert.ok(bbr.congestionWindow >= cwndBefore);
  // The next ProbeRTT is 5 s after the exit.
  const exit = d.now;
  for (let i = 0; i < 99; i++) {
    d.ack({ rate: 100, inflight: 30_000, appLimited: true, dt: 50 });
    assert.is(bbr.state, BbrState.STARTUP, `t=${d.now - exit}`);
  }
});

test('draft UpdateMinRTT: a lower RTT postpones ProbeRTT; min_rtt itself expires after 10 s', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  d.ack({ rate: 100, inflight: 30_000, appLimited: true, rtt: 100 });
  assert.is(bbr.minRtt, 100);
  // Lower samples every 4 s keep the ProbeRTT schedule fresh.
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < 39; i++) d.ack({ rate: 100, inflight: 30_000, appLimited: true, rtt: 110 });
    d.ack({ rate: 100, inflight: 30_000, appLimited: true, rtt: 99 - t });
    assert.is(bbr.state, BbrState.STARTUP);
  }
  assert.is(bbr.minRtt, 97);
  // Then only 120 ms samples: ProbeRTT after 5 s; min_rtt stays 97 until 10 s after its stamp.
  const stamp = d.now;
  let probeRttSeen = false;
  for (let i = 0; i < 100 && d.now - stamp <= 10_000; i++) {
    d.ack({ rate: 100, inflight: 3000, appLimited: true, rtt: 120 });
    if (bbr.state === BbrState.PROBE_RTT) probeRttSeen = true;
    if (d.now - stamp <= 10_000) assert.is(bbr.minRtt, 97);
  }
  assert.ok(probeRttSeen);
  d.ack({ rate: 100, inflight: 3000, appLimited: true, rtt: 120 });
  assert.is(bbr.minRtt, 120, 'expired after BBR.MinRTTFilterLen');
});

test('draft SetCwnd: Startup grows cwnd by the bytes acknowledged; bounded by max_inflight after the pipe is full', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  d.ack({ rate: 100, inflight: 10_000, bytes: 6000 });
  assert.is(bbr.congestionWindow, 18_000);
  toDrain(d);
  // Full pipe: cwnd <= cwnd_gain * BDP + extra_acked, quantized.
  for (let i = 0; i < 5; i++) d.ack({ rate: 470, inflight: 100_000 });
  const maxInflight = 2 * 47_000 + bbr.model.extraAcked;
  assert.ok(bbr.congestionWindow <= Math.ceil(maxInflight), `${bbr.congestionWindow} vs ${maxInflight}`);
  assert.ok(bbr.congestionWindow >= 2 * 47_000 * 0.9);
});

test('draft control formulas: pacing margin, send quantum, headroom, volume caps', () => {
  close(pacingRateWithGain(1.25, 1000), 1237.5, 1e-9);
  assert.is(sendQuantumFor(1000, MDS), 2400, 'at least 2 * SMSS');
  assert.is(sendQuantumFor(10_000, MDS), 10_000, '1 ms of the pacing rate');
  assert.is(sendQuantumFor(1e6, MDS), 65536, 'at most 64 KiB');
  assert.is(inflightWithHeadroom(Infinity, 4800, MDS), Infinity);
  close(inflightWithHeadroom(100_000, 4800, MDS), 85_000, 1e-9);
  assert.is(inflightWithHeadroom(5000, 4800, MDS), 4800);
  const bbr = new Bbr();
  bbr.model.inflightLongterm = 100_000;
  bbr.model.inflightShortterm = 90_000;
  assert.is(modelCwndCap(BbrState.PROBE_BW_UP, bbr.model, 4800, MDS), 90_000);
  bbr.model.inflightShortterm = Infinity;
  assert.is(modelCwndCap(BbrState.PROBE_BW_UP, bbr.model, 4800, MDS), 100_000);
  close(modelCwndCap(BbrState.PROBE_BW_CRUISE, bbr.model, 4800, MDS), 85_000, 1e-9);
  close(modelCwndCap(BbrState.PROBE_RTT, bbr.model, 4800, MDS), 85_000, 1e-9);
  assert.is(modelCwndCap(BbrState.STARTUP, bbr.model, 4800, MDS), Infinity);
});

test('draft "Exiting Startup Based on Packet Loss": a full round in recovery with > 2 % loss and 6 losses', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  d.ack({ rate: 100, inflight: 50_000 });
  d.ack({ rate: 200, inflight: 50_000 });
  // Losses start recovery in this round.
  bbr.onPacketsLost(d.now, MDS, d.now - 10);
  d.ack({ rate: 400, inflight: 50_000 });
  assert.is(bbr.state, BbrState.STARTUP);
  // A whole round in recovery with 6 lost packets (7200 of 19200 bytes).
  // Packets sent after recovery began are lost too: recovery goes on (a new period).
  for (let i = 0; i < 6; i++) bbr.onPacketLostDetail(d.now, MDS, 50_000, MDS * (i + 1), false);
  bbr.onPacketsLost(d.now, 6 * MDS, d.now - 50);
  assert.ok(bbr.inRecovery);
  d.ack({ rate: 790, inflight: 50_000 });
  assert.is(bbr.state, BbrState.DRAIN);
  assert.ok(bbr.fullBwReached);
  assert.ok(bbr.inflightLongterm < Infinity, 'inflight_longterm = max(BDP, inflight_latest)');
});

test('RFC 9002 §7.6.2: persistent congestion collapses cwnd to the minimum window; ECN-CE counts as loss', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  toDrain(d);
  bbr.onPersistentCongestion(d.now);
  assert.is(bbr.congestionWindow, 2 * MDS);
  // The next ACK raises it to at least MinPipeCwnd.
  d.ack({ rate: 470, inflight: 0, bytes: 1200 });
  assert.ok(bbr.congestionWindow >= 4 * MDS);
  const e = new Bbr();
  const de = new Driver(e);
  de.ack({ rate: 100, inflight: 10_000 });
  e.onEcnCongestionEvent(de.now, de.now - 50);
  assert.ok(e.model.isLossInRound);
});

test('spurious loss: once all bytes of the episode are acknowledged after all, the saved state returns', () => {
  const { bbr, d } = toProbeUp();
  const before = bbr.congestionWindow;
  bbr.onPacketLostDetail(d.now, MDS, 50_000, MDS * 2, false);
  bbr.onPacketsLost(d.now, MDS, d.now - 10);
  assert.is(bbr.state, BbrState.PROBE_BW_DOWN);
  assert.ok(bbr.inflightLongterm < Infinity);
  bbr.onSpuriousLoss(d.now + 5, MDS, d.now - 10);
  // Back to probing (REFILL) with the pre-loss bound and window.
  assert.is(bbr.state, BbrState.PROBE_BW_REFILL);
  assert.is(bbr.inflightLongterm, Infinity);
  assert.ok(bbr.congestionWindow >= before);
});

test('pacing: BBR exposes its rate to the Pacer (bytes per ms)', () => {
  const bbr = new Bbr();
  const d = new Driver(bbr);
  toDrain(d);
  d.ack({ rate: 470, inflight: 40_000 });
  const rate = bbr.pacingRate(123);
  close(rate, 470 * 0.99, 1e-9);
  assert.ok(bbr.sendQuantum >= 2 * MDS);
});

test.run();
