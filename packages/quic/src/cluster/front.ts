/**
 * `listenCluster`: one QUIC server on several cores of one host (docs/ARCHITECTURE.md, "More
 * than one core"). The calling thread (the *front*) binds the UDP socket and starts N
 * `worker_threads` workers, each running a `QuicEndpoint` over a virtual socket with its own
 * QUIC-LB server ID (draft-ietf-quic-load-balancers-19 §5.2), so every connection ID a worker
 * issues names it. The front forwards each datagram to the worker its destination connection ID
 * names; a client's first Initials (and 0-RTT) carry a DCID the client chose, and go by a hash
 * of the client's address and port (§4 of the draft), which holds for the handshake. Datagrams
 * travel in transferred batches (batch.ts); the workers' answers come back the same way and
 * leave through the front's socket.
 *
 * Every worker gets the same `statelessResetKey` (Stateless Reset tokens, Retry and NEW_TOKEN
 * tokens derive from it) and the same session ticket secret, so a token or ticket issued on one
 * worker is good on any other.
 */

import { randomFillSync } from 'node:crypto';
import type dgram from 'node:dgram';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, Worker, type WorkerOptions } from 'node:worker_threads';
import { type QuicLbConfig, quicLbCidFactory, quicLbCidLength, quicLbServerIdAt } from '../connection/quic-lb.js';
import type { CryptoProviderName } from '../crypto/provider.js';
import { bindSocket, type ListenOptions } from '../endpoint/endpoint.js';
import { checkListenOptions } from '../endpoint/options.js';
import { BatchReader, BatchWriter, type DatagramBatch } from './batch.js';
import type { FromWorker, ToWorker, WorkerStart } from './protocol.js';

/** `close()` waits this long for the workers' endpoints to close before terminating them. */
const CLOSE_TIMEOUT_MS = 5_000;
/** Default bound on the workers' start (module load, endpoint creation). */
const DEFAULT_READY_TIMEOUT_MS = 30_000;

/** Config rotation 0, a 1-byte server ID (the worker index) and 6 nonce bytes: 8-byte CIDs. */
export const DEFAULT_CLUSTER_QUIC_LB: QuicLbConfig = { configRotation: 0, serverIdLength: 1, nonceLength: 6, lengthSelfEncoding: true };

/** `listenCluster`: `QuicEndpoint.listen`'s options (those that cross threads) and the workers. */
export interface ClusterOptions extends Omit<ListenOptions, 'quicLb' | 'protocol' | 'crypto'> {
  /** Number of worker threads (1-256 with the default QUIC-LB config): typically cores - 1. */
  workers: number;
  /**
   * The module each worker imports (path or URL): its default export receives the worker's
   * `QuicEndpoint` (see `ClusterWorkerModule`). Options that cannot cross threads (`protocol`,
   * a crypto provider object) come from its `listenOptions` export.
   */
  workerModule: string | URL;
  /** Cloneable data handed to every worker (`ClusterWorkerContext.workerData`). */
  workerData?: unknown;
  crypto?: CryptoProviderName;
  /** The QUIC-LB configuration of the workers' connection IDs (default `DEFAULT_CLUSTER_QUIC_LB`). */
  quicLb?: QuicLbConfig;
  /** Workers must have started within this (default 30 s); else `listenCluster` rejects. */
  readyTimeoutMs?: number;
  /**
   * Server ID of worker 0 (default 0); worker i has `firstServerId + i`. Several clusters behind
   * one QUIC-LB load balancer (processes, hosts) need disjoint ranges.
   */
  firstServerId?: number;
}

/** Counters of the front thread, per worker. */
export interface ClusterStats {
  /** Datagrams forwarded to each worker. */
  forwarded: number[];
  /** Of those, routed by the server ID in their destination connection ID. */
  byServerId: number[];
  /** Of those, routed by the hash of the client's address (no server ID: first Initials). */
  byAddressHash: number[];
  /** Datagrams each worker sent through the front. */
  sent: number[];
}

