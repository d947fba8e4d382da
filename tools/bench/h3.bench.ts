/**
 * `pnpm bench -- h3`: HTTP/3 figures, each side in its own process, peers measured in the same run.
 *
 * - One 100 MB GET (H3_BENCH_MB to change): ours <- ours, ngtcp2 <- ngtcp2, and both mixed pairs;
 *   MB/s from the client's first request byte to the last response byte, and CPU-seconds per
 *   100 MB for each side (servers: /proc utime+stime around the transfer; clients: their own).
 * - 1 KB GETs, 100 in flight on one connection: requests/s, ours vs node:http2 over TLS.
 * - Memory per idle HTTP/3 connection at our server (after SETTINGS and one request), KB.
 * Nothing here is asserted: figures are printed with the machine's load average.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { processCpuSeconds } from './process-cpu.js';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ngtcp2Peer } from '../interop/peers.js';
import { freeUdpPort } from './udp-port.js';

const peerScript = fileURLToPath(new URL('./h3-peer.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@purequic/source', '--import', 'tsx', '--expose-gc'];
const MB = Number(process.env.H3_BENCH_MB ?? 100);

/** CPU milliseconds of process `pid` so far. */
function cpuOfPid(pid: number): number {
  return (processCpuSeconds(pid) ?? 0) * 1000;
}

function lines(child: ChildProcess): AsyncIterator<string> {
  let buf = '';
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  return {
    async next() {
      const deadline = Date.now() + 120_000;
      while (queue.length === 0 && Date.now() < deadline && child.exitCode === null) await new Promise<void>((r) => (wake = r) && setTimeout(r, 200));
      const v = queue.shift();
      return v === undefined ? { value: undefined, done: true } : { value: v, done: false };
    },
  };
}

async function runJson(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<Record<string, number>> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
  await new Promise((r) => child.once('close', r));
  clearTimeout(timer);
  const last = out.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as Record<string, number>;
}

