/**
 * Stream priorities through the connection (RFC 9218 §4 model, scheduler in stream/scheduler.ts):
 * on a bottleneck link, a stream with a lower urgency number is served first; equal-urgency
 * incremental streams share the bandwidth; equal-urgency non-incremental streams go one at a
 * time. Measured at the receiver: bytes of every stream at the moment each one completes.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameType } from '../../src/frame/types.js';
import { CLIENT, makePair, payload, SERVER } from './harness.js';
import { race, SEED, SIZE } from './priority-race.js';
import { establish, peekFrames } from './scenario.js';

const bottleneck = { delayMs: 10, bandwidthBps: 8e6, bufferBytes: 60_000 };

test('a lower urgency number is served first (urgency 1 before 3 before 6)', () => {
  const pair = makePair({ seed: SEED, link: bottleneck });
  const { ids, atFinish, order } = race(pair, [
    { urgency: 6, incremental: false },
    { urgency: 3, incremental: false },
    { urgency: 1, incremental: false },
  ]);
  assert.equal(order, [ids[2], ids[1], ids[0]]);
  // When the most urgent finished, the least urgent had received (almost) nothing.
  const first = atFinish.get(ids[2]!)!;
  assert.ok((first.get(ids[0]!) ?? 0) < SIZE * 0.1, `urgency 6 had ${first.get(ids[0]!) ?? 0} bytes`);
  assert.ok((first.get(ids[1]!) ?? 0) < SIZE * 0.1, `urgency 3 had ${first.get(ids[1]!) ?? 0} bytes`);
});

test('equal-urgency incremental streams share the bandwidth fairly', () => {
  const pair = makePair({ seed: SEED + 1, link: bottleneck });
  const specs = [0, 1, 2, 3].map(() => ({ urgency: 3, incremental: true }));
  const { ids, atFinish, order } = race(pair, specs);
  const first = atFinish.get(order[0]!)!;
  for (const id of ids) {
    const share = (first.get(id) ?? 0) / SIZE;
    assert.ok(share > 0.8, `stream ${id} had ${(share * 100).toFixed(0)}% when the first finished`);
  }
});

test('equal-urgency non-incremental streams are served one at a time, in stream order', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10, bandwidthBps: 8e6 } });
  const specs = [0, 1, 2].map(() => ({ urgency: 3, incremental: false }));
  const { ids, atFinish, order } = race(pair, specs);
  assert.equal(order, ids);
  const first = atFinish.get(ids[0]!)!;
  assert.ok((first.get(ids[2]!) ?? 0) < SIZE * 0.1, `the last stream had ${first.get(ids[2]!) ?? 0} bytes when the first finished`);
});

test('a priority change mid-transfer takes effect: the bulk stream yields to one raised to urgency 0', () => {
  const pair = makePair({ seed: SEED + 3, link: bottleneck });
  establish(pair);
  const c = pair.client;
  const bulk = c.openStream('uni')!;
  const late = c.openStream('uni')!;
  c.setStreamPriority(bulk, 3, false);
  c.setStreamPriority(late, 7, false);
  c.writeStream(bulk, payload(SIZE, 1), true);
  c.writeStream(late, payload(SIZE / 3, 2), true);
  const done: number[] = [];
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type !== 'stream-readable') return;
    for (let i = 0; i < 1000; i++) {
      const r = conn.readStream(e.streamId);
      if (!r) break;
      if (r.fin) done.push(e.streamId);
    }
  };
  pair.run(() => false, 40);
  c.setStreamPriority(late, 0, false);
  assert.ok(pair.run(() => done.length === 2, 30_000));
  assert.equal(done, [late, bulk]);
});

test('equal-urgency non-incremental streams with losses at the bottleneck: new data one stream at a time, the first completes first', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10, bandwidthBps: 8e6, bufferBytes: 60_000 } });
  // Sender-side view: the order in which each stream's new bytes first go on the wire.
  const newData: number[] = [];
  const highest = new Map<number, number>();
  // Both directions share one link config: look at the client's datagrams only.
  pair.sim.link(CLIENT, SERVER)!.config.hook = (d, info) => {
    if (info.from !== CLIENT) return d;
    for (const f of peekFrames(pair.serverNode.conn, d)) {
      if (f.type !== FrameType.STREAM) continue;
      const end = f.offset + f.data.length;
      if (end > (highest.get(f.streamId) ?? 0)) {
        highest.set(f.streamId, end);
        if (newData[newData.length - 1] !== f.streamId) newData.push(f.streamId);
      }
    }
    return d;
  };
  const specs = [0, 1, 2].map(() => ({ urgency: 3, incremental: false }));
  const { ids, atFinish, order } = race(pair, specs);
  // RFC 9218 §4: non-incremental streams are served one at a time, in stream-ID order.
  assert.equal(newData, ids, `new data went out in runs ${newData.join(', ')}`);
  assert.is(order[0], ids[0], `completion order ${order.join(', ')}`);
  const first = atFinish.get(ids[0]!)!;
  assert.ok((first.get(ids[2]!) ?? 0) < SIZE * 0.1);
});

test.run();
