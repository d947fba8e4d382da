/**
 * The fuzz targets (targets.ts) in `pnpm test`: every committed corpus entry and crash
 * regression under test-vectors/fuzz/<target>/ is replayed, then a short seeded mutation pass
 * runs per target (FUZZ_SEED replays it). Longer runs: `pnpm fuzz -- <target> [seconds]`.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimRandom } from '../../src/sim/prng.js';
import { seedFromEnv } from '../helpers/prng.js';
import { mutate } from './mutate.js';
import { FUZZ_TARGETS } from './targets.js';

const SEED = seedFromEnv('FUZZ_SEED', 0x0f0c12);
console.log(`[fuzz] FUZZ_SEED=${SEED} (set it to replay this run)`);
const root = fileURLToPath(new URL('../../../../test-vectors/fuzz/', import.meta.url));

/** Mutated inputs per target in this pass (the connection targets cost a handshake now and then). */
const PASS: Record<string, number> = { packet: 3000, frames: 3000, 'transport-params': 3000, tls: 300, connection: 150 };

for (const [name, target] of Object.entries(FUZZ_TARGETS)) {
  test(`${name}: corpus replays and ${PASS[name]} seeded mutations break no property`, () => {
    const files = readdirSync(root + name).sort();
    assert.ok(files.length > 0, `no corpus for ${name}`);
    const corpus = files.map((f) => new Uint8Array(readFileSync(`${root}${name}/${f}`)));
    corpus.forEach((input, i) => target(input) ?? assert.ok(true, files[i]));
    const rng = new SimRandom(SEED ^ name.length);
    for (let i = 0; i < (PASS[name] ?? 100); i++) target(mutate(rng, corpus[rng.int(corpus.length)]!, corpus[rng.int(corpus.length)]!));
  });
}

test.run();
