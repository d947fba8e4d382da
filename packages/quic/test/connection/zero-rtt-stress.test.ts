/**
 * 0-RTT under stress (RFC 9001 §4.6, RFC 9000 §7.4.1): resumed connections with several streams
 * written in 0-RTT (one of them reset before the handshake completes), over loss, reordering and
 * duplication, with the server accepting or rejecting early data. Whatever happens, nothing
 * closes with an error, the invariants hold (harness), and every stream that was not reset
 * arrives byte-identical (after a rejection the application resends on new streams, §4.6.2).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { ZeroRttReplayCache } from '../../src/connection/zero-rtt.js';
import { SimRandom } from '../../src/sim/prng.js';
import type { EarlyDataContext, SessionTicket } from '../../src/tls/engine-api.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { makePair, payload, sameBytes, seededProvider } from './harness.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function serverOptions(keys: SessionTicketKeys, cache: ZeroRttReplayCache, earlyData: boolean) {
  return { sessionTicketKeys: keys, earlyData, earlyDataFilter: (c: EarlyDataContext) => cache.accept(c) };
}

function readAll(conn: Connection, id: number, into: Map<number, number[]>): boolean {
  let buf = into.get(id);
  if (!buf) into.set(id, (buf = []));
  for (let i = 0; i < 1000; i++) {
    const r = conn.readStream(id);
    if (!r) return false;
    for (const b of r.data) buf.push(b);
    if (r.fin) return true;
  }
  return false;
}

function round(seed: number, accept: boolean): void {
  const random = new SimRandom(seed);
  const keys = new SessionTicketKeys({ crypto: seededProvider(random), random: (n) => random.bytes(n) });
  const cache = new ZeroRttReplayCache();
  // A first, clean connection leaves a ticket.
  const first = makePair({ seed, serverOptions: serverOptions(keys, cache, true) });
  let ticket: SessionTicket | undefined;
  first.clientNode.onEvent = (e) => {
    if (e.type === 'session-ticket') ticket = e.ticket;
  };
  assert.ok(first.run(() => ticket !== undefined, 10_000), 'ticket');

  const link = { delayMs: 5 + (seed % 15), lossRate: 0.15, reorderRate: 0.1, reorderDelayMs: 7, duplicateRate: 0.03 };
  const pair = makePair({ seed: seed + 1, link, clientOptions: { sessionTicket: ticket!, earlyData: true }, serverOptions: serverOptions(keys, cache, accept) });
  const c = pair.client;
  const rng = new SimRandom(seed * 3 + 1);
  const expected = new Map<number, Uint8Array>();
  const write = (id: number, size: number, tag: number) => {
    const data = payload(size, tag);
    const n = c.writeStream(id, data, true);
    expected.set(id, data.subarray(0, n));
    return n === size;
  };
  const ids: number[] = [];
  for (let k = 0; k < 3; k++) {
    const id = c.openStream(k === 2 ? 'uni' : 'bidi');
    assert.ok(id !== undefined, '0-RTT stream');
    ids.push(id!);
    write(id!, 1000 + rng.int(40_000), seed * 10 + k);
  }
  // One 0-RTT stream is reset before the handshake completes.
  const resetId = ids[rng.int(ids.length)]!;
  c.resetStream(resetId, 7);
  expected.delete(resetId);
  let answer: boolean | undefined;
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'early-data') {
      answer = e.accepted;
      if (e.streamsReset) {
        // RFC 9001 §4.6.2: rejected: start over on new streams.
        const old = [...expected.entries()];
        expected.clear();
        for (const [oldId, data] of old) {
          const again = conn.openStream((oldId & 2) === 0 ? 'bidi' : 'uni')!;
          assert.is(conn.writeStream(again, data, true), data.length);
          expected.set(again, data);
        }
      }
    }
    if (e.type === 'stream-readable') readAll(conn, e.streamId, new Map());
  };
  const got = new Map<number, number[]>();
  const finished = new Set<number>();
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && readAll(conn, e.streamId, got)) {
      finished.add(e.streamId);
      if ((e.streamId & 2) === 0) conn.writeStream(e.streamId, new Uint8Array(0), true);
    }
  };
  const done = () => answer !== undefined && [...expected.keys()].every((id) => finished.has(id));
  assert.ok(pair.run(done, 60_000), `seed ${seed}: streams ${[...expected.keys()]} finished ${[...finished]}`);
  assert.is(answer, accept, `seed ${seed}: early data ${answer ? 'accepted' : 'rejected'}`);
  assert.is(pair.server().tls.earlyDataAccepted, accept);
  assert.ok(c.tls.resumed, 'resumed');
  for (const [id, data] of expected) assert.ok(sameBytes(new Uint8Array(got.get(id)!), data), `seed ${seed}: stream ${id} intact`);
  assert.is(c.closeReason, undefined, JSON.stringify(c.closeReason));
  assert.is(pair.server().closeReason, undefined, JSON.stringify(pair.server().closeReason));
}

test('0-RTT with loss, reordering and duplication, accepted and rejected, a stream reset in 0-RTT', () => {
  for (let i = 0; i < 12; i++) round(SEED * 100 + i, i % 3 !== 2);
});

test.run();
