/**
 * Repeated resets of one stream keep the final size and the error code (reliable-stream-reset-10
 * §5: "MUST NOT change the Application Error Code or the Final Size"), so the honest peer never
 * closes the connection, whatever the spacing between the calls.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { makePair, type Pair, payload } from './harness.js';
import { establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** The client writes 40 KB on a uni stream, then the calls run with `gapMs` between them. */
function repeatResets(calls: ((pair: Pair, id: number) => void)[], gapMs: number, seed: number): ConnectionEvent[] {
  const pair = makePair({ seed, link: { delayMs: 10, bandwidthBps: 5e6 } });
  establish(pair);
  const c = pair.client;
  const id = c.openStream('uni')!;
  c.writeStream(id, payload(40_000), false);
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') for (let i = 0; i < 1000 && conn.readStream(e.streamId); i++);
  };
  pair.run(() => false, 15); // a little of it sent: the first reset's final size is above what was sent
  for (const call of calls) {
    call(pair, id);
    pair.run(() => false, gapMs);
  }
  pair.run(() => pair.server().streams.size === 0 && c.streams.size === 0, 5_000);
  assert.not.ok(pair.server().isClosed, `server closed: ${JSON.stringify(pair.server().closeReason)}`);
  assert.not.ok(c.isClosed);
  assert.is(pair.server().streams.size, 0, 'stream forgotten at the server');
  return pair.serverNode.events.filter((e) => e.type === 'stream-reset');
}

for (const gap of [0, 3, 30]) {
  test(`RESET_STREAM_AT then a smaller one (${gap} ms apart): same final size, no FINAL_SIZE_ERROR`, () => {
    const resets = repeatResets([(p, id) => p.client.resetStream(id, 5, 30_000), (p, id) => p.client.resetStream(id, 5, 20_000)], gap, SEED + gap);
    assert.is(resets.length, 1);
  });

  test(`RESET_STREAM_AT then a plain reset (${gap} ms apart): same final size`, () => {
    const resets = repeatResets([(p, id) => p.client.resetStream(id, 5, 30_000), (p, id) => p.client.resetStream(id, 5)], gap, SEED + 100 + gap);
    assert.is(resets.length, 1);
  });

  test(`a second reset with another error code (${gap} ms apart): the first code stands, no STREAM_STATE_ERROR`, () => {
    const resets = repeatResets([(p, id) => p.client.resetStream(id, 5, 30_000), (p, id) => p.client.resetStream(id, 6, 10_000)], gap, SEED + 200 + gap);
    assert.is(resets.length, 1);
    assert.is(resets[0]!.type === 'stream-reset' ? resets[0]!.errorCode : -1, 5);
  });
}

test.run();
