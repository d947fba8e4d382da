import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimRandom } from '../../src/sim/prng.js';
import { RangeSet } from '../../src/stream/range-set.js';

test('add merges overlapping and adjacent ranges', () => {
  const r = new RangeSet();
  r.add(10, 20);
  r.add(30, 40);
  r.add(20, 25);
  assert.equal(r.toArray(), [[10, 25], [30, 40]]);
  r.add(5, 35);
  assert.equal(r.toArray(), [[5, 40]]);
  r.add(50, 50);
  assert.equal(r.toArray(), [[5, 40]], 'empty range ignored');
});

test('remove splits; takeFirst consumes from the front', () => {
  const r = new RangeSet();
  r.add(0, 100);
  r.remove(10, 20);
  r.remove(90, 200);
  assert.equal(r.toArray(), [[0, 10], [20, 90]]);
  assert.ok(r.containsRange(20, 90));
  assert.not.ok(r.containsRange(5, 25));
  assert.ok(r.has(0) && !r.has(10));
  assert.is(r.takeFirst(4), 0);
  assert.is(r.takenLength, 4);
  assert.is(r.takeFirst(100), 4);
  assert.is(r.takenLength, 6);
  assert.is(r.firstStart, 20);
  r.removeBelow(30);
  r.removeFrom(80);
  assert.equal(r.toArray(), [[30, 80]]);
  assert.is(r.totalLength, 50);
});

test('random adds and removes match a bitmap reference (seeded)', () => {
  const rng = new SimRandom(99);
  const size = 400;
  for (let round = 0; round < 50; round++) {
    const r = new RangeSet();
    const ref = new Uint8Array(size);
    for (let op = 0; op < 200; op++) {
      const s = rng.int(size);
      const e = Math.min(size, s + rng.int(60));
      const add = rng.chance(0.6);
      if (add) r.add(s, e);
      else r.remove(s, e);
      ref.fill(add ? 1 : 0, s, e);
    }
    const fromRef: [number, number][] = [];
    for (let i = 0; i < size; i++) {
      if (ref[i] !== 1) continue;
      const start = i;
      while (i < size && ref[i] === 1) i++;
      fromRef.push([start, i]);
    }
    assert.equal(r.toArray(), fromRef, `round ${round}`);
  }
});

test.run();