interface WorkerSlot {
  worker: Worker;
  port: MessagePort;
  writer: BatchWriter;
  exited: Promise<void>;
  closed: Promise<void>;
}

/** A running cluster (see `listenCluster`). */
export class QuicCluster {
  readonly #socket: dgram.Socket;
  readonly #slots: WorkerSlot[];
  readonly #config: QuicLbConfig;
  readonly #cidLength: number;
  readonly #reader = new BatchReader();
  readonly #stats: ClusterStats;
  #flushQueued = false;
  #closed: Promise<void> | undefined;
  #socketClosed = false;
  /** Workers still running, by index; a crashed worker's share of new clients goes to the others. */
  readonly #alive: boolean[];
  readonly #firstServerId: number;
  #live: number[];
  readonly #flush = (): void => {
    this.#flushQueued = false;
    for (const slot of this.#slots) slot.writer.flush();
  };

  /** @internal */
  constructor(socket: dgram.Socket, slots: WorkerSlot[], config: QuicLbConfig, firstServerId: number) {
    this.#firstServerId = firstServerId;
    this.#socket = socket;
    this.#slots = slots;
    this.#config = config;
    this.#cidLength = quicLbCidLength(config);
    this.#alive = slots.map(() => true);
    this.#live = slots.map((_, i) => i);
    const zeros = (): number[] => slots.map(() => 0);
    this.#stats = { forwarded: zeros(), byServerId: zeros(), byAddressHash: zeros(), sent: zeros() };
    socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo));
    // Send errors of unconnected UDP (e.g. EPERM from a firewall) concern one datagram: loss.
    socket.on('error', () => {});
    slots.forEach((slot, index) => {
      slot.port.on('message', (m: FromWorker) => {
        if (m.t === 'd') this.#sendBatch(index, m);
      });
      // A worker that ends before close() (its module threw, it exited): its connections are
      // lost, and datagrams naming it go to a live worker, which answers those of established
      // connections with a Stateless Reset (RFC 9000 §10.3) and accepts new clients.
      void slot.exited.then(() => {
        this.#alive[index] = false;
        this.#live = this.#live.filter((i) => i !== index);
      });
    });
  }

  /** The bound address of the cluster's UDP socket. */
  get address(): { address: string; port: number; family: string } {
    return this.#socket.address();
  }

  /**
   * The worker threads, in server ID order: for the application's own messages
   * (`worker.postMessage` here, `parentPort` in the worker module).
   */
  get workers(): readonly Worker[] {
    return this.#slots.map((s) => s.worker);
  }

  /** A snapshot of the front's counters. */
  stats(): ClusterStats {
    const s = this.#stats;
    return { forwarded: [...s.forwarded], byServerId: [...s.byServerId], byAddressHash: [...s.byAddressHash], sent: [...s.sent] };
  }

  #onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length === 0) return;
    let index: number;
    // RFC 9000 §17.2 / §17.3: the DCID follows its length byte (long header) or the first byte.
    if ((msg[0]! & 0x80) !== 0) index = msg.length > 6 ? quicLbServerIdAt(this.#config, msg, 6, msg[5]!) : -1;
    else index = quicLbServerIdAt(this.#config, msg, 1, this.#cidLength);
    // Not one of ours (another cluster's ID, or none): -1 or past the end.
    if (index >= 0) index -= this.#firstServerId;
    if (index >= 0 && this.#alive[index] === true) {
      this.#stats.byServerId[index]!++;
    } else {
      const live = this.#live;
      if (live.length === 0) return;
      index = live[addressHash(rinfo.address, rinfo.port) % live.length]!;
      this.#stats.byAddressHash[index]!++;
    }
    this.#stats.forwarded[index]!++;
    this.#slots[index]!.writer.append(msg, 0, msg.length, rinfo.port, rinfo.address, rinfo.family);
    if (!this.#flushQueued) {
      // After this poll phase: the datagrams node:dgram delivered in it go in one batch per worker.
      this.#flushQueued = true;
      setImmediate(this.#flush);
    }
  }

  #sendBatch(index: number, batch: DatagramBatch): void {
    if (this.#socketClosed) return;
    let sent = 0;
    this.#reader.read(batch, (data, port, address) => {
      sent++;
      this.#socket.send(data, 0, data.length, port, address);
    });
    this.#stats.sent[index]! += sent;
  }

  /**
   * Closes every worker's endpoint (its connections get CONNECTION_CLOSE), terminates the
   * workers and closes the socket. Resolves within ~5 s even if a worker hangs; idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closed = (async () => {
      for (const slot of this.#slots) postToWorker(slot.port, { t: 'close' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#slots.map((s) => Promise.race([s.closed, s.exited]))),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      await Promise.all(this.#slots.map((s) => s.worker.terminate().then(() => s.exited)));
      for (const slot of this.#slots) slot.port.close();
      this.#socketClosed = true;
      await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    })();
    return this.#closed;
  }
}

function postToWorker(port: MessagePort, message: ToWorker): void {
  if (message.t === 'd') port.postMessage(message, [message.buffer]);
  else port.postMessage(message);
}

/** The worker a datagram without a server ID from `address:port` goes to while all run (tests, diagnostics). */
export function workerForAddress(address: string, port: number, workers: number): number {
  return addressHash(address, port) % workers;
}

