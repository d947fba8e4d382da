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
import { makeEndpointPair, SERVER_ADDR } from './endpoint-node.js';

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

test.run();
