/**
 * Connection IDs over a real connection (RFC 9000 §5.1): after the handshake is confirmed each
 * side issues NEW_CONNECTION_ID up to the peer's active_connection_id_limit, announcing each to
 * its endpoint with a 'cid-route' event; retiring one (RETIRE_CONNECTION_ID, §19.16) stops its
 * route and a replacement is issued; a peer exceeding our limit is a CONNECTION_ID_LIMIT_ERROR
 * (§5.1.1) and retiring the CID a packet was sent to is a PROTOCOL_VIOLATION (§19.16).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { TransportErrorCode } from '../../src/errors.js';
import { FrameType } from '../../src/frame/types.js';
import { makePair, payload } from './harness.js';
import { assertTransportClose, establish, injectFrames, runUntilTerminated } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The set of CIDs (hex) the events leave routed. */
function routed(events: ConnectionEvent[]): Set<string> {
  const out = new Set<string>();
  for (const e of events) {
    if (e.type !== 'cid-route') continue;
    if (e.active) out.add(hex(e.cid));
    else out.delete(hex(e.cid));
  }
  return out;
}

for (const [clientLimit, serverLimit] of [
  [4, 4],
  [2, 7],
  [8, 3],
] as const) {
  test(`issued up to the peer limit after confirmation (client limit ${clientLimit}, server limit ${serverLimit})`, () => {
    const pair = makePair({
      seed: SEED,
      link: { delayMs: 10 },
      clientTransport: { activeConnectionIdLimit: clientLimit },
      serverTransport: { activeConnectionIdLimit: serverLimit },
    });
    establish(pair);
    const c = pair.client;
    const s = pair.server();
    // Let the NEW_CONNECTION_ID frames arrive.
    assert.ok(pair.run(() => c.peerCids.size === clientLimit && s.peerCids.size === serverLimit, 1_000), `client holds ${c.peerCids.size}, server holds ${s.peerCids.size}`);
    // The client issued as many as the server accepts, the server as many as the client accepts.
    assert.is(c.localCids.size, serverLimit);
    assert.is(s.localCids.size, clientLimit);
    const clientRoutes = routed(pair.clientNode.events);
    assert.is(clientRoutes.size, serverLimit);
    for (const issued of c.localCids.all()) assert.ok(clientRoutes.has(hex(issued.cid)));
    // The server also routes the client's original DCID until the connection ends.
    const serverRoutes = routed(pair.serverNode.events);
    assert.is(serverRoutes.size, clientLimit + 1);
    assert.ok(serverRoutes.has(hex(s.originalDcid)));
    // Nothing is announced before confirmation: the first extra route follows 'handshake-confirmed'.
    const ev = pair.clientNode.events;
    const confirmedAt = ev.findIndex((e) => e.type === 'handshake-confirmed');
    const firstExtra = ev.findIndex((e, i) => e.type === 'cid-route' && i > 0 && e.active);
    assert.ok(confirmedAt >= 0 && firstExtra > confirmedAt, 'extra CIDs only after confirmation');
  });
}

test('rotation: the client moves to a new server CID and retires the old one; the server stops routing it and issues a replacement', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10 } });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  assert.ok(pair.run(() => c.peerCids.size === 4, 1_000));
  const old = c.peerCids.currentCid.slice();
  assert.ok(c.peerCids.rotate(), 'an unused CID is available');
  assert.not.ok(hex(c.peerCids.currentCid) === hex(old));
  // Traffic on the new CID retires the old one at the server.
  const id = c.openStream('uni')!;
  c.writeStream(id, payload(5000), true);
  const retired = () => pair.serverNode.events.some((e) => e.type === 'cid-route' && !e.active && hex(e.cid) === hex(old));
  assert.ok(pair.run(retired, 1_000), 'the server stopped routing the retired CID');
  assert.ok(pair.run(() => c.peerCids.size === 4 && s.localCids.size === 4, 1_000), 'a replacement was issued and received');
  assert.not.ok(routed(pair.serverNode.events).has(hex(old)));
  assert.not.ok(c.isClosed || s.isClosed);
  // Rotate through several more: each is retired and replaced, the connection keeps working.
  for (let i = 0; i < 6; i++) {
    assert.ok(c.peerCids.rotate(), `rotation ${i}`);
    c.writeStream(c.openStream('uni')!, payload(500, i), true);
    assert.ok(pair.run(() => c.peerCids.size === 4 && c.peerCids.pendingRetirements.size === 0, 2_000), `rotation ${i} settled`);
  }
  assert.is(s.localCids.size, 4);
  assert.not.ok(c.isClosed || s.isClosed);
});

