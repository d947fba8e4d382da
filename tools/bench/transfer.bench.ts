/**
 * Bulk download over loopback, like for like: a 100 MB file (BENCH_TRANSFER_MB) fetched on one
 * stream of one connection by a client process from a server process of the same stack (and,
 * when named, the mixed pairs), every pair watched from outside the same way (process-pair.ts):
 * the window runs from the first response byte the client writes to its last (start-up,
 * handshake, closing period and log flushes excluded), no qlog and no key log anywhere.
 *
 * Reported next to MB/s: CPU-seconds per 100 MB for each side (utime + stime of the process
 * from /proc, every thread) which hold up far better than MB/s on a shared machine, and garbage
 * collections per 100 MB (Node: minor/major; Go: its one kind; C: none). The load average at
 * the start of each run is printed with it.
 *
 * Pairs: purequic (`pnpm endpoint`, hq-interop), quic-go 0.29 (our hq-interop wrappers, built
 * into .scratch/ on first use), ngtcp2 (Debian's gtlsserver/gtlsclient, HTTP/3: one GET).
 * Mixed pairs (`purequic client <- quic-go server`, ...) run only when named ("mixed").
 * With BENCH_BASELINE=/path/to/another/worktree, `baseline <- baseline` runs our endpoint from
 * that checkout too (an A/B comparison in the same run, under the same load).
 * Each case runs BENCH_TRANSFER_RUNS times (default 2), interleaved; every run is printed, the
 * summary takes the median CPU and the best rate.
 *
 *   pnpm bench -- transfer               the three same-stack pairs
 *   pnpm bench -- transfer quic-go       same-stack cases whose name contains "quic-go" (any word)
 *   pnpm bench -- transfer mixed quic-go the mixed pairs (and the quic-go pair)
 *   BENCH_CRYPTO=noble pnpm bench -- transfer purequic
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { ngtcp2Peer, quicGoAvailability, quicGoPeer, REPO_ROOT } from '../interop/peers.js';
import { measurePair, type PairResult, type SideFigures, type SideSpec } from './process-pair.js';
import { freeUdpPort } from './udp-port.js';

/** Read when used: the profile bench sets its own size. */
const sizeMb = (): number => Number(process.env.BENCH_TRANSFER_MB ?? 100);
const RUNS = Math.max(1, Number(process.env.BENCH_TRANSFER_RUNS ?? 2));
const RUN_TIMEOUT_MS = 110_000;
const FILE = 'bulk.bin';
const GC_PROBE = fileURLToPath(new URL('./gc-probe.mjs', import.meta.url));
/** Extra node flags for our sides (the profile bench adds --cpu-prof here). */
export const nodeFlags: Record<'server' | 'client', string[]> = { server: [], client: [] };

/** `baseline`: our endpoint from another checkout (BENCH_BASELINE=/path/to/worktree), for A/B runs. */
type Stack = 'purequic' | 'baseline' | 'quic-go' | 'ngtcp2';
const BASELINE = process.env.BENCH_BASELINE;

export interface Dirs {
  root: string;
  www: string;
  certs: string;
}

function ourSide(dirs: Dirs, role: 'server' | 'client', extra: Record<string, string>, root = REPO_ROOT): SideSpec {
  return {
    command: process.execPath,
    args: ['--conditions=@purequic/source', '--import', 'tsx', '--import', GC_PROBE, ...nodeFlags[role], join(root, 'tools', 'interop', 'endpoint.ts')],
    env: { ROLE: role, TESTCASE: 'handshake', CRYPTO: process.env.BENCH_CRYPTO ?? 'auto', ...extra },
    // tsx resolves from the working directory.
    cwd: root,
    gc: 'node',
  };
}

async function serverSpec(stack: Stack, dirs: Dirs): Promise<{ spec: SideSpec; port?: number }> {
  if (stack === 'purequic' || stack === 'baseline') {
    const env = { WWW: dirs.www, CERTS: dirs.certs, HOST: '127.0.0.1', PORT: '0' };
    return { spec: ourSide(dirs, 'server', env, stack === 'baseline' ? BASELINE : REPO_ROOT) };
  }
  if (stack === 'quic-go') {
    const peer = await quicGoPeer();
    if (!peer.ok) throw new Error(peer.reason);
    const args = ['-listen', '127.0.0.1:0', '-www', dirs.www, '-cert', join(dirs.certs, 'cert.pem'), '-key', join(dirs.certs, 'priv.key')];
    return { spec: { command: peer.peer.server, args, env: { TESTCASE: 'handshake' }, cwd: dirs.root, gc: 'go' } };
  }
  const lookup = ngtcp2Peer();
  if (!lookup.ok) throw new Error(lookup.reason);
  const port = await freeUdpPort();
  const args = ['-q', '-d', dirs.www, '127.0.0.1', String(port), join(dirs.certs, 'priv.key'), join(dirs.certs, 'cert.pem')];
  return { spec: { command: lookup.peer.server, args, cwd: dirs.root, gc: 'none' }, port };
}

