/**
 * A like-for-like download between two processes (client and server of any stack) watched from
 * outside, the same way for every stack: this process polls the client's download file and both
 * processes' CPU time (/proc/<pid>/stat, utime + stime: every thread, GC and JIT included) every
 * POLL_MS. The measured window runs from the first poll that sees response bytes to the first
 * that sees the whole file, so process start-up, the handshake, the closing period and any
 * log flush stay outside it for every pair alike; the bytes moved inside the window are what
 * MB/s and CPU-seconds per 100 MB are computed from. Nobody writes qlog or key logs.
 *
 * Garbage collections inside the window are counted too: Node sides load gc-probe.mjs (a
 * PerformanceObserver that prints its timestamps at exit), Go sides run with GODEBUG=gctrace=1.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { processCpuSeconds } from './process-cpu.js';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/** How often the window's edges and the CPU counters are sampled (ms). */
const POLL_MS = 5;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux we run on). */
const KILL_GRACE_MS = 5_000;

/** How one side is started, and what it tells about its garbage collections. */
export interface SideSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd: string;
  /** `node`: gc-probe lines on its output; `go`: gctrace lines; `none`: no GC to count. */
  gc: 'node' | 'go' | 'none';
}

/** CPU and GC of one side over the measured window. */
export interface SideFigures {
  cpuSeconds: number;
  /** Minor (scavenge) and major (mark-compact) collections; undefined where not counted. */
  minorGcs: number | undefined;
  majorGcs: number | undefined;
}

export type PairResult =
  | { ok: true; bytes: number; seconds: number; client: SideFigures; server: SideFigures; load: number[] }
  | { ok: false; reason: string };

/** A spawned side: its output and exit, and when it started (epoch ms, for Go's gctrace). */
class Side {
  readonly child: ChildProcess;
  readonly startedAt = performance.timeOrigin + performance.now();
  output = '';
  readonly exited: Promise<number | null>;

  constructor(readonly spec: SideSpec) {
    const env: Record<string, string | undefined> = { ...process.env, ...spec.env };
    delete env.QLOGDIR;
    delete env.SSLKEYLOGFILE;
    if (spec.gc === 'go') env.GODEBUG = 'gctrace=1';
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
  }

  /** utime + stime of the whole process, in seconds (undefined once it is gone). */
  cpuSeconds(): number | undefined {
    return processCpuSeconds(this.child.pid!);
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray | undefined> {
    const deadline = performance.now() + timeoutMs;
    // Bounded by the deadline: polls every 20 ms.
    while (performance.now() < deadline) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (this.child.exitCode !== null) return undefined;
      await sleep(20);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** Collections that started inside [fromMs, toMs] (epoch ms). */
  gcs(fromMs: number, toMs: number): { minor: number | undefined; major: number | undefined } {
    if (this.spec.gc === 'node') {
      let minor = 0;
      let major = 0;
      for (const m of this.output.matchAll(/^gc-probe (\d+) ([\d.]+)$/gm)) {
        const at = Number(m[2]);
        if (at < fromMs || at > toMs) continue;
        // PerformanceObserver gc kinds: 1 minor, 2 major, 4 incremental marking, 8 weak callbacks.
        if (m[1] === '1') minor++;
        else if (m[1] === '2') major++;
      }
      return { minor, major };
    }
    if (this.spec.gc === 'go') {
      // "gc 12 @0.512s 2%: ...": seconds since the process started; Go has one kind.
      let count = 0;
      for (const m of this.output.matchAll(/^gc \d+ @([\d.]+)s/gm)) {
        const at = this.startedAt + Number(m[1]) * 1000;
        if (at >= fromMs && at <= toMs) count++;
      }
      return { minor: undefined, major: count };
    }
    return { minor: undefined, major: undefined };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Where the server is reachable once started. */
export type ServerReady = { kind: 'pattern'; pattern: RegExp } | { kind: 'settle'; ms: number; port: number };

/**
 * Starts `server`, then `client(port)`, watches `downloadPath` grow to `expectedBytes` and
 * returns the window's figures. Both processes are stopped before it returns.
 */
export async function measurePair(options: {
  server: SideSpec;
  ready: ServerReady;
  client: (port: number) => SideSpec;
  downloadPath: string;
  expectedBytes: number;
  timeoutMs: number;
}): Promise<PairResult> {
  const server = new Side(options.server);
  let client: Side | undefined;
  try {
    let port: number;
    if (options.ready.kind === 'pattern') {
      const m = await server.waitFor(options.ready.pattern, 30_000);
      if (!m) return { ok: false, reason: `server did not start: ${server.output.slice(-300)}` };
      port = Number(m[1]);
    } else {
      await sleep(options.ready.ms);
      port = options.ready.port;
    }
    const load = loadavg();
    client = new Side(options.client(port));
    const deadline = performance.now() + options.timeoutMs;
    type Sample = { at: number; size: number; client: number; server: number };
    let start: Sample | undefined;
    let last: Sample | undefined;
    let end: Sample | undefined;
    // Bounded by the deadline: one sample every POLL_MS.
    while (!end) {
      const now = performance.now();
      if (now > deadline) return { ok: false, reason: `no complete download within ${options.timeoutMs} ms` };
      // CPU first, then the file: the CPU read never includes work for bytes not yet counted.
      const clientCpu = client.cpuSeconds();
      const serverCpu = server.cpuSeconds();
      const size = fileSize(options.downloadPath);
      if (clientCpu === undefined || serverCpu === undefined) {
        // The client may exit between two samples right after its last byte: the window then
        // ends at the last sample taken while both were alive (fewer bytes, same accounting).
        if (start && last && last !== start && size >= options.expectedBytes) end = last;
        else return { ok: false, reason: `a side exited early: ${client.output.slice(-300)} ${server.output.slice(-300)}` };
        break;
      }
      const sample = { at: performance.timeOrigin + now, size, client: clientCpu, server: serverCpu };
      if (!start && size > 0) start = sample;
      last = sample;
      if (start && size >= options.expectedBytes) end = sample;
      else await sleep(POLL_MS);
    }
    const code = await client.exited;
    await server.stop();
    if (code !== 0) return { ok: false, reason: `client exited with ${code}: ${client.output.slice(-300)}` };
    if (fileSize(options.downloadPath) !== options.expectedBytes) return { ok: false, reason: `download is ${fileSize(options.downloadPath)} bytes, not ${options.expectedBytes}` };
    const first = start!;
    const clientGc = client.gcs(first.at, end.at);
    const serverGc = server.gcs(first.at, end.at);
    return {
      ok: true,
      bytes: end.size - first.size,
      seconds: (end.at - first.at) / 1000,
      load,
      client: { cpuSeconds: end.client - first.client, minorGcs: clientGc.minor, majorGcs: clientGc.major },
      server: { cpuSeconds: end.server - first.server, minorGcs: serverGc.minor, majorGcs: serverGc.major },
    };
  } finally {
    await client?.stop();
    await server.stop();
  }
}
