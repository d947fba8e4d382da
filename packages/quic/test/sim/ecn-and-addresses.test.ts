/**
 * Simulator additions for paths and ECN: datagrams carry an ECN codepoint end to end, a link
 * CE-marks ECN-capable datagrams that find its queue above a threshold (never not-ECT ones),
 * a bleaching link clears the field, and a node reachable at an alias address can send from
 * it (`SimTransmit.from`) and learns which of its addresses a datagram reached.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { Simulator } from '../../src/sim/simulator.js';

const A = '10.0.0.1:1000';
const A2 = '10.0.0.9:2000';
const B = '10.0.0.2:443';

/** Sends `count` datagrams of `size` bytes at once with codepoint `ecn`, from `from` if set. */
class Burst implements SimNode {
  sent = 0;
  constructor(
    readonly to: string,
    readonly count: number,
    readonly size: number,
    readonly ecn: number,
    readonly from?: string,
  ) {}
  handleDatagram(): void {}
  pollTransmit(): SimTransmit | undefined {
    if (this.sent >= this.count) return undefined;
    this.sent++;
    const tx: SimTransmit = { to: this.to, data: new Uint8Array(this.size), ecn: this.ecn };
    if (this.from) tx.from = this.from;
    return tx;
  }
  nextTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

class Sink implements SimNode {
  readonly received: { from: string; ecn: number; to: string }[] = [];
  handleDatagram(_data: Uint8Array, from: string, _now: number, ecn = 0, to = ''): void {
    this.received.push({ from, ecn, to });
  }
  pollTransmit(): undefined {
    return undefined;
  }
  nextTimeout(): undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

function run(ecn: number, link: Parameters<Simulator['connect']>[2]): { sink: Sink; sim: Simulator } {
  const sim = new Simulator({ seed: 3 });
  const sink = new Sink();
  sim.addNode(A, new Burst(B, 40, 1000, ecn));
  sim.addNode(B, sink);
  sim.connect(A, B, link);
  sim.run({ maxTime: 10_000 });
  return { sink, sim };
}

test('the codepoint travels with the datagram; no queue, no marks', () => {
  const { sink } = run(2, { delayMs: 5 });
  assert.is(sink.received.length, 40);
  assert.ok(sink.received.every((r) => r.ecn === 2 && r.to === B && r.from === A));
});

test('an AQM threshold CE-marks ECT datagrams that queue behind more than it, in order', () => {
  // 40 x 1000 bytes at once into 8 Mbit/s: the queue holds 1000 bytes per datagram ahead.
  const { sink, sim } = run(2, { delayMs: 5, bandwidthBps: 8e6, ceThresholdBytes: 10_000 });
  const marks = sink.received.map((r) => r.ecn);
  // The first 11 find at most 10,000 bytes queued; every later one more.
  assert.equal(marks.slice(0, 11), new Array(11).fill(2));
  assert.equal(marks.slice(11), new Array(29).fill(3));
  assert.is(sim.link(A, B)!.stats.ceMarked, 29);
  // ECT(1) is ECN-capable too.
  assert.is(run(1, { delayMs: 5, bandwidthBps: 8e6, ceThresholdBytes: 10_000 }).sink.received.filter((r) => r.ecn === 3).length, 29);
});

test('not-ECT datagrams are never marked; a bleaching link clears the field', () => {
  const plain = run(0, { delayMs: 5, bandwidthBps: 8e6, ceThresholdBytes: 10_000 });
  assert.ok(plain.sink.received.every((r) => r.ecn === 0));
  assert.is(plain.sim.link(A, B)!.stats.ceMarked, 0);
  const bleached = run(2, { delayMs: 5, bandwidthBps: 8e6, ceThresholdBytes: 10_000, ecnBleach: true });
  assert.ok(bleached.sink.received.every((r) => r.ecn === 0));
});

test('alias: a node sends from its second address and receives there', () => {
  const sim = new Simulator({ seed: 4 });
  const sender = new Burst(B, 3, 100, 0, A2);
  const sink = new Sink();
  sim.addNode(A, sender);
  sim.alias(A2, sender);
  sim.addNode(B, sink);
  sim.connect(A2, B, { delayMs: 1 });
  sim.run({ maxTime: 1_000 });
  assert.is(sink.received.length, 3);
  assert.ok(sink.received.every((r) => r.from === A2));
  assert.is(sim.node(A2), sender);
  assert.throws(() => sim.alias(B, sender), /in use/);
  // Replies to the alias reach the same node, told which address they came to.
  const back = new Sink();
  const sim2 = new Simulator({ seed: 5 });
  sim2.addNode(A, back);
  sim2.alias(A2, back);
  sim2.addNode(B, new Burst(A2, 2, 50, 2));
  sim2.connect(B, A2, { delayMs: 1 });
  sim2.run({ maxTime: 1_000 });
  assert.equal(back.received, [
    { from: B, ecn: 2, to: A2 },
    { from: B, ecn: 2, to: A2 },
  ]);
});

test.run();
