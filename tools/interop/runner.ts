/**
 * A tiny interop runner: one server and one client process (ours or quic-go's), driven the way
 * the QUIC interop runner drives its containers (TESTCASE, REQUESTS, WWW, DOWNLOADS, CERTS, ...)
 * but over loopback with no network simulator, then the runner's file check: every requested
 * file is in the downloads directory with the same SHA-256, and nothing else is.
 *
 *   node --conditions=@purequic/source --import tsx tools/interop/runner.ts \
 *     --server quic-go --client purequic --testcase transfer [--loss 0.02]
 *
 * The interop tests and the transfer benchmark call `runInterop` directly.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSelfSignedCertificate, type CryptoProviderName } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { generateCertificateChain } from './cert-chain.js';
import { LossyRelay, type LossSettings, type RelayStatistics } from './lossy-relay.js';
import { findPeer, freeUdpPort, PEERS, udpPortBound, type Application, type Launch, type LaunchContext, type PeerRole, type Role } from './peers-config.js';
import { wireChecks } from './runner-checks.js';
import { WireLog } from './wire-log.js';

/** A peer of the matrix by name (peers-config.ts): `purequic`, `quic-go`, `ngtcp2`, ... */
export type Implementation = string;

/** The runner contract's exit status for an unsupported test case. */
const EXIT_UNSUPPORTED = 127;

export interface InteropFile {
  name: string;
  size: number;
}

export interface InteropCase {
  server: Implementation;
  client: Implementation;
  /** TESTCASE for the client, and for the server unless `serverTestcase` is given. */
  testcase: string;
  /** The runner sometimes gives the server another behaviour (keyupdate: the server runs transfer). */
  serverTestcase?: string;
  files: InteropFile[];
  /** Over IPv6 loopback (::1) instead of 127.0.0.1 (runner `ipv6`). */
  ipv6?: boolean;
  /**
   * The server offers a preferred address (RFC 9000 §9.6; runner `connectionmigration`) on the
   * same loopback address, on a port picked here. The server binds the address it offers, so
   * the path there does not go through the relay: the wire log shows the original path only.
   */
  preferredAddress?: boolean;
  /** Put a lossy relay between client and server (the runner's transferloss / handshakeloss). */
  loss?: LossSettings;
  /** Clients started at once, each downloading every file into its own directory. Default 1. */
  parallelClients?: number;
  /** quic-go sides initiate a 1-RTT key update every this many packets (our wrappers' flag). */
  quicGoKeyUpdateInterval?: number;
  /** File contents come from this seed (printed on failure so a run can be replayed). */
  seed?: number;
  /** The whole run (server start, client, check) must finish within this. Default 120 s. */
  timeoutMs?: number;
  /** Our crypto provider (CRYPTO variable). */
  crypto?: CryptoProviderName;
  /** Keep the temporary directory (www, downloads, logs) instead of removing it. */
  keepDirectory?: boolean;
  /**
   * Relay the traffic (without loss unless `loss` is given) and record the cleartext of every
   * long-header packet, as the runner's packet capture does (`InteropOutcome.wire`).
   */
  observeWire?: boolean;
  /** One-way delay the relay adds, in ms (the runner's simulator: 15). */
  delayMs?: number;
  /** The relay acts as a rebinding NAT (runner rebind-port / rebind-addr). */
  rebind?: { firstMs: number; everyMs: number; changeAddress: boolean; atBytes?: number[] };
  /** Drop the client's datagrams at these 0-based indices (runner amplificationlimit: 1-6). */
  dropToServer?: (index: number) => boolean;
  /**
   * A chain of this many certificates made with openssl (runner amplificationlimit: 9) instead
   * of one self-signed certificate.
   */
  certificateChainLength?: number;
  /** The matrix case (peers' notes, application choice); defaults to `testcase`. */
  matrixCase?: string;
  /** HTTP/0.9 or HTTP/3 for both sides; default: what the peers' config says for the case. */
  application?: Application;
  /** Corrupt datagrams in bursts instead of dropping them (runner `*corruption`). */
  corrupt?: LossSettings;
  /** Black holes triggered by bytes sent to the client (runner `blackhole`). */
  blackhole?: { atBytes: number[]; durationMs: number };
  /** A bottleneck link (runner `goodput` / `crosstraffic`). */
  bottleneck?: { bitsPerSecond: number; queuePackets: number };
  /** Use this directory (created) instead of a temporary one; it is kept. */
  directory?: string;
  /**
   * The WebTransport contract (../shared/specs/quic-interop-runner-webtransport-endpoint-doc.md)
   * instead of the QUIC one: file names are `endpoint/file`, both sides get PROTOCOLS, and
   * `negotiated_protocol.txt` must hold the first protocol. With `serverRequests` the server
   * asks the client for the files (`-send` cases) and saves them; the client is only told the
   * endpoints (`https://host:port/endpoint/`).
   */
  webtransport?: { protocols: string[]; endpoints: string[]; serverRequests: boolean };
}

