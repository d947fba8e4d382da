/**
 * Seeded chaos with 1-RTT key updates (RFC 9001 §6) on top: both sides call `updateKeys()` at
 * random moments (so they sometimes initiate at once, §6.5) and, in half the rounds, also update
 * every 40 packets by themselves, over a lossy, reordering, duplicating link. Every round checks
 * what chaos-round.ts checks (byte-exact data, consistent events, no transport error between
 * honest peers, clean close).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chaosRound, SEED } from './chaos-round.js';

test('seeded chaos with key updates from both sides', () => {
  let updates = 0;
  let bytes = 0;
  for (let i = 0; i < 12; i++) {
    const controller = (['cubic', 'newreno', 'bbr'] as const)[i % 3]!;
    const r = chaosRound(SEED * 3000 + i, 150, true, controller, i % 2 === 0 ? { randomCalls: true } : { intervalPackets: 40, randomCalls: true });
    updates += r.keyUpdates;
    bytes += r.bytes;
  }
  assert.ok(updates > 100, `${updates} key updates`);
  console.log(`    chaos with key updates: ${updates} updates, ${(bytes / 1e6).toFixed(1)} MB read`);
});

test.run();
