/**
 * PENDING (connection-bugs.md BUG 9): a DATAGRAM dropped from the send queue (overflow) never
 * gets its 'datagram-lost' event.
 * Run: node --conditions=@purequic/source --import tsx packages/quic/test/connection/datagram-queue.test.ts (or `pnpm test -- datagram-queue`)
 * Move into datagrams.test.ts once it passes.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';
import { establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

test('a burst larger than the send queue: every id still ends acknowledged or lost, exactly once', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10, bandwidthBps: 2e6 } });
  establish(pair);
  const c = pair.client;
  const outcome = new Map<number, string>();
  let doubles = 0;
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'datagram-acked' || e.type === 'datagram-lost') {
      if (outcome.has(e.id)) doubles++;
      outcome.set(e.id, e.type);
    }
  };
  const total = 3000;
  let accepted = 0;
  for (let i = 0; i < total; i++) if (c.sendDatagram(new Uint8Array(100).fill(i & 0xff)) !== undefined) accepted++;
  pair.run(() => outcome.size === accepted, 30_000);
  assert.is(doubles, 0);
  assert.is(outcome.size, accepted, `${accepted} accepted, ${outcome.size} reported`);
});

test.run();
