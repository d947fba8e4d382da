/**
 * Handshake loss (RFC 9002 §6.2, §6.2.2.1; RFC 9001 §4): the first client Initial, the server's
 * first flight, the client's Finished — each lost on its own — and the handshake still
 * completes by PTO within a bounded virtual time (the initial PTO is about 1 s: RFC 9002 §6.2.2
 * with the 333 ms initial RTT). Packet types are recognised from the long headers (RFC 9000 §17.2).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { PacketType } from '../../src/packet/types.js';
import type { DatagramHook, DatagramInfo } from '../../src/sim/link.js';
import { CLIENT, makePair, type Pair, SERVER, TEST_CERT_DER } from './harness.js';

const SEED = Number(process.env.SIM_SEED ?? 1);
const reader = new CoalescedPacketReader({ shortDcidLength: 8 });

function packetTypes(d: Uint8Array): number[] {
  const out: number[] = [];
  try {
    reader.reset(d);
    for (let h = reader.next(); h !== undefined; h = reader.next()) out.push(h.type);
  } catch {
    // not a QUIC datagram we sent
  }
  return out;
}

/** A hook dropping each datagram `drop` selects (from either side), counting the drops. */
function dropping(drop: (d: Uint8Array, info: DatagramInfo) => boolean): { hook: DatagramHook; dropped: () => number } {
  let n = 0;
  return {
    hook: (d, info) => {
      if (drop(d, info)) {
        n++;
        return null;
      }
      return d;
    },
    dropped: () => n,
  };
}

function handshakeTime(pair: Pair, maxMs: number): number {
  const ok = pair.run(() => pair.client.handshakeConfirmed && pair.serverNode.conn !== undefined && pair.server().handshakeConfirmed, maxMs);
  assert.ok(ok, `handshake did not complete within ${maxMs} ms (client ${pair.client.state}, ${JSON.stringify(pair.client.closeReason)})`);
  return pair.sim.now;
}

test('the first client Initial is lost: the client PTO resends it; done within 2 s', () => {
  const d = dropping((_, info) => info.from === CLIENT && info.index === 0);
  const pair = makePair({ seed: SEED, link: { delayMs: 10, hook: d.hook } });
  const t = handshakeTime(pair, 3_000);
  assert.is(d.dropped(), 1);
  assert.ok(t >= 900 && t < 2_000, `completed at ${t} ms`);
});

test("the client's Finished (its first Handshake packet) is lost: the client PTO resends it; the server confirms", () => {
  let seen = false;
  const d = dropping((data, info) => {
    if (seen || info.from !== CLIENT || !packetTypes(data).includes(PacketType.HANDSHAKE)) return false;
    seen = true;
    return true;
  });
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10, hook: d.hook } });
  const t = handshakeTime(pair, 4_000);
  assert.is(d.dropped(), 1);
  assert.ok(t < 3_000, `completed at ${t} ms`);
});

test('a two-datagram server flight with its second datagram lost: recovered, done within 3 s', () => {
  const d = dropping((_, info) => info.from === SERVER && info.index === 1);
  const pair = makePair({ seed: SEED + 2, link: { delayMs: 10, hook: d.hook }, serverCertificateChain: Array.from({ length: 4 }, () => TEST_CERT_DER) });
  const t = handshakeTime(pair, 4_000);
  assert.is(d.dropped(), 1);
  assert.ok(t < 3_000, `completed at ${t} ms`);
});

test('every first ACK-eliciting Handshake packet of both sides is lost once', () => {
  const seen = new Set<string>();
  const d = dropping((data, info) => {
    if (!packetTypes(data).includes(PacketType.HANDSHAKE) || seen.has(info.from)) return false;
    seen.add(info.from);
    return true;
  });
  const pair = makePair({ seed: SEED + 3, link: { delayMs: 10, hook: d.hook } });
  handshakeTime(pair, 6_000);
  assert.is(d.dropped(), 2);
});

test("the server's whole first flight is lost: done within 4 s", () => {
  let firstSendAt = -1;
  const d = dropping((_, info) => {
    if (info.from !== SERVER) return false;
    if (firstSendAt < 0) firstSendAt = info.now;
    return info.now === firstSendAt;
  });
  const pair = makePair({ seed: SEED + 4, link: { delayMs: 10, hook: d.hook } });
  const t = handshakeTime(pair, 6_000);
  assert.ok(d.dropped() >= 1);
  assert.ok(t < 4_000, `completed at ${t} ms`);
});

test('20 seeds of 20% loss each way during the handshake: all complete within 20 s', () => {
  for (let i = 0; i < 20; i++) {
    const pair = makePair({ seed: SEED * 50 + i, link: { delayMs: 15, lossRate: 0.2 } });
    handshakeTime(pair, 20_000);
  }
});

test.run();