async function clientSpec(stack: Stack, dirs: Dirs, downloads: string, port: number): Promise<SideSpec> {
  const url = `https://127.0.0.1:${port}/${FILE}`;
  if (stack === 'purequic' || stack === 'baseline') {
    return ourSide(dirs, 'client', { REQUESTS: url, DOWNLOADS: downloads }, stack === 'baseline' ? BASELINE : REPO_ROOT);
  }
  if (stack === 'quic-go') {
    const peer = await quicGoPeer();
    if (!peer.ok) throw new Error(peer.reason);
    return { command: peer.peer.client, args: ['-downloads', downloads, url], env: { TESTCASE: 'handshake' }, cwd: dirs.root, gc: 'go' };
  }
  const lookup = ngtcp2Peer();
  if (!lookup.ok) throw new Error(lookup.reason);
  const args = ['-q', '--exit-on-all-streams-close', `--download=${downloads}`, '--timeout=15s', '127.0.0.1', String(port), url];
  return { command: lookup.peer.client, args, cwd: dirs.root, gc: 'none' };
}

function withPort(spec: SideSpec, port: number): SideSpec {
  const fix = (value: string): string => value.replace('127.0.0.1:0/', `127.0.0.1:${port}/`);
  const env = Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, fix(v)]));
  return { ...spec, args: spec.args.map(fix), env };
}

/** One download from a `server` stack to a `client` stack in fresh directories. */
export async function measureStacks(server: Stack, client: Stack, dirs: Dirs, run: number): Promise<PairResult> {
  const downloads = join(dirs.root, `downloads-${run}`);
  rmSync(downloads, { recursive: true, force: true });
  mkdirSync(downloads);
  const { spec, port } = await serverSpec(server, dirs);
  const clientSide = await clientSpec(client, dirs, downloads, port ?? 0);
  try {
    return await measurePair({
      server: spec,
      // ngtcp2's server prints nothing when ready; the others print their port.
      ready: port === undefined ? { kind: 'pattern', pattern: /listening on .*:(\d+)\s*$/m } : { kind: 'settle', ms: 300, port },
      // The client's URL names port 0 until the server has said which one it bound.
      client: (p) => withPort(clientSide, p),
      downloadPath: join(downloads, FILE),
      expectedBytes: sizeMb() * 1_000_000,
      timeoutMs: RUN_TIMEOUT_MS,
    });
  } finally {
    rmSync(downloads, { recursive: true, force: true });
  }
}

/** The served file (seeded pseudo-random) and a certificate every stack loads, in a temporary directory. */
export async function makeDirs(): Promise<Dirs> {
  const root = mkdtempSync(join(tmpdir(), 'purequic-bench-transfer-'));
  const dirs = { root, www: join(root, 'www'), certs: join(root, 'certs') };
  mkdirSync(dirs.www);
  mkdirSync(dirs.certs);
  const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(dirs.certs, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(dirs.certs, 'priv.key'), certificate.privateKeyPem);
  const file = new Uint8Array(sizeMb() * 1_000_000);
  const words = new Uint32Array(file.buffer, 0, file.length >>> 2);
  const random = new SimRandom(200);
  for (let i = 0; i < words.length; i++) words[i] = random.nextU32();
  writeFileSync(join(dirs.www, FILE), file);
  return dirs;
}

interface Case {
  name: string;
  server: Stack;
  client: Stack;
  /** Mixed pairs run only when a filter word names them. */
  mixed: boolean;
}

const CASES: Case[] = [
  { name: 'purequic <- purequic', server: 'purequic', client: 'purequic', mixed: false },
  { name: 'quic-go <- quic-go', server: 'quic-go', client: 'quic-go', mixed: false },
  { name: 'ngtcp2 <- ngtcp2 (h3)', server: 'ngtcp2', client: 'ngtcp2', mixed: false },
  { name: 'baseline <- baseline', server: 'baseline', client: 'baseline', mixed: false },
  { name: 'mixed: purequic <- quic-go', server: 'quic-go', client: 'purequic', mixed: true },
  { name: 'mixed: quic-go <- purequic', server: 'purequic', client: 'quic-go', mixed: true },
];

