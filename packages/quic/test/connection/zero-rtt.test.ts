/**
 * Resumption and 0-RTT at the QUIC layer (RFC 9001 §4.6, RFC 9000 §7.4.1) in the simulator:
 * a resumed handshake without certificates, 0-RTT data accepted before the client's handshake
 * completes, 0-RTT rejected and resent in 1-RTT, remembered limits the server may not reduce,
 * and a replayed 0-RTT ClientHello refused by the replay cache.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { ZeroRttReplayCache } from '../../src/connection/zero-rtt.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import { SimRandom } from '../../src/sim/prng.js';
import type { EarlyDataContext, SessionTicket } from '../../src/tls/engine-api.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { makePair, type Pair, payload, sameBytes, seededProvider, TEST_CERT_DER, TEST_KEY_PEM, WALL_CLOCK } from './harness.js';

interface Server {
  ticketKeys: SessionTicketKeys;
  cache: ZeroRttReplayCache;
}

function newServer(seed: number): Server {
  const random = new SimRandom(seed);
  return { ticketKeys: new SessionTicketKeys({ crypto: seededProvider(random), random: (n) => random.bytes(n) }), cache: new ZeroRttReplayCache() };
}

function serverOptions(server: Server, earlyData = true) {
  return { sessionTicketKeys: server.ticketKeys, earlyData, earlyDataFilter: (c: EarlyDataContext) => server.cache.accept(c) };
}

/** A full handshake that leaves the client a ticket. */
function obtainTicket(server: Server, seed: number): SessionTicket {
  const pair = makePair({ seed, serverOptions: serverOptions(server) });
  let ticket: SessionTicket | undefined;
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'session-ticket') ticket = e.ticket;
  };
  assert.ok(pair.run(() => ticket !== undefined, 10_000), 'no ticket');
  assert.is(pair.client.tls.resumed, false);
  assert.ok(pair.client.tls.peerCertificates.length > 0);
  assert.ok(ticket!.transportParameters, 'ticket without the server transport parameters');
  return ticket!;
}

/** The client sends `data` on a bidi stream right away (0-RTT if it can); the server collects it. */
function sendEarly(pair: Pair, data: Uint8Array) {
  const received: Uint8Array[] = [];
  const state = { done: false, clientCompleteAtFirstByte: undefined as boolean | undefined, answer: undefined as boolean | undefined, streamsReset: false };
  pair.serverNode.onEvent = (e: ConnectionEvent, conn) => {
    if (e.type !== 'stream-readable' || state.done) return;
    for (let r = conn.readStream(e.streamId); r !== undefined; r = conn.readStream(e.streamId)) {
      if (r.data.length > 0) {
        state.clientCompleteAtFirstByte ??= pair.client.isHandshakeComplete;
        received.push(r.data.slice());
      }
      if (r.fin) {
        state.done = true;
        break;
      }
    }
  };
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'early-data') {
      state.answer = e.accepted;
      state.streamsReset = e.streamsReset === true;
      // RFC 9001 §4.6.2: the streams were reset; the application starts over on new ones.
      if (e.streamsReset) {
        const again = pair.client.openStream('bidi')!;
        pair.client.writeStream(again, data, true);
      }
    }
  };
  const id = pair.client.openStream('bidi');
  assert.ok(id !== undefined, 'no stream before the handshake (remembered limits missing)');
  assert.is(pair.client.writeStream(id!, data, true), data.length);
  const ok = pair.run(() => state.done && state.answer !== undefined, 20_000);
  const all = new Uint8Array(received.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of received) {
    all.set(c, at);
    at += c.length;
  }
  return { ok, state, same: sameBytes(all, data) };
}

test('resumption: the second handshake uses the ticket and sends no certificate', () => {
  const server = newServer(1);
  const ticket = obtainTicket(server, 11);
  const pair = makePair({ seed: 12, clientOptions: { sessionTicket: ticket }, serverOptions: serverOptions(server) });
  assert.ok(pair.run(() => pair.client.isHandshakeComplete && pair.serverNode.conn?.isHandshakeComplete === true, 10_000));
  assert.ok(pair.client.tls.resumed, 'client not resumed');
  assert.ok(pair.server().tls.resumed, 'server not resumed');
  assert.is(pair.client.tls.peerCertificates.length, 0, 'a certificate was sent');
  assert.is(pair.client.tls.earlyDataAccepted, false, '0-RTT without asking');
});