/** What the client printed on success: `downloaded N files, B bytes in T ms`. */
export interface ClientReport {
  files: number;
  bytes: number;
  elapsedMs: number;
}

export interface InteropOutcome {
  /** Client exited 0 and every file arrived intact, nothing extra. */
  ok: boolean;
  clientExitCode: number | null;
  /** Human-readable reasons when not ok (missing, corrupt, extra files, timeouts). */
  problems: string[];
  clientReport: ClientReport | undefined;
  clientLog: string;
  serverLog: string;
  /** Bytes of TLS key log each side wrote (SSLKEYLOGFILE; the first client's). */
  keyLogBytes: { client: number; server: number };
  /** What the lossy relay forwarded and dropped, when `loss` was given. */
  relay: RelayStatistics | undefined;
  /** The long-header packets and datagram sizes the relay saw (with `observeWire`). */
  wire: WireLog | undefined;
  /** NAT rebindings the relay made (with `rebind`). */
  rebinds: number;
  directory: string;
  /** The side that exited 127 (the runner's "unsupported"). */
  unsupported: Role | undefined;
}

/** Test cases as the interop runner sizes them (quic-interop-runner testcases_quic.py). */
export const RUNNER_FILES: Record<string, InteropFile[]> = {
  handshake: [{ name: 'handshake-1k.bin', size: 1024 }],
  'rebind-port': [{ name: 'rebind-port-10m.bin', size: 10 << 20 }],
  'rebind-addr': [{ name: 'rebind-addr-10m.bin', size: 10 << 20 }],
  transfer: [
    { name: 'transfer-2m.bin', size: 2 << 20 },
    { name: 'transfer-3m.bin', size: 3 << 20 },
    { name: 'transfer-5m.bin', size: 5 << 20 },
  ],
  multiplexing: Array.from({ length: 2000 }, (_, i) => ({ name: `m${String(i).padStart(4, '0')}.bin`, size: 32 })),
  chacha20: [{ name: 'chacha20-3m.bin', size: 3 << 20 }],
  keyupdate: [{ name: 'keyupdate-3m.bin', size: 3 << 20 }],
  multiconnect: Array.from({ length: 5 }, (_, i) => ({ name: `mc${i}.bin`, size: 1024 })),
  retry: [{ name: 'retry-10k.bin', size: 10 * 1024 }],
  resumption: [
    { name: 'resumption-5k.bin', size: 5 * 1024 },
    { name: 'resumption-10k.bin', size: 10 * 1024 },
  ],
  // 40 files of 32 bytes with 250-character names, so that the requests (not the answers) weigh.
  zerortt: Array.from({ length: 40 }, (_, i) => ({ name: `z${String(i).padStart(2, '0')}`.padEnd(250, 'x'), size: 32 })),
  v2: [{ name: 'v2-1k.bin', size: 1024 }],
  connectionmigration: [{ name: 'migration-5m.bin', size: 5 << 20 }],
  amplificationlimit: [{ name: 'amplification-5k.bin', size: 5 * 1024 }],
};

/**
 * The runner's own arrangement for some cases: the TESTCASE each side gets, the certificate
 * chain, and the client datagrams its simulator drops (quic-interop-runner testcases_quic.py).
 */
