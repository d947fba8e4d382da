/**
 * Allocation of the sans-IO packet path, measured so that the machine's load cannot move it:
 * one process runs both connections of an in-memory download (the test harness's seeded
 * simulator: the same packets on every run), with the young generation fixed at 16 MB so that
 * each scavenge stands for 16 MB allocated. GCs per 100 MB are then a per-packet allocation
 * count of both sides together (harness included, the same in every checkout); CPU-seconds are
 * printed too but, unlike the GC count, move with the load. Sockets, the endpoint and the
 * WHATWG streams are not in it (`pnpm bench -- transfer` has them).
 *
 * With BENCH_BASELINE=/path/to/another/worktree, that checkout runs too, interleaved (A/B).
 *
 *   pnpm bench -- core-gc                 50 MB (BENCH_CORE_MB), 3 runs (BENCH_CORE_RUNS)
 */

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../interop/peers.js';

const MB = Number(process.env.BENCH_CORE_MB ?? 50);
const RUNS = Math.max(1, Number(process.env.BENCH_CORE_RUNS ?? 3));
const SEMI_SPACE_MB = 16;
const CHILD = fileURLToPath(new URL('./core-gc-child.ts', import.meta.url));

interface Figures {
  ok: boolean;
  packets: number;
  gc: number;
  cpu: number;
}

function runOnce(root: string): Figures {
  const out = execFileSync(
    process.execPath,
    [`--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`, '--conditions=@purequic/source', '--import', 'tsx', CHILD, root, String(MB)],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Figures;
}

export default async function run(): Promise<void> {
  const trees: [string, string][] = [['purequic', REPO_ROOT]];
  if (process.env.BENCH_BASELINE) trees.push(['baseline', process.env.BENCH_BASELINE]);
  console.log(`${MB} MB in memory, both sides in one process, young generation ${SEMI_SPACE_MB} MB; per 100 MB`);
  console.log('tree        packets     GC   ~MB allocated   CPU-s  load');
  for (let i = 0; i < RUNS; i++) {
    for (const [name, root] of trees) {
      const load = loadavg().map((l) => l.toFixed(2)).join(' ');
      const f = runOnce(root);
      const packets = Math.round((f.packets * 100) / MB);
      console.log(
        `${name.padEnd(10)} ${String(packets).padStart(8)} ${f.gc.toFixed(0).padStart(6)} ${(f.gc * SEMI_SPACE_MB).toFixed(0).padStart(15)} ${f.cpu.toFixed(2).padStart(7)}  ${load}${f.ok ? '' : '  TRANSFER FAILED'}`,
      );
    }
  }
}