/** FNV-1a over the client's address and port: the worker for datagrams without a server ID. */
function addressHash(address: string, port: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (port & 0xff), 0x01000193);
  h = Math.imul(h ^ (port >>> 8), 0x01000193);
  return h >>> 0;
}

function checkClusterOptions(options: ClusterOptions): void {
  const where = 'listenCluster';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  const { workers, workerModule } = options;
  const config = options.quicLb ?? DEFAULT_CLUSTER_QUIC_LB;
  try {
    quicLbCidFactory(config, new Uint8Array(Number(config.serverIdLength) || 1), (n) => new Uint8Array(n));
  } catch (e) {
    throw new RangeError(`${where}: options.quicLb: ${(e as Error).message}`);
  }
  // The front reads server IDs as numbers (quicLbServerIdAt).
  if (config.serverIdLength > 6) throw new RangeError(`${where}: options.quicLb.serverIdLength must be at most 6, got ${config.serverIdLength}`);
  const ids = Math.min(2 ** (8 * Math.min(config.serverIdLength, 6)), Number.MAX_SAFE_INTEGER);
  const first = options.firstServerId ?? 0;
  if (typeof first !== 'number' || !Number.isSafeInteger(first) || first < 0 || first >= ids) {
    throw new RangeError(`${where}: options.firstServerId must be an integer from 0 to ${ids - 1}, got ${String(first)}`);
  }
  const maxWorkers = Math.min(ids - first, 65_536);
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > maxWorkers) {
    throw new RangeError(`${where}: options.workers must be an integer from 1 to ${maxWorkers}, got ${String(workers)}`);
  }
  if (typeof workerModule !== 'string' && !(workerModule instanceof URL)) throw new TypeError(`${where}: options.workerModule must be a path or URL of the worker module`);
  for (const key of ['protocol', 'quicLb'] as const) {
    const value = (options as unknown as Record<string, unknown>)[key];
    if (typeof value === 'function') throw new TypeError(`${where}: options.${key} cannot cross threads: export it from the worker module's listenOptions`);
  }
  if (options.crypto !== undefined && typeof options.crypto !== 'string') {
    throw new TypeError(`${where}: options.crypto must be a provider name here; a provider object comes from the worker module's listenOptions`);
  }
  // The rest as QuicEndpoint.listen checks it (a worker's QUIC-LB option is checked there too).
  const { workers: _w, workerModule: _m, workerData: _d, readyTimeoutMs: _r, quicLb: _q, firstServerId: _f, ...listen } = options;
  checkListenOptions({ ...listen, quicLb: { config, serverId: new Uint8Array(config.serverIdLength) } });
}

