/**
 * A one-way simulated network link: a drop-tail bottleneck queue drained at a fixed bandwidth,
 * then propagation delay with jitter, plus random and bursty loss, reordering, duplication and
 * a per-datagram hook for tests that need to drop or alter specific packets.
 *
 * Order of effects for each datagram: hook -> MTU -> random loss -> burst loss -> queue
 * (drop-tail when full) -> serialization at the bandwidth -> delay + jitter -> reordering,
 * duplication. All randomness comes from the link's own seeded generator.
 */

import type { SimRandom } from './prng.js';

/** What a datagram hook sees besides the bytes. */
export interface DatagramInfo {
  from: string;
  to: string;
  /** Virtual time the datagram entered the link. */
  now: number;
  /** 0-based count of datagrams offered to this link before this one. */
  index: number;
}

/**
 * Per-datagram hook: return the datagram to pass (the same bytes or new ones) or `null` to drop
 * it. Used for handshake-loss tests ("drop the first Initial") and corruption tests.
 */
export type DatagramHook = (data: Uint8Array, info: DatagramInfo) => Uint8Array | null;

/** Gilbert-Elliott two-state loss: runs of losses instead of independent ones. */
export interface BurstLossConfig {
  /** Per-datagram probability of moving from the good to the bad state. */
  enterProbability: number;
  /** Per-datagram probability of moving from the bad back to the good state. */
  exitProbability: number;
  /** Loss probability in the bad state (default 1). */
  lossInBad?: number;
}

export interface LinkConfig {
  /** One-way propagation delay (ms). */
  delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs) for each datagram (ms). */
  jitterMs?: number;
  /**
   * Whether jitter may reorder datagrams. Default false: like most real paths, a datagram never
   * overtakes an earlier one because of jitter alone (use `reorderRate` for reordering).
   */
  jitterReorders?: boolean;
  /** Independent loss probability per datagram. */
  lossRate?: number;
  /** Bursty loss on top of `lossRate`. */
  burstLoss?: BurstLossConfig;
  /** Probability that a datagram is held back `reorderDelayMs` so later ones overtake it. */
  reorderRate?: number;
  /** Hold-back of a reordered datagram (ms, default 10). */
  reorderDelayMs?: number;
  /** Probability that a datagram is delivered twice. */
  duplicateRate?: number;
  /** Bottleneck rate in bits per second; unlimited when absent. */
  bandwidthBps?: number;
  /** Drop-tail queue capacity in bytes, including the datagram being serialized (default unlimited). */
  bufferBytes?: number;
  /** Datagrams larger than this are dropped (default unlimited). Tests may change it mid-run. */
  mtu?: number;
  /**
   * AQM-style ECN marking (RFC 3168 §5): an ECN-capable datagram (ECT(0) or ECT(1)) that finds
   * more than this many bytes queued ahead of it is delivered marked CE instead of being
   * delayed further; not-ECT datagrams are unaffected. Needs `bandwidthBps` (a queue).
   */
  ceThresholdBytes?: number;
  /** The path clears the ECN field of every datagram (a middlebox "bleaching" ECN). */
  ecnBleach?: boolean;
  /** Drops or modifies specific datagrams before anything else. */
  hook?: DatagramHook;
  /** How many queueing delay samples to keep (default 100,000; the sum and count continue past it). */
  maxDelaySamples?: number;
}

/** Counters for one link; byte counts are UDP payload bytes. */
export interface LinkStats {
  /** Datagrams offered to the link. */
  sent: number;
  sentBytes: number;
  /** Datagrams handed to the receiving node (duplicates included). */
  delivered: number;
  deliveredBytes: number;
  /** All drops, the sum of the four below. */
  dropped: number;
  droppedByHook: number;
  droppedByMtu: number;
  droppedByLoss: number;
  droppedByQueue: number;
  duplicated: number;
  reordered: number;
  modifiedByHook: number;
  /** Datagrams marked CE by the link (`ceThresholdBytes`). */
  ceMarked: number;
  /** Highest queue occupancy seen (bytes). */
  maxQueuedBytes: number;
  /** Time each accepted datagram waited in the queue before serialization started (ms). */
  queueDelaySamples: number[];
  queueDelaySumMs: number;
  queueDelayCount: number;
}

/** Where a link hands datagrams that survive it: the simulator's event queue. */
export interface DeliverySink {
  /** `ecn` is the codepoint the datagram arrives with (RFC 3168). */
  scheduleDelivery(time: number, link: Link, data: Uint8Array, ecn: number): void;
}

export class Link {
  readonly from: string;
  readonly to: string;
  readonly config: LinkConfig;
  readonly stats: LinkStats = {
    sent: 0,
    sentBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    dropped: 0,
    droppedByHook: 0,
    droppedByMtu: 0,
    droppedByLoss: 0,
    droppedByQueue: 0,
    duplicated: 0,
    reordered: 0,
    modifiedByHook: 0,
    ceMarked: 0,
    maxQueuedBytes: 0,
    queueDelaySamples: [],
    queueDelaySumMs: 0,
    queueDelayCount: 0,
  };
  private readonly random: SimRandom;
  private readonly sink: DeliverySink;
  private inBurst = false;
  /** Queue: finish time and size of each datagram not yet fully serialized, from `queueHead`. */
  private readonly queueFinish: number[] = [];
  private readonly queueSize: number[] = [];
  private queueHead = 0;
  private queued = 0;
  private busyUntil = 0;
  /** Latest delivery time scheduled for an in-order datagram (jitter must not reorder). */
  private lastArrival = 0;
  private offered = 0;

