/**
 * Connections rather than bytes: what an idle connection costs the server, and how many
 * handshakes per second it completes over real UDP with the clients in another process.
 *
 * - `idle`: the server (crowd-server.ts, its own process, run with --expose-gc) is measured
 *   after a full collection with no connection, then with BENCH_IDLE_CONNECTIONS (default 500)
 *   idle ones (handshake complete, one small stream echoed and finished — BENCH_IDLE_STREAM=0
 *   for none — nothing sent since); reported per connection as V8 heap plus ArrayBuffers
 *   (node's `process.memoryUsage()`), from zero and for the second half alone (which leaves out
 *   one-off costs such as compiled code). BENCH_IDLE_SNAPSHOT=/tmp/x.heapsnapshot writes the
 *   server's heap snapshot at the end, and one without connections to `<path>.before`
 *   (tools/bench/heap-retainers.ts breaks it down by field path, heap-summary.ts by kind).
 * - `handshakes`: after BENCH_HANDSHAKE_WARMUP (default 300) unmeasured ones, BENCH_HANDSHAKES
 *   (default 1,000) connections from this process, at most
 *   BENCH_HANDSHAKE_CONCURRENCY (default 100) in flight, each closed once open; handshakes/s
 *   over the wall time, and the server's CPU per handshake (/proc, all threads). Clients and
 *   server share the machine's cores.
 * - `burst`: BENCH_BURST (default 2,000) clients connecting at once, each waiting up to 60 s;
 *   how many complete, when the last one did, and how many datagrams the kernel dropped for a
 *   full UDP receive buffer meanwhile (a machine-wide counter: other processes' drops count too).
 * - `node:tls`: serial full TLS 1.3 handshakes over loopback TCP (client and server in this
 *   process), the yardstick the issue names.
 * The same server figures for quic-go and ngtcp2 next to ours (server CPU-ms per handshake, RSS
 * per idle connection, all from /proc) are in peer-connections.bench.ts, which
 * `pnpm bench -- connections` runs too.
 * With BENCH_BASELINE=/path/to/another/checkout every purequic case also runs that checkout's
 * server (same clients), for an A/B in one run.
 *
 *   pnpm bench -- connections            every case
 *   pnpm bench -- connections idle       only the memory case
 */

import { fork, type ChildProcess } from 'node:child_process';
import { processCpuSeconds } from './process-cpu.js';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection } from '@purequic/quic';
import { REPO_ROOT } from '../interop/peers.js';
import { openConnection } from './open-connection.js';

// The client side's memory is measured in this process after a full collection.
setFlagsFromString('--expose-gc');
const SERVER_SCRIPT = fileURLToPath(new URL('./crowd-server.ts', import.meta.url));
const IDLE = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 500);
const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_HANDSHAKE_CONCURRENCY ?? 100);
const WARMUP_HANDSHAKES = Number(process.env.BENCH_HANDSHAKE_WARMUP ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 2000);
const CONNECT_TIMEOUT_MS = 60_000;

interface Memory {
  heapUsed: number;
  arrayBuffers: number;
  connections: number;
}

class ServerProcess {
  readonly child: ChildProcess;
  output = '';

