/**
 * CPU profiles of our pair during the transfer benchmark's download (`--cpu-prof` on both
 * processes), summarised as the functions with the most self time, per side. The profiles
 * (`.cpuprofile`, readable in Chrome DevTools) stay in .scratch/profiles/ (gitignored) for a
 * closer look; they are never committed. Profiling slows everything down: read the shares, not
 * the rates. For native frames (OpenSSL, libuv, GC) use `perf record -g` on the pid with
 * `node --perf-basic-prof` (BENCH_PROFILE_FLAGS='--perf-basic-prof').
 *
 *   pnpm bench -- profile                 100 MB (BENCH_PROFILE_MB), top 30 lines per side
 *   BENCH_PROFILE_TOP=50 pnpm bench -- profile
 */

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../interop/peers.js';
import { makeDirs, measureStacks, nodeFlags } from './transfer.bench.js';

const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 30);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name, file, line) as a share of all samples. */
export function topSelf(profile: Profile, top: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const f = node.callFrame;
    const file = f.url.replace(/^file:\/\//, '').replace(REPO_ROOT, '');
    const key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${key}`);
}

export default async function run(): Promise<void> {
  const out = join(REPO_ROOT, '.scratch', 'profiles');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const extra = (process.env.BENCH_PROFILE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  for (const role of ['server', 'client'] as const) nodeFlags[role].push('--cpu-prof', `--cpu-prof-dir=${join(out, role)}`, '--cpu-prof-interval=200', ...extra);
  process.env.BENCH_TRANSFER_MB ??= process.env.BENCH_PROFILE_MB ?? '100';
  const dirs = await makeDirs();
  try {
    const result = await measureStacks('purequic', 'purequic', dirs, 0);
    console.log(result.ok ? `profiled ${(result.bytes / 1e6).toFixed(0)} MB in ${result.seconds.toFixed(2)} s` : `FAILED: ${result.reason}`);
  } finally {
    rmSync(dirs.root, { recursive: true, force: true });
    nodeFlags.server.length = 0;
    nodeFlags.client.length = 0;
  }
  for (const role of ['server', 'client'] as const) {
    // The main thread's profile is the first one (the others are tsx's loader thread).
    const name = readdirSync(join(out, role)).filter((f) => f.endsWith('.cpuprofile')).sort()[0];
    if (!name) continue;
    const profile = JSON.parse(readFileSync(join(out, role, name), 'utf8')) as Profile;
    console.log(`\n-- ${role} main thread, self time as a share of busy samples (idle excluded)`);
    for (const line of topSelf(profile, TOP)) console.log(line);
  }
}
