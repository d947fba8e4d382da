/**
 * One server on several cores (`@purequic/quic/cluster`): the plain single-threaded endpoint
 * against `listenCluster` with 1 and 2 worker threads, the clients in another process.
 *
 *   handshakes   CLIENTS (8) client endpoints connecting and closing in a loop (no resumption,
 *                no Retry): handshakes/s, and CPU-milliseconds per handshake of each process
 *   transfer     CLIENTS connections downloading BENCH_WORKERS_MB (25) MB each at once:
 *                aggregate MB/s, and CPU-seconds per 100 MB of each process
 *
 * CPU is utime + stime of the whole process from /proc (every thread: the front and the
 * workers), read at the edges of the window. The machine's load average is printed per run:
 * on a shared 2-core machine the rates swing; CPU per unit of work and ratios within one run are
 * the figures to compare.
 *
 *   pnpm bench -- workers              every case
 *   pnpm bench -- workers handshakes   one kind
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSignedCertificate } from '../../packages/quic/src/tls/self-signed.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENTS = Number(process.env.CLIENTS ?? 8);
const MB = Number(process.env.BENCH_WORKERS_MB ?? 25);
const NODE_ARGS = ['--conditions=@purequic/source', '--import', 'tsx'];

interface ClientResult {
  count: number;
  bytes: number;
  seconds: number;
  clientCpu: number;
  serverCpu: number;
  serverMainCpu: number;
  total: number;
}

interface ServerStats {
  datagrams: number;
  perWorker: number[];
}

async function withServer<T>(workers: number, env: Record<string, string>, body: (port: number, pid: number) => Promise<T>): Promise<{ result: T; stats: ServerStats | undefined }> {
  const server = spawn(process.execPath, [...NODE_ARGS, join(ROOT, 'tools/bench/workers-server.ts')], { cwd: ROOT, env: { ...process.env, ...env, WORKERS: String(workers) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'close');
  let out = '';
  let result: T;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on .*:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      server.once('close', () => reject(new Error(`server exited: ${out}`)));
    });
    result = await body(port, server.pid!);
  } finally {
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  const m = /^stats (.*)$/m.exec(out);
  return { result, stats: m ? (JSON.parse(m[1]!) as ServerStats) : undefined };
}

/** The front's CPU per datagram it forwarded or sent (µs), from the whole run's counters. */
function frontPerDatagram(r: ClientResult, stats: ServerStats | undefined): string {
  if (!stats || stats.datagrams === 0) return '-';
  const unitsInWindow = r.bytes > 0 ? r.bytes : r.count;
  const datagramsInWindow = (stats.datagrams * unitsInWindow) / r.total;
  return ((r.serverMainCpu * 1e6) / datagramsInWindow).toFixed(1);
}

function spread(stats: ServerStats | undefined): string {
  return stats ? stats.perWorker.join('/') : '-';
}

async function runClient(env: Record<string, string>): Promise<ClientResult> {
  const child = spawn(process.execPath, [...NODE_ARGS, join(ROOT, 'tools/bench/workers-client.ts')], { cwd: ROOT, env: { ...process.env, ...env, CLIENTS: String(CLIENTS) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`client failed (${String(code)}): ${out.slice(-300)}`);
  return JSON.parse(line) as ClientResult;
}

const MODES: [string, number][] = [
  ['plain endpoint (1 thread)', 0],
  ['cluster, 1 worker', 1],
  ['cluster, 2 workers', 2],
];

export default async function run(filter?: string): Promise<void> {
  const want = (kind: string): boolean => filter === undefined || filter.split(' ').some((w) => kind.includes(w));
  const dir = mkdtempSync(join(tmpdir(), 'purequic-bench-workers-'));
  try {
    const cert = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
    writeFileSync(join(dir, 'cert.pem'), cert.certificatePem);
    writeFileSync(join(dir, 'key.pem'), cert.privateKeyPem);
    const env = { BENCH_CERT: join(dir, 'cert.pem'), BENCH_KEY: join(dir, 'key.pem') };
    if (want('handshakes')) {
      console.log(`handshakes: ${CLIENTS} client endpoints in one process, connect + close in a loop`);
      console.log(`${'server'.padEnd(28)}  handshakes/s  server CPU-ms/hs  (main thread)  client CPU-ms/hs  front µs/datagram  datagrams per worker  load`);
      for (const [name, workers] of MODES) {
        const load = loadavg()[0]!.toFixed(2);
        const { result: r, stats } = await withServer(workers, env, (port, pid) => runClient({ KIND: 'handshakes', PORT: String(port), SERVER_PID: String(pid) }));
        const perSecond = r.count / r.seconds;
        const ms = (cpu: number): string => ((cpu * 1000) / r.count).toFixed(2);
        console.log(
          `${name.padEnd(28)}  ${perSecond.toFixed(0).padStart(12)}  ${ms(r.serverCpu).padStart(16)}  ${ms(r.serverMainCpu).padStart(13)}  ${ms(r.clientCpu).padStart(16)}  ${frontPerDatagram(r, workers > 0 ? stats : undefined).padStart(17)}  ${spread(stats).padStart(20)}  ${load}`,
        );
      }
    }
    if (want('transfer')) {
      console.log(`transfer: ${CLIENTS} connections downloading ${MB} MB each at once`);
      console.log(`${'server'.padEnd(28)}  MB/s (sum)  server CPU-s/100MB  (main thread)  client CPU-s/100MB  front µs/datagram  datagrams per worker  load`);
      for (const [name, workers] of MODES) {
        const load = loadavg()[0]!.toFixed(2);
        const { result: r, stats } = await withServer(workers, env, (port, pid) => runClient({ KIND: 'transfer', PORT: String(port), SERVER_PID: String(pid), BYTES: String(MB * 1_000_000) }));
        const per100 = (cpu: number): string => ((cpu * 100_000_000) / r.bytes).toFixed(2);
        console.log(
          `${name.padEnd(28)}  ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(10)}  ${per100(r.serverCpu).padStart(18)}  ${per100(r.serverMainCpu).padStart(13)}  ${per100(r.clientCpu).padStart(18)}  ${frontPerDatagram(r, workers > 0 ? stats : undefined).padStart(17)}  ${spread(stats).padStart(20)}  ${load}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