  constructor(root: string, cert: string, key: string) {
    this.child = fork(SERVER_SCRIPT, [], {
      cwd: REPO_ROOT,
      // BENCH_CROWD_NODE_FLAGS: e.g. '--cpu-prof --cpu-prof-dir=.scratch/profiles/crowd' to profile the server.
      execArgv: ['--conditions=@purequic/source', '--import', 'tsx', '--expose-gc', ...(process.env.BENCH_CROWD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)],
      env: { ...process.env, CROWD_ROOT: root, CROWD_CERT: cert, CROWD_KEY: key },
      silent: true,
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  async port(): Promise<number> {
    // Bounded: 30 s in 20 ms steps.
    for (let i = 0; i < 1500; i++) {
      const m = /listening on .*:(\d+)/.exec(this.output);
      if (m) return Number(m[1]);
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`crowd server did not start: ${this.output.slice(-500)}`);
  }

  async measure(): Promise<Memory> {
    this.child.send('measure');
    const [reply] = (await once(this.child, 'message')) as [Memory];
    return reply;
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid!) ?? 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await once(this.child, 'exit');
    clearTimeout(timer);
  }
}

function open(client: QuicEndpoint, port: number): Promise<QuicConnection> {
  return openConnection(client, port, 'bench', CONNECT_TIMEOUT_MS);
}

const collectGarbage = runInNewContext('gc') as () => void;
/** This process's heap and ArrayBuffer bytes after a full collection. */
function ownMemory(): { heapUsed: number; arrayBuffers: number } {
  collectGarbage();
  collectGarbage();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** One small stream exchanged and finished (BENCH_IDLE_STREAM=0: none), as an idle client would have done. */
async function exchangeOneStream(connection: QuicConnection): Promise<void> {
  const stream = await connection.openBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode('ping'));
  await writer.close();
  // Bounded: the server echoes 4 bytes and its FIN.
  for await (const chunk of stream.readable) void chunk;
}

async function idleCase(label: string, server: ServerProcess): Promise<void> {
  const port = await server.port();
  // The baseline's snapshots (BENCH_BASELINE) go next to ours, as `<path>.baseline[.before]`.
  const snapshot = process.env.BENCH_IDLE_SNAPSHOT && (label.startsWith('baseline') ? `${process.env.BENCH_IDLE_SNAPSHOT}.baseline` : process.env.BENCH_IDLE_SNAPSHOT);
  if (snapshot) {
    server.child.send({ snapshot: `${snapshot}.before` });
    await once(server.child, 'message');
  }
  const withStream = process.env.BENCH_IDLE_STREAM !== '0';
  const before = await server.measure();
  const clientBefore = ownMemory();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const held: QuicConnection[] = [];
  // Until the server holds `count` more connections than at the start, with the last
  // acknowledgements and HANDSHAKE_DONE settled (bounded: 30 s in 100 ms steps).
  const settle = async (count: number): Promise<Memory> => {
    await new Promise((r) => setTimeout(r, 500));
    let m = await server.measure();
    for (let i = 0; i < 300 && m.connections - before.connections < count; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = await server.measure();
    }
    return m;
  };
  const half = Math.floor(IDLE / 2);
  let middle: Memory | undefined;
  try {
    // In groups of 100: the handshakes are not what is measured here.
    for (let i = 0; i < IDLE; ) {
      const n = Math.min(100, IDLE - i, i < half ? half - i : IDLE - i);
      const group = await Promise.all(
        Array.from({ length: n }, async () => {
          const connection = await open(client, port);
          if (withStream) await exchangeOneStream(connection);
          return connection;
        }),
      );
      held.push(...group);
      i += n;
      if (i === half) middle = await settle(half);
    }
    const after = await settle(IDLE);
    const clientAfter = ownMemory();
    if (snapshot) {
      server.child.send({ snapshot });
      await once(server.child, 'message');
    }
    const perConnection = (from: Memory, to: Memory): string => {
      const n = to.connections - from.connections;
      const heap = (to.heapUsed - from.heapUsed) / n / 1024;
      const buffers = (to.arrayBuffers - from.arrayBuffers) / n / 1024;
      return `${heap.toFixed(1)} KB heap + ${buffers.toFixed(1)} KB ArrayBuffers = ${(heap + buffers).toFixed(1)} KB`;
    };
    const n = after.connections - before.connections;
    // The second half's cost per connection leaves out what the first connections cost once
    // (compiled code, the endpoint's tables growing).
    const marginal = middle && after.connections > middle.connections ? `; the second ${after.connections - middle.connections}: ${perConnection(middle, after)} each` : '';
    console.log(
      `${label.padEnd(34)} ${n} idle connections${withStream ? ' (one stream echoed each)' : ''}: ${perConnection(before, after)} per connection at the server` +
        `${marginal}  (load ${load()})`,
    );
    // The client side: this process holds the client connections (the client endpoint's fixed
    // cost and compiled code included, so read it as an upper bound).
    const clientHeap = (clientAfter.heapUsed - clientBefore.heapUsed) / held.length / 1024;
    const clientBuffers = (clientAfter.arrayBuffers - clientBefore.arrayBuffers) / held.length / 1024;
    console.log(
      `${' '.repeat(34)} client side (this process): ${clientHeap.toFixed(1)} KB heap + ${clientBuffers.toFixed(1)} KB ArrayBuffers = ` +
        `${(clientHeap + clientBuffers).toFixed(1)} KB per connection`,
    );
  } finally {
    await client.close();
  }
}

async function handshakeCase(label: string, server: ServerProcess): Promise<void> {
  const port = await server.port();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  let failures = 0;
  let next = 0;
  // Unmeasured: both processes compile their hot paths first, so the first case of a run (or of
  // an A/B pair) does not pay for the client's warm-up.
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, WARMUP_HANDSHAKES) }, async (_, i) => {
      // Bounded: WARMUP_HANDSHAKES in total, shared by the workers.
      for (let k = i; k < WARMUP_HANDSHAKES; k += CONCURRENCY) await open(client, port).then((c) => void c.close(0, 'warm-up'), () => undefined);
    }),
  );
  const cpu0 = server.cpuSeconds();
  const own0 = process.cpuUsage();
  const started = performance.now();
  try {
    const worker = async (): Promise<void> => {
      // Bounded by HANDSHAKES: each turn takes the next one.
      while (next < HANDSHAKES) {
        next++;
        try {
          const connection = await open(client, port);
          void connection.close(0, 'done');
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, HANDSHAKES) }, worker));
    const seconds = (performance.now() - started) / 1000;
    const serverCpu = server.cpuSeconds() - cpu0;
    const own = process.cpuUsage(own0);
    const done = HANDSHAKES - failures;
    console.log(
      `${label.padEnd(34)} ${(done / seconds).toFixed(0).padStart(5)} handshakes/s (${done} of ${HANDSHAKES}, ${CONCURRENCY} in flight), ` +
        `server ${((serverCpu * 1000) / done).toFixed(2)} ms CPU each, client ${((own.user + own.system) / 1000 / done).toFixed(2)} ms  (load ${load()})`,
    );
  } finally {
    await client.close();
  }
}