function random32(): Uint8Array {
  return randomFillSync(new Uint8Array(32));
}

/**
 * Starts the worker bootstrap next to this file. From the built package that is worker-main.js.
 * Run from the TypeScript sources (the workspace's `@purequic/source` condition, under tsx), the
 * bootstrap is a .ts file, and tsx's `--import` hook does not register itself in worker threads
 * on Node 20: a one-line entry registers it first (tsx resolved from this file, as in the workspace).
 */
function startWorker(options: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker-main.js', import.meta.url), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = new URL('./worker-main.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(bootstrap)}));`;
  // Preloads of .ts files (the test runner's hooks) cannot load before that entry: left out.
  const execArgv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i]!;
    if (arg === '--import' && process.execArgv[i + 1]?.endsWith('.ts')) i++;
    else if (!(arg.startsWith('--import=') && arg.endsWith('.ts'))) execArgv.push(arg);
  }
  return new Worker(code, { ...options, eval: true, execArgv });
}

/**
 * Starts a QUIC server on `options.workers` worker threads behind one UDP socket; resolves once
 * every worker listens. The application's code runs in the workers: `workerModule`'s default
 * export gets each worker's `QuicEndpoint` (see `ClusterWorkerModule` and the README).
 */
export async function listenCluster(options: ClusterOptions): Promise<QuicCluster> {
  checkClusterOptions(options);
  const config = options.quicLb ?? DEFAULT_CLUSTER_QUIC_LB;
  const { workers: count, workerModule, workerData, readyTimeoutMs, quicLb: _q, firstServerId = 0, ...listen } = options;
  const moduleUrl = workerModule instanceof URL ? workerModule.href : isAbsolute(workerModule) ? pathToFileURL(workerModule).href : workerModule;
  const shared = {
    ...listen,
    // One key for all: Stateless Reset, Retry and NEW_TOKEN tokens work on any worker.
    statelessResetKey: options.statelessResetKey ?? random32(),
    sessionTicketSecret: options.sessionTicketSecret ?? random32(),
  };
  const socket = await bindSocket(options.host ?? '::', options.port);
  const local = socket.address();
  const slots: WorkerSlot[] = [];
  const ready: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const channel = new MessageChannel();
    const start: WorkerStart = {
      port: channel.port2,
      index,
      workers: count,
      serverId: serverIdBytes(firstServerId + index, config.serverIdLength),
      config,
      listen: shared,
      moduleUrl,
      local: { address: local.address, port: local.port, family: local.family },
      workerData,
    };
    const worker = startWorker({ workerData: start, transferList: [channel.port2] });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    let onClosed!: () => void;
    const closed = new Promise<void>((resolve) => (onClosed = resolve));
    ready.push(
      new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        void exited.then(() => reject(new Error(`cluster worker ${index} exited while starting`)));
        channel.port1.on('message', (m: FromWorker) => {
          if (m.t === 'ready') resolve();
          else if (m.t === 'error') reject(new Error(`cluster worker ${index}: ${m.message}`));
          else if (m.t === 'closed') onClosed();
        });
      }),
    );
    const port = channel.port1;
    slots.push({ worker, port, exited, closed, writer: new BatchWriter((batch) => postToWorker(port, { t: 'd', ...batch })) });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(ready),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`listenCluster: workers did not start within ${readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS} ms`)), readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) s.port.close();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    throw e;
  } finally {
    clearTimeout(timer);
  }
  // An error after the start (the application's code threw) ends that worker; log it, and keep
  // the listener so it is not an uncaught 'error' of the front.
  slots.forEach((s, i) => s.worker.on('error', (e) => console.error(`purequic cluster worker ${i}:`, e)));
  return new QuicCluster(socket, slots, config, firstServerId);
}

function serverIdBytes(index: number, length: number): Uint8Array {
  const id = new Uint8Array(length);
  for (let i = length - 1, v = index; i >= 0; i--, v = Math.floor(v / 256)) id[i] = v & 0xff;
  return id;
}
