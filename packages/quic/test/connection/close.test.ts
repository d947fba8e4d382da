/**
 * Shutdown never deadlocks (RFC 9000 §10): an application close with streams open both ways
 * ends in 'closed' on both sides and termination after the closing/draining period (3 PTO,
 * §10.2); the peer sees the code and reason (0x1d), or APPLICATION_ERROR in a 0x1c frame before
 * the handshake (§10.2.3); the idle timeout ends both sides silently (§10.1); a closing endpoint
 * answers stray packets with CONNECTION_CLOSE (§10.2.1); a draining one sends nothing (§10.2.2).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportErrorCode } from '../../src/errors.js';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { makePair, payload, SERVER, CLIENT } from './harness.js';
import { establish, runUntilTerminated } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** Counts datagrams per direction (after `since`) with a link hook. */
function counting(): { hook: (d: Uint8Array, info: { from: string; now: number }) => Uint8Array; sentAfter: (from: string, t: number) => number } {
  const log: { from: string; now: number }[] = [];
  return {
    hook: (d, info) => {
      log.push({ from: info.from, now: info.now });
      return d;
    },
    sentAfter: (from, t) => log.filter((e) => e.from === from && e.now > t).length,
  };
}

test('application close with streams open both ways: both sides closed, peer gets code and reason, both terminate after 3 PTO', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 15, bandwidthBps: 20e6 } });
  establish(pair);
  const client = pair.client;
  const server = pair.server();
  const bidi = client.openStream('bidi')!;
  const uni = client.openStream('uni')!;
  client.writeStream(bidi, payload(400_000), false);
  client.writeStream(uni, payload(300_000), false);
  const sid = server.openStream('uni')!;
  server.writeStream(sid, payload(500_000), false);
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-opened' && e.direction === 'bidi') conn.writeStream(e.streamId, payload(200_000), false);
  };
  pair.run(() => false, 60); // mid-transfer: data in flight both ways
  assert.ok(client.bytesInFlight > 0 || server.bytesInFlight > 0, 'data in flight when closing');
  const closeAt = pair.sim.now;
  const pto = client.ptoMs();
  client.close(0x77, 'shutting down', closeAt);
  client.close(0x78, 'again', closeAt); // idempotent: the first close stands
  assert.equal(client.closeReason, { kind: 'application', code: 0x77, reason: 'shutting down', remote: false });
  // API calls after close are harmless.
  assert.is(client.openStream('bidi'), undefined);
  assert.is(client.writeStream(bidi, payload(10), true), 0);
  assert.is(client.sendDatagram(payload(10)), undefined);
  client.resetStream(bidi, 1);
  client.stopSending(uni, 1);
  let clientTerminatedAt = -1;
  assert.ok(
    pair.run(() => {
      if (clientTerminatedAt < 0 && client.isTerminated) clientTerminatedAt = pair.sim.now;
      return client.isTerminated && server.isTerminated;
    }, 30_000),
    'both terminate',
  );
  assert.equal(server.closeReason, { kind: 'application', code: 0x77, reason: 'shutting down', remote: true });
  const closed = (events: { type: string }[]) => events.filter((e) => e.type === 'closed').length;
  assert.is(closed(pair.clientNode.events), 1);
  assert.is(closed(pair.serverNode.events), 1);
  // RFC 9000 §10.2: the closing state lasts at least three times the PTO.
  const period = clientTerminatedAt - closeAt;
  assert.ok(period >= 3 * pto - 1 && period <= 3 * pto + 50, `closing period ${period} ms for PTO ${pto}`);
  assert.is(client.nextTimeout(), undefined);
  assert.is(server.nextTimeout(), undefined);
});

