/**
 * Seeded chaos with RESET_STREAM_AT (reliable sizes) as well as plain resets: see chaos-round.ts.
 * CHAOS_TRACE=<seed> prints a round's calls and events.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chaosRound, SEED } from './chaos-round.js';

test('seeded chaos with RESET_STREAM_AT: random application calls on both sides over a lossy, reordering, duplicating link', () => {
  let streams = 0;
  let bytes = 0;
  for (let i = 0; i < 24; i++) {
    const r = chaosRound(SEED * 2000 + i, 150, true, (['cubic', 'newreno', 'bbr'] as const)[i % 3]);
    streams += r.streams;
    bytes += r.bytes;
  }
  assert.ok(streams > 200 && bytes > 1_000_000, `exercised ${streams} streams, ${bytes} bytes`);
  console.log(`    chaos: ${streams} streams, ${(bytes / 1e6).toFixed(1)} MB read`);
});

test.run();
