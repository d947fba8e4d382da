/**
 * Bulk download throughput over loopback, HTTP/0.9 (hq-interop) on one stream: a 100 MB file
 * (BENCH_TRANSFER_MB) fetched by a client process from a server process, both started the way
 * the interop runner starts them (tools/interop/runner.ts; the file is SHA-256 checked after).
 *
 * Cases: our client and server (`pnpm endpoint` twice); quic-go's client and server (our Go
 * wrappers over quic-go 0.29, built into .scratch/ on first use) as the yardstick; and the two
 * mixed pairs, which show which of our sides limits the rate. MB/s is 10^6 bytes per second
 * of the client's own clock, from before its connect to its last byte (process start-up excluded).
 * ngtcp2 (HTTP/3 only) joins through a minimal HTTP/3 exchange (ngtcp2-transfer.ts): ngtcp2 with
 * itself, our client from its server, its client from our server (our side in this process; an
 * ngtcp2 client is timed from spawn to exit).
 * Each case runs BENCH_TRANSFER_RUNS times (default 2) and reports the fastest run (the machine
 * is shared: slower runs measure the neighbours), with every run's rate alongside.
 *
 *   pnpm bench -- transfer            every case
 *   pnpm bench -- transfer quic-go    cases whose name contains "quic-go"
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { ngtcp2Peer, quicGoAvailability } from '../interop/peers.js';
import { runInterop, type Implementation } from '../interop/runner.js';
import { ngtcp2FromNgtcp2, ngtcp2FromOurs, oursFromNgtcp2, type Measurement, type Ngtcp2BenchSetup } from './ngtcp2-transfer.js';

const SIZE_MB = Number(process.env.BENCH_TRANSFER_MB ?? 100);
const RUNS = Math.max(1, Number(process.env.BENCH_TRANSFER_RUNS ?? 2));
/** A run that takes longer than this is reported as failed (100 MB at 2 MB/s would be 50 s). */
const RUN_TIMEOUT_MS = 110_000;

interface Case {
  name: string;
  /** Which peer the case needs (skipped with the reason when absent). */
  needs: 'nothing' | 'quic-go' | 'ngtcp2';
  measure: (run: number) => Promise<Measurement>;
}