test('the draining side sends nothing after CONNECTION_CLOSE arrives (§10.2.2) and terminates after 3 PTO', () => {
  const c = counting();
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10, hook: c.hook } });
  establish(pair);
  const server = pair.server();
  const sid = server.openStream('uni')!;
  server.writeStream(sid, payload(200_000), false); // the server is busy sending
  pair.run(() => false, 30);
  pair.client.close(3, 'stop', pair.sim.now);
  let drainingAt = -1;
  assert.ok(pair.run(() => {
    if (drainingAt < 0 && server.state === 'draining') drainingAt = pair.sim.now;
    return server.isTerminated;
  }, 10_000));
  assert.is(c.sentAfter(SERVER, drainingAt), 0, 'a draining endpoint sends no packets');
  assert.ok(runUntilTerminated(pair, 10_000));
});

test('a closing endpoint answers further packets with CONNECTION_CLOSE, so a lost close still reaches the peer (§10.2.1)', () => {
  let dropCloses = 2;
  let closing = false;
  const pair = makePair({
    seed: SEED + 2,
    link: {
      delayMs: 10,
      hook: (d, info) => {
        // Drop the client's first two datagrams after it closed (its CONNECTION_CLOSE).
        if (closing && info.from === CLIENT && dropCloses > 0) {
          dropCloses--;
          return null;
        }
        return d;
      },
    },
  });
  establish(pair);
  const server = pair.server();
  const sid = server.openStream('uni')!;
  server.writeStream(sid, payload(300_000), false);
  pair.run(() => false, 30);
  closing = true;
  pair.client.close(9, 'lost close', pair.sim.now);
  assert.ok(pair.run(() => server.isClosed, 10_000), 'the server learns of the close');
  assert.equal(server.closeReason, { kind: 'application', code: 9, reason: 'lost close', remote: true });
  assert.is(dropCloses, 0);
  assert.ok(runUntilTerminated(pair, 10_000));
});

test('close before the handshake completes: the peer sees APPLICATION_ERROR in a CONNECTION_CLOSE 0x1c without the reason (§10.2.3)', () => {
  // Only the server's Initial packet (ServerHello) gets through until the client closed: the
  // Handshake packets coalesced after it and later datagrams are dropped.
  let hold = true;
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 });
  const hook = (d: Uint8Array, info: { from: string; index: number }): Uint8Array | null => {
    if (!hold || info.from !== SERVER) return d;
    if (info.index > 0) return null;
    const first = reader.reset(d).next()!;
    return d.slice(first.start, first.end);
  };
  const pair = makePair({ seed: SEED + 3, link: { delayMs: 10, hook } });
  // The client has Handshake keys but not the whole server flight.
  assert.ok(pair.run(() => pair.client.spaces[1].writeKeys !== undefined, 1_000));
  assert.not.ok(pair.client.isHandshakeComplete);
  pair.client.close(0x55, 'secret reason', pair.sim.now);
  hold = false;
  assert.ok(pair.run(() => pair.serverNode.conn !== undefined && pair.server().isClosed, 5_000));
  const r = pair.server().closeReason!;
  assert.equal(r, { kind: 'transport', code: TransportErrorCode.APPLICATION_ERROR, frameType: 0, reason: '', remote: true });
  assert.ok(runUntilTerminated(pair, 10_000));
});

test('client close before sending anything: the Initial CONNECTION_CLOSE is padded and reaches the server', () => {
  const pair = makePair({ seed: SEED + 4, link: { delayMs: 10 } });
  pair.client.close(0x10, 'never mind', 0);
  assert.ok(pair.run(() => pair.client.isTerminated, 5_000), 'client terminates');
  // The server creates a connection for that Initial, reads the close and drains.
  assert.ok(pair.run(() => pair.serverNode.conn !== undefined && pair.server().isTerminated, 5_000), 'server drains and terminates');
  assert.equal(pair.server().closeReason, { kind: 'transport', code: TransportErrorCode.APPLICATION_ERROR, frameType: 0, reason: '', remote: true });
});

