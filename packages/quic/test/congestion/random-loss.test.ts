/**
 * Issue 6 proof, random loss: 1% of the datagrams on the bottleneck are dropped independently of
 * the queue. Loss-based controllers read each drop as congestion; CUBIC (beta 0.7 and cubic
 * growth) and BBR (whose model tolerates up to 2% loss) both keep more goodput than NewReno.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario, type ScenarioResult } from './scenario.js';
import { randomLoss, TRANSFER_BYTES } from './scenarios.js';

const runs = new Map<string, ScenarioResult>();
function run(controller: 'newreno' | 'cubic' | 'bbr'): ScenarioResult {
  let r = runs.get(controller);
  if (r === undefined) {
    r = runScenario(randomLoss(controller));
    runs.set(controller, r);
  }
  return r;
}

function mbps(r: ScenarioResult): string {
  return `${(r.flows[0]!.goodputBps / 1e6).toFixed(2)} Mbit/s`;
}

test('1% loss: every controller still completes the 50 MB download', () => {
  for (const c of ['newreno', 'cubic', 'bbr'] as const) {
    const r = run(c);
    assert.ok(r.flows[0]!.complete, `${c}: ${r.flows[0]!.receivedBytes} bytes in ${r.endMs} ms`);
    assert.is(r.flows[0]!.receivedBytes, TRANSFER_BYTES);
    // About 1% of the datagrams were dropped at random, and the sender saw them as lost.
    const dropped = r.droppedByLoss;
    assert.ok(dropped > 0, `${c}: no random drops`);
    assert.ok(r.flows[0]!.lostPackets >= dropped * 0.9, `${c}: ${r.flows[0]!.lostPackets} lost of ${dropped} dropped`);
  }
});

test('1% loss: CUBIC keeps more goodput than NewReno', () => {
  const cubic = run('cubic');
  const reno = run('newreno');
  assert.ok(cubic.flows[0]!.goodputBps > reno.flows[0]!.goodputBps, `CUBIC ${mbps(cubic)}, NewReno ${mbps(reno)}`);
});

test('1% loss: BBR keeps more goodput than NewReno (and most of the link)', () => {
  const bbr = run('bbr');
  const reno = run('newreno');
  assert.ok(bbr.flows[0]!.goodputBps > reno.flows[0]!.goodputBps, `BBR ${mbps(bbr)}, NewReno ${mbps(reno)}`);
  assert.ok(bbr.flows[0]!.goodputBps > 0.5 * 20e6, `BBR ${mbps(bbr)}`);
});

test.run();