function missingPeer(c: Case): string | undefined {
  for (const stack of [c.server, c.client]) {
    if (stack === 'quic-go') {
      const a = quicGoAvailability();
      if (!a.ok) return a.reason;
    }
    if (stack === 'ngtcp2') {
      const a = ngtcp2Peer();
      if (!a.ok) return a.reason;
    }
  }
  return undefined;
}

/** CPU-seconds per 100 MB of file moved. */
const per100 = (value: number, bytes: number): number => (value * 100e6) / bytes;

function gcText(side: SideFigures, bytes: number): string {
  if (side.majorGcs === undefined) return '-';
  const major = per100(side.majorGcs, bytes).toFixed(0);
  return side.minorGcs === undefined ? major : `${per100(side.minorGcs, bytes).toFixed(0)}/${major}`;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export default async function run(filter?: string): Promise<void> {
  const words = filter?.split(/\s+/).filter(Boolean) ?? [];
  const wanted = (c: Case): boolean => (c.server !== 'baseline' || BASELINE !== undefined) && (c.mixed ? words.includes('mixed') : words.length === 0 || words.some((w) => c.name.includes(w)));
  const selected = CASES.filter(wanted);
  // Runs alternate between the cases (case A run 1, case B run 1, ..., case A run 2, ...) so that a
  // change in the machine's load hits every case alike.
  console.log(`${sizeMb()} MB download over loopback, one connection, one stream; window = first to last response byte at the client`);
  console.log('CPU = CPU-seconds per 100 MB (all threads, /proc); GC per 100 MB (node minor/major, go: count)');
  const head = `${'case'.padEnd(28)} ${'MB/s'.padStart(6)} ${'ms'.padStart(6)} ${'cli CPU'.padStart(8)} ${'srv CPU'.padStart(8)} ${'cli GC'.padStart(8)} ${'srv GC'.padStart(8)}  load`;
  console.log(head);
  const summary = new Map<string, { rate: number; client: number; server: number }>();
  const dirs = await makeDirs();
  try {
    const runnable = selected.filter((c) => {
      const problem = missingPeer(c);
      if (problem !== undefined) console.log(`${c.name.padEnd(28)} skipped: ${problem}`);
      return problem === undefined;
    });
    const runs = new Map<Case, Extract<PairResult, { ok: true }>[]>(runnable.map((c) => [c, []]));
    const failed = new Set<Case>();
    for (let i = 0; i < RUNS; i++) {
      for (const c of runnable) {
        if (failed.has(c)) continue;
        const r = await measureStacks(c.server, c.client, dirs, i);
        if (!r.ok) {
          console.log(`${c.name.padEnd(28)} FAILED: ${r.reason}`);
          failed.add(c);
          continue;
        }
        runs.get(c)!.push(r);
        const rate = r.bytes / 1e6 / r.seconds;
        console.log(
          `${c.name.padEnd(28)} ${rate.toFixed(1).padStart(6)} ${Math.round(r.seconds * 1000).toString().padStart(6)} ` +
            `${per100(r.client.cpuSeconds, r.bytes).toFixed(2).padStart(8)} ${per100(r.server.cpuSeconds, r.bytes).toFixed(2).padStart(8)} ` +
            `${gcText(r.client, r.bytes).padStart(8)} ${gcText(r.server, r.bytes).padStart(8)}  ${r.load.map((l) => l.toFixed(2)).join(' ')}`,
        );
      }
    }
    for (const [c, done] of runs) {
      if (failed.has(c) || done.length === 0) continue;
      summary.set(c.name, {
        rate: Math.max(...done.map((r) => r.bytes / 1e6 / r.seconds)),
        client: median(done.map((r) => per100(r.client.cpuSeconds, r.bytes))),
        server: median(done.map((r) => per100(r.server.cpuSeconds, r.bytes))),
      });
    }
  } finally {
    rmSync(dirs.root, { recursive: true, force: true });
  }
  const ours = summary.get(CASES[0]!.name);
  if (!ours) return;
  for (const yardstick of [CASES[1]!.name, CASES[2]!.name, CASES[3]!.name]) {
    const theirs = summary.get(yardstick);
    if (!theirs) continue;
    console.log(
      `purequic / ${yardstick}: MB/s ${(ours.rate / theirs.rate).toFixed(2)}x (best), ` +
        `CPU per 100 MB client ${(ours.client / theirs.client).toFixed(2)}x, server ${(ours.server / theirs.server).toFixed(2)}x (medians)`,
    );
  }
}
