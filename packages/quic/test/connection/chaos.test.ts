/**
 * Seeded chaos with plain resets: see chaos-round.ts for what each round checks. The variant with
 * RESET_STREAM_AT (reliable sizes) is chaos-reliable.test.ts.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chaosRound, SEED } from './chaos-round.js';

test('seeded chaos: random application calls on both sides over a lossy, reordering, duplicating link', () => {
  let streams = 0;
  let bytes = 0;
  for (let i = 0; i < 24; i++) {
    const controller = (['cubic', 'newreno', 'bbr'] as const)[i % 3]!;
    const r = chaosRound(SEED * 1000 + i, 150, false, controller);
    streams += r.streams;
    bytes += r.bytes;
  }
  assert.ok(streams > 200 && bytes > 1_000_000, `exercised ${streams} streams, ${bytes} bytes`);
  console.log(`    chaos: ${streams} streams, ${(bytes / 1e6).toFixed(1)} MB read`);
});

test.run();
