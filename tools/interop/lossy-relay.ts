/**
 * A lossy UDP relay for the tiny runner: it stands between client and server on loopback and
 * drops datagrams in bursts, the way the interop runner's network simulator does for its
 * `transferloss` and `handshakeloss` cases ("2% / 30% loss in bursts of up to 3"). Without it
 * those cases cannot happen over loopback.
 *
 * Each direction draws from its own seeded generator (`BurstLoss`): bursts of 1 to `maxBurst`
 * drops with at least one datagram through between them, at a long-run rate of `rate`. The
 * order of datagrams and the timing come from the real sockets, so runs are not bit-for-bit
 * reproducible.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { SimRandom } from '@purequic/quic/sans-io';
import type { WireLog } from './wire-log.js';

export interface LossSettings {
  /** Long-run fraction of datagrams dropped in each direction (0-1). */
  rate: number;
  /** Longest burst of consecutive drops (the runner uses 3). */
  maxBurst: number;
  seed: number;
}

/** Beyond random loss: a capture of what passed, and drops at fixed positions. */
export interface RelayExtras {
  /** Records every datagram (both directions) and whether it was forwarded. */
  wire?: WireLog;
  /**
   * Drops the client's datagrams at these 0-based indices (all flows counted together), e.g.
   * the runner's amplificationlimit drops the client's packets 2-7 (indices 1-6).
   */
  dropToServer?: (index: number) => boolean;
  /**
   * One-way delay added to every datagram, in ms (the runner's simulator has 15 ms): over bare
   * loopback a handshake completes before a client has written its 0-RTT requests.
   */
  delayMs?: number;
  /**
   * A NAT that rebinds (runner `rebind-port` / `rebind-addr`): every `everyMs` ms, starting
   * `firstMs` ms after a flow's first datagram, the flow's traffic to the server leaves from a
   * new port (and, with `changeAddress`, from another IPv4 loopback address, 127.0.0.2 upwards);
   * the old mapping is gone, as in a real NAT.
   */
  rebind?: { firstMs: number; everyMs: number; changeAddress: boolean };
}

/** Counts per direction, for assertions that loss really happened. */
export interface RelayStatistics {
  toServer: { forwarded: number; dropped: number };
  toClient: { forwarded: number; dropped: number };
}

/**
 * Drop decisions for one direction: bursts of 1..maxBurst drops (uniform, mean B), at least one
 * datagram through between bursts, and a burst starting on each other datagram with probability
 * p. One cycle is then B drops, 1 forced pass and (1-p)/p further passes on average, B + 1/p
 * datagrams in all, so the long-run drop rate is B / (B + 1/p); p = rate / (B (1 - rate)) makes
 * it `rate` (p <= 1 while rate <= B / (B + 1)).
 */
export class BurstLoss {
  readonly #random: SimRandom;
  readonly #startProbability: number;
  readonly #maxBurst: number;
  #remaining = 0;
  #mustPass = false;