test('0-RTT accepted: stream data and a datagram arrive at the server before the client completes its handshake', () => {
  const server = newServer(2);
  const ticket = obtainTicket(server, 21);
  const pair = makePair({ seed: 22, clientOptions: { sessionTicket: ticket, earlyData: true }, serverOptions: serverOptions(server) });
  const data = payload(3000, 5);
  // The remembered max_datagram_frame_size allows DATAGRAM in 0-RTT (RFC 9221 §3).
  assert.ok(pair.client.maxDatagramPayload > 0);
  assert.ok(pair.client.sendDatagram(payload(50, 4)) !== undefined);
  const r = sendEarly(pair, data);
  const datagramAt = pair.serverNode.events.findIndex((e) => e.type === 'datagram');
  assert.ok(datagramAt >= 0, 'no datagram');
  assert.ok(r.ok && r.same, 'data did not arrive intact');
  assert.is(r.state.answer, true);
  assert.is(r.state.clientCompleteAtFirstByte, false, 'data arrived only after the handshake');
  assert.ok(pair.server().tls.earlyDataAccepted);
  assert.ok(pair.client.tls.resumed);
  assert.is(server.cache.size, 1);
  assert.is(pair.client.closeReason, undefined);
  assert.is(pair.server().closeReason, undefined);
});

test('0-RTT stream data under 20% loss: accepted, everything arrives', () => {
  const server = newServer(3);
  const ticket = obtainTicket(server, 31);
  const pair = makePair({ seed: 32, link: { delayMs: 10, lossRate: 0.2 }, clientOptions: { sessionTicket: ticket, earlyData: true }, serverOptions: serverOptions(server) });
  const data = payload(20_000, 6);
  const r = sendEarly(pair, data);
  assert.ok(r.ok && r.same, 'data did not arrive intact');
  assert.is(pair.client.closeReason, undefined);
});

test('0-RTT rejected by the server: the data is resent in 1-RTT and arrives', () => {
  const server = newServer(4);
  const ticket = obtainTicket(server, 41);
  const pair = makePair({ seed: 42, clientOptions: { sessionTicket: ticket, earlyData: true }, serverOptions: serverOptions(server, false) });
  const data = payload(5000, 7);
  const r = sendEarly(pair, data);
  assert.ok(r.ok && r.same, 'data did not arrive intact');
  assert.is(r.state.answer, false);
  assert.is(r.state.streamsReset, false, 'same ALPN and limits: the streams stay and their data is resent');
  assert.is(r.state.clientCompleteAtFirstByte, true, 'data was accepted in 0-RTT');
  assert.ok(pair.client.tls.resumed, 'resumption still works');
  assert.ok(pair.server().droppedPackets > 0, 'the 0-RTT packets should have been dropped');
});

test('0-RTT refused when the server now offers less than the ticket promised (RFC 9000 §7.4.1)', () => {
  const server = newServer(5);
  const ticket = obtainTicket(server, 51);
  const pair = makePair({
    seed: 52,
    clientOptions: { sessionTicket: ticket, earlyData: true },
    serverOptions: serverOptions(server),
    serverTransport: { initialMaxStreamsBidi: 10 },
  });
  const r = sendEarly(pair, payload(2000, 8));
  assert.ok(r.ok && r.same);
  assert.is(r.state.answer, false);
  assert.is(server.cache.size, 0, 'the replay cache was consulted for a refused 0-RTT');
  // A limit the client relied on shrank: its streams were reset and the data came on a new stream.
  assert.ok(r.state.streamsReset);
  assert.is(pair.client.streams.size, 1);
});

