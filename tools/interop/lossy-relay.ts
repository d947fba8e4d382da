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
import { performance } from 'node:perf_hooks';
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
   * the old mapping is gone, as in a real NAT. With `atBytes`, the times are ignored: every flow
   * rebinds on its next datagram once the bytes forwarded to clients pass each threshold (sure to
   * happen mid-transfer however fast the transfer is).
   */
  rebind?: { firstMs: number; everyMs: number; changeAddress: boolean; atBytes?: number[] };
  /**
   * Corrupts datagrams instead of dropping them (runner `handshakecorruption` /
   * `transfercorruption`): chosen like loss (seeded bursts at a long-run rate), each chosen
   * datagram gets one byte XORed with a random non-zero value, so its AEAD tag (or header
   * protection) no longer matches and the receiver must discard it (RFC 9001 §5.3, §9.5).
   */
  corrupt?: LossSettings;
  /**
   * Black holes (runner `blackhole`): once the bytes forwarded to the client pass each of
   * `atBytes`, everything in both directions is dropped for `durationMs`. Triggered by bytes,
   * not by time, so that a fast loopback transfer is sure to be in the middle of its data.
   */
  blackhole?: { atBytes: number[]; durationMs: number };
  /**
   * A bottleneck link (runner `goodput` / `crosstraffic`: 10 Mbit/s, 25-packet queue): each
   * direction serialises datagrams at `bitsPerSecond` behind a drop-tail queue of
   * `queuePackets` datagrams.
   */
  bottleneck?: { bitsPerSecond: number; queuePackets: number };
}

/** Counts per direction, for assertions that loss really happened. */
export interface RelayStatistics {
  toServer: { forwarded: number; dropped: number };
  toClient: { forwarded: number; dropped: number };
  /** Datagrams given a flipped byte (with `corrupt`). */
  corrupted: number;
  /** Datagrams dropped inside a black hole (with `blackhole`), both directions. */
  blackholed: number;
  /** Datagrams dropped by the bottleneck's full queue (with `bottleneck`), both directions. */
  queueDrops: number;
  /** performance.now() of the client's first datagram and of the last one forwarded to a client. */
  firstToServerAt: number;
  lastToClientAt: number;
  /** Bytes forwarded to clients (UDP payloads). */
  toClientBytes: number;
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
  readonly statistics: RelayStatistics = { toServer: { forwarded: 0, dropped: 0 }, toClient: { forwarded: 0, dropped: 0 }, corrupted: 0, blackholed: 0, queueDrops: 0, firstToServerAt: 0, lastToClientAt: 0, toClientBytes: 0 };
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
  readonly #toServerCorrupt: BurstLoss | undefined;
  readonly #toClientCorrupt: BurstLoss | undefined;
  readonly #corruptRandom: SimRandom;
  /** Index into `rebind.atBytes` of the next trigger. */
  #nextRebindThreshold = 0;
  /** Index into `blackhole.atBytes` of the next trigger. */
  #nextBlackhole = 0;
  /** Until when (Date.now() ms) the link is dark. */
  #darkUntil = 0;
  /** Per direction: when the bottleneck finishes sending what is queued (performance.now() ms). */
  readonly #link = { toServer: { busyUntil: 0 }, toClient: { busyUntil: 0 } };

  private constructor(front: Socket, server: { address: string; port: number }, family: 'udp4' | 'udp6', loss: LossSettings, extras: RelayExtras) {
    this.#front = front;
    this.#extras = extras;
    this.#server = server;
    this.#family = family;
    this.#toServerLoss = new BurstLoss(loss, 0);
    this.#toClientLoss = new BurstLoss(loss, 1);
    this.#toServerCorrupt = extras.corrupt ? new BurstLoss(extras.corrupt, 2) : undefined;
    this.#toClientCorrupt = extras.corrupt ? new BurstLoss(extras.corrupt, 3) : undefined;
    this.#corruptRandom = new SimRandom(((extras.corrupt?.seed ?? 0) * 2 + 5) >>> 0);
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
      const created: Flow = { upstream: this.#upstream(client, undefined), client, lastSeen: Date.now(), nextRebind: rebind && !rebind.atBytes ? Date.now() + rebind.firstMs : Infinity };
      this.#flows.set(key, created);
      flow = created;
    }
    flow.lastSeen = Date.now();
    if (this.statistics.firstToServerAt === 0) this.statistics.firstToServerAt = performance.now();
    if (flow.lastSeen >= flow.nextRebind) this.#rebind(flow);
    const index = this.#toServerIndex++;
    // The random draw happens for every datagram so that a fixed drop keeps the loss pattern.
    const drop = this.#toServerLoss.drop() || (this.#extras.dropToServer?.(index) ?? false) || this.#dark();
    // The capture records what the sender sent (a flipped byte below is the link's doing).
    this.#extras.wire?.record('toServer', msg, !drop, key);
    if (drop) {
      this.statistics.toServer.dropped++;
      return;
    }
    const out = this.#maybeCorrupt(msg, this.#toServerCorrupt);
    // The mapping in force when the datagram leaves (a rebinding may happen during the delay).
    const current = flow;
    this.#through('toServer', out.length, () => current.upstream.send(out, this.#server.port, this.#server.address));
  }

