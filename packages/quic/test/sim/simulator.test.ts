import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { Simulator, type TraceEntry } from '../../src/sim/simulator.js';
import { BurstSender, EchoServer, numbered, PingClient, Recorder } from './toy-nodes.js';

const CLIENT = '10.0.0.1:50000';
const SERVER = '10.0.0.2:4433';

test('echo between two toy nodes: every ping answered after exactly two one-way delays', () => {
  const sim = new Simulator({ seed: 1 });
  const client = new PingClient(SERVER, 20, 5);
  sim.addNode(CLIENT, client);
  sim.addNode(SERVER, new EchoServer());
  sim.connect(CLIENT, SERVER, { delayMs: 15 });
  const result = sim.runUntil(() => client.rtts.size === 20, { maxTime: 10_000 });
  assert.ok(result.satisfied);
  assert.is(result.reason, 'predicate');
  for (const rtt of client.rtts.values()) assert.is(rtt, 30);
  assert.is(result.now, 19 * 5 + 30, 'the last ping left at 95 ms and came back at 125 ms');
  const up = sim.link(CLIENT, SERVER);
  assert.is(up?.stats.delivered, 20);
  assert.is(sim.link(SERVER, CLIENT)?.stats.deliveredBytes, 20 * 64);
});

test('asymmetric links: the return path has its own delay', () => {
  const sim = new Simulator({ seed: 1 });
  const client = new PingClient(SERVER, 3, 100);
  sim.addNode(CLIENT, client);
  sim.addNode(SERVER, new EchoServer());
  sim.connect(CLIENT, SERVER, { delayMs: 10 }, { delayMs: 40 });
  sim.run({ maxTime: 5_000 });
  assert.equal([...client.rtts.values()], [50, 50, 50]);
});

function lossyScenario(seed: number): TraceEntry[] {
  const sim = new Simulator({ seed, recordTrace: true });
  const client = new PingClient(SERVER, 300, 2);
  sim.addNode(CLIENT, client);
  sim.addNode(SERVER, new EchoServer());
  sim.connect(CLIENT, SERVER, {
    delayMs: 20,
    jitterMs: 8,
    lossRate: 0.05,
    burstLoss: { enterProbability: 0.02, exitProbability: 0.3 },
    reorderRate: 0.05,
    duplicateRate: 0.03,
    bandwidthBps: 1_000_000,
    bufferBytes: 4_000,
  });
  const r = sim.run({ maxTime: 10_000 });
  assert.is(r.reason, 'idle');
  return sim.trace ?? [];
}

test('determinism: the same seed gives the same trace; another seed does not', () => {
  const a = lossyScenario(777);
  const b = lossyScenario(777);
  const c = lossyScenario(778);
  assert.ok(a.length > 600);
  assert.equal(a, b);
  assert.not.equal(a, c);
  assert.ok(a.some((e) => e.kind === 'drop'), 'the scenario drops something');
});

test('hook: drop the first datagram and rewrite the second', () => {
  const sim = new Simulator({ seed: 3 });
  const rec = new Recorder();
  sim.addNode(CLIENT, new BurstSender(SERVER, 4, 10));
  sim.addNode(SERVER, rec);
  const link = sim.addLink(CLIENT, SERVER, {
    delayMs: 1,
    hook: (data, info) => {
      if (info.index === 0) return null;
      if (info.index === 1) return numbered(1000, data.length);
      return data;
    },
  });
  sim.run();
  assert.equal(rec.arrivals.map((a) => a.seq), [1000, 2, 3]);
  assert.is(link.stats.droppedByHook, 1);
  assert.is(link.stats.modifiedByHook, 1);
  assert.is(link.stats.sent, 4);
});

test('datagrams without a link are counted as unroutable; inject sends through a link', () => {
  const sim = new Simulator({ seed: 3 });
  const rec = new Recorder();
  sim.addNode(CLIENT, new BurstSender('10.9.9.9:1', 2, 10));
  sim.addNode(SERVER, rec);
  sim.addLink(CLIENT, SERVER, { delayMs: 2 });
  sim.inject(CLIENT, SERVER, numbered(77, 8));
  sim.run();
  assert.is(sim.unroutable, 2);
  assert.equal(rec.arrivals, [{ time: 2, seq: 77, from: CLIENT, size: 8 }]);
  assert.throws(() => sim.addNode(SERVER, rec));
  assert.throws(() => sim.addLink(CLIENT, SERVER, { delayMs: 1 }));
});

/** A node whose timer re-arms one millisecond later forever. */
class Ticker implements SimNode {
  ticks = 0;
  private next = 0;
  handleDatagram(): void {}
  pollTransmit(): SimTransmit | undefined {
    return undefined;
  }
  nextTimeout(): number {
    return this.next;
  }
  handleTimeout(now: number): void {
    this.ticks++;
    this.next = now + 1;
  }
}

/** A broken node whose timer never moves. */
class StuckTimer implements SimNode {
  fired = 0;
  handleDatagram(): void {}
  pollTransmit(): SimTransmit | undefined {
    return undefined;
  }
  nextTimeout(): number {
    return 5;
  }
  handleTimeout(): void {
    this.fired++;
  }
}

test('runs are always bounded: maxTime, maxEvents, idle, predicate', () => {
  const sim = new Simulator({ seed: 1 });
  const ticker = new Ticker();
  sim.addNode('10.0.0.5:1', ticker);
  const r1 = sim.run({ maxTime: 100 });
  assert.is(r1.reason, 'maxTime');
  assert.is(r1.now, 100);
  assert.is(ticker.ticks, 101, 'timers at 0..100 inclusive');
  const r2 = sim.runUntil(() => ticker.ticks >= 150, { maxTime: 1000 });
  assert.ok(r2.satisfied);
  assert.is(r2.now, 149);

  const stuck = new Simulator({ seed: 1 });
  const node = new StuckTimer();
  stuck.addNode('10.0.0.6:1', node);
  const r3 = stuck.run({ maxEvents: 500 });
  assert.is(r3.reason, 'maxEvents');
  assert.is(node.fired, 500);
  assert.is(r3.now, 5);

  const idle = new Simulator({ seed: 1 });
  idle.addNode('10.0.0.7:1', new Recorder());
  assert.is(idle.run().reason, 'idle');
});

test('the simulator copies transmitted bytes (nodes may reuse buffers)', () => {
  const sim = new Simulator({ seed: 2 });
  const client = new PingClient(SERVER, 50, 0.5);
  sim.addNode(CLIENT, client);
  sim.addNode(SERVER, new EchoServer());
  sim.connect(CLIENT, SERVER, { delayMs: 3, jitterMs: 2, jitterReorders: true });
  sim.run({ maxTime: 1000 });
  assert.is(client.rtts.size, 50, 'every echo carried its own sequence number');
});

test('a run continues where the last one stopped', () => {
  const sim = new Simulator({ seed: 4, startTime: 1000 });
  const rec = new Recorder();
  sim.addNode(CLIENT, new BurstSender(SERVER, 1, 10));
  sim.addNode(SERVER, rec);
  sim.addLink(CLIENT, SERVER, { delayMs: 50 });
  const first = sim.run({ maxTime: 1020 });
  assert.is(first.reason, 'maxTime');
  assert.is(sim.inFlight, 1);
  const second = sim.run({ maxTime: 2000 });
  assert.is(second.reason, 'idle');
  assert.equal(rec.arrivals.map((a) => [a.time, a.seq]), [[1050, 0]]);
});

test.run();
