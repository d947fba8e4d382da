/**
 * Deterministic network simulator on virtual time, for tests and congestion scenarios.
 *
 * Nodes (`SimNode`) are attached at string addresses and connected by one-way `Link`s. The
 * driver `runUntil` alternates: collect every node's outgoing datagrams, then jump the virtual
 * clock to the earliest pending event (a datagram arrival or a node timer) and process what is
 * due. Nothing reads a real clock; given the same seed, nodes and calls, a run replays exactly.
 * Every run is bounded by `maxTime` and `maxEvents`.
 */

import { EventQueue } from './event-queue.js';
import { Link, type DeliverySink, type LinkConfig } from './link.js';
import type { SimNode } from './node.js';
import { SimRandom } from './prng.js';

export interface SimulatorOptions {
  /** Seed of every random choice the links make. */
  seed: number;
  /** Virtual time at the start (ms, default 0). */
  startTime?: number;
  /** Record a `trace` of every send, drop, delivery and timer (default false). */
  recordTrace?: boolean;
  /** Most datagrams taken from one node per polling round (default 10,000): stops a runaway node. */
  maxTransmitsPerPoll?: number;
}

export interface RunLimits {
  /** Absolute virtual time (ms) to stop at; default now + 60,000. */
  maxTime?: number;
  /** Most deliveries + timer firings to process; default 1,000,000. */
  maxEvents?: number;
}

export type RunStopReason = 'predicate' | 'idle' | 'maxTime' | 'maxEvents';

export interface RunResult {
  /** True if the predicate held when the run stopped. */
  satisfied: boolean;
  reason: RunStopReason;
  /** Virtual time at the end. */
  now: number;
  /** Deliveries and timer firings processed by this run. */
  events: number;
}

/** One line of the simulator's trace. `size` is the datagram length (0 for timers). */
export interface TraceEntry {
  time: number;
  kind: 'send' | 'deliver' | 'drop' | 'timeout' | 'unroutable';
  from: string;
  to: string;
  size: number;
}

interface Delivery {
  link: Link;
  data: Uint8Array;
  ecn: number;
}

interface NodeEntry {
  address: string;
  node: SimNode;
}

export class Simulator implements DeliverySink {
  private _now: number;
  private readonly random: SimRandom;
  private readonly nodes: NodeEntry[] = [];
  private readonly nodeByAddress = new Map<string, SimNode>();
  private readonly links = new Map<string, Link>();
  private readonly queue = new EventQueue<Delivery>();
  private readonly maxTransmitsPerPoll: number;
  /** Every send, drop, delivery and timer firing in order, when `recordTrace` is on. */
  readonly trace: TraceEntry[] | undefined;
  /** Datagrams sent to an address with no link from the sender. */
  unroutable = 0;

  constructor(options: SimulatorOptions) {
    this._now = options.startTime ?? 0;
    this.random = new SimRandom(options.seed);
    this.maxTransmitsPerPoll = options.maxTransmitsPerPoll ?? 10_000;
    this.trace = options.recordTrace === true ? [] : undefined;
  }

  /** Current virtual time (ms). */
  get now(): number {
    return this._now;
  }

  /** Datagrams in flight on all links. */
  get inFlight(): number {
    return this.queue.size;
  }

  /** Attaches `node` at `address` (e.g. "10.0.0.1:4433"). */
  addNode(address: string, node: SimNode): void {
    if (this.nodeByAddress.has(address)) throw new Error(`address ${address} already in use`);
    this.nodes.push({ address, node });
    this.nodeByAddress.set(address, node);
  }

  /**
   * Makes `node` (already added elsewhere) reachable at another `address` too, without polling
   * it twice: a multi-homed host, or a client that moves to a new local address and sends
   * from it with `SimTransmit.from`.
   */
  alias(address: string, node: SimNode): void {
    if (this.nodeByAddress.has(address)) throw new Error(`address ${address} already in use`);
    this.nodeByAddress.set(address, node);
  }

  /** The node at `address`. */
  node(address: string): SimNode | undefined {
    return this.nodeByAddress.get(address);
  }

  /** Adds a one-way link; each link draws from its own generator forked from the seed. */
  addLink(from: string, to: string, config: LinkConfig): Link {
    const key = linkKey(from, to);
    if (this.links.has(key)) throw new Error(`link ${from} -> ${to} already exists`);
    const link = new Link(from, to, config, this.random.fork(), this);
    this.links.set(key, link);
    return link;
  }

