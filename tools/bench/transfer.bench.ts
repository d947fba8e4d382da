/**
 * Bulk download throughput over loopback, HTTP/0.9 (hq-interop) on one stream: a 100 MB file
 * (BENCH_TRANSFER_MB) fetched by a client process from a server process, both started the way
 * the interop runner starts them (tools/interop/runner.ts; the file is SHA-256 checked after).
 *
 * Cases: our client and server (`pnpm endpoint` twice); quic-go's client and server (our Go
 * wrappers over quic-go 0.29, built into .scratch/ on first use) as the yardstick; and the two
 * mixed pairs, which show which of our sides limits the rate. MB/s is 10^6 bytes per second
 * of the client's own clock, from before its connect to its last byte (process start-up excluded).
 * Each case runs BENCH_TRANSFER_RUNS times (default 3) and reports the fastest run (the machine
 * is shared: slower runs measure the neighbours), with every run's rate alongside.
 *
 *   pnpm bench -- transfer            every case
 *   pnpm bench -- transfer quic-go    cases whose name contains "quic-go"
 */

import { quicGoAvailability } from '../interop/peers.js';
import { runInterop, type Implementation } from '../interop/runner.js';

const SIZE_MB = Number(process.env.BENCH_TRANSFER_MB ?? 100);
const RUNS = Math.max(1, Number(process.env.BENCH_TRANSFER_RUNS ?? 3));
/** A run that takes longer than this is reported as failed (100 MB at 2 MB/s would be 50 s). */
const RUN_TIMEOUT_MS = 110_000;

interface Case {
  name: string;
  server: Implementation;
  client: Implementation;
}

const CASES: Case[] = [
  { name: 'purequic client <- purequic server', server: 'purequic', client: 'purequic' },
  { name: 'quic-go client <- quic-go server', server: 'quic-go', client: 'quic-go' },
  { name: 'purequic client <- quic-go server', server: 'quic-go', client: 'purequic' },
  { name: 'quic-go client <- purequic server', server: 'purequic', client: 'quic-go' },
];

export default async function run(filter?: string): Promise<void> {
  const words = filter?.split(/\s+/).filter(Boolean) ?? [];
  const selected = CASES.filter((c) => words.every((w) => c.name.includes(w)));
  const quicGo = quicGoAvailability();
  const width = Math.max(...CASES.map((c) => c.name.length));
  console.log(`${SIZE_MB} MB download over loopback, hq-interop, one connection, one stream`);
  console.log(`${'case'.padEnd(width)}  best MB/s   best ms  (every run, MB/s)`);
  const rates = new Map<string, number>();
  for (const c of selected) {
    if ((c.server === 'quic-go' || c.client === 'quic-go') && !quicGo.ok) {
      console.log(`${c.name.padEnd(width)}  skipped: ${quicGo.reason}`);
      continue;
    }
    const runs: { rate: number; elapsedMs: number }[] = [];
    let failure: string | undefined;
    for (let i = 0; i < RUNS && failure === undefined; i++) {
      const result = await runInterop({
        server: c.server,
        client: c.client,
        // `handshake` keeps both sides' default windows (the runner's `transfer` starts the
        // client small on purpose); window auto-tuning still applies.
        testcase: 'handshake',
        files: [{ name: 'bulk.bin', size: SIZE_MB * 1_000_000 }],
        seed: 100 + i,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      if (!result.ok || !result.clientReport) failure = result.problems.join('; ');
      else runs.push({ rate: result.clientReport.bytes / 1e6 / (result.clientReport.elapsedMs / 1000), elapsedMs: result.clientReport.elapsedMs });
    }
    if (failure !== undefined) {
      console.log(`${c.name.padEnd(width)}  FAILED: ${failure}`);
      continue;
    }
    const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
    rates.set(c.name, best.rate);
    const all = runs.map((r) => r.rate.toFixed(1)).join(', ');
    console.log(`${c.name.padEnd(width)}  ${best.rate.toFixed(1).padStart(9)}  ${String(best.elapsedMs).padStart(8)}  (${all})`);
  }
  const ours = rates.get(CASES[0]!.name);
  const theirs = rates.get(CASES[1]!.name);
  if (ours !== undefined && theirs !== undefined) {
    console.log(`purequic / quic-go (same-stack pairs): ${(ours / theirs).toFixed(2)}x`);
  }
}