test('rotation under 20% loss and reordering, both sides rotating: NEW/RETIRE frames are resent until they settle, no limit error', () => {
  const pair = makePair({ seed: SEED + 5, link: { delayMs: 10, lossRate: 0.2, reorderRate: 0.1, reorderDelayMs: 8 } });
  establish(pair, 30_000);
  const c = pair.client;
  const s = pair.server();
  assert.ok(pair.run(() => c.peerCids.size === 4 && s.peerCids.size === 4, 10_000));
  for (let i = 0; i < 12; i++) {
    const side = i % 2 === 0 ? c : s;
    side.peerCids.rotate();
    side.writeStream(side.openStream('uni')!, payload(3000, i), true);
    pair.run(() => false, 50);
    assert.not.ok(c.isClosed || s.isClosed, `step ${i}: ${JSON.stringify(c.closeReason ?? s.closeReason)}`);
  }
  const settled = () =>
    c.peerCids.size === 4 && s.peerCids.size === 4 && c.peerCids.pendingRetirements.size === 0 && s.peerCids.pendingRetirements.size === 0 && c.localCids.size === 4 && s.localCids.size === 4;
  assert.ok(pair.run(settled, 20_000), `client holds ${c.peerCids.size}, server holds ${s.peerCids.size}`);
  // The routes the endpoints were told about match what each side has issued.
  for (const [node, conn] of [[pair.clientNode, c], [pair.serverNode, s]] as const) {
    const routes = routed(node.events);
    for (const issued of conn.localCids.all()) assert.ok(routes.has(hex(issued.cid)), 'issued CID routed');
    // Retired CIDs are no longer routed (the server also keeps the client's original DCID).
    assert.is(routes.size, conn.localCids.size + (conn === s ? 1 : 0));
  }
  assert.not.ok(c.isClosed || s.isClosed);
});

test('a peer issuing more CIDs than our limit: CONNECTION_ID_LIMIT_ERROR', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10 } });
  establish(pair);
  assert.ok(pair.run(() => pair.client.peerCids.size === 4, 1_000));
  injectFrames(pair, 'server', [
    { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 40, retirePriorTo: 0, connectionId: new Uint8Array(8).fill(0xab), statelessResetToken: new Uint8Array(16).fill(1) },
  ]);
  assertTransportClose(pair.client.closeReason, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, false, 'client');
  assert.ok(runUntilTerminated(pair, 10_000));
  assertTransportClose(pair.server().closeReason, TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, true, 'server');
});

test('retiring the CID the packet was sent to: PROTOCOL_VIOLATION; retiring an unissued one: PROTOCOL_VIOLATION', () => {
  for (const seqOf of ['current', 'unissued'] as const) {
    const pair = makePair({ seed: SEED + 3, link: { delayMs: 10 } });
    establish(pair);
    assert.ok(pair.run(() => pair.client.peerCids.size === 4, 1_000));
    const seq = seqOf === 'current' ? pair.client.peerCids.currentSequence : 1000;
    injectFrames(pair, 'client', [{ type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: seq }]);
    assertTransportClose(pair.server().closeReason, TransportErrorCode.PROTOCOL_VIOLATION, false, seqOf);
  }
});

test.run();