  #fromServer(msg: Buffer, client: RemoteInfo): void {
    const drop = this.#toClientLoss.drop() || this.#dark();
    this.#extras.wire?.record('toClient', msg, !drop, `${client.address}|${client.port}`);
    if (drop) {
      this.statistics.toClient.dropped++;
      return;
    }
    this.statistics.toClientBytes += msg.length;
    const atBytes = this.#extras.rebind?.atBytes;
    if (atBytes && this.#nextRebindThreshold < atBytes.length && this.statistics.toClientBytes >= atBytes[this.#nextRebindThreshold]!) {
      this.#nextRebindThreshold++;
      for (const f of this.#flows.values()) f.nextRebind = 0;
    }
    const blackhole = this.#extras.blackhole;
    if (blackhole && this.#nextBlackhole < blackhole.atBytes.length && this.statistics.toClientBytes >= blackhole.atBytes[this.#nextBlackhole]!) {
      this.#nextBlackhole++;
      this.#darkUntil = Date.now() + blackhole.durationMs;
    }
    const out = this.#maybeCorrupt(msg, this.#toClientCorrupt);
    this.#through('toClient', out.length, () => {
      this.statistics.lastToClientAt = performance.now();
      this.#front.send(out, client.port, client.address);
    });
  }

  /** Inside a black hole: the datagram is dropped (counted here). */
  #dark(): boolean {
    if (this.#darkUntil === 0 || Date.now() >= this.#darkUntil) return false;
    this.statistics.blackholed++;
    return true;
  }

  /** A copy with one byte XORed with a random non-zero value, when the corruption draw says so. */
  #maybeCorrupt(msg: Buffer, corrupt: BurstLoss | undefined): Buffer {
    if (!corrupt?.drop() || msg.length === 0) return msg;
    this.statistics.corrupted++;
    const copy = Buffer.from(msg);
    const position = this.#corruptRandom.nextU32() % copy.length;
    copy[position]! ^= 1 + (this.#corruptRandom.nextU32() % 255);
    return copy;
  }

  /**
   * Forwards through the bottleneck (when configured: serialised at its rate behind a drop-tail
   * queue) and the one-way delay.
   */
  #through(direction: 'toServer' | 'toClient', bytes: number, send: () => void): void {
    const bottleneck = this.#extras.bottleneck;
    if (!bottleneck) {
      this.statistics[direction].forwarded++;
      this.#later(send, 0);
      return;
    }
    const link = this.#link[direction];
    const now = performance.now();
    // The queue holds what the link has not finished sending: its backlog, in bytes, against
    // `queuePackets` full-size (1,500-byte) packets.
    const backlogBytes = (Math.max(0, link.busyUntil - now) * bottleneck.bitsPerSecond) / 8000;
    if (backlogBytes + bytes > bottleneck.queuePackets * 1500) {
      this.statistics.queueDrops++;
      this.statistics[direction].dropped++;
      return;
    }
    this.statistics[direction].forwarded++;
    // UDP/IP headers count on the wire too (28 bytes for IPv4).
    const departure = Math.max(now, link.busyUntil) + ((bytes + 28) * 8 * 1000) / bottleneck.bitsPerSecond;
    link.busyUntil = departure;
    this.#later(send, departure - now);
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
    flow.nextRebind = rebind.atBytes ? Infinity : Date.now() + rebind.everyMs;
  }

  /** NAT rebindings so far (all flows). */
  get rebinds(): number {
    return this.#rebinds;
  }

  /** Runs `send` after the configured delay plus `queueMs` (timers of equal delay keep their order). */
  #later(send: () => void, queueMs: number): void {
    const delay = (this.#extras.delayMs ?? 0) + queueMs;
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
