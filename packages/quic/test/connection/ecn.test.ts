/**
 * ECN (RFC 9000 §13.4, RFC 9002 §7.1) on the simulator, whose links carry the IP ECN field:
 * we mark ECT(0), the peer echoes counts in ACK_ECN, validation passes on a clean path and
 * fails on one that bleaches the field or lies about counts, and CE marks from an AQM-style
 * queue make the sender back off without losses. The validator is also driven by hand.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ECN_CE, ECN_ECT0, ECN_NOT_ECT, ECN_TESTING_PACKETS, EcnValidator } from '../../src/connection/ecn.js';
import { CLIENT, makePathPair, runDownload, SERVER } from './path-harness.js';

const MB = 1 << 20;

test('validator: counts that match make the path capable; a CE increase is passed on', () => {
  const v = new EcnValidator(true);
  assert.is(v.codepoint, ECN_ECT0);
  for (let pn = 0; pn < 5; pn++) v.onPacketSent(2, pn, v.codepoint);
  for (let pn = 0; pn < 3; pn++) v.onPacketAcked(2, pn);
  assert.ok(v.onAckFrame(2, { ect0: 3, ect1: 0, ce: 0 }));
  assert.is(v.state, 'capable');
  v.onPacketAcked(2, 3);
  v.onPacketAcked(2, 4);
  const counts = v.onAckFrame(2, { ect0: 4, ect1: 0, ce: 1 });
  assert.equal(counts, { ect0: 4, ect1: 0, ce: 1 });
  assert.is(v.stats.ceReported, 1);
  assert.is(v.state, 'capable');
});

test('validator: failures (RFC 9000 §13.4.2.1) stop the marking', () => {
  const cases: [string, (v: EcnValidator) => void][] = [
    ['ECT packets acknowledged without counts', (v) => v.onAckFrame(2, undefined)],
    ['counts grew less than the ECT packets acknowledged', (v) => v.onAckFrame(2, { ect0: 1, ect1: 0, ce: 0 })],
    ['more ECT(0) than we sent', (v) => v.onAckFrame(2, { ect0: 9, ect1: 0, ce: 0 })],
    ['ECT(1) we never sent', (v) => v.onAckFrame(2, { ect0: 2, ect1: 1, ce: 0 })],
  ];
  for (const [name, act] of cases) {
    const v = new EcnValidator(true);
    for (let pn = 0; pn < 3; pn++) v.onPacketSent(2, pn, v.codepoint);
    v.onPacketAcked(2, 0);
    v.onPacketAcked(2, 1);
    act(v);
    assert.is(v.state, 'failed', name);
    assert.is(v.codepoint, ECN_NOT_ECT, name);
  }
  // Counts going down after a good ACK.
  const v = new EcnValidator(true);
  for (let pn = 0; pn < 4; pn++) v.onPacketSent(2, pn, v.codepoint);
  v.onPacketAcked(2, 0);
  v.onAckFrame(2, { ect0: 1, ect1: 0, ce: 1 });
  v.onPacketAcked(2, 1);
  v.onAckFrame(2, { ect0: 2, ect1: 0, ce: 0 });
  assert.is(v.state, 'failed', 'CE count decreased');
  // Every testing packet lost.
  const lost = new EcnValidator(true);
  for (let pn = 0; pn < ECN_TESTING_PACKETS; pn++) lost.onPacketSent(2, pn, lost.codepoint);
  assert.is(lost.state, 'unknown', 'testing over: no more marks until the verdict');
  assert.is(lost.codepoint, ECN_NOT_ECT);
  for (let pn = 0; pn < ECN_TESTING_PACKETS; pn++) lost.onPacketLost(2, pn);
  assert.is(lost.state, 'failed');
});

test('validator: a stale ACK (largest not raised) is not checked; unmarked packets do not count', () => {
  const v = new EcnValidator(true);
  v.onPacketSent(2, 0, ECN_ECT0);
  v.onPacketSent(2, 1, ECN_NOT_ECT);
  v.onPacketAcked(2, 1);
  assert.equal(v.onAckFrame(2, { ect0: 0, ect1: 0, ce: 0 }), { ect0: 0, ect1: 0, ce: 0 });
  v.onPacketAcked(2, 0);
  assert.is(v.onAckFrame(2, { ect0: 0, ect1: 0, ce: 0 }, true), undefined);
  assert.is.not(v.state, 'failed');
});

test('a clean path: every datagram marked ECT(0), ACK_ECN counts validate it on both sides; 2 MB byte-identical', () => {
  const pair = makePathPair({ seed: 41, link: { delayMs: 10, bandwidthBps: 100e6 } });
  const r = runDownload(pair, 2 * MB);
  assert.ok(r.ok, 'data differs');
  for (const conn of [pair.client, pair.server()]) {
    assert.is(conn.ecn.state, 'capable');
    assert.is(conn.ecn.stats.failures, 0);
  }
  const sent = pair.serverNode.sentEcn;
  assert.ok(sent[ECN_ECT0]! > 1000);
  // Only path-validation probes (none here) go unmarked.
  assert.is(sent[ECN_NOT_ECT], 0);
  // Compare once datagrams still on the link (the run stops when the data is in) arrived.
  pair.run(() => pair.clientNode.receivedEcn[ECN_ECT0] === sent[ECN_ECT0], 100);
  assert.is(pair.clientNode.receivedEcn[ECN_ECT0], sent[ECN_ECT0]);
  // The receiver's ACK tracker counted what arrived: its ACKs carry the counts.
  const pending = pair.client.spaces[2].ack.ackFrame(pair.sim.now + 100, 4);
  assert.ok(pending?.ecn, 'ACK_ECN counts present');
  assert.ok(pending!.ecn!.ect0 > 1000);
});

test('a path that bleaches ECN: validation fails, marking stops, the transfer is unaffected', () => {
  const pair = makePathPair({ seed: 42, link: { delayMs: 10, bandwidthBps: 100e6, ecnBleach: true } });
  const r = runDownload(pair, 2 * MB);
  assert.ok(r.ok, 'data differs');
  const server = pair.server();
  assert.is(server.ecn.state, 'failed');
  const sent = pair.serverNode.sentEcn;
  assert.ok(sent[ECN_ECT0]! <= ECN_TESTING_PACKETS + 5, `${sent[ECN_ECT0]} marked before giving up`);
  assert.ok(sent[ECN_NOT_ECT]! > 1000);
  assert.is(pair.clientNode.receivedEcn[ECN_ECT0], 0);
});

test('ECN disabled by setting: nothing marked', () => {
  const pair = makePathPair({ seed: 43, link: { delayMs: 10 }, serverTransport: { ecn: false }, clientTransport: { ecn: false } });
  assert.ok(runDownload(pair, 200_000).ok);
  assert.is(pair.serverNode.sentEcn[ECN_ECT0], 0);
  assert.is(pair.clientNode.sentEcn[ECN_ECT0], 0);
});

for (const cc of ['newreno', 'cubic'] as const) {
  test(`${cc}: CE marks from a queue above 30 kB slow the sender down without losses; the queue stays short`, () => {
    const transport = { congestionControl: cc };
    const link = { delayMs: 10, bandwidthBps: 20e6, bufferBytes: 400_000, ceThresholdBytes: 30_000 };
    const pair = makePathPair({ seed: 44, link, clientTransport: transport, serverTransport: transport });
    const r = runDownload(pair, 4 * MB);
    assert.ok(r.ok, 'data differs');
    const server = pair.server();
    const down = pair.sim.link(SERVER, CLIENT)!.stats;
    assert.ok(down.ceMarked > 0, 'the queue marked CE');
    assert.ok(server.ecn.stats.ceReported > 0, 'the client reported CE in ACK_ECN');
    assert.is(server.ecn.state, 'capable');
    assert.is(down.droppedByQueue, 0, 'no queue overflow');
    // Without ECN the same transfer fills the big buffer: the CE reaction kept the queue short.
    const plain = makePathPair({ seed: 44, link, clientTransport: { ...transport, ecn: false }, serverTransport: { ...transport, ecn: false } });
    assert.ok(runDownload(plain, 4 * MB).ok);
    const plainDown = plain.sim.link(SERVER, CLIENT)!.stats;
    assert.is(plainDown.ceMarked, 0);
    assert.ok(down.maxQueuedBytes < plainDown.maxQueuedBytes, `queue ${down.maxQueuedBytes} with ECN vs ${plainDown.maxQueuedBytes} without`);
    void ECN_CE;
  });
}

test.run();
