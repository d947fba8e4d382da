import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventQueue } from '../../src/sim/event-queue.js';
import { SimRandom } from '../../src/sim/prng.js';

test('xoshiro128** matches the reference implementation', () => {
  // State words and outputs of the C reference implementation, as recorded in the test data of
  // edorfaus/xoshiro-6502 (test-rom/testdata.asm, VerifyStatesXoshiro128 / VerifyValuesXoshiro128).
  const r = SimRandom.fromState(0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0);
  const outputs = [r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()];
  assert.equal(outputs, [0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70]);
  // From state (1, 2, 3, 4) the first output is rotl(2 * 5, 7) * 9 = 11520, then 0 (worked by hand).
  const small = SimRandom.fromState(1, 2, 3, 4);
  assert.is(small.nextU32(), 11520);
  assert.is(small.nextU32(), 0);
});

test('same seed, same sequence; different seeds differ', () => {
  const a = new SimRandom(42);
  const b = new SimRandom(42);
  const c = new SimRandom(43);
  const sa = Array.from({ length: 100 }, () => a.nextU32());
  const sb = Array.from({ length: 100 }, () => b.nextU32());
  const sc = Array.from({ length: 100 }, () => c.nextU32());
  assert.equal(sa, sb);
  assert.not.equal(sa, sc);
  assert.is(a.seed, 42);
});

test('float, int and chance have the configured distribution (seeded, 200k draws)', () => {
  const r = new SimRandom(1234);
  const n = 200_000;
  let sum = 0;
  let hits = 0;
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    sum += f;
    const k = r.int(10);
    buckets[k] = (buckets[k] ?? 0) + 1;
    if (r.chance(0.3)) hits++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  assert.ok(Math.abs(hits / n - 0.3) < 0.005, `chance ${hits / n}`);
  for (const b of buckets) assert.ok(Math.abs(b / n - 0.1) < 0.005, `bucket ${b / n}`);
  assert.not.ok(r.chance(0));
  assert.ok(r.chance(1));
  const x = r.intBetween(5, 5);
  assert.is(x, 5);
});

test('bytes and fork are deterministic', () => {
  const a = new SimRandom(9);
  const b = new SimRandom(9);
  assert.equal(a.bytes(37), b.bytes(37));
  assert.equal(a.fork().bytes(16), b.fork().bytes(16));
});

test('event queue pops in time order, ties in insertion order (seeded against a sort)', () => {
  const r = new SimRandom(5);
  const q = new EventQueue<number>();
  const ref: [number, number][] = [];
  let id = 0;
  const popped: number[] = [];
  const expected: number[] = [];
  for (let step = 0; step < 20_000; step++) {
    if (r.chance(0.6) || q.isEmpty()) {
      const time = r.int(500);
      q.push(time, id);
      ref.push([time, id]);
      id++;
    } else {
      popped.push(q.pop() as number);
      ref.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      expected.push((ref.shift() as [number, number])[1]);
    }
  }
  assert.equal(popped, expected);
  assert.is(q.size, ref.length);
  q.clear();
  assert.is(q.pop(), undefined);
  assert.is(q.peekTime(), undefined);
});

test.run();
