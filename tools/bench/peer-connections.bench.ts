/**
 * Connections rather than bytes, for three servers in one run: ours (crowd-server.ts, ALPN
 * `bench`), quic-go 0.29 (our hq-interop wrapper, tools/interop/quicgo, ALPN `hq-interop`) and
 * ngtcp2 (Debian's `gtlsserver`, HTTP/3, ALPN `h3`). Each server is its own process on
 * loopback; the client is always the same: a purequic QuicEndpoint in this process
 * (verification none), so only the server side differs. Every figure comes from the OS, the
 * same way for Node, Go and C:
 *
 * - **RSS per idle connection**: after BENCH_PEER_WARMUP (default 20) connections opened and
 *   closed (lazy one-off costs: TLS tables, compiled code) and a 1 s settle, the server's VmRSS
 *   (/proc/PID/status) is read; then BENCH_PEER_IDLE (default 500) connections are opened, 100
 *   in flight, handshake complete and nothing else (no request: none of the servers needs one
 *   to keep a connection; ngtcp2 has opened its HTTP/3 control and QPACK streams by then), and
 *   VmRSS is read again after a 1 s settle. Reported: (RSS after - RSS before) / N in KB, and
 *   for the second half alone (after - middle), which leaves out growth that happens once.
 *   Ours: the server is asked to collect garbage before each reading (its V8 heap + ArrayBuffers
 *   per connection is printed alongside, the measure connections.bench.ts `idle` reports);
 *   quic-go: its live heap after its last collection (GODEBUG=gctrace=1) is printed too; nobody
 *   else is forced to collect. The idle timeouts must not close anything meanwhile: our client
 *   and our server advertise 120 s, ngtcp2 runs with `--timeout=120s`, quic-go keeps its 30 s
 *   default (the wrapper has no flag for it), so the line says how long the connections were
 *   held and how many were still open at the last reading (all of them, or the figure is void).
 * - **Server CPU-ms per handshake and handshakes/s**: then all idle connections are closed and,
 *   after BENCH_PEER_HS_WARMUP (default 200) unmeasured handshakes, BENCH_PEER_HANDSHAKES
 *   (default 1,000) connections, BENCH_PEER_CONCURRENCY (default 100) in flight, each closed as
 *   soon as it is open. The server's CPU (utime + stime, every thread, /proc/PID/stat) is read
 *   before the first and 500 ms after the last (so its handling of the closes counts):
 *   server CPU-ms per handshake holds up on a busy machine. Handshakes/s is over the wall time
 *   and is bounded by our client here (its CPU per handshake is printed: when client ms x
 *   handshakes/s nears 1,000 ms/s, the client is the limit, not the server).
 *
 *   pnpm bench -- peer-connections             all three servers
 *   pnpm bench -- peer-connections quic-go     only the servers whose name contains a word
 *
 * Peers missing here (no Go, no gtlsserver) are skipped with the reason.
 */

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection } from '@purequic/quic';
import { ngtcp2Peer, quicGoPeer, REPO_ROOT } from '../interop/peers.js';
import { processCpuSeconds } from './process-cpu.js';
import { freeUdpPort } from './udp-port.js';
import { openConnection } from './open-connection.js';

const CROWD_SERVER = fileURLToPath(new URL('./crowd-server.ts', import.meta.url));
const IDLE = Number(process.env.BENCH_PEER_IDLE ?? 500);
const WARMUP = Number(process.env.BENCH_PEER_WARMUP ?? 20);
const HANDSHAKES = Number(process.env.BENCH_PEER_HANDSHAKES ?? 1000);
const HS_WARMUP = Number(process.env.BENCH_PEER_HS_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.BENCH_PEER_CONCURRENCY ?? 100);
/** Per connection attempt; keeps every case bounded even if a server stops answering. */
const CONNECT_TIMEOUT_MS = 20_000;
const IDLE_TIMEOUT_MS = 120_000;
/** quic-go's default idle timeout: its idle connections must be measured before this passes. */
const QUIC_GO_IDLE_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 3_000;
/** Output kept per server process (the tail; Go's gctrace is parsed as it arrives). */
const OUTPUT_TAIL = 16_384;

type Stack = 'purequic' | 'quic-go' | 'ngtcp2';