test('server close after its first flight, before the client finished: the client gets a close and both terminate', () => {
  const pair = makePair({ seed: SEED + 5, link: { delayMs: 10 } });
  assert.ok(pair.run(() => pair.serverNode.conn !== undefined && pair.server().spaces[1].writeKeys !== undefined, 1_000));
  pair.server().close(0x66, 'go away', pair.sim.now);
  assert.ok(runUntilTerminated(pair, 10_000), 'both terminate');
  const r = pair.client.closeReason!;
  // Either the 1-RTT 0x1d frame (if the client could already open 1-RTT) or 0x1c APPLICATION_ERROR.
  const ok =
    (r.kind === 'transport' && r.code === TransportErrorCode.APPLICATION_ERROR && r.reason === '' && r.remote) ||
    (r.kind === 'application' && r.code === 0x66 && r.remote);
  assert.ok(ok, JSON.stringify(r));
});

test('both sides close at the same instant: each keeps its own reason, a few CONNECTION_CLOSE packets cross, both terminate', () => {
  const c = counting();
  const pair = makePair({ seed: SEED + 9, link: { delayMs: 10, hook: c.hook } });
  establish(pair);
  const id = pair.client.openStream('bidi')!;
  pair.client.writeStream(id, payload(50_000), false);
  pair.run(() => false, 20);
  const t = pair.sim.now;
  pair.client.close(1, 'client bye', t);
  pair.server().close(2, 'server bye', t);
  assert.ok(runUntilTerminated(pair, 10_000), 'both terminate');
  assert.equal(pair.client.closeReason, { kind: 'application', code: 1, reason: 'client bye', remote: false });
  assert.equal(pair.server().closeReason, { kind: 'application', code: 2, reason: 'server bye', remote: false });
  const crossed = c.sentAfter(CLIENT, t - 0.001) + c.sentAfter(SERVER, t - 0.001);
  assert.ok(crossed >= 2 && crossed <= 12, `${crossed} datagrams after both closed (no close ping-pong)`);
});

test('idle timeout (§10.1): the effective timeout is the smaller one, both sides close silently', () => {
  const c = counting();
  const pair = makePair({
    seed: SEED + 6,
    link: { delayMs: 10, hook: c.hook },
    clientTransport: { maxIdleTimeoutMs: 1_000 },
    serverTransport: { maxIdleTimeoutMs: 5_000 },
  });
  establish(pair);
  const id = pair.client.openStream('bidi')!;
  pair.client.writeStream(id, payload(1000), true);
  pair.run(() => false, 200);
  const quietFrom = pair.sim.now;
  assert.ok(runUntilTerminated(pair, 10_000), 'both idle out');
  assert.equal(pair.client.closeReason, { kind: 'idle-timeout' });
  assert.equal(pair.server().closeReason, { kind: 'idle-timeout' });
  // Nobody sent anything after the quiet period began (no CONNECTION_CLOSE, no keep-alive).
  assert.is(c.sentAfter(CLIENT, quietFrom) + c.sentAfter(SERVER, quietFrom), 0);
  // Both used the smaller timeout (1 s), not the server's 5 s.
  assert.ok(pair.sim.now - quietFrom < 2_000, `idle closed after ${pair.sim.now - quietFrom} ms`);
  const closedEvents = pair.serverNode.events.filter((e) => e.type === 'closed');
  assert.is(closedEvents.length, 1);
});

test('idle timeout also ends a handshake whose peer vanished', () => {
  const pair = makePair({
    seed: SEED + 7,
    link: { delayMs: 10, hook: (d, info) => (info.from === SERVER ? null : d) },
    clientTransport: { maxIdleTimeoutMs: 2_000 },
  });
  assert.ok(pair.run(() => pair.client.isTerminated, 20_000), 'client gives up');
  assert.equal(pair.client.closeReason, { kind: 'idle-timeout' });
});

test('activity keeps the connection alive past the idle timeout', () => {
  const pair = makePair({ seed: SEED + 8, link: { delayMs: 10 }, clientTransport: { maxIdleTimeoutMs: 500 }, serverTransport: { maxIdleTimeoutMs: 500 } });
  establish(pair);
  const id = pair.client.openStream('uni')!;
  for (let i = 0; i < 20; i++) {
    pair.client.writeStream(id, payload(100, i), false);
    pair.run(() => false, 200);
    assert.not.ok(pair.client.isClosed || pair.server().isClosed, `closed at step ${i}`);
  }
});

