/**
 * The anti-amplification limit (RFC 9000 §8.1), checked on the wire at every datagram: see
 * amplification-watch.ts.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLIENT, SERVER } from './harness.js';
import { complete, SEED, watchedPair } from './amplification-watch.js';

test('large server flight: never more than 3x before validation, the server is held back, the handshake completes', () => {
  // A 200 ms RTT: the pacer releases the whole allowance before the client's answer is back.
  const w = watchedPair(SEED, () => false, 100);
  assert.ok(w.pair.run(complete(w.pair), 5_000), 'handshake');
  assert.equal(w.violations, []);
  assert.ok(w.maxRatio() > 2.5, `the limit was reached (ratio ${w.maxRatio().toFixed(2)})`);
  assert.ok(w.pair.server().bytesSent > 3 * 1200, 'the flight is larger than one allowance');
});

test('client vanishes after its first Initial: the server never exceeds 3x of 1200 bytes, however long it waits', () => {
  const w = watchedPair(SEED + 2, (index) => index >= 1);
  w.pair.run(() => false, 20_000);
  assert.equal(w.violations, []);
  const received = w.pair.sim.link(CLIENT, SERVER)!.stats.deliveredBytes;
  assert.is(received, 1200, 'only the first Initial arrived');
  assert.ok(w.sentUnvalidated() <= 3600, `sent ${w.sentUnvalidated()}`);
  assert.ok(w.sentUnvalidated() > 1200, 'it did send its allowance');
});

test("client's second flight lost: the server stays within 3x through its PTOs until the client gets through", () => {
  // Every client datagram after the first Initial is lost for the first 1.5 s.
  const w = watchedPair(SEED + 1, (index, now) => index >= 1 && now < 1_500);
  assert.ok(w.pair.run(complete(w.pair), 10_000), 'handshake after the loss');
  assert.equal(w.violations, []);
  assert.ok(w.pair.sim.now >= 1_500);
});

test('random loss in the handshake, several seeds: the 3x limit holds at every step', () => {
  for (let i = 0; i < 8; i++) {
    const w = watchedPair(SEED * 100 + i, () => false);
    w.pair.sim.link(CLIENT, SERVER)!.config.lossRate = 0.3;
    w.pair.sim.link(SERVER, CLIENT)!.config.lossRate = 0.3;
    const done = w.pair.run(complete(w.pair), 30_000);
    assert.equal(w.violations, [], `seed ${SEED * 100 + i}`);
    assert.ok(done, `seed ${SEED * 100 + i}: handshake under 30% loss`);
  }
});

test.run();