export function runnerArrangement(testcase: string): Pick<InteropCase, 'serverTestcase' | 'certificateChainLength' | 'dropToServer' | 'rebind'> & { testcase: string } {
  switch (testcase) {
    case 'keyupdate':
      // Only the client updates keys; the server runs transfer.
      return { testcase, serverTestcase: 'transfer' };
    case 'amplificationlimit':
      // Both run transfer with a 9-certificate chain; the client's packets 2-7 are dropped.
      return { testcase: 'transfer', serverTestcase: 'transfer', certificateChainLength: 9, dropToServer: (i) => i >= 1 && i <= 6 };
    case 'rebind-port':
    case 'rebind-addr':
      // Both run transfer; the NAT rebinds after 1 s and then every 5 s (the runner's scenario;
      // shorter here so that a loopback transfer sees several).
      return { testcase: 'transfer', serverTestcase: 'transfer', rebind: { firstMs: 300, everyMs: 500, changeAddress: testcase === 'rebind-addr' } };
    case 'connectionmigration':
      // The runner's newer definition: the client migrates, the server runs transfer.
      return { testcase, serverTestcase: 'transfer' };
    default:
      return { testcase };
  }
}

const SERVER_START_TIMEOUT_MS = 60_000;
/**
 * A killed process gets this long to exit after SIGTERM before SIGKILL: longer than our
 * endpoint's `close()` bound (3 s for connections' closing periods) plus writing its last lines.
 */
const KILL_GRACE_MS = 5_000;

/** Writes `size` seeded pseudo-random bytes to `path` and returns their SHA-256 (hex). */
function writeSeededFile(path: string, size: number, random: SimRandom): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = new Uint8Array(1 << 20);
  const words = new Uint32Array(block.buffer);
  try {
    // Bounded by size: each turn writes up to one block.
    for (let written = 0; written < size; ) {
      for (let i = 0; i < words.length; i++) words[i] = random.nextU32();
      const n = Math.min(block.length, size - written);
      const chunk = block.subarray(0, n);
      writeSync(fd, chunk);
      hash.update(chunk);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

const NEGOTIATED_PROTOCOL_FILE = 'negotiated_protocol.txt';

/** Paths of the regular files under `root`, relative to it, with `/` separators (bounded by the tree). */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(relative(root, join(entry.parentPath ?? entry.path, entry.name)).split('\\').join('/'));
  }
  return out;
}

function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Processes started and not yet gone (for `killAllSpawned` on an interrupted run). */
const live = new Set<SpawnedProcess>();

/** SIGKILLs every process (and process group) this module started that is still running. */
export function killAllSpawned(): void {
  for (const p of live) p.kill();
}

/** A spawned endpoint (or peer tool) and its combined stdout+stderr. */
export class SpawnedProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  /** Signals go to the whole process group (a `sh -c` script and what it started). */
  readonly #group: boolean;

  /**
   * @param group start the process in its own process group and signal the group: for shell
   *   scripts, whose children would otherwise outlive a killed shell and keep its pipes open.
   */
  constructor(command: string, args: string[], env: Record<string, string>, cwd: string, group = false) {
    this.#group = group;
    this.child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  /** SIGKILL now (the group for a group), without waiting. */
  kill(): void {
    this.#signal('SIGKILL');
  }

  /** Resolves with the first match of `pattern` in the output, or undefined on exit/timeout. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray | undefined> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    // Bounded by the deadline (and by exit): polls every 20 ms.
    while (performance.now() < deadline) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (exited) return undefined;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves when the process (group) is gone. */
  async stop(): Promise<void> {
    if (!this.#group && (this.child.exitCode !== null || this.child.signalCode !== null)) return;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), KILL_GRACE_MS);
    // 'close' comes once every process holding the pipes is gone.
    await this.exited;
    clearTimeout(timer);
  }

  #signal(signal: NodeJS.Signals): void {
    if (!this.#group) {
      this.child.kill(signal);
      return;
    }
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  }
}

interface Layout {
  www: string;
  downloads: string;
  certs: string;
  logs: string;
}

/** How long a `udp-bound` server may take to bind its port. */
const UDP_BIND_TIMEOUT_MS = 20_000;

function peerRole(name: Implementation, role: Role): PeerRole {
  const entry = findPeer(name);
  if (!entry) throw new Error(`unknown implementation ${name} (known: ${PEERS.map((p) => p.name).join(', ')})`);
  const found = entry[role];
  if (!found) throw new Error(`${name} has no ${role}`);
  return found;
}

