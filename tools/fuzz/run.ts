/**
 * `pnpm fuzz -- <target> [seconds]`: mutation fuzzing of one target of
 * packages/quic/test/fuzz/targets.ts, starting from its corpus in test-vectors/fuzz/<target>/,
 * for `seconds` (default 60). Seeded (FUZZ_SEED, printed) so a run replays. An input that breaks
 * a property is saved as test-vectors/fuzz/<target>/crash-<sha256 prefix> and the run fails;
 * add it to the corpus as a regression once fixed.
 *
 * Not coverage-guided: @jazzer.js/core 4.0.0 installs from npm (its native fuzzer ships inside
 * the package), but that binary needs glibc 2.38 and these machines have 2.36; the older
 * releases download their binary at install time. The targets are plain functions of bytes, so
 * a coverage-guided fuzzer can drive them unchanged when one runs here.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SimRandom } from '../../packages/quic/src/sim/prng.js';
import { mutate } from '../../packages/quic/test/fuzz/mutate.js';
import { FUZZ_TARGETS } from '../../packages/quic/test/fuzz/targets.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const name = args[0] ?? '';
const seconds = Number(args[1] ?? 60);
const target = FUZZ_TARGETS[name];
if (target === undefined || !(seconds > 0)) {
  console.error(`usage: pnpm fuzz -- <target> [seconds]; targets: ${Object.keys(FUZZ_TARGETS).join(', ')}`);
  process.exit(2);
}
const dir = fileURLToPath(new URL(`../../test-vectors/fuzz/${name}/`, import.meta.url));
mkdirSync(dir, { recursive: true });
const corpus = readdirSync(dir)
  .filter((f) => !f.startsWith('crash-'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(dir + f)));
if (corpus.length === 0) corpus.push(new Uint8Array(0));
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
console.log(`[fuzz] target ${name}, ${corpus.length} corpus entries, ${seconds} s, FUZZ_SEED=${seed}`);
const rng = new SimRandom(seed);

const started = performance.now();
const deadline = started + seconds * 1000;
let inputs = 0;
// Bounded by the deadline; each round runs one input.
while (performance.now() < deadline) {
  const input = inputs < corpus.length ? corpus[inputs]! : mutate(rng, corpus[rng.int(corpus.length)]!, corpus[rng.int(corpus.length)]!);
  try {
    target(input);
  } catch (e) {
    const file = `${dir}crash-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`;
    writeFileSync(file, input);
    console.error(`[fuzz] ${name}: property broken after ${inputs} inputs; input saved to ${file}\n${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  }
  inputs++;
}
const elapsed = (performance.now() - started) / 1000;
console.log(`[fuzz] ${name}: ${inputs} inputs in ${elapsed.toFixed(1)} s (${Math.round(inputs / elapsed)}/s), no property broken`);
