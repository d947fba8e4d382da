import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Bbr, BbrState } from '../src/index.js';
import { goodput, type LinkConfig, meanOver, runLink } from './helpers/fake-link.js';

// 10 Mbit/s (1250 bytes/ms), 40 ms: BDP = 50,000 bytes; buffer = 1 BDP.
const LINK: LinkConfig = { rateBytesPerMs: 1250, rttMs: 40, bufferBytes: 50_000 };
const BDP = LINK.rateBytesPerMs * LINK.rttMs;
const SERIALIZATION = 1200 / LINK.rateBytesPerMs;

for (const fullRateSamples of [true, false]) {
  const how = fullRateSamples ? 'with RateSample and loss detail' : 'from AckSample fields only';
  test(`fake link (${how}): BBR measures the bottleneck, keeps inflight near the BDP and the queue short`, () => {
    const bbr = new Bbr({ randomSeed: 11 });
    const states: BbrState[] = [];
    const trace = runLink(bbr, { ...LINK, fullRateSamples }, 20_000, () => {
      if (states[states.length - 1] !== bbr.state) states.push(bbr.state);
    });
    assert.is(states[0], BbrState.STARTUP);
    assert.is(states[1], BbrState.DRAIN);
    assert.ok(states.includes(BbrState.PROBE_BW_UP) && states.includes(BbrState.PROBE_BW_CRUISE));
    // The model: max_bw = the bottleneck rate, min_rtt = propagation + one serialization.
    assert.ok(Math.abs(bbr.maxBw - LINK.rateBytesPerMs) < 0.05 * LINK.rateBytesPerMs, `max_bw ${bbr.maxBw}`);
    assert.ok(Math.abs(bbr.minRtt - (LINK.rttMs + SERIALIZATION)) < 1, `min_rtt ${bbr.minRtt}`);
    // cwnd = cwnd_gain * BDP (plus aggregation and quanta); inflight and RTT stay near the BDP.
    const meanCwnd = meanOver(trace, trace.cwnd, 10_000, 20_000);
    assert.ok(meanCwnd > 1.5 * BDP && meanCwnd < 2.6 * BDP, `mean cwnd ${meanCwnd}`);
    const meanInflight = meanOver(trace, trace.inflight, 10_000, 20_000);
    assert.ok(meanInflight > 0.9 * BDP && meanInflight < 1.4 * BDP, `mean inflight ${meanInflight}`);
    const meanRtt = meanOver(trace, trace.rtt, 10_000, 20_000);
    assert.ok(meanRtt < 1.3 * LINK.rttMs, `mean RTT ${meanRtt}`);
    const rate = goodput(trace, 10_000, 19_999);
    assert.ok(rate > 0.93 * LINK.rateBytesPerMs, `goodput ${rate}`);
    // Pacing rate = pacing_gain * bw * 0.99.
    assert.ok(Math.abs(bbr.pacingRate(0) - bbr.pacingGain * bbr.bw * 0.99) < 1e-6);
  });
}

test('fake link: ProbeRTT comes about every 5 s of unchanged min RTT and lasts about 200 ms', () => {
  const bbr = new Bbr({ randomSeed: 5 });
  let lastStamp = 0;
  let stampBeforeEntry = -1;
  let enteredAt = -1;
  let exitedAt = -1;
  let previous: BbrState = bbr.state;
  runLink(bbr, LINK, 15_000, (now) => {
    if (bbr.state === BbrState.PROBE_RTT && previous !== BbrState.PROBE_RTT && enteredAt < 0) {
      enteredAt = now;
      stampBeforeEntry = lastStamp;
    }
    if (enteredAt >= 0 && exitedAt < 0 && previous === BbrState.PROBE_RTT && bbr.state !== BbrState.PROBE_RTT) exitedAt = now;
    if (bbr.state !== BbrState.PROBE_RTT) lastStamp = bbr.model.probeRttMinStamp;
    previous = bbr.state;
  });
  assert.ok(enteredAt > 0, 'ProbeRTT entered');
  const age = enteredAt - stampBeforeEntry;
  assert.ok(age > 5000 && age < 5000 + 2 * LINK.rttMs, `entered ${age} ms after the last min-delay stamp`);
  const held = exitedAt - enteredAt;
  assert.ok(held >= 200 && held < 200 + 4 * LINK.rttMs, `ProbeRTT lasted ${held} ms`);
});

test('fake link: a shallow buffer makes ProbeBW_UP lose more than 2 %; inflight_longterm then bounds cwnd', () => {
  // Buffer of 0.25 BDP: probing at 1.25 x bw overflows it.
  const bbr = new Bbr({ randomSeed: 9 });
  let boundedAt = -1;
  let stateBefore: BbrState = bbr.state;
  let stateAtBound: BbrState = bbr.state;
  let stateBeforeBound: BbrState = bbr.state;
  const trace = runLink(bbr, { ...LINK, bufferBytes: 0.25 * BDP }, 20_000, (now) => {
    if (boundedAt < 0 && bbr.inflightLongterm < Infinity) {
      boundedAt = now;
      stateBeforeBound = stateBefore;
      stateAtBound = bbr.state;
    }
    stateBefore = bbr.state;
  });
  assert.ok(boundedAt > 0, 'inflight_longterm was set');
  // Set by the probe itself: ProbeBW_UP saw too much loss and went DOWN.
  assert.is(stateBeforeBound, BbrState.PROBE_BW_UP);
  assert.is(stateAtBound, BbrState.PROBE_BW_DOWN);
  assert.ok(bbr.prevProbeTooHigh || bbr.state !== BbrState.PROBE_BW_UP);
  // Bounded near what the path holds: BDP + buffer = 1.25 BDP.
  assert.ok(Math.abs(bbr.inflightLongterm - 1.25 * BDP) < 0.2 * BDP, `inflight_longterm ${bbr.inflightLongterm}`);
  assert.ok(meanOver(trace, trace.cwnd, 10_000, 20_000) < 1.5 * BDP, 'cwnd held below 2 BDP by the bound');
  const rate = goodput(trace, 10_000, 19_999);
  assert.ok(rate > 0.85 * LINK.rateBytesPerMs, `goodput ${rate}`);
  assert.ok(trace.lostPackets < 0.03 * trace.sentPackets, `${trace.lostPackets} lost of ${trace.sentPackets}`);
});

test.run();
