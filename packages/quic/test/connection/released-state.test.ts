/**
 * What a connection lets go of once its handshake is over (issue 11: memory per idle
 * connection). RFC 9001 §4.9: Initial and Handshake keys are discarded, and with them the
 * spaces' ACK trackers and CRYPTO buffers; the server's TLS engine drops its key schedule,
 * handshake secrets and the reassembly of handshake levels. Checked two ways: the accessors
 * that say what is held, and WeakRefs to the released objects, which a full GC must clear.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import type { TlsEngineCore } from '../../src/tls/engine-core.js';
import { fullGc } from '../helpers/heap.js';
import { makePair } from './harness.js';
import { drain, enc, establish } from './scenario.js';

/** The next macrotask: WeakRef targets stay alive until the job that made the WeakRef ends. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function handshakeObjects(conn: Connection): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (const sp of [conn.spaces[0], conn.spaces[1]]) refs.push(new WeakRef(sp.ack), new WeakRef(sp.cryptoSend), new WeakRef(sp.cryptoRecv));
  return refs;
}

/** The server engine's key schedule (private: reached for this check only), weakly. */
function keyScheduleOf(server: Connection): WeakRef<object> {
  const schedule = (server.tls as unknown as { schedule?: object }).schedule;
  assert.ok(schedule, 'the server has a key schedule during the handshake');
  return new WeakRef(schedule);
}

test('after confirmation both sides drop the Initial and Handshake spaces\' ACK trackers and CRYPTO buffers; the server\'s TLS its handshake state', async () => {
  const pair = makePair({ link: { delayMs: 10 } });
  // Hold WeakRefs to the handshake spaces' state while it is in use.
  assert.ok(pair.run(() => pair.serverNode.conn !== undefined && pair.server().spaces[1].writeKeys !== undefined, 5_000));
  const clientRefs = handshakeObjects(pair.client);
  const serverRefs = handshakeObjects(pair.server());
  const scheduleRef = keyScheduleOf(pair.server());
  establish(pair);
  // One stream each way, finished, so the application space has done real work too.
  const id = pair.client.openStream('bidi')!;
  pair.client.writeStream(id, enc('ping'), true);
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && drain(conn, e.streamId).fin) conn.writeStream(e.streamId, enc('pong'), true);
  };
  let echoed = false;
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && drain(conn, e.streamId).fin) echoed = true;
  };
  assert.ok(pair.run(() => echoed && pair.client.bytesInFlight === 0 && pair.server().bytesInFlight === 0, 5_000), 'the stream was echoed and everything acknowledged');

  for (const [side, conn] of [['client', pair.client], ['server', pair.server()]] as const) {
    for (const space of [0, 1] as const) {
      assert.ok(conn.spaces[space].discarded, `${side}: space ${space} discarded`);
      assert.not.ok(conn.spaces[space].holdsState, `${side}: space ${space} holds no ACK tracker or CRYPTO buffer`);
    }
  }
  const held = (pair.server().tls as unknown as TlsEngineCore).heldReassemblyLevels;
  assert.ok(held.every((level) => level === EncryptionLevel.APPLICATION), `server TLS reassembles only post-handshake messages, holds ${held.join(',')}`);

  await nextTurn();
  fullGc();
  clientRefs.forEach((r, i) => assert.is(r.deref(), undefined, `client handshake object ${i} collected`));
  serverRefs.forEach((r, i) => assert.is(r.deref(), undefined, `server handshake object ${i} collected`));
  assert.is(scheduleRef.deref(), undefined, 'server key schedule collected');
});

test.run();