function launchContext(role: Role, c: InteropCase, dir: Layout, extra: Pick<LaunchContext, 'host' | 'port' | 'urls' | 'downloads' | 'keyLogFile' | 'preferredPort'>): LaunchContext {
  const matrixCase = c.matrixCase ?? c.testcase;
  const application = c.application ?? peerRole(role === 'server' ? c.server : c.client, role).application?.(matrixCase) ?? 'hq';
  return {
    role,
    testcase: role === 'server' ? (c.serverTestcase ?? c.testcase) : c.testcase,
    matrixCase,
    application,
    www: dir.www,
    certs: dir.certs,
    logs: dir.logs,
    qlogDir: join(dir.logs, `qlog-${role}`),
    quicGoKeyUpdateInterval: c.quicGoKeyUpdateInterval,
    crypto: c.crypto,
    ...(c.webtransport
      ? { webtransport: { protocols: c.webtransport.protocols, serverRequests: role === 'server' && c.webtransport.serverRequests ? c.files.map((f) => f.name) : [] } }
      : {}),
    ...extra,
  };
}

function spawnLaunch(launch: Launch): SpawnedProcess {
  // Shell scripts (ngtcp2's client runs, aioquic / quiche command lines) get a process group.
  return new SpawnedProcess(launch.command, launch.args, launch.env, launch.cwd, launch.command === '/bin/sh');
}