  constructor(from: string, to: string, config: LinkConfig, random: SimRandom, sink: DeliverySink) {
    this.from = from;
    this.to = to;
    this.config = config;
    this.random = random;
    this.sink = sink;
  }

  /** Bytes in the bottleneck queue at `now` (waiting or being serialized). */
  queuedBytes(now: number): number {
    this.drainQueue(now);
    return this.queued;
  }

  /**
   * Offers a datagram to the link at `now` with the ECN codepoint `ecn` (0 not-ECT, 1 ECT(1),
   * 2 ECT(0), 3 CE); it is delivered later, perhaps CE-marked, or dropped.
   */
  send(input: Uint8Array, now: number, ecn = 0): void {
    const cfg = this.config;
    const stats = this.stats;
    stats.sent++;
    stats.sentBytes += input.length;
    const index = this.offered++;
    let data = input;
    if (cfg.hook !== undefined) {
      const out = cfg.hook(data, { from: this.from, to: this.to, now, index });
      if (out === null) return this.drop('hook');
      if (out !== data) stats.modifiedByHook++;
      data = out;
    }
    if (cfg.mtu !== undefined && data.length > cfg.mtu) return this.drop('mtu');
    if (this.random.chance(cfg.lossRate ?? 0)) return this.drop('loss');
    const burst = cfg.burstLoss;
    if (burst !== undefined) {
      if (this.inBurst) {
        if (this.random.chance(burst.exitProbability)) this.inBurst = false;
      } else if (this.random.chance(burst.enterProbability)) this.inBurst = true;
      if (this.inBurst && this.random.chance(burst.lossInBad ?? 1)) return this.drop('loss');
    }

    if (cfg.ecnBleach === true) ecn = 0;
    let departure = now;
    if (cfg.bandwidthBps !== undefined && cfg.bandwidthBps > 0) {
      this.drainQueue(now);
      // RFC 3168 §5: an AQM marks ECN-capable packets CE when its queue builds up.
      if ((ecn === 1 || ecn === 2) && cfg.ceThresholdBytes !== undefined && this.queued > cfg.ceThresholdBytes) {
        ecn = 3;
        stats.ceMarked++;
      }
      // Drop-tail: a datagram that does not fit in the buffer is lost.
      if (this.queued + data.length > (cfg.bufferBytes ?? Number.POSITIVE_INFINITY)) return this.drop('queue');
      const start = Math.max(now, this.busyUntil);
      departure = start + (data.length * 8 * 1000) / cfg.bandwidthBps;
      this.busyUntil = departure;
      this.queueFinish.push(departure);
      this.queueSize.push(data.length);
      this.queued += data.length;
      if (this.queued > stats.maxQueuedBytes) stats.maxQueuedBytes = this.queued;
      this.recordQueueDelay(start - now);
    }

    const jitter = cfg.jitterMs !== undefined && cfg.jitterMs > 0 ? this.random.float() * cfg.jitterMs : 0;
    let arrival = departure + cfg.delayMs + jitter;
    if (this.random.chance(cfg.reorderRate ?? 0)) {
      // Held back: later datagrams overtake it; it does not hold back the ones after it.
      stats.reordered++;
      arrival += cfg.reorderDelayMs ?? 10;
    } else {
      if (cfg.jitterReorders !== true && arrival < this.lastArrival) arrival = this.lastArrival;
      this.lastArrival = arrival;
    }
    this.sink.scheduleDelivery(arrival, this, data, ecn);
    if (this.random.chance(cfg.duplicateRate ?? 0)) {
      stats.duplicated++;
      this.sink.scheduleDelivery(arrival, this, data.slice(), ecn);
    }
  }

  /** Called by the simulator when a datagram of this link reaches its destination. */
  onDelivered(data: Uint8Array): void {
    this.stats.delivered++;
    this.stats.deliveredBytes += data.length;
  }

  private drop(reason: 'hook' | 'mtu' | 'loss' | 'queue'): void {
    const stats = this.stats;
    stats.dropped++;
    if (reason === 'hook') stats.droppedByHook++;
    else if (reason === 'mtu') stats.droppedByMtu++;
    else if (reason === 'loss') stats.droppedByLoss++;
    else stats.droppedByQueue++;
  }

  private recordQueueDelay(ms: number): void {
    const stats = this.stats;
    stats.queueDelaySumMs += ms;
    stats.queueDelayCount++;
    if (stats.queueDelaySamples.length < (this.config.maxDelaySamples ?? 100_000)) stats.queueDelaySamples.push(ms);
  }

  /** Removes datagrams whose serialization finished by `now`. */
  private drainQueue(now: number): void {
    const finish = this.queueFinish;
    let h = this.queueHead;
    while (h < finish.length && (finish[h] as number) <= now) {
      this.queued -= this.queueSize[h] as number;
      h++;
    }
    if (h === finish.length) {
      finish.length = 0;
      this.queueSize.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > finish.length) {
      finish.splice(0, h);
      this.queueSize.splice(0, h);
      h = 0;
    }
    this.queueHead = h;
  }
}
