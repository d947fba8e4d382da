/**
 * A router node holding ONE bottleneck `Link` that every flow's data direction goes through,
 * so several connections queue in the same drop-tail buffer and share its bandwidth.
 *
 * The simulator keys its links by (from, to) pair, so two client/server pairs would otherwise
 * get two separate links. Here each server sends to the router's address; the router knows
 * which client each server talks to (`routes`), offers the datagram to its shared link, and
 * when the link delivers it (the link calls `scheduleDelivery` synchronously from `send`)
 * emits it towards that client through an ordinary zero-delay simulator link. The bottleneck's
 * own `delayMs` is the one-way propagation delay of the data direction.
 */

import { Link, type DeliverySink, type LinkConfig } from '../../src/sim/link.js';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import type { SimRandom } from '../../src/sim/prng.js';

/** One accepted datagram's wait in the bottleneck queue, with the time it arrived. */
export interface QueueDelaySample {
  time: number;
  delayMs: number;
}

export class BottleneckRouter implements SimNode, DeliverySink {
  readonly link: Link;
  /** Queueing delay of every datagram the link accepted, in arrival order. */
  readonly queueDelays: QueueDelaySample[] = [];
  /** Bytes the link accepted into its queue (so serialized, now or later). */
  acceptedBytes = 0;
  /** Destination address per source address (server -> its client). */
  private readonly routes = new Map<string, string>();
  /** Datagrams leaving the link, in delivery order (no jitter or reordering on the bottleneck). */
  private readonly outTime: number[] = [];
  private readonly outData: Uint8Array[] = [];
  private readonly outTo: string[] = [];
  private outHead = 0;
  /** Destination of the datagram being offered to the link right now. */
  private offeredTo = '';

  constructor(address: string, config: LinkConfig, random: SimRandom) {
    if ((config.jitterMs ?? 0) > 0 || (config.reorderRate ?? 0) > 0 || (config.duplicateRate ?? 0) > 0) {
      // The FIFO below relies on the link delivering in order.
      throw new Error('the shared bottleneck supports no jitter, reordering or duplication');
    }
    this.link = new Link(address, 'clients', { ...config, maxDelaySamples: 0 }, random, this);
  }

  /** Datagrams from `source` are forwarded to `destination`. */
  addRoute(source: string, destination: string): void {
    this.routes.set(source, destination);
  }

  /** Queue delay a datagram arriving at `now` would see (ms). */
  queueDelayAt(now: number): number {
    const bps = this.link.config.bandwidthBps;
    return bps === undefined ? 0 : (this.link.queuedBytes(now) * 8000) / bps;
  }

  handleDatagram(data: Uint8Array, from: string, now: number): void {
    const to = this.routes.get(from);
    if (to === undefined) return;
    const stats = this.link.stats;
    const accepted = stats.queueDelayCount;
    const delaySum = stats.queueDelaySumMs;
    this.offeredTo = to;
    this.link.send(data, now);
    // maxDelaySamples is 0, so read this datagram's delay from the running sum instead.
    if (stats.queueDelayCount > accepted) {
      this.acceptedBytes += data.length;
      this.queueDelays.push({ time: now, delayMs: stats.queueDelaySumMs - delaySum });
    }
  }

  /** @internal The shared link hands over a datagram that survived it. */
  scheduleDelivery(time: number, _link: Link, data: Uint8Array): void {
    this.outTime.push(time);
    this.outData.push(data);
    this.outTo.push(this.offeredTo);
  }

  pollTransmit(now: number): SimTransmit | undefined {
    const h = this.outHead;
    if (h >= this.outTime.length || (this.outTime[h] as number) > now) return undefined;
    const tx = { to: this.outTo[h] as string, data: this.outData[h] as Uint8Array };
    this.link.onDelivered(tx.data);
    this.outHead = h + 1;
    if (this.outHead > 4096 && this.outHead * 2 > this.outTime.length) this.compact();
    return tx;
  }

  nextTimeout(): number | undefined {
    return this.outHead < this.outTime.length ? this.outTime[this.outHead] : undefined;
  }

  handleTimeout(_now: number): void {
    // Nothing to do: the simulator polls `pollTransmit` right after, which releases what is due.
  }

  private compact(): void {
    const h = this.outHead;
    this.outTime.splice(0, h);
    this.outData.splice(0, h);
    this.outTo.splice(0, h);
    this.outHead = 0;
  }
}