/** Starts the server; resolves with its port once it is ready, or with why it is not. */
async function startServer(c: InteropCase, dir: Layout, timeoutMs: number): Promise<{ process: SpawnedProcess | undefined; port: number | undefined; exitCode?: number | null; problem?: string }> {
  const host = c.ipv6 ? '::1' : '127.0.0.1';
  const role = peerRole(c.server, 'server');
  const preferredPort = c.preferredAddress ? await freeUdpPort(host) : undefined;
  const probe = launchContext('server', c, dir, { host, port: 0, urls: [], downloads: dir.downloads, keyLogFile: join(dir.logs, 'server-keys.log'), preferredPort });
  mkdirSync(probe.qlogDir, { recursive: true });
  // A peer that prints its port may take 0; the others get a free port picked here.
  const first = await role.launch(probe);
  const port = first.readiness === 'udp-bound' ? await freeUdpPort(host) : 0;
  const launch = port === 0 ? first : await role.launch({ ...probe, port });
  const server = spawnLaunch(launch);
  if (launch.readiness === 'listening-line') {
    const listening = await server.waitFor(/listening on .*:(\d+)\s*$/m, Math.min(SERVER_START_TIMEOUT_MS, timeoutMs));
    if (listening) return { process: server, port: Number(listening[1]) };
  } else {
    const deadline = performance.now() + Math.min(UDP_BIND_TIMEOUT_MS, timeoutMs);
    let exited = false;
    void server.exited.then(() => (exited = true));
    // Bounded by the deadline: polls every 20 ms.
    while (!exited && performance.now() < deadline) {
      if (udpPortBound(port)) return { process: server, port };
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const exitCode = server.child.exitCode;
  return { process: server, port: undefined, exitCode, problem: exitCode === null ? `${c.server} server did not start listening` : `${c.server} server exited with ${exitCode} before listening` };
}

async function startClient(c: InteropCase, dir: Layout, host: string, port: number, urls: string[], downloads: string, keyLogFile: string): Promise<SpawnedProcess> {
  const context = launchContext('client', c, dir, { host, port, urls, downloads, keyLogFile });
  mkdirSync(context.qlogDir, { recursive: true });
  return spawnLaunch(await peerRole(c.client, 'client').launch(context));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Runs one server/client pair on one test case and checks the downloads. Never rejects for a failed transfer. */
export async function runInterop(c: InteropCase): Promise<InteropOutcome> {
  const seed = c.seed ?? 1;
  const timeoutMs = c.timeoutMs ?? 120_000;
  const started = performance.now();
  const root = c.directory ?? mkdtempSync(join(tmpdir(), 'purequic-interop-'));
  const dir: Layout = { www: join(root, 'www'), downloads: join(root, 'downloads'), certs: join(root, 'certs'), logs: join(root, 'logs') };
  for (const d of Object.values(dir)) mkdirSync(d, { recursive: true });
  const problems: string[] = [];
  let server: SpawnedProcess | undefined;
  let relay: LossyRelay | undefined;
  const wire = c.observeWire ? new WireLog() : undefined;
  const clients: SpawnedProcess[] = [];
  let clientExitCode: number | null = null;
  let unsupported: Role | undefined;
  try {
    if (c.certificateChainLength !== undefined) {
      await generateCertificateChain(dir.certs, c.certificateChainLength, ['localhost', '127.0.0.1', '::1']);
    } else {
      const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1', '::1'] });
      writeFileSync(join(dir.certs, 'cert.pem'), certificate.certificatePem);
      writeFileSync(join(dir.certs, 'priv.key'), certificate.privateKeyPem);
    }
    const random = new SimRandom(seed);
    const expected = new Map<string, string>();
    for (const f of c.files) {
      mkdirSync(dirname(join(dir.www, f.name)), { recursive: true });
      expected.set(f.name, writeSeededFile(join(dir.www, f.name), f.size, random));
    }
    for (const endpoint of c.webtransport?.endpoints ?? []) mkdirSync(join(dir.www, endpoint), { recursive: true });

    const launched = await startServer(c, dir, timeoutMs);
    server = launched.process;
    if (launched.port === undefined) {
      if (launched.exitCode === EXIT_UNSUPPORTED) unsupported = 'server';
      problems.push(launched.problem!);
      return outcome();
    }
    const serverPort = launched.port;
    const address = c.ipv6 ? '::1' : '127.0.0.1';
    if (c.loss || wire || c.dropToServer || c.delayMs || c.rebind || c.corrupt || c.blackhole || c.bottleneck) {
      const loss = c.loss ?? { rate: 0, maxBurst: 1, seed: seed };
      relay = await LossyRelay.start(address, { address, port: serverPort }, loss, {
        wire,
        dropToServer: c.dropToServer,
        delayMs: c.delayMs,
        rebind: c.rebind,
        corrupt: c.corrupt,
        blackhole: c.blackhole,
        bottleneck: c.bottleneck,
      });
    }
    const port = relay ? relay.port : serverPort;
    const host = c.ipv6 ? '[::1]' : '127.0.0.1';
    // ngtcp2's HTTP/3 client sends the URL's authority; the files are the same either way.
    const wt = c.webtransport;
    const urls = wt && (wt.serverRequests || c.files.length === 0) ? wt.endpoints.map((e) => `https://${host}:${port}/${e}/`) : c.files.map((f) => `https://${host}:${port}/${f.name}`);
    const count = Math.max(1, c.parallelClients ?? 1);
    const downloadDirs = Array.from({ length: count }, (_, i) => (count === 1 ? dir.downloads : join(dir.downloads, `client-${i}`)));
    for (let i = 0; i < count; i++) {
      mkdirSync(downloadDirs[i]!, { recursive: true });
      const keyLog = join(dir.logs, i === 0 ? 'client-keys.log' : `client-keys-${i}.log`);
      clients.push(await startClient(c, dir, address, port, urls, downloadDirs[i]!, keyLog));
    }
    const remaining = Math.max(1_000, timeoutMs - (performance.now() - started));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), remaining)));
    const result = await Promise.race([Promise.all(clients.map((p) => p.exited)), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      problems.push(`${c.client} client${count > 1 ? 's' : ''} did not finish within ${timeoutMs} ms`);
      return outcome();
    }
    clientExitCode = result.find((code) => code !== 0) ?? 0;
    if (clientExitCode === EXIT_UNSUPPORTED) {
      unsupported = 'client';
      problems.push(`${c.client} client exited with 127 (unsupported test case)`);
      return outcome();
    }
    result.forEach((code, i) => {
      if (code !== 0) problems.push(`${c.client} client${count > 1 ? ` ${i}` : ''} exited with ${code}`);
    });

    // The runner's check: the same file names, byte for byte, nothing missing, nothing extra.
    for (const [i, downloads] of downloadDirs.entries()) {
      const where = count > 1 ? `client ${i}: ` : '';
      const present = new Set(filesUnder(downloads));
      if (wt) {
        // WebTransport: both sides write the protocol they negotiated (the first offered).
        present.delete(NEGOTIATED_PROTOCOL_FILE);
        const negotiated = readTextOrUndefined(join(downloads, NEGOTIATED_PROTOCOL_FILE));
        if (negotiated === undefined) problems.push(`${where}no ${NEGOTIATED_PROTOCOL_FILE}`);
        else if (negotiated.trim() !== (wt.protocols[0] ?? '')) problems.push(`${where}negotiated protocol ${JSON.stringify(negotiated.trim())}, expected ${JSON.stringify(wt.protocols[0] ?? '')}`);
      }
      for (const [name, digest] of expected) {
        if (!present.has(name)) {
          problems.push(`${where}missing ${name}`);
          continue;
        }
        const actual = await sha256File(join(downloads, name));
        if (actual !== digest) problems.push(`${where}${name}: SHA-256 ${actual} != ${digest}`);
      }
      for (const name of present) if (!expected.has(name)) problems.push(`${where}unexpected file ${name}`);
    }
    return outcome();
  } finally {
    for (const client of clients) await client.stop();
    await server?.stop();
    await relay?.close();
    if (!c.keepDirectory && c.directory === undefined && process.env.INTEROP_KEEP !== '1') rmSync(root, { recursive: true, force: true });
  }

  function outcome(): InteropOutcome {
    const clientLog = clients.length === 1 ? clients[0]!.output : clients.map((p, i) => `[client ${i}]\n${p.output}`).join('\n');
    // The first client's report (each client prints its own).
    const report = /downloaded (\d+) files, (\d+) bytes in (\d+) ms/.exec(clients[0]?.output ?? '');
    if (problems.length > 0) problems.push(`(seed ${seed}, ${c.server} server, ${c.client} client, TESTCASE=${c.testcase}${c.serverTestcase ? `/${c.serverTestcase}` : ''})`);
    return {
      ok: problems.length === 0 && clientExitCode === 0,
      clientExitCode,
      problems,
      clientReport: report ? { files: Number(report[1]), bytes: Number(report[2]), elapsedMs: Number(report[3]) } : undefined,
      clientLog,
      serverLog: server?.output ?? '',
      keyLogBytes: { client: fileSize(join(dir.logs, 'client-keys.log')), server: fileSize(join(dir.logs, 'server-keys.log')) },
      relay: relay ? structuredClone(relay.statistics) : undefined,
      wire,
      rebinds: relay?.rebinds ?? 0,
      directory: root,
      unsupported,
    };
  }
}

