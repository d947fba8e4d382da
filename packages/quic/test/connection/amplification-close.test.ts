/**
 * PENDING (connection-bugs.md BUG 10): CONNECTION_CLOSE must respect the 3x limit too.
 * Run: node --conditions=@purequic/source --import tsx packages/quic/test/connection/amplification-close.test.ts
 * Move into amplification.test.ts once it passes.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLIENT, SERVER } from './harness.js';
import { SEED, watchedPair } from './amplification-watch.js';

test('a server closing while at the amplification limit sends no more than 3x (RFC 9000 §8.1, §10.2)', () => {
  // Only the client's first Initial arrives; the server spends its whole 3x allowance on its flight.
  const w = watchedPair(SEED + 9, (index) => index >= 1);
  w.pair.run(() => w.sentUnvalidated() >= 3000, 2_000);
  w.pair.run(() => false, 50);
  const server = w.pair.server();
  assert.not.ok(server.addressValidated);
  server.close(0x33, 'bye', w.pair.sim.now);
  // The client keeps retransmitting (and those are lost); the closing server answers what arrives.
  w.pair.run(() => server.isTerminated, 10_000);
  const received = w.pair.sim.link(CLIENT, SERVER)!.stats.deliveredBytes;
  assert.equal(w.violations, [], `server sent ${w.sentUnvalidated()} for ${received} received`);
});

test.run();