/** Every datagram `conn` sends from `now` on, passing the pacer's short waits (bounded). */
function drainTransmits(conn: ReturnType<typeof makePair>['client'], now: number, buffer: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = now;
  for (let i = 0; i < 100; i++) {
    const t = conn.pollTransmit(at, buffer);
    if (t !== undefined) {
      out.push(buffer.slice(0, t.length));
      continue;
    }
    const next = conn.nextTimeout();
    // Only the pacer's gaps (a few ms), never a PTO or the idle timer.
    if (next === undefined || next > at + 20) break;
    at = Math.max(at, next);
  }
  return out;
}

test('stream data that arrives just before the peer\'s CONNECTION_CLOSE stays readable after the close, and is freed at termination', () => {
  const pair = makePair({ seed: SEED });
  establish(pair);
  const client = pair.client;
  const server = pair.server();
  const now = pair.sim.now;
  const bye = new TextEncoder().encode('close capsule: goodbye');
  const uni = client.openStream('uni')!;
  client.writeStream(uni, bye, true);
  const unfinished = client.openStream('bidi')!;
  client.writeStream(unfinished, bye.subarray(0, 5), false);
  // The data's datagram and the close's, handed to the server back to back with no event
  // dispatched in between (as when both arrive in one datagram or one receive batch).
  const buffer = new Uint8Array(1500);
  const datagrams = [...drainTransmits(client, now, buffer)];
  const dataDatagrams = datagrams.length;
  client.close(0x10, 'bye', now);
  datagrams.push(...drainTransmits(client, now, buffer));
  assert.ok(dataDatagrams >= 1 && datagrams.length > dataDatagrams, `data: ${dataDatagrams}, with close: ${datagrams.length}`);
  for (const d of datagrams) server.handleDatagram(d, { address: CLIENT, port: 443 }, now);
  const events: string[] = [];
  for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) events.push(e.type);
  assert.ok(events.includes('closed'), events.join(','));
  assert.equal(server.closeReason, { kind: 'application', code: 0x10, reason: 'bye', remote: true });
  // Everything the peer sent before closing is still there, in order, with its FIN.
  assert.ok(server.hasReadableAfterClose(uni));
  const read = server.readStream(uni);
  assert.ok(read !== undefined && read.fin, 'data and FIN readable after the close');
  assert.is(new TextDecoder().decode(read!.data), 'close capsule: goodbye');
  assert.is(server.readStream(uni), undefined, 'read once');
  assert.not.ok(server.hasReadableAfterClose(uni), 'forgotten once read');
  // A stream without its FIN: the bytes that came are readable, then nothing more.
  const partial = server.readStream(unfinished);
  assert.is(partial && new TextDecoder().decode(partial.data), 'close');
  assert.is(partial?.fin, false);
  assert.not.ok(server.hasReadableAfterClose(unfinished));
  // The local side of a closed connection keeps nothing.
  assert.not.ok(client.hasReadableAfterClose(uni));
  // Unread data is released when the draining period ends (a second pair).
  const pair2 = makePair({ seed: SEED + 1 });
  establish(pair2);
  const c2 = pair2.client;
  const s2 = pair2.server();
  const id2 = c2.openStream('uni')!;
  c2.writeStream(id2, bye, true);
  const t0 = pair2.sim.now;
  const d2 = drainTransmits(c2, t0, buffer);
  c2.close(0x11, 'bye', t0);
  d2.push(...drainTransmits(c2, t0, buffer));
  for (const d of d2) s2.handleDatagram(d, { address: CLIENT, port: 443 }, t0);
  assert.ok(s2.hasReadableAfterClose(id2));
  s2.handleTimeout(t0 + 10 * s2.ptoMs() + 1);
  assert.ok(s2.isTerminated, 'draining ended');
  assert.not.ok(s2.hasReadableAfterClose(id2), 'released at termination');
  assert.is(s2.readStream(id2), undefined);
});

test.run();
