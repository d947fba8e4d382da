/**
 * PTO probes resend the handshake's CRYPTO data in every handshake space that probes, and a
 * server drops its Initial keys on the first Handshake packet even when a Retry token had
 * validated the client's address (RFC 9002 §6.2.4, RFC 9001 §4.9.1). Found by the interop
 * matrix (handshakeloss, 30% burst loss): on a connection whose address a token had validated,
 * the server's first flight and then the client's Initial ACK were lost; the client, having
 * dropped its Initial keys, could never acknowledge the server's Initials, so the server's PTO
 * stayed in the Initial space, and its Handshake probes were PINGs that never carried the lost
 * flight again, until the idle timeout.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { PacketType } from '../../src/packet/types.js';
import { Connection } from '../../src/connection/connection.js';
import { SimRandom } from '../../src/sim/prng.js';
import { makeEndpointPair, SERVER_ADDR } from './endpoint-node.js';
import { seededProvider, TEST_CERT_PEM, WALL_CLOCK } from './harness.js';

const reader = new CoalescedPacketReader({ shortDcidLength: 8 });

function hasHandshakePacket(d: Uint8Array): boolean {
  try {
    reader.reset(d);
    for (let h = reader.next(); h !== undefined; h = reader.next()) if (h.type === PacketType.HANDSHAKE) return true;
  } catch {
    // not a datagram of ours
  }
  return false;
}

/** Drops the first datagram that carries a Handshake packet, once. */
function dropFirstHandshakeDatagram(): { hook: (d: Uint8Array) => Uint8Array | null; dropped: () => boolean } {
  let dropped = false;
  return {
    hook: (d) => {
      if (dropped || !hasHandshakePacket(d)) return d;
      dropped = true;
      return null;
    },
    dropped: () => dropped,
  };
}

test("Retry-validated server: its first flight lost, then the client's Initial ACK + Handshake ACK lost; the handshake completes by PTO", () => {
  const fromClient = dropFirstHandshakeDatagram();
  const fromServer = dropFirstHandshakeDatagram();
  const pair = makeEndpointPair({ retry: 'always', link: { delayMs: 10, hook: fromClient.hook }, back: { delayMs: 10, hook: fromServer.hook } });
  const c = pair.client.connect(SERVER_ADDR, 0);
  // Without the fixes this stalls until the idle timeout; by PTO it takes a few seconds.
  const ok = pair.run(() => c.conn.handshakeConfirmed && pair.server.conns[0]?.conn.handshakeConfirmed === true, 10_000);
  assert.ok(fromServer.dropped() && fromClient.dropped(), 'both datagrams were dropped');
  assert.ok(ok, `handshake incomplete after 10 s (client ${c.conn.state}, ${JSON.stringify(c.conn.closeReason)})`);
  const server = pair.server.conns[0]!.conn;
  assert.ok(server.spaces[0].discarded, 'the server dropped its Initial keys');
});

test("Retry-validated server, its first flight lost, every client Handshake datagram lost for 6 s: the server's probes carry the flight again; the client completes, then both confirm", () => {
  const fromServer = dropFirstHandshakeDatagram();
  let clientDrops = 0;
  const pair = makeEndpointPair({
    retry: 'always',
    // The client's Initial ACK rides with its Handshake packets: none reaches the server, so the
    // server's Initials stay unacknowledged and its PTO stays in the Initial space.
    link: {
      delayMs: 10,
      hook: (d, info) => {
        if (info.now < 6_000 && hasHandshakePacket(d)) {
          clientDrops++;
          return null;
        }
        return d;
      },
    },
    back: { delayMs: 10, hook: fromServer.hook },
  });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.isHandshakeComplete, 6_000), `the client never got the server's flight again (client ${c.conn.state})`);
  assert.ok(fromServer.dropped() && clientDrops > 0);
  const ok = pair.run(() => c.conn.handshakeConfirmed && pair.server.conns[0]?.conn.handshakeConfirmed === true, 20_000);
  assert.ok(ok, `not confirmed (client ${c.conn.state}, ${JSON.stringify(c.conn.closeReason)})`);
  assert.ok(pair.server.conns[0]!.conn.spaces[0].discarded, 'the server dropped its Initial keys');
});


test('client PTO under handshake loss: both probe datagrams carry the ClientHello (RFC 9002 §6.2.4)', () => {
  const random = new SimRandom(77);
  const sent: { frames: string[]; type: string }[][] = [];
  let datagram: { frames: string[]; type: string }[] = [];
  const client = Connection.connect({
    crypto: seededProvider(random),
    random: (n) => random.bytes(n),
    wallClock: () => WALL_CLOCK,
    alpnProtocols: ['test'],
    serverName: 'localhost',
    verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
    remote: { address: 'server', port: 443 },
    now: 0,
    qlog: {
      onEvent(e) {
        if (e.name !== 'quic:packet_sent') return;
        const data = e.data as { header: { packet_type: string }; frames: { frame_type: string }[] };
        datagram.push({ type: data.header.packet_type, frames: data.frames.map((f) => f.frame_type) });
      },
    },
  });
  const buffer = new Uint8Array(1500);
  const drain = (now: number): number => {
    let n = 0;
    // Bounded: a handful of datagrams per call.
    for (let t = client.pollTransmit(now, buffer); t !== undefined && n < 16; t = client.pollTransmit(now, buffer)) {
      assert.ok(t.length >= 1200, 'Initial datagrams are padded');
      sent.push(datagram);
      datagram = [];
      n++;
    }
    return n;
  };
  assert.is(drain(0), 1, 'the first flight: one datagram'); // lost: nothing is delivered
  const pto = client.nextTimeout()!;
  assert.ok(pto > 0 && pto < 5_000);
  client.handleTimeout(pto);
  assert.is(drain(pto), 2, 'two probe datagrams on the PTO');
  for (const [i, d] of sent.slice(1).entries()) {
    const initial = d.find((p) => p.type === 'initial');
    assert.ok(initial?.frames.includes('crypto'), `probe datagram ${i + 1} carries the ClientHello (got ${JSON.stringify(d)})`);
  }
  // The second PTO (backed off) again sends two datagrams with the ClientHello.
  const pto2 = client.nextTimeout()!;
  assert.ok(pto2 > pto);
  client.handleTimeout(pto2);
  assert.is(drain(pto2), 2);
  for (const d of sent.slice(3)) assert.ok(d.some((p) => p.type === 'initial' && p.frames.includes('crypto')));
});

test.run();