/** The kernel's count of UDP datagrams dropped for a full receive buffer (whole machine). */
function udpReceiveBufferErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'latin1').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('RcvbufErrors')] ?? NaN);
}

async function burstCase(label: string, server: ServerProcess): Promise<void> {
  const port = await server.port();
  const drops0 = udpReceiveBufferErrors();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const started = performance.now();
  let last = 0;
  try {
    const results = await Promise.allSettled(
      Array.from({ length: BURST }, async () => {
        const connection = await open(client, port);
        last = performance.now() - started;
        void connection.close(0, 'done');
      }),
    );
    const done = results.filter((r) => r.status === 'fulfilled').length;
    const drops = udpReceiveBufferErrors() - drops0;
    console.log(
      `${label.padEnd(34)} ${done} of ${BURST} clients at once completed, the last after ${(last / 1000).toFixed(1)} s; ` +
        `${drops} datagrams dropped for full receive buffers (whole machine)  (load ${load()})`,
    );
  } finally {
    await client.close();
  }
}

async function nodeTlsCase(cert: string, key: string): Promise<void> {
  const server = createTlsServer({ cert, key, minVersion: 'TLSv1.3' }, (socket) => socket.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const runMs = 2000;
  let count = 0;
  const started = performance.now();
  try {
    // Bounded by runMs: one handshake at a time.
    while (performance.now() - started < runMs) {
      await new Promise<void>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3', session: undefined }, () => {
          count++;
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${'node:tls serial (TCP, one process)'.padEnd(34)} ${(count / seconds).toFixed(0).padStart(5)} handshakes/s  (load ${load()})`);
}

export default async function run(filter?: string): Promise<void> {
  const words = filter?.split(/\s+/).filter(Boolean) ?? [];
  const wants = (name: string): boolean => words.length === 0 || words.some((w) => name.includes(w));
  const dir = mkdtempSync(join(tmpdir(), 'purequic-bench-crowd-'));
  const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, certificate.certificatePem);
  writeFileSync(key, certificate.privateKeyPem);
  const roots: [string, string][] = [['purequic', REPO_ROOT]];
  if (process.env.BENCH_BASELINE) roots.push(['baseline', process.env.BENCH_BASELINE]);
  const cases: [string, (label: string, server: ServerProcess) => Promise<void>][] = [
    ['idle', idleCase],
    ['handshakes', handshakeCase],
    ['burst', burstCase],
  ];
  try {
    for (const [name, body] of cases) {
      if (!wants(name)) continue;
      for (const [label, root] of roots) {
        const server = new ServerProcess(root, cert, key);
        try {
          await body(`${label} ${name}`, server);
        } catch (error) {
          console.log(`${label} ${name}: FAILED ${(error as Error).message}`);
        } finally {
          await server.stop();
        }
      }
    }
    if (wants('node:tls') || wants('handshakes')) await nodeTlsCase(certificate.certificatePem, certificate.privateKeyPem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
