/**
 * No busy loops: a connection with nothing to do sends nothing and wakes rarely (no ACK
 * ping-pong: ACK-only packets are not acknowledged, RFC 9000 §13.2.1; no timer re-armed at the
 * same instant), a sender blocked by flow control waits for credit instead of spinning, and a
 * paced transfer needs a bounded number of wake-ups per datagram. Counted with the simulator's
 * own event budget (deliveries + timer firings).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { CLIENT, makePair, payload, SERVER } from './harness.js';
import { establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function readAll(conn: Connection, id: number): boolean {
  for (let i = 0; i < 1000; i++) {
    const r = conn.readStream(id);
    if (!r) return false;
    if (r.fin) return true;
  }
  return false;
}

test('after a transfer, 10 s of quiet: no datagrams, a handful of wake-ups', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10, bandwidthBps: 50e6 } });
  establish(pair);
  const c = pair.client;
  const id = c.openStream('bidi')!;
  c.writeStream(id, payload(300_000), true);
  let done = false;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && readAll(conn, e.streamId)) conn.writeStream(e.streamId, payload(300_000, 2), true);
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && readAll(conn, e.streamId)) done = true;
  };
  assert.ok(pair.run(() => done, 10_000));
  pair.run(() => false, 200); // last ACKs
  const sent = () => pair.sim.link(CLIENT, SERVER)!.stats.sent + pair.sim.link(SERVER, CLIENT)!.stats.sent;
  const before = sent();
  const r = pair.sim.run({ maxTime: pair.sim.now + 10_000, maxEvents: 10_000 });
  assert.is(sent() - before, 0, 'nothing sent while idle');
  assert.ok(r.events <= 10, `${r.events} wake-ups in 10 s of quiet`);
});

test('a sender blocked by flow control waits without spinning', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10 }, serverTransport: { initialMaxStreamDataUni: 10_000, maxStreamWindow: 10_000 } });
  establish(pair);
  const c = pair.client;
  c.writeStream(c.openStream('uni')!, payload(100_000), true);
  pair.run(() => false, 500);
  const r = pair.sim.run({ maxTime: pair.sim.now + 5_000, maxEvents: 10_000 });
  assert.ok(r.events <= 40, `${r.events} wake-ups in 5 s while blocked`);
  assert.not.ok(c.isClosed);
});

test('a paced bulk transfer needs a bounded number of wake-ups per datagram', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 20, bandwidthBps: 20e6 } });
  establish(pair);
  const c = pair.client;
  const size = 4 << 20;
  const data = payload(size, 3);
  const id = c.openStream('uni')!;
  let written = c.writeStream(id, data, true);
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-writable' && written < size) written += conn.writeStream(id, data.subarray(written), true);
  };
  let fin = false;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') fin = readAll(conn, e.streamId) || fin;
  };
  const r = pair.sim.runUntil(() => fin, { maxTime: pair.sim.now + 60_000, maxEvents: 1_000_000 });
  assert.ok(r.satisfied, 'transfer completes');
  const datagrams = pair.sim.link(CLIENT, SERVER)!.stats.sent + pair.sim.link(SERVER, CLIENT)!.stats.sent;
  const ratio = r.events / datagrams;
  assert.ok(ratio < 3, `${r.events} events for ${datagrams} datagrams (${ratio.toFixed(2)} per datagram)`);
});

test.run();
