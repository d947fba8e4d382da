/**
 * Issue 6 proof, one flow: real QUIC connections download 50 MB through a 20 Mbit/s, 40 ms,
 * 1-BDP-buffer bottleneck on the simulator. Every controller uses at least 90% of the link over
 * the whole transfer (handshake and slow start included); BBR queues less than CUBIC.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario, type ScenarioResult } from './scenario.js';
import { CONTROLLERS, singleFlow, TRANSFER_BYTES } from './scenarios.js';

const results = new Map<string, ScenarioResult>();
function single(controller: (typeof CONTROLLERS)[number]): ScenarioResult {
  let r = results.get(controller);
  if (r === undefined) {
    r = runScenario(singleFlow(controller));
    results.set(controller, r);
  }
  return r;
}

function describe(r: ScenarioResult): string {
  const f = r.flows[0]!;
  return `${r.name}: utilisation ${(100 * r.utilisation).toFixed(1)}%, goodput ${(f.goodputBps / 1e6).toFixed(2)} Mbit/s, mean queue ${r.meanQueueDelayMs.toFixed(1)} ms, lost ${f.lostBytes} B`;
}

for (const controller of CONTROLLERS) {
  test(`${controller}: a 50 MB download completes and uses >= 90% of the bottleneck`, () => {
    const r = single(controller);
    const flow = r.flows[0]!;
    assert.ok(flow.complete, `${r.name}: received ${flow.receivedBytes} of ${TRANSFER_BYTES}`);
    assert.is(flow.receivedBytes, TRANSFER_BYTES);
    assert.ok(r.utilisation >= 0.9, describe(r));
    // Utilisation counts wire bytes; the application's goodput is what is left after QUIC's
    // headers, AEAD tags and retransmissions: still most of the link.
    assert.ok(flow.goodputBps >= 0.85 * 20e6, describe(r));
    // No more than the link's capacity can be carried.
    assert.ok(r.utilisation <= 1.0001, describe(r));
  });
}

test('BBR keeps the mean queueing delay below CUBIC\'s (and its p95 too)', () => {
  const bbr = single('bbr');
  const cubic = single('cubic');
  assert.ok(bbr.meanQueueDelayMs < cubic.meanQueueDelayMs, `${describe(bbr)} / ${describe(cubic)}`);
  assert.ok(bbr.p95QueueDelayMs < cubic.p95QueueDelayMs, `p95 ${bbr.p95QueueDelayMs} vs ${cubic.p95QueueDelayMs}`);
});

test('the time series is sampled every 50 ms of virtual time and matches the totals', () => {
  const r = single('cubic');
  const samples = r.flows[0]!.samples;
  assert.ok(samples.length >= Math.floor(r.endMs / 50), `${samples.length} samples over ${r.endMs} ms`);
  for (let i = 1; i < samples.length; i++) assert.is(samples[i]!.time - samples[i - 1]!.time, 50);
  // The goodput samples add up to the bytes read, but for the last partial period. That holds
  // about a period at link rate, more when bytes held back behind a gap are read at once at
  // the end (seen with 1-RTT packet-number skipping, which shifted this run's timing: 135 KB
  // against 125 KB for one period), so allow two periods' worth.
  const sum = samples.reduce((s, x) => s + (x.goodputBps * 50) / 8000, 0);
  assert.ok(Math.abs(sum - TRANSFER_BYTES) <= (2 * 20e6) / 8 / 20, `sampled ${sum} bytes`);
  // After a loss the window drops below what is already in flight, so compare with the largest
  // window so far: nothing beyond it is ever sent (save the one packet RFC 9002 B.6 allows).
  let maxCwnd = 0;
  for (const s of samples) {
    maxCwnd = Math.max(maxCwnd, s.cwnd);
    assert.ok(s.bytesInFlight <= maxCwnd + 1200, `in flight ${s.bytesInFlight} > max cwnd ${maxCwnd} at ${s.time}`);
  }
});

test('a scenario replays exactly from its seed', () => {
  const a = runScenario(singleFlow('cubic', 7, 2_000_000));
  const b = runScenario(singleFlow('cubic', 7, 2_000_000));
  assert.is(a.endMs, b.endMs);
  assert.is(a.events, b.events);
  assert.equal(a.flows[0]!.samples, b.flows[0]!.samples);
  assert.is(a.meanQueueDelayMs, b.meanQueueDelayMs);
});

test.run();