function parseImplementation(value: string | undefined): Implementation {
  const peer = value === undefined ? undefined : findPeer(value);
  if (peer) return peer.name;
  throw new Error(`implementation must be one of ${PEERS.map((p) => p.name).join(', ')}, got ${value}`);
}

async function cli(): Promise<number> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const testcase = option('testcase', 'handshake');
  const files = RUNNER_FILES[testcase];
  if (!files) {
    process.stderr.write(`no file set for ${testcase}; known: ${Object.keys(RUNNER_FILES).join(', ')}\n`);
    return 2;
  }
  const result = await runInterop({
    server: parseImplementation(option('server', 'purequic')),
    client: parseImplementation(option('client', 'purequic')),
    ...runnerArrangement(testcase),
    files,
    crypto: option('crypto', 'auto') as CryptoProviderName,
    keepDirectory: args.includes('--keep'),
    observeWire: true,
    // The runner's link: 15 ms each way.
    delayMs: Number(option('delay', '15')),
    ...(option('loss', '') !== '' ? { loss: { rate: Number(option('loss', '0')), maxBurst: 3, seed: 1 } } : {}),
  });
  process.stdout.write(`--- server\n${result.serverLog}--- client\n${result.clientLog}---\n`);
  // The runner's packet-capture checks, as far as cleartext headers show them.
  const problems = [...result.problems, ...(result.wire ? wireChecks(testcase, result.wire, files) : [])];
  const ok = result.ok && problems.length === 0;
  process.stdout.write(ok ? `PASS ${testcase} (files and wire checks)\n` : `FAIL ${testcase}\n  ${problems.join('\n  ')}\n`);
  if (args.includes('--keep')) process.stdout.write(`files kept in ${result.directory}\n`);
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