/** Runs a command under bash and returns wall ms and the children's CPU ms (bash `times`). */
async function runTimed(cmd: string, args: string[]): Promise<{ ms: number; cpuMs: number; code: number | null }> {
  const t0 = performance.now();
  const child = spawn('bash', ['-c', '"$@" >/dev/null 2>&1; code=$?; times; exit $code', '_', cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const ms = performance.now() - t0;
  const childTimes = out.trim().split('\n')[1] ?? '';
  const seconds = [...childTimes.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  return { ms, cpuMs: seconds * 1000, code };
}


interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
  child: ChildProcess;
}

async function startOurs(mode: 'server' | 'h2server'): Promise<Server> {
  const child = spawn(process.execPath, [...NODE_ARGS, peerScript, mode], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const first = await lines(child).next();
  const { port } = JSON.parse(first.value ?? '{}') as { port: number };
  return {
    port,
    pid: child.pid!,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

async function startNgtcp2(serverBin: string, www: string, certDir: string): Promise<Server> {
  const port = await freeUdpPort();
  const child = spawn(serverBin, ['-q', '-d', www, '127.0.0.1', String(port), join(certDir, 'key.pem'), join(certDir, 'cert.pem')], { stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 300));
  return {
    port,
    pid: child.pid!,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');

export default async function run(filter?: string): Promise<void> {
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()}`);
  const want = (name: string) => !filter || name.includes(filter) || filter.split(' ').some((w) => name.includes(w));
  const dir = mkdtempSync(join(tmpdir(), 'purequic-h3-bench-'));
  try {
    const rows: string[] = [];
    const bytes = MB * 1_000_000;
    const ng = ngtcp2Peer();
    if (want('transfer')) {
      mkdirSync(join(dir, 'www'));
      writeFileSync(join(dir, 'www', 'big.bin'), new Uint8Array(bytes).fill(0x61));
      // ngtcp2's server wants PEM files: take the ones our server would generate.
      const { generateSelfSignedCertificate } = await import('@purequic/quic');
      const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1'] });
      writeFileSync(join(dir, 'cert.pem'), cert.certificatePem);
      writeFileSync(join(dir, 'key.pem'), cert.privateKeyPem);
      const pairs: { name: string; server: 'ours' | 'ngtcp2'; client: 'ours' | 'ngtcp2' }[] = [
        { name: 'ours <- ours', server: 'ours', client: 'ours' },
        { name: 'ngtcp2 <- ngtcp2', server: 'ngtcp2', client: 'ngtcp2' },
        { name: 'ours (client) <- ngtcp2 (server)', server: 'ngtcp2', client: 'ours' },
        { name: 'ngtcp2 (client) <- ours (server)', server: 'ours', client: 'ngtcp2' },
      ];
      rows.push(`| ${MB} MB GET | MB/s | client CPU-s /100 MB | server CPU-s /100 MB |`, '|---|---|---|---|');
      for (const p of pairs) {
        if ((p.server === 'ngtcp2' || p.client === 'ngtcp2') && !ng.ok) {
          rows.push(`| ${p.name} | not installed | | |`);
          continue;
        }
        const server = p.server === 'ours' ? await startOurs('server') : await startNgtcp2(ng.ok ? ng.peer.server : '', join(dir, 'www'), dir);
        try {
          const path = p.server === 'ours' ? `/bytes/${bytes}` : '/big.bin';
          const url = `https://127.0.0.1:${server.port}${path}`;
          const s0 = cpuOfPid(server.pid);
          let ms: number;
          let clientCpu: number;
          if (p.client === 'ours') {
            const r = await runJson(process.execPath, [...NODE_ARGS, peerScript, 'get', url]);
            ms = r.ms!;
            clientCpu = r.cpuMs!;
          } else {
            const downloads = join(dir, 'dl');
            mkdirSync(downloads, { recursive: true });
            const r = await runTimed(ng.ok ? ng.peer.client : '', ['-q', '--no-quic-dump', '--no-http-dump', '--exit-on-all-streams-close', `--download=${downloads}`, '127.0.0.1', String(server.port), url]);
            ms = r.ms;
            clientCpu = r.cpuMs;
            rmSync(downloads, { recursive: true, force: true });
          }
          const serverCpu = cpuOfPid(server.pid) - s0;
          const per100 = (cpuMs: number) => (cpuMs / 1000) * (100 / MB);
          rows.push(`| ${p.name} | ${fmt(MB / (ms / 1000), 1)} | ${fmt(per100(clientCpu))} | ${fmt(per100(serverCpu))} |`);
        } finally {
          await server.stop();
        }
      }
      rows.push('');
    }
    if (want('requests')) {
      const N = Number(process.env.H3_BENCH_REQUESTS ?? 20_000);
      rows.push(`| 1 KB GETs, 100 in flight, ${N} requests | requests/s | client CPU ms/1k req | server CPU ms/1k req |`, '|---|---|---|---|');
      const results: Record<string, number> = {};
      for (const [name, mode, clientMode] of [
        ['ours (HTTP/3)', 'server', 'many'],
        ['node:http2 (TLS)', 'h2server', 'h2many'],
      ] as const) {
        const server = await startOurs(mode);
        try {
          const scheme = 'https';
          const s0 = cpuOfPid(server.pid);
          const r = await runJson(process.execPath, [...NODE_ARGS, peerScript, clientMode, `${scheme}://127.0.0.1:${server.port}/1k`, String(N), '100']);
          const serverCpu = cpuOfPid(server.pid) - s0;
          const rps = r.requests! / (r.ms! / 1000);
          results[name] = rps;
          rows.push(`| ${name} | ${fmt(rps, 0)} | ${fmt((r.cpuMs! / N) * 1000, 0)} | ${fmt((serverCpu / N) * 1000, 0)} |`);
        } finally {
          await server.stop();
        }
      }
      rows.push(`ratio ours / node:http2: ${fmt(results['ours (HTTP/3)']! / results['node:http2 (TLS)']!)}`, '');
    }
    if (want('idle')) {
      const N = Number(process.env.H3_BENCH_IDLE ?? 200);
      const server = await startOurs('server');
      const measure = () =>
        new Promise<{ heapDelta: number; abDelta: number; connections: number }>((resolve) => {
          server.child.once('message', (m) => resolve(m as { heapDelta: number; abDelta: number; connections: number }));
          server.child.send('measure');
        });
      try {
        const before = await measure();
        const clients = spawn(process.execPath, [...NODE_ARGS, peerScript, 'idle', `https://127.0.0.1:${server.port}/1k`, String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
        await lines(clients).next();
        const after = await measure();
        const kb = (after.heapDelta - before.heapDelta + after.abDelta - before.abDelta) / N / 1024;
        rows.push(`memory per idle HTTP/3 connection at the server (${after.connections} connections, after SETTINGS and one request): ${fmt(kb, 1)} KB (heap ${fmt((after.heapDelta - before.heapDelta) / N / 1024, 1)} KB + ArrayBuffers ${fmt((after.abDelta - before.abDelta) / N / 1024, 1)} KB)`);
        clients.stdin!.end();
        await new Promise((r) => clients.once('close', r));
      } finally {
        await server.stop();
      }
    }
    console.log(rows.join('\n'));
    console.log(`load average at end: ${load()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
