/**
 * Driver robustness (the call-order contract in connection/types.ts): a driver that calls
 * `handleTimeout` early and often (every millisecond, before the deadline) or polls
 * `pollTransmit` / `pollEvent` when nothing is due must not change the outcome: no spurious PTO,
 * no extra packets, the transfer completes intact.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

test('handleTimeout every millisecond (mostly before any deadline) changes nothing', () => {
  const baseline = makePair({ seed: SEED, link: { delayMs: 10, bandwidthBps: 50e6 } });
  const r0 = runTransfer(baseline, 300_000, 300_000);
  assert.ok(r0.ok);

  const pair = makePair({ seed: SEED, link: { delayMs: 10, bandwidthBps: 50e6 } });
  for (const node of [pair.clientNode, pair.serverNode]) {
    const real = node.nextTimeout.bind(node);
    node.nextTimeout = () => {
      const t = real();
      return node.conn ? Math.min(t ?? Infinity, pair.sim.now + 1) : t;
    };
  }
  const r = runTransfer(pair, 300_000, 300_000);
  assert.ok(r.ok, 'transfer intact');
  assert.is(pair.client.stats.ptoCount, baseline.client.stats.ptoCount, 'no spurious client PTO');
  assert.is(pair.server().stats.ptoCount, baseline.server().stats.ptoCount, 'no spurious server PTO');
  assert.is(pair.client.stats.packetsLost, 0);
  assert.ok(r.virtualMs <= r0.virtualMs * 1.2 + 20, `${r.virtualMs} ms vs ${r0.virtualMs} ms`);
});

test('polling with nothing due returns nothing and changes nothing', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10 } });
  pair.run(() => pair.client.handshakeConfirmed && pair.server().handshakeConfirmed, 5_000);
  pair.run(() => false, 200);
  const buf = new Uint8Array(2048);
  const c = pair.client;
  const sentBefore = c.stats.packetsSent;
  for (let i = 0; i < 100; i++) {
    assert.is(c.pollTransmit(pair.sim.now, buf), undefined);
    assert.is(c.pollEvent(), undefined);
    c.handleTimeout(pair.sim.now);
  }
  assert.is(c.stats.packetsSent, sentBefore);
  assert.not.ok(c.isClosed);
});

test.run();
