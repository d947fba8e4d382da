/**
 * The shared-bottleneck router the congestion scenarios use, and their statistics: two sources
 * queue in ONE link (one bandwidth, one buffer), each datagram reaches its own destination.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';
import { BottleneckRouter } from './bottleneck.js';
import { jainIndex, mean, quantile } from './metrics.js';

/** Sends `count` datagrams of `size` bytes to `to` at time 0; records what it receives. */
class Blaster implements SimNode {
  readonly received: { time: number; from: string; size: number; tag: number }[] = [];
  private left: number;
  constructor(
    readonly to: string,
    readonly tag: number,
    count: number,
    readonly size: number,
  ) {
    this.left = count;
  }
  handleDatagram(data: Uint8Array, from: string, now: number): void {
    this.received.push({ time: now, from, size: data.length, tag: data[0]! });
  }
  pollTransmit(): SimTransmit | undefined {
    if (this.left === 0) return undefined;
    this.left--;
    return { to: this.to, data: new Uint8Array(this.size).fill(this.tag) };
  }
  nextTimeout(): number | undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

function network(bufferBytes: number) {
  const sim = new Simulator({ seed: 3 });
  // 8 Mbit/s: a 1,000-byte datagram takes 1 ms to serialize; 10 ms one-way delay.
  const router = new BottleneckRouter('router', { delayMs: 10, bandwidthBps: 8_000_000, bufferBytes }, new SimRandom(4));
  const a = new Blaster('router', 1, 10, 1000);
  const b = new Blaster('router', 2, 10, 1000);
  const sinkA = new Blaster('nowhere', 0, 0, 0);
  const sinkB = new Blaster('nowhere', 0, 0, 0);
  sim.addNode('router', router);
  for (const [name, node] of [['a', a], ['b', b], ['sinkA', sinkA], ['sinkB', sinkB]] as const) sim.addNode(name, node);
  sim.addLink('a', 'router', { delayMs: 0 });
  sim.addLink('b', 'router', { delayMs: 0 });
  sim.addLink('router', 'sinkA', { delayMs: 0 });
  sim.addLink('router', 'sinkB', { delayMs: 0 });
  router.addRoute('a', 'sinkA');
  router.addRoute('b', 'sinkB');
  return { sim, router, sinkA, sinkB };
}

test('two sources share one queue: 20 datagrams serialize one after another at the one rate', () => {
  const { sim, router, sinkA, sinkB } = network(1_000_000);
  sim.run({ maxTime: 1_000 });
  assert.is(sinkA.received.length, 10);
  assert.is(sinkB.received.length, 10);
  assert.ok(sinkA.received.every((r) => r.tag === 1));
  assert.ok(sinkB.received.every((r) => r.tag === 2));
  // All 20 arrive at 1 ms spacing from 11 ms (serialization + delay): one shared link, not two.
  const times = [...sinkA.received, ...sinkB.received].map((r) => r.time).sort((x, y) => x - y);
  assert.equal(times, Array.from({ length: 20 }, (_, i) => 11 + i));
  // Queue delays 0, 1, ..., 19 ms in arrival order.
  assert.equal(router.queueDelays.map((s) => s.delayMs), Array.from({ length: 20 }, (_, i) => i));
  assert.is(router.acceptedBytes, 20_000);
  assert.is(router.link.stats.deliveredBytes, 20_000);
});

test('the shared buffer is drop-tail across both sources', () => {
  const { sim, router, sinkA, sinkB } = network(5_000);
  sim.run({ maxTime: 1_000 });
  // a's 10 datagrams are offered first (node order): 5 fit, the rest and all of b's are dropped.
  assert.is(sinkA.received.length, 5);
  assert.is(sinkB.received.length, 0);
  assert.is(router.link.stats.droppedByQueue, 15);
  assert.is(router.acceptedBytes, 5_000);
});

test('queueDelayAt reports the queue as time at the link rate', () => {
  const { sim, router } = network(1_000_000);
  sim.runUntil(() => router.acceptedBytes === 20_000, { maxTime: 1 });
  assert.is(router.queueDelayAt(0), 20);
  assert.is(router.queueDelayAt(5), 15);
});

test('Jain\'s index: 1 for equal shares, 1/n when one flow takes everything', () => {
  assert.is(jainIndex([5, 5]), 1);
  assert.is(jainIndex([3, 3, 3, 3]), 1);
  assert.is(jainIndex([10, 0]), 0.5);
  assert.is(jainIndex([7, 0, 0, 0]), 0.25);
  // (1 + 3)^2 / (2 * (1 + 9)) = 16 / 20
  assert.is(jainIndex([1, 3]), 0.8);
});

test('mean and nearest-rank quantiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
  assert.is(mean(values), 50.5);
  assert.is(quantile(values, 0.95), 95);
  assert.is(quantile(values, 0.5), 50);
  assert.is(quantile(values, 1), 100);
  assert.is(quantile([4], 0.95), 4);
  assert.is(quantile([], 0.95), 0);
});

test.run();
