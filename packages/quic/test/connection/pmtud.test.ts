/**
 * DPLPMTUD (RFC 8899, RFC 9000 §14.3): the search itself (`PathMtuDiscovery` driven by hand)
 * and connections on the simulator settling at what a link with an `mtu` carries, noticing
 * a later MTU drop, and not treating lost probes as congestion (§14.4).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BASE_PLPMTU, BLACK_HOLE_LOSSES, MAX_PROBES, PathMtuDiscovery } from '../../src/connection/pmtud.js';
import { CLIENT, makePathPair, runDownload, SERVER } from './path-harness.js';

const MB = 1 << 20;

/** Drives a search against a path that carries `mtu` bytes; returns the sizes probed. */
function search(p: PathMtuDiscovery, mtu: number): number[] {
  const probed: number[] = [];
  // Bounded: a binary search over at most 64k sizes with MAX_PROBES tries each.
  for (let i = 0; i < 200; i++) {
    const size = p.probeSize(0);
    if (size === 0) break;
    probed.push(size);
    p.onProbeSent(size);
    if (size <= mtu) p.onProbeAcked(size);
    else p.onProbeLost(size, 0);
  }
  return probed;
}

test('search: the optimistic maximum first, then a binary search to the exact size', () => {
  const p = new PathMtuDiscovery();
  const sizes: number[] = [];
  p.onSizeChange = (s) => sizes.push(s);
  assert.is(p.probeSize(0), 0, 'nothing before enable (handshake confirmation)');
  p.enable(1452, 0);
  const probed = search(p, 1400);
  assert.is(probed[0], 1452, 'the maximum, once');
  assert.is(p.current, 1400);
  assert.is(p.state, 'search-complete');
  // Every size above 1400 the search settled on failing was tried MAX_PROBES times.
  assert.is(probed.filter((s) => s === 1401).length, MAX_PROBES);
  assert.ok(probed.length < 40, `${probed.length} probes`);
  // Sizes only grow during a search and the controller hears each one.
  assert.equal(sizes, [...sizes].sort((a, b) => a - b));
  assert.is(sizes[sizes.length - 1], 1400);
});

test('search: a path carrying the maximum needs one probe; up to 65,527 for loopback', () => {
  const p = new PathMtuDiscovery();
  p.enable(1452, 0);
  assert.equal(search(p, 1500), [1452]);
  assert.is(p.current, 1452);
  const big = new PathMtuDiscovery();
  big.enable(70_000, 0);
  assert.equal(search(big, 65_535), [65_527]);
  assert.is(big.current, 65_527);
  const base = new PathMtuDiscovery();
  base.enable(1200, 0);
  assert.equal(search(base, 1500), []);
  assert.is(base.current, BASE_PLPMTU);
});

test('black hole: full-size losses trigger a confirmation probe; its failure falls back to 1200 and searches again', () => {
  const p = new PathMtuDiscovery();
  p.enable(1452, 0);
  search(p, 1452);
  assert.is(p.current, 1452);
  // Scattered losses with acknowledgments between them are no black hole.
  for (let i = 0; i < 3 * BLACK_HOLE_LOSSES; i++) {
    p.onLargePacketLost();
    if (i % 2 === 0) p.onLargePacketAcked();
  }
  assert.is(p.state, 'search-complete');
  for (let i = 0; i < BLACK_HOLE_LOSSES; i++) p.onLargePacketLost();
  assert.is(p.state, 'confirming');
  const probed = search(p, 1300);
  assert.equal(probed.slice(0, MAX_PROBES), [1452, 1452, 1452]);
  assert.is(p.current, 1300);
  assert.is(p.stats.blackHoles, 1);
  // A confirmation probe that arrives is a false alarm.
  for (let i = 0; i < BLACK_HOLE_LOSSES; i++) p.onLargePacketLost();
  assert.equal(search(p, 1300), [1300]);
  assert.is(p.current, 1300);
});

