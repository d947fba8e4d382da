import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endsWithResetToken, statelessResetToken } from '../../src/connection/reset-token.js';
import { buildStatelessReset, MIN_STATELESS_RESET_LENGTH, statelessResetLength } from '../../src/endpoint/stateless-packets.js';
import { StatelessResponder } from '../../src/endpoint/stateless-responder.js';
import { SimRandom } from '../../src/sim/prng.js';
import { CLIENT_ADDR, makeEndpointPair, SERVER_ADDR } from './endpoint-node.js';
import { seededProvider } from './harness.js';

test('a server that lost its state answers with a Stateless Reset; the client drains and sends nothing more (RFC 9000 §10.3)', () => {
  const pair = makeEndpointPair();
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed && pair.server.conns[0]?.conn.handshakeConfirmed === true));
  // Let the CID exchange settle, then the server crashes and restarts with the same static key.
  assert.ok(pair.run(() => false, 500) === false);
  pair.server.restart();
  const id = c.conn.openStream('bidi')!;
  c.conn.writeStream(id, new TextEncoder().encode('anyone there?'), true);
  assert.ok(pair.run(() => c.conn.isClosed, 10_000), 'client did not notice the reset');
  assert.equal(c.conn.closeReason, { kind: 'stateless-reset' });
  assert.is(c.conn.state, 'draining');
  const toServer = pair.sim.link(CLIENT_ADDR, SERVER_ADDR)!.stats;
  const sentAtReset = toServer.sent;
  assert.ok(pair.run(() => c.conn.isTerminated, 10_000), 'draining ends');
  assert.is(toServer.sent, sentAtReset, 'no packet after the reset');
  // No storm: the client endpoint recognised the reset and never answered it with one of its own.
  assert.is(pair.client.responder.stats.statelessResets, 0);
  assert.ok(pair.server.responder.stats.statelessResets >= 1 && pair.server.responder.stats.statelessResets <= 3, String(pair.server.responder.stats.statelessResets));
});

test('a restarted server with another static key cannot reset the connection (the token does not match)', () => {
  const pair = makeEndpointPair();
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  pair.server.restart();
  // Swap in a responder keyed differently: its resets carry tokens the client never saw.
  const other = new StatelessResponder({ crypto: pair.server.options.crypto, random: pair.server.options.random, staticKey: new Uint8Array(32).fill(1), cidLength: 8, isServer: true });
  (pair.server as unknown as { responder: StatelessResponder }).responder = other;
  const id = c.conn.openStream('bidi')!;
  c.conn.writeStream(id, new Uint8Array(100), true);
  pair.run(() => c.conn.isClosed, 2_000);
  assert.ok(other.stats.statelessResets >= 1, 'resets were sent');
  assert.is(c.conn.closeReason, undefined, 'but none was taken for ours');
});

test('Stateless Resets are smaller than their trigger, at least 21 bytes, and none answers a packet under 22 bytes (§10.3, §10.3.3)', () => {
  for (let length = 1; length <= 1500; length++) {
    for (const r of [0, 7, 255]) {
      const size = statelessResetLength(length, r);
      if (length <= MIN_STATELESS_RESET_LENGTH) assert.is(size, 0, `trigger ${length}`);
      else {
        assert.ok(size < length && size >= MIN_STATELESS_RESET_LENGTH, `trigger ${length} -> ${size}`);
        if (length <= 43) assert.is(size, length - 1);
      }
    }
  }
});

test('two endpoints that both lost state cannot loop: each reset shrinks until none is sent (§10.3.3)', () => {
  const random = new SimRandom(3);
  const crypto = seededProvider(random);
  const rand = (n: number) => random.bytes(n);
  const a = new StatelessResponder({ crypto, random: rand, staticKey: rand(32), cidLength: 8, isServer: true });
  const b = new StatelessResponder({ crypto, random: rand, staticKey: rand(32), cidLength: 8, isServer: false });
  let datagram: Uint8Array = Uint8Array.from([0x40, ...rand(1199)]);
  let exchanges = 0;
  const sizes: number[] = [];
  // Bounded: at most one answer per byte of the first datagram.
  for (let turn = 0; turn < 1200; turn++) {
    const responder = turn % 2 === 0 ? a : b;
    const d = responder.handle(datagram, { address: 'x', port: 1 }, turn, 0, 0);
    if (d.action !== 'reply') break;
    assert.is(d.what, 'stateless-reset');
    assert.ok(d.datagram.length < datagram.length);
    sizes.push(d.datagram.length);
    datagram = d.datagram;
    exchanges++;
  }
  assert.ok(exchanges > 1 && exchanges < 60, `${exchanges} exchanges: ${sizes.join(',')}`);
  assert.ok(datagram.length <= MIN_STATELESS_RESET_LENGTH + 1);
});

test('resets are rate-limited per second', () => {
  const random = new SimRandom(4);
  const crypto = seededProvider(random);
  const rand = (n: number) => random.bytes(n);
  const r = new StatelessResponder({ crypto, random: rand, staticKey: rand(32), cidLength: 8, isServer: true });
  let replies = 0;
  for (let i = 0; i < 1000; i++) if (r.handle(Uint8Array.from([0x41, ...rand(99)]), { address: 'x', port: 1 }, 5, 0, 0).action === 'reply') replies++;
  assert.is(replies, 64);
  assert.is(r.handle(Uint8Array.from([0x41, ...rand(99)]), { address: 'x', port: 1 }, 1005, 0, 0).action, 'reply');
});

test('a reset ends in the token of the CID it answers; detection needs the exact last 16 bytes', () => {
  const random = new SimRandom(5);
  const crypto = seededProvider(random);
  const key = random.bytes(32);
  const cid = random.bytes(8);
  const token = statelessResetToken(crypto, key, cid);
  const reset = buildStatelessReset(40, token, (n) => random.bytes(n));
  assert.is(reset.length, 40);
  assert.is(reset[0]! & 0xc0, 0x40, 'short header form, fixed bit set');
  assert.ok(endsWithResetToken(reset, [random.bytes(16), token]));
  const shifted = reset.slice(0, 39);
  assert.not.ok(endsWithResetToken(shifted, [token]));
  const flipped = reset.slice();
  flipped[39]! ^= 1;
  assert.not.ok(endsWithResetToken(flipped, [token]));
  assert.not.ok(endsWithResetToken(token, [token]), 'shorter than 21 bytes is never a reset');
});

test.run();
