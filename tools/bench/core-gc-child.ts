/**
 * Child of core-gc.bench.ts: one in-memory download between two sans-IO connections of the
 * checkout at argv[2] (its test harness: seeded crypto and simulator, no loss), argv[3] MB.
 * Prints one JSON line: packets the server sent, GCs and process CPU-seconds, both per 100 MB.
 */

import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Pair {
  server(): { stats: { packetsSent: number } };
}

async function main(): Promise<void> {
  const root = process.argv[2]!;
  const mb = Number(process.argv[3]);
  const helpers = join(root, 'packages', 'quic', 'test', 'connection');
  const { makePair } = (await import(pathToFileURL(join(helpers, 'harness.ts')).href)) as { makePair: (o: object) => Pair };
  const { runTransfer } = (await import(pathToFileURL(join(helpers, 'transfer-helpers.ts')).href)) as {
    runTransfer: (pair: Pair, up: number, down: number, maxMs: number) => { ok: boolean };
  };
  let gcs = 0;
  new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  // The same seed and link in every checkout: the same packets, unless behaviour changed.
  const pair = makePair({ seed: 3, checkInvariants: false, link: { delayMs: 2, bandwidthBps: 800e6 } });
  const cpu0 = process.cpuUsage();
  const gc0 = gcs;
  const result = runTransfer(pair, 100, mb * 1e6, 600_000);
  const cpu = process.cpuUsage(cpu0);
  // GC entries are delivered asynchronously: let the last ones arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const per100 = 100 / mb;
  console.log(
    JSON.stringify({
      ok: result.ok,
      packets: pair.server().stats.packetsSent,
      gc: (gcs - gc0) * per100,
      cpu: ((cpu.user + cpu.system) / 1e6) * per100,
    }),
  );
}

void main();
