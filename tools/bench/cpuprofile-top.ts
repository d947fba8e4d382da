/**
 * The top of a `.cpuprofile` (node --cpu-prof): functions by self time and by total time
 * (inclusive of callees, each function counted once per sample), as shares of the busy samples.
 * For profiles taken by the benchmarks, e.g. the crowd server's during the handshake case:
 *
 *   BENCH_CROWD_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' pnpm bench -- connections handshakes
 *   node --import tsx tools/bench/cpuprofile-top.ts /tmp/prof/CPU.*.0.001.cpuprofile [TOP=30]
 *
 * The profiles are never committed.
 */

import { readFileSync } from 'node:fs';
import { frameLabel, type Profile } from './profile.bench.js';

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile-top.ts FILE [TOP]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]!);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node) continue;
  if (node.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  busy += dt;
  self.set(frameLabel(node), (self.get(frameLabel(node)) ?? 0) + dt);
  // Each function once per sample, however deep its recursion.
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const key = frameLabel(byId.get(id)!);
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + dt);
  }
}
const rows = (m: Map<string, number>): string[] =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)} %  ${key}`);
console.log(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
console.log('-- self time');
for (const r of rows(self)) console.log(r);
console.log('-- total time (with callees)');
for (const r of rows(total)) console.log(r);
