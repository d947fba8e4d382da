/** Shared by priorities.test.ts: a priority race measured at the receiver. */

import * as assert from 'uvu/assert';
import { type Pair, payload } from './harness.js';
import { establish } from './scenario.js';

export const SEED = Number(process.env.SIM_SEED ?? 1);
export const SIZE = 150_000;

export interface Spec {
  urgency: number;
  incremental: boolean;
}

/** Client sends SIZE bytes on one uni stream per spec; returns, per stream, the bytes of all streams when it finished. */
export function race(pair: Pair, specs: Spec[]): { ids: number[]; atFinish: Map<number, Map<number, number>>; order: number[] } {
  establish(pair);
  const c = pair.client;
  const ids = specs.map(() => c.openStream('uni')!);
  specs.forEach((sp, i) => c.setStreamPriority(ids[i]!, sp.urgency, sp.incremental));
  // All written at the same instant, so only the scheduler decides.
  ids.forEach((id, i) => assert.is(c.writeStream(id, payload(SIZE, i), true), SIZE));
  const got = new Map<number, number>();
  const atFinish = new Map<number, Map<number, number>>();
  const order: number[] = [];
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type !== 'stream-readable') return;
    for (let i = 0; i < 1000; i++) {
      const r = conn.readStream(e.streamId);
      if (!r) break;
      got.set(e.streamId, (got.get(e.streamId) ?? 0) + r.data.length);
      if (r.fin) {
        order.push(e.streamId);
        atFinish.set(e.streamId, new Map(got));
        break;
      }
    }
  };
  assert.ok(pair.run(() => order.length === ids.length, 30_000), 'all streams complete');
  return { ids, atFinish, order };
}