/** A pair of interop-runner endpoints (ours and/or quic-go) over hq-interop. */
function hqCase(name: string, server: Implementation, client: Implementation): Case {
  const needs = server === 'quic-go' || client === 'quic-go' ? 'quic-go' : 'nothing';
  return {
    name,
    needs,
    measure: async (run) => {
      const result = await runInterop({
        server,
        client,
        // `handshake` keeps both sides' default windows (the runner's `transfer` starts the
        // client small on purpose); window auto-tuning still applies.
        testcase: 'handshake',
        files: [{ name: 'bulk.bin', size: SIZE_MB * 1_000_000 }],
        seed: 100 + run,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      if (!result.ok || !result.clientReport) return { ok: false, reason: result.problems.join('; ') };
      return { ok: true, bytes: result.clientReport.bytes, elapsedMs: result.clientReport.elapsedMs };
    },
  };
}

let ngtcp2Setup: Ngtcp2BenchSetup | undefined;

/** The file, certificate and directories the ngtcp2 cases share (made on first use). */
async function ngtcp2Files(): Promise<Ngtcp2BenchSetup> {
  if (ngtcp2Setup) return ngtcp2Setup;
  const lookup = ngtcp2Peer();
  if (!lookup.ok) throw new Error(lookup.reason);
  const directory = mkdtempSync(join(tmpdir(), 'purequic-bench-ngtcp2-'));
  mkdirSync(join(directory, 'www'));
  const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
  const file = new Uint8Array(SIZE_MB * 1_000_000);
  const words = new Uint32Array(file.buffer, 0, file.length >>> 2);
  const random = new SimRandom(200);
  for (let i = 0; i < words.length; i++) words[i] = random.nextU32();
  writeFileSync(join(directory, 'www', 'bulk.bin'), file);
  ngtcp2Setup = { peer: lookup.peer, directory, fileName: 'bulk.bin', file, certificate };
  return ngtcp2Setup;
}

function downloadsDir(setup: Ngtcp2BenchSetup, run: number): string {
  const dir = join(setup.directory, `downloads-${run}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

const CASES: Case[] = [
  hqCase('purequic client <- purequic server', 'purequic', 'purequic'),
  hqCase('quic-go client <- quic-go server', 'quic-go', 'quic-go'),
  hqCase('purequic client <- quic-go server', 'quic-go', 'purequic'),
  hqCase('quic-go client <- purequic server', 'purequic', 'quic-go'),
  {
    name: 'ngtcp2 client <- ngtcp2 server (h3)',
    needs: 'ngtcp2',
    measure: async (run) => {
      const setup = await ngtcp2Files();
      return ngtcp2FromNgtcp2(setup, downloadsDir(setup, run));
    },
  },
  { name: 'purequic client <- ngtcp2 server (h3)', needs: 'ngtcp2', measure: async () => oursFromNgtcp2(await ngtcp2Files()) },
  {
    name: 'ngtcp2 client <- purequic server (h3)',
    needs: 'ngtcp2',
    measure: async (run) => {
      const setup = await ngtcp2Files();
      return ngtcp2FromOurs(setup, downloadsDir(setup, run));
    },
  },
];

export default async function run(filter?: string): Promise<void> {
  const words = filter?.split(/\s+/).filter(Boolean) ?? [];
  const selected = CASES.filter((c) => words.every((w) => c.name.includes(w)));
  const missing = { nothing: undefined, 'quic-go': peerProblem(quicGoAvailability()), ngtcp2: peerProblem(ngtcp2Peer()) };
  const width = Math.max(...CASES.map((c) => c.name.length));
  console.log(`${SIZE_MB} MB download over loopback, one connection, one stream (hq-interop unless marked h3)`);
  console.log(`${'case'.padEnd(width)}  best MB/s   best ms  (every run, MB/s)`);
  const rates = new Map<string, number>();
  try {
    for (const c of selected) {
      const problem = missing[c.needs];
      if (problem !== undefined) {
        console.log(`${c.name.padEnd(width)}  skipped: ${problem}`);
        continue;
      }
      const runs: { rate: number; elapsedMs: number }[] = [];
      let failure: string | undefined;
      for (let i = 0; i < RUNS && failure === undefined; i++) {
        const m = await c.measure(i);
        if (!m.ok) failure = m.reason;
        else runs.push({ rate: m.bytes / 1e6 / (m.elapsedMs / 1000), elapsedMs: m.elapsedMs });
      }
      if (failure !== undefined) {
        console.log(`${c.name.padEnd(width)}  FAILED: ${failure}`);
        continue;
      }
      const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
      rates.set(c.name, best.rate);
      const all = runs.map((r) => r.rate.toFixed(1)).join(', ');
      console.log(`${c.name.padEnd(width)}  ${best.rate.toFixed(1).padStart(9)}  ${Math.round(best.elapsedMs).toString().padStart(8)}  (${all})`);
    }
  } finally {
    if (ngtcp2Setup) rmSync(ngtcp2Setup.directory, { recursive: true, force: true });
    ngtcp2Setup = undefined;
  }
  const ours = rates.get(CASES[0]!.name);
  for (const yardstick of [CASES[1]!.name, CASES[4]!.name]) {
    const theirs = rates.get(yardstick);
    if (ours !== undefined && theirs !== undefined) console.log(`purequic pair / ${yardstick}: ${(ours / theirs).toFixed(2)}x`);
  }
}

function peerProblem(lookup: { ok: true } | { ok: false; reason: string }): string | undefined {
  return lookup.ok ? undefined : lookup.reason;
}
