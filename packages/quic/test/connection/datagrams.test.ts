/**
 * Unreliable datagrams (RFC 9221): sent and received both ways, each reported acknowledged or
 * lost exactly once and never retransmitted (§5), size limits from max_datagram_frame_size
 * (§3: it bounds the whole frame), disabled when the peer advertises 0 (§3).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { makePair, payload, sameBytes } from './harness.js';
import { establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function tagged(i: number, size: number): Uint8Array {
  const d = payload(size, 1000 + i);
  d[0] = i & 0xff;
  d[1] = i >> 8;
  return d;
}
const tagOf = (d: Uint8Array) => (d[0] as number) | ((d[1] as number) << 8);

test('datagrams both ways on a clean path: delivered intact and acknowledged', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10 } });
  establish(pair);
  const c = pair.client;
  const s = pair.server();
  assert.ok(c.maxDatagramPayload > 1000 && s.maxDatagramPayload > 1000, `payload limits ${c.maxDatagramPayload} ${s.maxDatagramPayload}`);
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const acked = { client: new Set<number>(), server: new Set<number>() };
  pair.serverNode.onEvent = (e) => {
    if (e.type === 'datagram') toServer.push(e.data);
    if (e.type === 'datagram-acked') acked.server.add(e.id);
  };
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'datagram') toClient.push(e.data);
    if (e.type === 'datagram-acked') acked.client.add(e.id);
  };
  for (let i = 0; i < 20; i++) {
    assert.ok(c.sendDatagram(tagged(i, 50 + i * 40)) !== undefined);
    assert.ok(s.sendDatagram(tagged(i, 30 + i * 20)) !== undefined);
  }
  assert.ok(pair.run(() => acked.client.size === 20 && acked.server.size === 20, 2_000), 'all acknowledged');
  assert.is(toServer.length, 20);
  assert.is(toClient.length, 20);
  toServer.forEach((d, i) => assert.ok(sameBytes(d, tagged(i, 50 + i * 40))));
  toClient.forEach((d, i) => assert.ok(sameBytes(d, tagged(i, 30 + i * 20))));
});

test('under 30% loss: every datagram is acknowledged or lost exactly once, none is delivered twice (never retransmitted)', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10, lossRate: 0.3 } });
  establish(pair, 30_000);
  const c = pair.client;
  const received = new Map<number, number>();
  const outcome = new Map<number, string>();
  const doubles: string[] = [];
  pair.serverNode.onEvent = (e) => {
    if (e.type === 'datagram') received.set(tagOf(e.data), (received.get(tagOf(e.data)) ?? 0) + 1);
  };
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'datagram-acked' || e.type === 'datagram-lost') {
      if (outcome.has(e.id)) doubles.push(`${e.id}: ${outcome.get(e.id)} then ${e.type}`);
      outcome.set(e.id, e.type);
    }
  };
  const total = 200;
  const ids: number[] = [];
  for (let i = 0; i < total; i++) {
    const id = c.sendDatagram(tagged(i, 300));
    assert.ok(id !== undefined);
    ids.push(id!);
    if (i % 10 === 9) pair.run(() => false, 5);
  }
  // Keep the connection busy with a reliable stream so ACKs flow until every packet is settled.
  const sid = c.openStream('uni')!;
  c.writeStream(sid, payload(20_000), true);
  assert.ok(pair.run(() => outcome.size === total, 20_000), `settled ${outcome.size} of ${total}`);
  assert.equal(doubles, []);
  for (const [tag, n] of received) assert.is(n, 1, `datagram ${tag} delivered ${n} times`);
  const lost = [...outcome.values()].filter((v) => v === 'datagram-lost').length;
  assert.ok(lost > 20, `some were lost (${lost})`);
  assert.ok(received.size < total, 'lost datagrams were not sent again');
  assert.ok(received.size >= total - lost, 'every acknowledged datagram arrived');
});

test('size limits: the largest allowed payload goes, one byte more is refused; a small peer max_datagram_frame_size bounds the frame', () => {
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10 }, serverTransport: { maxDatagramFrameSize: 100 } });
  establish(pair);
  const c = pair.client;
  // RFC 9221 §3: the limit is on the whole frame: type (1) + length varint (2 for 97) + 97 bytes = 100.
  assert.is(c.maxDatagramPayload, 97);
  assert.is(c.sendDatagram(new Uint8Array(98)), undefined, 'oversize refused');
  let got = -1;
  pair.serverNode.onEvent = (e) => {
    if (e.type === 'datagram') got = e.data.length;
  };
  assert.ok(c.sendDatagram(new Uint8Array(97)) !== undefined);
  assert.ok(pair.run(() => got === 97, 1_000), 'the largest one arrives without a protocol error');
  assert.not.ok(pair.server().isClosed);
  // The server's own limit towards the client is the path's, not 100.
  const s: Connection = pair.server();
  assert.ok(s.maxDatagramPayload > 1000);
  assert.is(s.sendDatagram(new Uint8Array(s.maxDatagramPayload + 1)), undefined);
  assert.ok(s.sendDatagram(new Uint8Array(s.maxDatagramPayload)) !== undefined);
  let gotBig = -1;
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'datagram') gotBig = e.data.length;
  };
  assert.ok(pair.run(() => gotBig === s.maxDatagramPayload, 1_000), 'a full-size datagram fits one packet');
});

test('disabled: a peer advertising max_datagram_frame_size 0 gets none; before the handshake none can be sent', () => {
  const pair = makePair({ seed: SEED + 3, link: { delayMs: 10 }, serverTransport: { maxDatagramFrameSize: 0 } });
  assert.is(pair.client.sendDatagram(new Uint8Array(10)), undefined, 'nothing before the peer parameters are known');
  establish(pair);
  assert.is(pair.client.maxDatagramPayload, 0);
  assert.is(pair.client.sendDatagram(new Uint8Array(1)), undefined);
  // The other direction is still allowed (the client advertises the default).
  let got = false;
  pair.clientNode.onEvent = (e) => {
    if (e.type === 'datagram') got = true;
  };
  assert.ok(pair.server().sendDatagram(new Uint8Array(10)) !== undefined);
  assert.ok(pair.run(() => got, 1_000));
  assert.not.ok(pair.client.isClosed || pair.server().isClosed);
});

test.run();
