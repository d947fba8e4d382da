/**
 * Determinism: the sans-IO core reads no clock and no ambient randomness (house rule; the
 * simulator's premise), so the same seed and the same calls replay byte for byte. Two runs of a
 * lossy transfer with one seed must put identical datagrams on the wire at identical times,
 * and another seed must not.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair, payload } from './harness.js';
import { establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** FNV-1a over every datagram with its time and direction: a fingerprint of the whole run. */
function fingerprintRun(seed: number): { hash: number; datagrams: number } {
  let hash = 0x811c9dc5;
  let datagrams = 0;
  const mix = (x: number) => {
    hash ^= x & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  };
  const link = {
    delayMs: 10,
    lossRate: 0.05,
    reorderRate: 0.05,
    bandwidthBps: 20e6,
    hook: (d: Uint8Array, info: { from: string; now: number }) => {
      datagrams++;
      mix(info.from === 'client' ? 1 : 2);
      for (const b of new Uint8Array(new Float64Array([info.now]).buffer)) mix(b);
      for (const b of d) mix(b);
      return d;
    },
  };
  const pair = makePair({ seed, link });
  establish(pair, 20_000);
  const c = pair.client;
  const id = c.openStream('bidi')!;
  c.writeStream(id, payload(300_000, 3), true);
  let done = false;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type !== 'stream-readable') return;
    for (let i = 0; i < 1000; i++) {
      const r = conn.readStream(e.streamId);
      if (!r) break;
      if (r.fin) {
        conn.writeStream(e.streamId, payload(100_000, 4), true);
        done = true;
      }
    }
  };
  c.sendDatagram(payload(500, 5));
  assert.ok(pair.run(() => done, 30_000));
  pair.client.close(0, 'done', pair.sim.now);
  pair.run(() => pair.client.isTerminated && pair.server().isTerminated, 30_000);
  return { hash, datagrams };
}

test('the same seed replays the same datagrams at the same times; another seed differs', () => {
  const a = fingerprintRun(SEED);
  const b = fingerprintRun(SEED);
  assert.equal(a, b);
  assert.ok(a.datagrams > 200);
  const c = fingerprintRun(SEED + 1);
  assert.not.equal(c.hash, a.hash);
});

test.run();
