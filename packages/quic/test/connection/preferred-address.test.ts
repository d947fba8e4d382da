/**
 * The server's preferred address (RFC 9000 §9.6) on the simulator: the server owns a second
 * address (SERVER2) and offers it in preferred_address; the client validates it after
 * handshake confirmation and moves there mid-transfer, with the transfer intact; a preferred
 * address that black-holes leaves the client on the original one; the option turns it off.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { CLIENT, makePathPair, PREFERRED_ADDRESS, runDownload, SERVER, SERVER2 } from './path-harness.js';

const MB = 1 << 20;
const LINK = { delayMs: 10, bandwidthBps: 200e6 };

function pathEvents(events: ConnectionEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) if (e.type === 'path') out.push(e.change);
  return out;
}

test('§9.6.1: the client moves to the preferred address mid-transfer; 8 MB byte-identical', () => {
  const pair = makePathPair({ seed: 41, link: LINK, serverPreferred: true });
  // How much of the download came over each server address, split at the client's move.
  let receivedAtMove = -1;
  let received = 0;
  const r = runDownload(pair, 8 * MB, (n) => {
    received = n;
    if (receivedAtMove < 0 && pair.client.paths.active.remote.address === PREFERRED_ADDRESS.address) receivedAtMove = n;
  });
  assert.ok(r.ok, 'data differs');
  const client = pair.client;
  const server = pair.server();
  // The server offered sequence 1 in the transport parameter, which the client used (§5.1.1).
  const offered = client.peerParams?.preferredAddress;
  assert.ok(offered, 'preferred_address received');
  assert.equal(offered!.ipv4Address, Uint8Array.of(192, 0, 2, 2));
  assert.is(offered!.ipv4Port, 4433);
  assert.equal(offered!.connectionId, server.localCids.get(1)!.cid);
  assert.equal(offered!.statelessResetToken, server.localCids.get(1)!.resetToken);
  assert.ok(client.peerCids.currentSequence >= 1);
  // The client probed, then moved (one 'migrated', no failure).
  assert.equal(pathEvents(pair.clientNode.events), ['migrated']);
  assert.equal(client.remoteAddress, { address: '192.0.2.2', port: 4433, family: 'IPv4' });
  // The move happened while data was still flowing, and both addresses carried part of it.
  assert.ok(receivedAtMove > 0 && receivedAtMove < received, `moved at ${receivedAtMove} of ${received}`);
  assert.ok(pair.sim.link(SERVER, CLIENT)!.stats.delivered > 5, 'some data came from the original address');
  assert.ok(pair.sim.link(SERVER2, CLIENT)!.stats.delivered > 1000, 'most data came from the preferred address');
  // The server followed the client to its preferred address (§9.6.2) and validated the path.
  assert.equal(server.paths.active.local, PREFERRED_ADDRESS);
  assert.ok(server.paths.active.validated);
  assert.ok(pathEvents(pair.serverNode.events).includes('migrated'));
  assert.ok(pair.worstAmplificationExcess <= 0, `amplification excess ${pair.worstAmplificationExcess}`);
});

test('§9.6.2: the server sends only probing datagrams from the preferred address until the client moves there', () => {
  const pair = makePathPair({ seed: 42, link: LINK, serverPreferred: true });
  // Datagrams leaving the preferred address while the server's active path is still the original one.
  let early = 0;
  let total = 0;
  pair.sim.link(SERVER2, CLIENT)!.config.hook = (data) => {
    total++;
    if (pair.server().paths.active.local === undefined) early++;
    return data;
  };
  const r = runDownload(pair, 2 * MB);
  assert.ok(r.ok, 'data differs');
  // The PATH_RESPONSE to the client's challenge and the server's own PATH_CHALLENGE at most.
  assert.ok(early >= 1 && early <= 2, `${early} datagrams from the preferred address before the move`);
  assert.ok(total > 100);
  assert.equal(pair.server().paths.active.local, PREFERRED_ADDRESS);
});

test('§9.6.1: a preferred address that does not validate leaves the client where it was', () => {
  const pair = makePathPair({ seed: 43, link: LINK, serverPreferred: true, link3: { delayMs: 10, lossRate: 1 } });
  const r = runDownload(pair, 2 * MB);
  assert.ok(r.ok, 'data differs');
  pair.run(() => pathEvents(pair.clientNode.events).length > 0, 20_000);
  assert.equal(pathEvents(pair.clientNode.events), ['probe-failed']);
  assert.equal(pair.client.remoteAddress, { address: 'server', port: 443 });
  // Several challenges, backed off (§8.2.1): a server naming someone else's address gets only a
  // handful of datagrams sent there (§21.5.3).
  const probes = pair.sim.link(CLIENT, SERVER2)!.stats.sent;
  assert.ok(probes >= 2 && probes <= 8, `${probes} challenges sent to the preferred address`);
});

test('migrateToPreferredAddress: false: the client never sends to the preferred address', () => {
  const pair = makePathPair({ seed: 44, link: LINK, serverPreferred: true, migrateToPreferredAddress: false });
  const r = runDownload(pair, 1 * MB);
  assert.ok(r.ok, 'data differs');
  assert.ok(pair.client.peerParams?.preferredAddress, 'offered');
  assert.is(pair.sim.link(CLIENT, SERVER2)!.stats.sent, 0);
  assert.equal(pathEvents(pair.clientNode.events), []);
});

test.run();