  /** Adds links both ways, `back` (default: the same settings) for `b` -> `a`. */
  connect(a: string, b: string, config: LinkConfig, back: LinkConfig = config): [Link, Link] {
    return [this.addLink(a, b, config), this.addLink(b, a, back)];
  }

  /** The link from `from` to `to`, if any. */
  link(from: string, to: string): Link | undefined {
    return this.links.get(linkKey(from, to));
  }

  /** Sends a datagram from `from` to `to` through their link, as if `from` had sent it now. */
  inject(from: string, to: string, data: Uint8Array, ecn = 0): void {
    this.route(from, to, data.slice(), ecn);
  }

  /** @internal Called by links: queue a surviving datagram for delivery at `time`. */
  scheduleDelivery(time: number, link: Link, data: Uint8Array, ecn: number): void {
    this.queue.push(time, { link, data, ecn });
  }

  /**
   * Advances virtual time until `predicate` holds, nothing is left to do ("idle"), or a limit
   * is hit. The predicate is checked after every step, before time moves on.
   */
  runUntil(predicate: (sim: Simulator) => boolean, limits: RunLimits = {}): RunResult {
    const maxTime = limits.maxTime ?? this._now + 60_000;
    const maxEvents = limits.maxEvents ?? 1_000_000;
    let events = 0;
    // Each round processes at least one event or returns, so maxEvents bounds the loop.
    for (;;) {
      this.pollAll();
      if (predicate(this)) return this.result(true, 'predicate', events);
      let next = this.queue.peekTime() ?? Number.POSITIVE_INFINITY;
      for (const { node } of this.nodes) {
        const t = node.nextTimeout();
        if (t !== undefined && t < next) next = t;
      }
      if (next === Number.POSITIVE_INFINITY) return this.result(false, 'idle', events);
      if (next > maxTime) {
        this._now = Math.max(this._now, maxTime);
        return this.result(false, 'maxTime', events);
      }
      if (events >= maxEvents) return this.result(false, 'maxEvents', events);
      if (next > this._now) this._now = next;
      events += this.processDue(maxEvents - events);
    }
  }

  /** Runs until idle or a limit: `runUntil` with a predicate that never holds. */
  run(limits: RunLimits = {}): RunResult {
    return this.runUntil(() => false, limits);
  }

  /** Processes deliveries and timers due at `now`, at most `budget` of them. */
  private processDue(budget: number): number {
    const now = this._now;
    let done = 0;
    while (done < budget) {
      const t = this.queue.peekTime();
      if (t === undefined || t > now) break;
      const d = this.queue.pop() as Delivery;
      done++;
      const target = this.nodeByAddress.get(d.link.to);
      d.link.onDelivered(d.data);
      this.trace?.push({ time: now, kind: 'deliver', from: d.link.from, to: d.link.to, size: d.data.length });
      target?.handleDatagram(d.data, d.link.from, now, d.ecn, d.link.to);
    }
    for (const { address, node } of this.nodes) {
      if (done >= budget) break;
      const t = node.nextTimeout();
      if (t === undefined || t > now) continue;
      done++;
      this.trace?.push({ time: now, kind: 'timeout', from: address, to: address, size: 0 });
      node.handleTimeout(now);
    }
    return done;
  }

  /** Collects every node's outgoing datagrams, in node order. */
  private pollAll(): void {
    const now = this._now;
    for (const { address, node } of this.nodes) {
      for (let i = 0; i < this.maxTransmitsPerPoll; i++) {
        const tx = node.pollTransmit(now);
        if (tx === undefined) break;
        // Copy: a sans-IO node may reuse its transmit buffer.
        this.route(tx.from ?? address, tx.to, tx.data.slice(), tx.ecn ?? 0);
      }
    }
  }

  private route(from: string, to: string, data: Uint8Array, ecn: number): void {
    const link = this.links.get(linkKey(from, to));
    if (link === undefined) {
      this.unroutable++;
      this.trace?.push({ time: this._now, kind: 'unroutable', from, to, size: data.length });
      return;
    }
    const droppedBefore = link.stats.dropped;
    link.send(data, this._now, ecn);
    if (this.trace !== undefined) {
      const kind = link.stats.dropped > droppedBefore ? 'drop' : 'send';
      this.trace.push({ time: this._now, kind, from, to, size: data.length });
    }
  }

  private result(satisfied: boolean, reason: RunStopReason, events: number): RunResult {
    return { satisfied, reason, now: this._now, events };
  }
}

function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}
