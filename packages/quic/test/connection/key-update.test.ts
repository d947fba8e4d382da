/**
 * Peer-initiated key updates (RFC 9001 §6): a packet in the next key phase, protected with the
 * next 1-RTT keys, makes the receiver switch both directions; the initiator (here the client,
 * forged by sending one packet with its next keys) follows the answer; data keeps flowing intact
 * across several updates, also with reordering around the switch (old-phase packets still open,
 * §6.5). A key update before the handshake is confirmed is a KEY_UPDATE_ERROR (§6.1).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { nextKeyPhaseKeys } from '../../src/crypto/keys.js';
import { TransportErrorCode } from '../../src/errors.js';
import { FrameType } from '../../src/frame/types.js';
import { makePair, type Pair, payload, sameBytes } from './harness.js';
import { assertTransportClose, deliverTo, establish, forge1Rtt } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** The client sends one PING in the next key phase (as if it had initiated an update). */
function clientStartsUpdate(pair: Pair): void {
  const c = pair.client;
  const next = nextKeyPhaseKeys(c.crypto, c.keyPhases.write!);
  const phase = c.keyPhases.phase === 0 ? 1 : 0;
  deliverTo(pair, 'server', forge1Rtt(c, [{ type: FrameType.PING }], { keys: next, keyPhase: phase }));
}

function transfer(pair: Pair, size: number, seed: number): { done: () => boolean; intact: () => boolean } {
  const data = payload(size, seed);
  const c = pair.client;
  const id = c.openStream('uni')!;
  let written = c.writeStream(id, data, true);
  const prev = pair.clientNode.onEvent;
  pair.clientNode.onEvent = (e, conn, now) => {
    prev(e, conn, now);
    if (e.type === 'stream-writable' && written < size) written += conn.writeStream(id, data.subarray(written), true);
  };
  const got: number[] = [];
  let fin = false;
  const prevS = pair.serverNode.onEvent;
  pair.serverNode.onEvent = (e, conn: Connection, now) => {
    prevS(e, conn, now);
    if (e.type !== 'stream-readable' || e.streamId !== id) return;
    for (let i = 0; i < 1000; i++) {
      const r = conn.readStream(id);
      if (!r) break;
      for (const b of r.data) got.push(b);
      if (r.fin) fin = true;
    }
  };
  return { done: () => fin, intact: () => sameBytes(new Uint8Array(got), data) };
}

test('a peer-initiated key update switches both sides; data flows intact across three updates', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10, bandwidthBps: 50e6 } });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  const t = transfer(pair, 2 << 20, 1);
  for (let round = 1; round <= 3; round++) {
    pair.run(() => false, 100 + round * 50);
    const before = s.keyPhases.updates;
    clientStartsUpdate(pair);
    assert.is(s.keyPhases.updates, before + 1, `round ${round}: the server followed the update`);
    assert.ok(pair.run(() => c.keyPhases.updates === round && c.keyPhases.phase === s.keyPhases.phase, 2_000), `round ${round}: the client followed`);
    assert.not.ok(c.isClosed || s.isClosed, JSON.stringify(c.closeReason ?? s.closeReason));
  }
  assert.ok(pair.run(t.done, 30_000), 'transfer completes');
  assert.ok(t.intact(), 'data intact');
});

test('reordering around the switch: old-phase packets still open with the previous keys', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10, bandwidthBps: 50e6, reorderRate: 0.2, reorderDelayMs: 15 } });
  establish(pair);
  const t = transfer(pair, 1 << 20, 2);
  pair.run(() => false, 80);
  clientStartsUpdate(pair);
  assert.ok(pair.run(t.done, 30_000), 'transfer completes');
  assert.ok(t.intact());
  assert.not.ok(pair.client.isClosed || pair.server().isClosed);
  assert.ok(pair.server().droppedPackets < 50, `few packets dropped (${pair.server().droppedPackets})`);
});

test('a key update before the handshake is confirmed: KEY_UPDATE_ERROR (RFC 9001 §6.1)', () => {
  // The server's HANDSHAKE_DONE is held back, so the client is not confirmed; the server is.
  // Forge the update from the server towards the unconfirmed client.
  let hold = true;
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10 }, back: { delayMs: 10, hook: (d) => (hold && pair.client.isHandshakeComplete ? null : d) } });
  assert.ok(pair.run(() => pair.client.isHandshakeComplete && pair.serverNode.conn !== undefined && pair.server().isHandshakeComplete, 2_000));
  assert.not.ok(pair.client.handshakeConfirmed);
  const s = pair.server();
  const next = nextKeyPhaseKeys(s.crypto, s.keyPhases.write!);
  deliverTo(pair, 'client', forge1Rtt(s, [{ type: FrameType.PING }], { keys: next, keyPhase: 1 }));
  hold = false;
  assertTransportClose(pair.client.closeReason, TransportErrorCode.KEY_UPDATE_ERROR, false, 'client');
});

test.run();
