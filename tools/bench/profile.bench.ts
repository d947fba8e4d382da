/**
 * CPU profiles of our pair during the transfer benchmark's download (`--cpu-prof` on both
 * processes), summarised as the functions with the most self time, per side. The profiles
 * (`.cpuprofile`, readable in Chrome DevTools) stay in .scratch/profiles/ (gitignored) for a
 * closer look; they are never committed. Profiling slows everything down: read the shares, not
 * the rates. For native frames (OpenSSL, libuv, GC) use `perf record -g` on the pid with
 * `node --perf-basic-prof` (BENCH_PROFILE_FLAGS='--perf-basic-prof').
 *
 * With BENCH_ALLOC=1 both sides also run V8's sampling heap profiler (alloc-probe.mjs, counting
 * objects already collected) and the bytes allocated per call site (function < caller < caller)
 * are listed: where the young-generation collections of the GC count come from.
 *
 *   pnpm bench -- profile                 100 MB (BENCH_PROFILE_MB), top 30 lines per side
 *   BENCH_PROFILE_TOP=50 pnpm bench -- profile
 *   BENCH_ALLOC=1 pnpm bench -- profile
 */

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../interop/peers.js';
import { makeDirs, measureStacks, nodeFlags } from './transfer.bench.js';

const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 30);
const ALLOC = process.env.BENCH_ALLOC === '1';
const ALLOC_PROBE = fileURLToPath(new URL('./alloc-probe.mjs', import.meta.url));

/** A V8 .cpuprofile (the fields read here). */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `function file:line` of a profile node, the file relative to the repository. */
export function frameLabel(node: ProfileNode): string {
  const f = node.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\//, '').replace(REPO_ROOT, '')}:${f.lineNumber + 1}`;
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
    const key = frameLabel(node);
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${key}`);
}

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per call site (function < caller < caller), largest first, and the total. */
export function topAllocations(head: HeapNode, top: number): string[] {
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, stack: string[]): void => {
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\//, '').replace(REPO_ROOT, '').split('/').slice(-2).join('/')}`;
    const sites = [name, ...stack].slice(0, 3);
    if (node.selfSize > 0) {
      total += node.selfSize;
      const key = sites.join(' < ');
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, sites);
  };
  walk(head, []);
  const lines = [...bySite.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, bytes]) => `${(bytes / 1e6).toFixed(1).padStart(6)} MB  ${key}`);
  return [`${(total / 1e6).toFixed(1)} MB allocated (sampled)`, ...lines];
}

export default async function run(): Promise<void> {
  const out = join(REPO_ROOT, '.scratch', 'profiles');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const extra = (process.env.BENCH_PROFILE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  for (const role of ['server', 'client'] as const) nodeFlags[role].push('--cpu-prof', `--cpu-prof-dir=${join(out, role)}`, '--cpu-prof-interval=200', ...extra);
  if (ALLOC) {
    mkdirSync(join(out, 'alloc'));
    process.env.ALLOC_PROFILE_DIR = join(out, 'alloc');
    for (const role of ['server', 'client'] as const) nodeFlags[role].push('--import', ALLOC_PROBE);
  }
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
  if (!ALLOC) return;
  for (const role of ['server', 'client'] as const) {
    const name = readdirSync(join(out, 'alloc')).find((f) => f.startsWith(`${role}-`));
    if (!name) continue;
    const profile = JSON.parse(readFileSync(join(out, 'alloc', name), 'utf8')) as { head: HeapNode };
    console.log(`\n-- ${role} main thread, bytes allocated per call site (JS heap; Buffer contents are off-heap)`);
    for (const line of topAllocations(profile.head, TOP)) console.log(line);
  }
}
