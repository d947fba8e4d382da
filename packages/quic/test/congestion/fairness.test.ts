/**
 * Issue 6 proof, two flows: two connections of the same controller share ONE bottleneck link
 * (20 Mbit/s, 40 ms, 1-BDP buffer; see bottleneck.ts), the second starting 1 s after the
 * first. From 5 s after the second start until the first flow completes, Jain's fairness index
 * of their goodput is at least 0.9, and together they still fill the link.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScenario } from './scenario.js';
import { CONTROLLERS, TRANSFER_BYTES, twoFlows } from './scenarios.js';

for (const controller of CONTROLLERS) {
  test(`${controller}: two flows through one bottleneck converge to a fair share (Jain >= 0.9)`, () => {
    const r = runScenario(twoFlows(controller));
    const [a, b] = r.flows;
    assert.ok(a!.complete && b!.complete, `received ${a!.receivedBytes} and ${b!.receivedBytes}`);
    assert.is(a!.receivedBytes + b!.receivedBytes, 2 * TRANSFER_BYTES);
    const window = r.fairnessToMs - r.fairnessFromMs;
    // The fairness window must be long enough to mean something: at least 10 s of sharing.
    assert.ok(window >= 10_000, `fairness window ${window} ms`);
    const shares = `goodput ${(a!.goodputBps / 1e6).toFixed(2)} / ${(b!.goodputBps / 1e6).toFixed(2)} Mbit/s`;
    assert.ok(r.fairness >= 0.9, `${r.name}: Jain ${r.fairness.toFixed(3)} over [${r.fairnessFromMs}, ${r.fairnessToMs.toFixed(0)}] ms, ${shares}`);
    assert.ok(r.utilisation >= 0.9, `${r.name}: utilisation ${r.utilisation}`);
  });
}

test.run();