interface Dirs {
  root: string;
  www: string;
  cert: string;
  key: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** VmRSS of a process in bytes (every thread shares it); undefined once it is gone. */
function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One server process of any stack, as seen from outside. */
class ServerProcess {
  readonly child: ChildProcess;
  private tail = '';
  /** quic-go: live heap after its most recent collection, in MB (gctrace "a->b->c MB": c). */
  goLiveHeapMb: number | undefined;
  readonly exited: Promise<unknown>;

  constructor(
    readonly stack: Stack,
    readonly alpn: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    cwd: string,
    private readonly knownPort?: number,
  ) {
    const fullEnv: Record<string, string | undefined> = { ...process.env, ...env };
    // Like transfer.bench.ts: nobody writes qlog or key logs (our wrapper needs no QLOGDIR).
    delete fullEnv.QLOGDIR;
    delete fullEnv.SSLKEYLOGFILE;
    this.child =
      stack === 'purequic'
        ? fork(command, args, { cwd, env: fullEnv, execArgv: ['--conditions=@purequic/source', '--import', 'tsx', '--expose-gc'], silent: true })
        : spawn(command, args, { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer): void => {
      const text = d.toString();
      for (const m of text.matchAll(/^gc \d+ @[\d.]+s [^:]*: .*? (\d+)->(\d+)->(\d+) MB/gm)) this.goLiveHeapMb = Number(m[3]);
      this.tail = (this.tail + text).slice(-OUTPUT_TAIL);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = once(this.child, 'exit');
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.tail;
  }

  async port(): Promise<number> {
    if (this.knownPort !== undefined) {
      // gtlsserver prints nothing when ready.
      await sleep(300);
      if (this.child.exitCode !== null) throw new Error(`${this.stack} server exited: ${this.tail.slice(-300)}`);
      return this.knownPort;
    }
    // Bounded: 30 s in 20 ms steps.
    for (let i = 0; i < 1500; i++) {
      const m = /listening on .*:(\d+)/.exec(this.tail);
      if (m) return Number(m[1]);
      if (this.child.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`${this.stack} server did not start: ${this.tail.slice(-300)}`);
  }

  /** Ours only: a full collection in the server, and its heap + ArrayBuffers afterwards. */
  async collect(): Promise<number | undefined> {
    if (this.stack !== 'purequic' || !this.child.connected) return undefined;
    this.child.send('measure');
    const [reply] = (await Promise.race([once(this.child, 'message'), sleep(10_000).then(() => [undefined])])) as [{ heapUsed: number; arrayBuffers: number } | undefined];
    return reply ? reply.heapUsed + reply.arrayBuffers : undefined;
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.pid) ?? NaN;
  }

  rss(): number {
    return rssBytes(this.pid) ?? NaN;
  }

  /** SIGTERM, then SIGKILL after a grace period; bounded. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

async function startServer(stack: Stack, dirs: Dirs): Promise<ServerProcess> {
  if (stack === 'purequic') {
    return new ServerProcess(stack, 'bench', CROWD_SERVER, [], { CROWD_ROOT: REPO_ROOT, CROWD_CERT: dirs.cert, CROWD_KEY: dirs.key }, REPO_ROOT);
  }
  if (stack === 'quic-go') {
    const peer = await quicGoPeer();
    if (!peer.ok) throw new Error(peer.reason);
    const args = ['-listen', '127.0.0.1:0', '-www', dirs.www, '-cert', dirs.cert, '-key', dirs.key];
    return new ServerProcess(stack, 'hq-interop', peer.peer.server, args, { TESTCASE: 'handshake', GODEBUG: 'gctrace=1' }, dirs.root);
  }
  const lookup = ngtcp2Peer();
  if (!lookup.ok) throw new Error(lookup.reason);
  const port = await freeUdpPort();
  const args = ['-q', '-d', dirs.www, `--timeout=${IDLE_TIMEOUT_MS / 1000}s`, '127.0.0.1', String(port), dirs.key, dirs.cert];
  return new ServerProcess(stack, 'h3', lookup.peer.server, args, {}, dirs.root, port);
}

/** A connection, open (handshake complete) within CONNECT_TIMEOUT_MS, or a rejection. */
function open(client: QuicEndpoint, port: number, alpn: string): Promise<QuicConnection> {
  return openConnection(client, port, alpn, CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_MS);
}

/** `total` connections opened and closed, `concurrency` in flight; how many failed (and the first reason). */
async function churn(client: QuicEndpoint, port: number, alpn: string, total: number, concurrency: number): Promise<{ failures: number; reason?: string }> {
  let next = 0;
  let failures = 0;
  let reason: string | undefined;
  const worker = async (): Promise<void> => {
    // Bounded by `total`: each turn takes the next one.
    while (next < total) {
      next++;
      try {
        const connection = await open(client, port, alpn);
        void connection.close(0, 'done');
      } catch (error) {
        failures++;
        reason ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { failures, reason };
}

export interface PeerFigures {
  rssKbPerConnection?: number;
  rssKbSecondHalf?: number;
  handshakesPerSecond?: number;
  serverCpuMs?: number;
  clientCpuMs?: number;
  note: string[];
}

const kb = (bytes: number, n: number): number => bytes / n / 1024;

async function idlePhase(server: ServerProcess, client: QuicEndpoint, port: number, figures: PeerFigures): Promise<void> {
  const warm = await churn(client, port, server.alpn, WARMUP, CONCURRENCY);
  if (warm.failures === WARMUP) throw new Error(`no warm-up connection opened: ${warm.reason}`);
  await sleep(1000);
  const heap0 = await server.collect();
  const rss0 = server.rss();
  const go0 = server.goLiveHeapMb;
  const held: QuicConnection[] = [];
  let closedEarly = 0;
  const half = Math.floor(IDLE / 2);
  let rssMiddle = NaN;
  let failures = 0;
  let reason: string | undefined;
  const started = performance.now();
  try {
    // In groups of CONCURRENCY, stopping at the half-way reading.
    for (let i = 0; i < IDLE; ) {
      const n = Math.min(CONCURRENCY, i < half ? half - i : IDLE - i);
      const group = await Promise.allSettled(Array.from({ length: n }, () => open(client, port, server.alpn)));
      for (const r of group) {
        if (r.status === 'fulfilled') {
          held.push(r.value);
          void r.value.closed.then(() => closedEarly++);
        } else {
          failures++;
          reason ??= (r.reason as Error).message;
        }
      }
      i += n;
      if (i === half) {
        await sleep(500);
        await server.collect();
        rssMiddle = server.rss();
      }
    }
    await sleep(1000);
    const heap1 = await server.collect();
    const rss1 = server.rss();
    const heldMs = performance.now() - started;
    const open1 = held.length - closedEarly;
    const n = held.length;
    figures.rssKbPerConnection = kb(rss1 - rss0, n);
    figures.rssKbSecondHalf = kb(rss1 - rssMiddle, n - half);
    let extra = '';
    if (heap0 !== undefined && heap1 !== undefined) extra = `; V8 heap + ArrayBuffers ${kb(heap1 - heap0, n).toFixed(1)} KB/conn`;
    if (server.stack === 'quic-go') extra = `; Go live heap at its last GC ${go0 ?? '(none yet)'} -> ${server.goLiveHeapMb ?? '(none yet)'} MB`;
    const timeoutNote = server.stack === 'quic-go' && heldMs >= QUIC_GO_IDLE_TIMEOUT_MS ? ' (past quic-go idle timeout!)' : '';
    console.log(
      `  idle: ${n} of ${IDLE} open (${failures} failed${reason ? `: ${reason}` : ''}), ${open1} still open at the reading after ${(heldMs / 1000).toFixed(1)} s${timeoutNote}; ` +
        `RSS ${(rss0 / 2 ** 20).toFixed(1)} -> ${(rss1 / 2 ** 20).toFixed(1)} MB = ${figures.rssKbPerConnection.toFixed(1)} KB/conn ` +
        `(second ${n - half}: ${figures.rssKbSecondHalf.toFixed(1)} KB/conn)${extra}  (load ${load()})`,
    );
    if (open1 < n) figures.note.push(`${n - open1} idle connections closed before the reading`);
    if (failures > 0) figures.note.push(`${failures} idle connections failed`);
  } finally {
    for (const c of held) void c.close(0, 'idle done');
    // Let the server process the closes before the handshake phase.
    await sleep(1000);
  }
}

async function handshakePhase(server: ServerProcess, client: QuicEndpoint, port: number, figures: PeerFigures): Promise<void> {
  await churn(client, port, server.alpn, HS_WARMUP, CONCURRENCY);
  await sleep(300);
  const cpu0 = server.cpuSeconds();
  const own0 = process.cpuUsage();
  const started = performance.now();
  const { failures, reason } = await churn(client, port, server.alpn, HANDSHAKES, CONCURRENCY);
  const seconds = (performance.now() - started) / 1000;
  // The server's handling of the last closes belongs to the handshakes measured.
  await sleep(500);
  const serverCpu = server.cpuSeconds() - cpu0;
  const own = process.cpuUsage(own0);
  const done = HANDSHAKES - failures;
  figures.handshakesPerSecond = done / seconds;
  figures.serverCpuMs = (serverCpu * 1000) / done;
  figures.clientCpuMs = (own.user + own.system) / 1000 / done;
  console.log(
    `  handshakes: ${done} of ${HANDSHAKES} (${CONCURRENCY} in flight${failures ? `; ${failures} failed: ${reason}` : ''}) in ${seconds.toFixed(2)} s = ` +
      `${figures.handshakesPerSecond.toFixed(0)}/s (our client: ${figures.clientCpuMs.toFixed(2)} ms CPU each, ${((figures.clientCpuMs * figures.handshakesPerSecond) / 10).toFixed(0)} % of a core), ` +
      `server ${figures.serverCpuMs.toFixed(2)} ms CPU each  (load ${load()})`,
  );
  if (failures > 0) figures.note.push(`${failures} handshakes failed`);
}

async function measureServer(stack: Stack, dirs: Dirs): Promise<PeerFigures> {
  const figures: PeerFigures = { note: [] };
  const server = await startServer(stack, dirs);
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const port = await server.port();
    console.log(`${stack} server (pid ${server.pid}, ALPN ${server.alpn}) on 127.0.0.1:${port}`);
    await idlePhase(server, client, port, figures);
    await handshakePhase(server, client, port, figures);
    if (server.child.exitCode !== null) figures.note.push(`server exited early: ${server.output.slice(-200)}`);
  } finally {
    await Promise.race([client.close(), sleep(10_000)]);
    await server.stop();
  }
  return figures;
}

function makeDirs(certPem: string, keyPem: string): Dirs {
  const root = mkdtempSync(join(tmpdir(), 'purequic-bench-peerconn-'));
  const www = join(root, 'www');
  mkdirSync(www);
  writeFileSync(join(www, 'small.txt'), 'hello\n');
  const cert = join(root, 'cert.pem');
  const key = join(root, 'priv.key');
  writeFileSync(cert, certPem);
  writeFileSync(key, keyPem);
  return { root, www, cert, key };
}

const STACKS: [Stack, string][] = [
  ['purequic', 'purequic'],
  ['quic-go', 'quic-go 0.29 (hq-interop)'],
  ['ngtcp2', 'ngtcp2 gtlsserver (h3)'],
];

export default async function run(filter?: string): Promise<void> {
  const words = filter?.split(/\s+/).filter(Boolean) ?? [];
  const selected = STACKS.filter(([stack]) => words.length === 0 || words.some((w) => stack.includes(w)));
  if (selected.length === 0) return;
  const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  const dirs = makeDirs(certificate.certificatePem, certificate.privateKeyPem);
  console.log(
    `servers in their own processes, client = purequic in this process; ${IDLE} idle connections (handshake only, no request), ` +
      `${HANDSHAKES} handshakes with ${CONCURRENCY} in flight; CPU and RSS from /proc`,
  );
  const results = new Map<string, PeerFigures | string>();
  try {
    for (const [stack, label] of selected) {
      try {
        results.set(label, await measureServer(stack, dirs));
      } catch (error) {
        console.log(`${stack}: FAILED ${(error as Error).message}`);
        results.set(label, `FAILED: ${(error as Error).message}`);
      }
    }
  } finally {
    rmSync(dirs.root, { recursive: true, force: true });
  }
  const f = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
  console.log(`\n${'server'.padEnd(28)} ${'srv ms/hs'.padStart(9)} ${'hs/s*'.padStart(6)} ${'cli ms/hs'.padStart(9)} ${'RSS KB/conn'.padStart(11)} ${'2nd half'.padStart(8)}  notes`);
  for (const [label, r] of results) {
    if (typeof r === 'string') {
      console.log(`${label.padEnd(28)} ${r}`);
      continue;
    }
    console.log(
      `${label.padEnd(28)} ${f(r.serverCpuMs, 2).padStart(9)} ${f(r.handshakesPerSecond, 0).padStart(6)} ${f(r.clientCpuMs, 2).padStart(9)} ` +
        `${f(r.rssKbPerConnection, 1).padStart(11)} ${f(r.rssKbSecondHalf, 1).padStart(8)}  ${r.note.join('; ')}`,
    );
  }
  console.log(`* handshakes/s is bounded by our client (same client for all three): compare server ms/hs. Load now ${load()}`);
}
