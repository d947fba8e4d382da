import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimRandom } from '../../src/sim/prng.js';
import { StreamScheduler } from '../../src/stream/scheduler.js';

/** Sends one frame per pick; `remaining` counts frames left per stream. Returns the order of picks. */
function drain(s: StreamScheduler, remaining: Map<number, number>, maxPicks: number): number[] {
  const order: number[] = [];
  for (let i = 0; i < maxPicks; i++) {
    const id = s.peek();
    if (id === undefined) break;
    order.push(id);
    const left = (remaining.get(id) ?? 0) - 1;
    remaining.set(id, left);
    s.onSent(id, left > 0);
  }
  return order;
}

test('RFC 9218: lower urgency first; default urgency 3', () => {
  const s = new StreamScheduler();
  s.setPriority(8, 5, false);
  s.setPriority(4, 1, false);
  s.schedule(0);
  s.schedule(8);
  s.schedule(4);
  const order = drain(s, new Map([[0, 1], [4, 1], [8, 1]]), 10);
  assert.equal(order, [4, 0, 8]);
  assert.is(s.size, 0);
});

test('RFC 9218 §4.2: non-incremental streams of one urgency are served one at a time, in order', () => {
  const s = new StreamScheduler();
  for (const id of [0, 4, 8]) s.schedule(id);
  const order = drain(s, new Map([[0, 3], [4, 2], [8, 1]]), 20);
  assert.equal(order, [0, 0, 0, 4, 4, 8]);
});

test('RFC 9218 §4.2: incremental streams of one urgency share round-robin', () => {
  const s = new StreamScheduler();
  for (const id of [0, 4, 8]) {
    s.setPriority(id, 3, true);
    s.schedule(id);
  }
  const order = drain(s, new Map([[0, 3], [4, 2], [8, 3]]), 20);
  assert.equal(order, [0, 4, 8, 0, 4, 8, 0, 8]);
});

test('within one urgency, non-incremental goes before incremental', () => {
  const s = new StreamScheduler();
  s.setPriority(0, 3, true);
  s.schedule(0);
  s.schedule(4);
  const order = drain(s, new Map([[0, 2], [4, 2]]), 10);
  assert.equal(order, [4, 4, 0, 0]);
});

test('priority changes move a waiting stream; unschedule/remove/schedule are idempotent', () => {
  const s = new StreamScheduler();
  s.schedule(0);
  s.schedule(4);
  s.schedule(4);
  assert.is(s.size, 2);
  s.setPriority(4, 0, false);
  assert.is(s.peek(), 4);
  s.unschedule(4);
  s.unschedule(4);
  assert.is(s.peek(), 0);
  assert.not.ok(s.isScheduled(4));
  s.schedule(4);
  assert.is(s.peek(), 4, 'priority kept while not waiting');
  s.remove(4);
  s.remove(4);
  s.schedule(4);
  assert.is(s.peek(), 0, 'a removed stream comes back with the default priority');
  s.setPriority(99, 9, false);
  s.schedule(99);
  s.remove(0);
  s.remove(4);
  assert.is(s.peek(), 99, 'urgency clamped to 7 still schedules');
  s.onSent(12345, true);
  assert.is(s.size, 1);
});

test('fairness: seeded random incremental streams get equal turns while all are backlogged', () => {
  const rng = new SimRandom(7);
  const s = new StreamScheduler();
  const remaining = new Map<number, number>();
  const ids: number[] = [];
  for (let i = 0; i < 50; i++) {
    const id = i * 4;
    ids.push(id);
    remaining.set(id, 100 + rng.int(100));
    s.setPriority(id, 2, true);
    s.schedule(id);
  }
  const order = drain(s, remaining, 50 * 100);
  const counts = new Map<number, number>();
  for (const id of order) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const id of ids) assert.is(counts.get(id), 100, `stream ${id}`);
  // Each window of 50 consecutive picks serves every stream exactly once.
  for (let w = 0; w < 100; w++) {
    assert.is(new Set(order.slice(w * 50, w * 50 + 50)).size, 50, `window ${w}`);
  }
});

test('seeded random workload: every pick comes from the highest-priority non-empty class', () => {
  const s = new StreamScheduler();
  const rng = new SimRandom(11);
  const prio = new Map<number, number>();
  const classCount = new Array<number>(16).fill(0);
  const queued = new Set<number>();
  const classOf = (id: number): number => prio.get(id) as number;
  for (let i = 0; i < 2000; i++) {
    const id = i * 4;
    const urgency = rng.int(8);
    const incremental = rng.chance(0.5);
    prio.set(id, urgency * 2 + (incremental ? 1 : 0));
    s.setPriority(id, urgency, incremental);
  }
  let picks = 0;
  for (let step = 0; step < 100_000; step++) {
    if (rng.chance(0.3)) {
      const id = rng.int(2000) * 4;
      s.schedule(id);
      if (!queued.has(id)) {
        queued.add(id);
        classCount[classOf(id)] = (classCount[classOf(id)] ?? 0) + 1;
      }
      continue;
    }
    const id = s.peek();
    if (id === undefined) {
      assert.is(queued.size, 0);
      continue;
    }
    picks++;
    const best = classCount.findIndex((c) => c > 0);
    assert.is(classOf(id), best, `step ${step}`);
    const more = rng.chance(0.7);
    s.onSent(id, more);
    if (!more) {
      queued.delete(id);
      classCount[classOf(id)] = (classCount[classOf(id)] ?? 0) - 1;
    }
    assert.is(s.size, queued.size);
  }
  assert.ok(picks > 50_000);
});

test.run();