test('0-RTT rejected with another ALPN: every stream is reset (RFC 9001 §4.6.2), nothing of it reaches the server', () => {
  const server = newServer(7);
  const ticket = obtainTicket(server, 71);
  const pair = makePair({
    seed: 72,
    alpn: ['test', 'other'],
    serverAlpn: ['other'],
    clientOptions: { sessionTicket: ticket, earlyData: true },
    serverOptions: serverOptions(server),
  });
  const opened: number[] = [];
  const r = sendEarly(pair, payload(1500, 10));
  for (const e of pair.serverNode.events) if (e.type === 'stream-opened') opened.push(e.streamId);
  assert.ok(r.ok && r.same, 'the data written again did not arrive');
  assert.is(r.state.answer, false);
  assert.ok(r.state.streamsReset);
  assert.is(pair.client.negotiatedAlpn, 'other');
  // The server saw only the stream opened after the reset (ID 0 again: a fresh stream space).
  assert.equal(opened, [0]);
  assert.is(pair.client.closeReason, undefined);
});

test('a replayed 0-RTT ClientHello is refused 0-RTT; its early data never reaches the application', () => {
  const server = newServer(6);
  const ticket = obtainTicket(server, 61);
  const captured: Uint8Array[] = [];
  const pair = makePair({
    seed: 62,
    link: { delayMs: 10, hook: (d, info) => (info.from === 'client' && info.index < 2 && (d[0]! & 0x80) !== 0 ? (captured.push(d.slice()), d) : d) },
    clientOptions: { sessionTicket: ticket, earlyData: true },
    serverOptions: serverOptions(server),
  });
  const r = sendEarly(pair, payload(1000, 9));
  assert.ok(r.ok && r.same && r.state.answer === true, JSON.stringify(r));
  assert.ok(captured.length > 0);

  // An attacker sends the same datagrams to the server again (a new connection, same keys and cache).
  const random = new SimRandom(63);
  const crypto = seededProvider(random);
  const header = parseInvariantHeader(captured[0]!, 8);
  const replay = Connection.accept({
    crypto,
    random: (n) => random.bytes(n),
    wallClock: () => WALL_CLOCK,
    alpnProtocols: ['test'],
    certificateChain: [TEST_CERT_DER],
    key: crypto.importSigningKey(TEST_KEY_PEM),
    remote: { address: 'attacker', port: 443 },
    now: 0,
    originalDcid: header.dcid,
    clientScid: header.scid,
    version: header.version,
    ...serverOptions(server),
  });
  for (const d of captured) replay.handleDatagram(d, { address: 'attacker', port: 443 }, 1);
  const events: string[] = [];
  for (let e = replay.pollEvent(); e !== undefined; e = replay.pollEvent()) events.push(e.type);
  assert.ok(replay.tls.resumed, 'the replayed ClientHello should still resume');
  assert.is(replay.tls.earlyDataAccepted, false, 'replayed 0-RTT accepted');
  assert.not.ok(events.includes('stream-opened') || events.includes('stream-readable'), `early data delivered: ${events.join(',')}`);
  assert.is(server.cache.replaysRefused, 1);
});

test('ZeroRttReplayCache: same binder refused within the window, accepted after it; bounded size', () => {
  const cache = new ZeroRttReplayCache({ maxEntries: 2, windowMs: 1000 });
  const ctx = (binder: number, at: number): EarlyDataContext => ({
    ticketTransportParameters: undefined,
    alpn: 'x',
    serverName: undefined,
    binder: new Uint8Array([binder]),
    clientRandom: new Uint8Array(32),
    ticketIssuedAtMs: 0,
    clientTicketAgeMs: at,
    serverTicketAgeMs: at,
  });
  assert.ok(cache.accept(ctx(1, 0)));
  assert.not.ok(cache.accept(ctx(1, 500)));
  assert.ok(cache.accept(ctx(2, 600)));
  assert.not.ok(cache.accept(ctx(3, 700)), 'full cache must refuse');
  assert.ok(cache.accept(ctx(1, 1000)), 'expired entry still blocks');
  assert.is(cache.size, 2);
});

test.run();