  constructor(settings: LossSettings, stream: number) {
    this.#random = new SimRandom((settings.seed * 2 + stream) >>> 0);
    this.#maxBurst = Math.max(1, Math.floor(settings.maxBurst));
    const meanBurst = (1 + this.#maxBurst) / 2;
    const rate = Math.min(Math.max(settings.rate, 0), 0.99);
    this.#startProbability = Math.min(1, rate / (meanBurst * (1 - rate)));
  }

  /** Whether to drop the next datagram. */
  drop(): boolean {
    if (this.#remaining > 0) {
      this.#remaining--;
      if (this.#remaining === 0) this.#mustPass = true;
      return true;
    }
    if (this.#mustPass) {
      this.#mustPass = false;
      return false;
    }
    if (this.#random.nextU32() / 2 ** 32 >= this.#startProbability) return false;
    // This datagram plus 0..maxBurst-1 more.
    this.#remaining = this.#random.nextU32() % this.#maxBurst;
    if (this.#remaining === 0) this.#mustPass = true;
    return true;
  }
}

/** Idle client flows are forgotten after this (a flow is one client address and port). */
const FLOW_IDLE_MS = 60_000;

/** One client address and port, and the socket its traffic leaves from towards the server. */
interface Flow {
  upstream: Socket;
  client: RemoteInfo;
  lastSeen: number;
  /** When the NAT rebinds this flow next (Infinity: never). */
  nextRebind: number;
}

export class LossyRelay {
  readonly statistics: RelayStatistics = { toServer: { forwarded: 0, dropped: 0 }, toClient: { forwarded: 0, dropped: 0 } };
  readonly #front: Socket;
  readonly #server: { address: string; port: number };
  readonly #family: 'udp4' | 'udp6';
  readonly #toServerLoss: BurstLoss;
  readonly #toClientLoss: BurstLoss;
  /** One upstream socket per client address, so the server sees distinct clients. */
  readonly #flows = new Map<string, Flow>();
  #rebinds = 0;
  #sweep: NodeJS.Timeout | undefined;
  readonly #extras: RelayExtras;
  #toServerIndex = 0;
  #closed = false;

  private constructor(front: Socket, server: { address: string; port: number }, family: 'udp4' | 'udp6', loss: LossSettings, extras: RelayExtras) {
    this.#front = front;
    this.#extras = extras;
    this.#server = server;
    this.#family = family;
    this.#toServerLoss = new BurstLoss(loss, 0);
    this.#toClientLoss = new BurstLoss(loss, 1);
    front.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo));
    this.#sweep = setInterval(() => this.#forgetIdleFlows(), FLOW_IDLE_MS / 2);
    this.#sweep.unref();
  }

  /** Starts a relay on a free port of `host` forwarding to `server`. */
  static async start(host: string, server: { address: string; port: number }, loss: LossSettings, extras: RelayExtras = {}): Promise<LossyRelay> {
    const family = host.includes(':') ? 'udp6' : 'udp4';
    const front = createSocket(family);
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, host, () => {
        front.off('error', reject);
        resolve();
      });
    });
    return new LossyRelay(front, server, family, loss, extras);
  }

  get port(): number {
    return this.#front.address().port;
  }

  #fromClient(msg: Buffer, client: RemoteInfo): void {
    const key = `${client.address}|${client.port}`;
    let flow = this.#flows.get(key);
    if (!flow) {
      const rebind = this.#extras.rebind;
      const created: Flow = { upstream: this.#upstream(client, undefined), client, lastSeen: Date.now(), nextRebind: rebind ? Date.now() + rebind.firstMs : Infinity };
      this.#flows.set(key, created);
      flow = created;
    }
    flow.lastSeen = Date.now();
    if (flow.lastSeen >= flow.nextRebind) this.#rebind(flow);
    const index = this.#toServerIndex++;
    // The random draw happens for every datagram so that a fixed drop keeps the loss pattern.
    const drop = this.#toServerLoss.drop() || (this.#extras.dropToServer?.(index) ?? false);
    this.#extras.wire?.record('toServer', msg, !drop, key);
    if (drop) {
      this.statistics.toServer.dropped++;
      return;
    }
    this.statistics.toServer.forwarded++;
    // The mapping in force when the datagram leaves (a rebinding may happen during the delay).
    const current = flow;
    this.#later(() => current.upstream.send(msg, this.#server.port, this.#server.address));
  }

  #fromServer(msg: Buffer, client: RemoteInfo): void {
    const drop = this.#toClientLoss.drop();
    this.#extras.wire?.record('toClient', msg, !drop, `${client.address}|${client.port}`);
    if (drop) {
      this.statistics.toClient.dropped++;
      return;
    }
    this.statistics.toClient.forwarded++;
    this.#later(() => this.#front.send(msg, client.port, client.address));
  }

  /** A socket for a flow's traffic to the server; replies go back to `client`. */
  #upstream(client: RemoteInfo, address: string | undefined): Socket {
    const upstream = createSocket(this.#family);
    upstream.on('message', (reply) => this.#fromServer(reply, client));
    upstream.on('error', () => undefined); // ICMP errors after the server stops: nothing to do
    upstream.bind(0, address);
    return upstream;
  }

  /** The NAT gives the flow a new port (and maybe address); the old mapping stops working. */
  #rebind(flow: Flow): void {
    const rebind = this.#extras.rebind!;
    this.#rebinds++;
    // 127.0.0.2 ... 127.0.0.254: all of 127/8 is loopback on Linux.
    const address = rebind.changeAddress && this.#family === 'udp4' ? `127.0.0.${2 + (this.#rebinds % 253)}` : undefined;
    flow.upstream.close();
    flow.upstream = this.#upstream(flow.client, address);
    flow.nextRebind = Date.now() + rebind.everyMs;
  }

  /** NAT rebindings so far (all flows). */
  get rebinds(): number {
    return this.#rebinds;
  }

  /** Runs `send` after the configured delay (timers of equal delay keep their order). */
  #later(send: () => void): void {
    const delay = this.#extras.delayMs ?? 0;
    if (delay <= 0) {
      send();
      return;
    }
    setTimeout(() => {
      if (this.#closed) return;
      try {
        send();
      } catch {
        // The flow's socket was closed meanwhile (idle sweep): the datagram is lost.
      }
    }, delay);
  }

  #forgetIdleFlows(): void {
    const cutoff = Date.now() - FLOW_IDLE_MS;
    for (const [key, flow] of this.#flows) {
      if (flow.lastSeen < cutoff) {
        flow.upstream.close();
        this.#flows.delete(key);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const flow of this.#flows.values()) flow.upstream.close();
    this.#flows.clear();
    await new Promise<void>((resolve) => this.#front.close(() => resolve()));
  }
}