test('connections settle at the largest datagram a 1,400-byte link carries; 4 MB byte-identical', () => {
  const pair = makePathPair({ seed: 31, link: { delayMs: 2, bandwidthBps: 100e6, mtu: 1400 } });
  const r = runDownload(pair, 4 * MB);
  assert.ok(r.ok, 'data differs');
  for (const conn of [pair.client, pair.server()]) {
    assert.is(conn.pmtud.current, 1400);
    assert.is(conn.pmtud.state, 'search-complete');
    assert.is(conn.congestion.maxDatagramSize, 1400, 'the controller counts in the new size');
  }
  // Most of the download went in 1400-byte datagrams.
  const down = pair.sim.link(SERVER, CLIENT)!.stats;
  assert.ok(down.deliveredBytes / down.delivered > 1350, `average ${down.deliveredBytes / down.delivered}`);
  assert.ok(down.droppedByMtu > 0 && down.droppedByMtu < 20, `${down.droppedByMtu} probes too big`);
  // RFC 9000 §14.4: lost probes were no congestion signal.
  assert.is(pair.server().stats.packetsLost, down.droppedByMtu);
});

test('defaults: 1452 bytes (our max_udp_payload_size) on an unlimited link', () => {
  const pair = makePathPair({ seed: 32, link: { delayMs: 10, bandwidthBps: 100e6 } });
  assert.ok(runDownload(pair, MB).ok);
  assert.is(pair.server().pmtud.current, 1452);
  assert.is(pair.client.pmtud.current, 1452);
});

test('the peer\'s max_udp_payload_size caps the search; pmtud: false stays at 1200', () => {
  const pair = makePathPair({
    seed: 33,
    link: { delayMs: 10, bandwidthBps: 100e6 },
    clientTransport: { maxUdpPayloadSize: 1300 },
    serverTransport: { maxUdpPayloadSize: 65_527, pmtud: false },
  });
  assert.ok(runDownload(pair, MB).ok);
  assert.is(pair.server().pmtud.current, BASE_PLPMTU, 'disabled');
  assert.is(pair.client.pmtud.current, 1300);
  assert.ok(pair.sim.link(SERVER, CLIENT)!.stats.deliveredBytes / pair.sim.link(SERVER, CLIENT)!.stats.delivered <= 1200);
});

test('loopback-size datagrams: 65,527 bytes when both allow it and the link carries it', () => {
  const big = { maxUdpPayloadSize: 65_527 };
  const pair = makePathPair({ seed: 34, link: { delayMs: 1, bandwidthBps: 10e9 }, clientTransport: big, serverTransport: big });
  const r = runDownload(pair, 8 * MB);
  assert.ok(r.ok, 'data differs');
  assert.is(pair.server().pmtud.current, 65_527);
  assert.ok(pair.server().stats.packetsSent < 1000, `${pair.server().stats.packetsSent} packets for 8 MB`);
});

test('a later MTU drop (1400 -> 1280) mid-transfer is detected; the size settles at 1280, 8 MB byte-identical', () => {
  const pair = makePathPair({ seed: 35, link: { delayMs: 2, bandwidthBps: 100e6, mtu: 1400 } });
  let dropped = false;
  const r = runDownload(pair, 8 * MB, (received) => {
    if (!dropped && received >= 2 * MB) {
      dropped = true;
      assert.is(pair.server().pmtud.current, 1400);
      pair.sim.link(SERVER, CLIENT)!.config.mtu = 1280;
      pair.sim.link(CLIENT, SERVER)!.config.mtu = 1280;
    }
  });
  assert.ok(dropped);
  assert.ok(r.ok, 'data differs');
  const server = pair.server();
  assert.is(server.pmtud.stats.blackHoles, 1);
  assert.is(server.pmtud.current, 1280);
});

test('a 2 s blackout is no black hole for good: the size is doubted, confirmed afterwards, the transfer completes', () => {
  const pair = makePathPair({ seed: 36, link: { delayMs: 5, bandwidthBps: 100e6 } });
  let blackout = 0;
  const drop = (d: Uint8Array, info: { now: number }) => (info.now >= blackout && info.now < blackout + 2_000 ? null : d);
  pair.sim.link(SERVER, CLIENT)!.config.hook = drop;
  pair.sim.link(CLIENT, SERVER)!.config.hook = drop;
  blackout = Infinity;
  let doubted = false;
  const check = pair.serverNode.afterEvent;
  pair.serverNode.afterEvent = (conn) => {
    check(conn);
    if (conn.pmtud.state === 'confirming') doubted = true;
  };
  const r = runDownload(pair, 6 * MB, (received, now) => {
    if (blackout === Infinity && received >= MB) blackout = now;
  });
  assert.ok(r.ok, 'data differs');
  const server = pair.server();
  assert.ok(doubted, 'the size was doubted during the blackout (PTOs in a row)');
  assert.is(server.pmtud.stats.blackHoles, 0, 'confirmed afterwards: no fallback');
  assert.is(server.pmtud.current, 1452);
});

test.run();
