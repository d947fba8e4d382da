/**
 * Every packet the sender records as sent leaves in a datagram: packets counted on the wire
 * (coalesced headers parsed per datagram) equal the connection's `stats.packetsSent`, for
 * handshakes and transfers under loss on many seeds. A packet sealed (numbered, recorded in
 * flight) but never handed to the socket would later be declared lost, costing a congestion
 * reaction for nothing; the send loop once did that when the space after a built packet had
 * something to send but built nothing.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { CLIENT, makePair, payload, SERVER } from './harness.js';

function countingHook(counts: { packets: number }) {
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 });
  return (d: Uint8Array): Uint8Array => {
    reader.reset(d);
    for (let h = reader.next(); h !== undefined; h = reader.next()) counts.packets++;
    return d;
  };
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`seed ${seed}: packets on the wire = packets recorded as sent, both sides (handshake and 300 KB each way under 10% loss)`, () => {
    const fromClient = { packets: 0 };
    const fromServer = { packets: 0 };
    const pair = makePair({
      seed,
      link: { delayMs: 20, lossRate: 0.1, hook: countingHook(fromClient) },
      back: { delayMs: 20, lossRate: 0.1, hook: countingHook(fromServer) },
    });
    const up = payload(300_000, seed);
    let serverGot = 0;
    let clientGot = 0;
    pair.serverNode.onEvent = (e, conn) => {
      if (e.type === 'stream-readable') {
        for (let r = conn.readStream(e.streamId); r !== undefined; r = conn.readStream(e.streamId)) {
          serverGot += r.data.length;
          if (r.fin) conn.writeStream(e.streamId, payload(300_000, seed + 1), true);
        }
      }
    };
    pair.clientNode.onEvent = (e, conn) => {
      if (e.type === 'handshake-complete') {
        const id = conn.openStream('bidi')!;
        conn.writeStream(id, up, true);
      }
      if (e.type === 'stream-readable') for (let r = conn.readStream(e.streamId); r !== undefined; r = conn.readStream(e.streamId)) clientGot += r.data.length;
    };
    assert.ok(pair.run(() => serverGot === up.length && clientGot === 300_000, 120_000), `transfer incomplete: ${serverGot}, ${clientGot}`);
    // Let the last acknowledgments go out.
    pair.run(() => false, 2_000);
    assert.is(fromClient.packets, pair.client.stats.packetsSent, `${CLIENT}: on the wire vs recorded`);
    assert.is(fromServer.packets, pair.server().stats.packetsSent, `${SERVER}: on the wire vs recorded`);
  });
}

test('a datagram as large as a packet allows, queued when the handshake completes, does not strand the Finished sealed before it', () => {
  const fromClient = { packets: 0 };
  const pair = makePair({ seed: 9, link: { delayMs: 20, hook: countingHook(fromClient) }, back: { delayMs: 20 } });
  let queued = false;
  pair.clientNode.onEvent = (e, conn) => {
    // The client's Handshake packet (its Finished) and then the 1-RTT space go into one datagram;
    // a datagram frame filling a whole packet cannot follow the Finished in it.
    if (e.type === 'handshake-complete') queued = conn.sendDatagram(payload(conn.maxDatagramPayload, 3)) !== undefined;
  };
  assert.ok(pair.run(() => pair.client.handshakeConfirmed && pair.server().handshakeConfirmed, 10_000), 'handshake');
  pair.run(() => false, 1_000);
  assert.ok(queued, 'datagram queued');
  assert.is(fromClient.packets, pair.client.stats.packetsSent, 'packets on the wire vs recorded as sent');
  assert.is(pair.client.stats.packetsLost, 0, 'nothing declared lost on a lossless link');
});

test.run();
