import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeadlineQueue } from '../../src/endpoint/deadline-queue.js';

test('pops due keys earliest first and keeps the rest', () => {
  const q = new DeadlineQueue<string>();
  q.set('a', 30);
  q.set('b', 10);
  q.set('c', 20);
  assert.is(q.peekTime(), 10);
  assert.equal(q.popDue(20), ['b', 'c']);
  assert.is(q.size, 1);
  assert.is(q.peekTime(), 30);
});

test('updating and deleting a key moves it; a model check over random operations agrees', () => {
  const q = new DeadlineQueue<number>();
  const model = new Map<number, number>();
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let step = 0; step < 5000; step++) {
    const key = Math.floor(rand() * 50);
    const op = rand();
    if (op < 0.6) {
      const t = Math.floor(rand() * 1000);
      q.set(key, t);
      model.set(key, t);
    } else if (op < 0.8) {
      q.delete(key);
      model.delete(key);
    } else {
      const now = Math.floor(rand() * 1000);
      const due = q.popDue(now);
      const expected = [...model.entries()].filter(([, t]) => t <= now);
      assert.is(due.length, expected.length);
      let last = -Infinity;
      for (const k of due) {
        const t = model.get(k)!;
        assert.ok(t <= now && t >= last);
        last = t;
        model.delete(k);
      }
    }
    assert.is(q.size, model.size);
    const min = model.size ? Math.min(...model.values()) : undefined;
    assert.is(q.peekTime(), min);
  }
});

test.run();
