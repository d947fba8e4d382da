/**
 * RFC 9001 §6 key updates: initiated by either side through a whole transfer under loss and
 * reordering, the API, the §6.1/§6.2 rules and the §6.6 AEAD limits.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyUpdatePolicy } from '../../src/connection/key-update.js';
import { TLS_AES_128_GCM_SHA256 } from '../../src/crypto/cipher-suites.js';
import type { PacketProtectionKeys } from '../../src/crypto/keys.js';
import { TransportErrorCode } from '../../src/errors.js';
import { makePair, payload } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

const MB = 1 << 20;

function confirmedPair(options: Parameters<typeof makePair>[0] = {}) {
  const pair = makePair(options);
  const ok = pair.run(() => pair.client.handshakeConfirmed && pair.serverNode.conn?.handshakeConfirmed === true, 10_000);
  assert.ok(ok, 'handshake did not confirm');
  return pair;
}

/** Keys like `keys` but whose suite has the given AEAD limits (to reach them in a test). */
function withLimits(keys: PacketProtectionKeys, confidentialityLimit: number, integrityLimit = keys.suite.integrityLimit): PacketProtectionKeys {
  return { ...keys, suite: { ...keys.suite, confidentialityLimit, integrityLimit } };
}

test('10 MB under loss and reordering with a key update every 100 packets from both sides arrives byte-identical', () => {
  const transport = { keyUpdateIntervalPackets: 100 };
  const pair = makePair({
    seed: 21,
    link: { delayMs: 10, lossRate: 0.02, reorderRate: 0.05, reorderDelayMs: 8, bandwidthBps: 200e6 },
    clientTransport: transport,
    serverTransport: transport,
  });
  const r = runTransfer(pair, 2 * MB, 10 * MB, 600_000);
  assert.is(r.receivedByClient.length, 10 * MB);
  assert.ok(r.ok, 'data differs');
  const client = pair.client;
  const server = pair.server();
  // The server sends ~8,700 packets: one update per 100 packets once acknowledged.
  assert.ok(server.keyUpdate.localUpdates >= 40, `server started ${server.keyUpdate.localUpdates} updates`);
  assert.ok(client.keyUpdate.localUpdates >= 10, `client started ${client.keyUpdate.localUpdates} updates`);
  assert.ok(client.keyUpdate.remoteUpdates >= 40, `client followed ${client.keyUpdate.remoteUpdates} updates`);
  assert.ok(server.keyUpdate.remoteUpdates >= 10, `server followed ${server.keyUpdate.remoteUpdates} updates`);
  // Both sides agree on the phase count.
  assert.is(client.keyPhases.updates, server.keyPhases.updates);
  assert.is(client.closeReason, undefined);
  // Packets reordered across an update were opened with the retained previous keys.
  assert.is(client.droppedPackets + server.droppedPackets, 0, 'packets lost to key changes');
  console.log(
    `    ${client.keyPhases.updates} key updates (client started ${client.keyUpdate.localUpdates}, server ${server.keyUpdate.localUpdates}); ` +
      `${client.stats.packetsSent + server.stats.packetsSent} packets, ${client.stats.packetsLost + server.stats.packetsLost} lost, ${client.droppedPackets + server.droppedPackets} undecryptable or duplicate, ${(r.virtualMs / 1000).toFixed(1)} virtual s`,
  );
});

test('updateKeys(): refused before confirmation, then starts a phase the peer follows; old read keys go after 3 PTO', () => {
  const pair = makePair({ seed: 3 });
  assert.is(pair.client.updateKeys(), false, 'allowed before the handshake is confirmed');
  pair.client.keyUpdate.requested = false;
  const ok = pair.run(() => pair.client.handshakeConfirmed && pair.serverNode.conn?.handshakeConfirmed === true && pair.client.keyUpdate.currentPhaseAcked, 10_000);
  assert.ok(ok);
  const client = pair.client;
  const server = pair.server();
  assert.is(client.updateKeys(), true);
  assert.is(client.keyPhases.phase, 1);
  assert.ok(client.keyPhases.previous, 'old read keys kept');
  assert.is(client.keyPhases.previousExpiry, Infinity, 'the 3 PTO countdown waits for the peer');
  // §6.1: no second update until a packet of the new phase is acknowledged.
  assert.not.ok(client.keyUpdate.mayInitiate(true));
  const id = client.openStream('bidi')!;
  client.writeStream(id, payload(5000), true);
  assert.ok(pair.run(() => server.keyPhases.phase === 1 && client.keyPhases.previousExpiry !== Infinity, 5_000));
  assert.is(server.keyUpdate.remoteUpdates, 1);
  assert.ok(pair.run(() => client.keyPhases.previous === undefined, 5_000), 'old keys never dropped');
  assert.ok(pair.run(() => client.keyUpdate.currentPhaseAcked, 5_000));
  assert.is(client.updateKeys(), true);
  const id2 = client.openStream('bidi')!;
  client.writeStream(id2, payload(5000), true);
  assert.ok(pair.run(() => server.keyPhases.updates === 2 && server.keyPhases.phase === 0, 5_000));
  assert.is(client.closeReason, undefined);
  assert.is(server.closeReason, undefined);
});

test('a peer updating twice without waiting for an acknowledgment is a KEY_UPDATE_ERROR (RFC 9001 §6.2)', () => {
  const pair = confirmedPair({ seed: 4 });
  const client = pair.client;
  const server = pair.server();
  const buf = new Uint8Array(2048);
  const id = client.openStream('uni')!;
  client.writeStream(id, payload(100), false);
  assert.ok(pair.run(() => client.keyUpdate.currentPhaseAcked && client.bytesInFlight === 0, 5_000));
  const now = pair.sim.now;
  const sendOne = (): void => {
    client.writeStream(id, payload(100, client.keyPhases.updates), false);
    const t = client.pollTransmit(now, buf);
    assert.ok(t, 'nothing to send');
    server.handleDatagram(buf.slice(0, t!.length), { address: 'client', port: 443 }, now);
  };
  // Bypass our own §6.1 check: two updates back to back, each with a packet, and no server ACK between.
  assert.ok(client.keyPhases.initiateUpdate());
  sendOne();
  assert.is(server.keyPhases.phase, 1);
  assert.is(server.closeReason, undefined);
  assert.ok(client.keyPhases.initiateUpdate());
  sendOne();
  const reason = server.closeReason;
  assert.ok(reason && reason.kind === 'transport' && reason.code === TransportErrorCode.KEY_UPDATE_ERROR, JSON.stringify(reason));
});

test('an update starts automatically at 3/4 of the confidentiality limit (RFC 9001 §6.6)', () => {
  // 1200-byte datagrams (no DPLPMTUD) so the 400 kB below make the ~330 packets counted on.
  const pair = confirmedPair({ seed: 5, clientTransport: { pmtud: false }, serverTransport: { pmtud: false } });
  const client = pair.client;
  client.keyPhases.write = withLimits(client.keyPhases.write!, 200);
  const id = client.openStream('bidi')!;
  const data = payload(400_000);
  let offset = 0;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') while (conn.readStream(e.streamId) !== undefined);
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-writable' && offset < data.length) offset += conn.writeStream(id, data.subarray(offset), false);
  };
  offset += client.writeStream(id, data, false);
  assert.ok(pair.run(() => offset >= data.length && client.bytesInFlight === 0 && client.keyUpdate.localUpdates >= 2, 30_000));
  // ~330 packets of data: the limit's successors inherit the suite, so an update every ~150.
  assert.ok(client.keyUpdate.localUpdates >= 2, `${client.keyUpdate.localUpdates} updates`);
  assert.ok(client.keyUpdate.packetsInPhase < 200);
  assert.is(client.closeReason, undefined);
});

test('keys at the confidentiality limit that cannot be updated close with AEAD_LIMIT_REACHED', () => {
  let block = false;
  const pair = makePair({ seed: 6, back: { delayMs: 10, hook: (d) => (block ? null : d) } });
  assert.ok(pair.run(() => pair.client.handshakeConfirmed && pair.client.keyUpdate.currentPhaseAcked, 10_000));
  const client = pair.client;
  assert.ok(client.updateKeys());
  client.keyPhases.write = withLimits(client.keyPhases.write!, 12);
  block = true; // nothing from the server arrives: the new phase is never acknowledged
  const id = client.openStream('bidi')!;
  client.writeStream(id, payload(100_000), false);
  assert.ok(pair.run(() => client.isClosed, 30_000));
  const reason = client.closeReason;
  assert.ok(reason && reason.kind === 'transport' && reason.code === TransportErrorCode.AEAD_LIMIT_REACHED, JSON.stringify(reason));
  assert.ok(client.keyUpdate.packetsInPhase <= 12, `${client.keyUpdate.packetsInPhase} packets with exhausted keys`);
});

test('KeyUpdatePolicy: failed decryptions beyond the integrity limit are AEAD_LIMIT_REACHED', () => {
  const policy = new KeyUpdatePolicy();
  const keys = { suite: { ...TLS_AES_128_GCM_SHA256, integrityLimit: 3 } } as unknown as PacketProtectionKeys;
  for (let i = 0; i < 3; i++) policy.onDecryptionFailed(keys);
  try {
    policy.onDecryptionFailed(keys);
    assert.unreachable('no error');
  } catch (e) {
    assert.is((e as { code: number }).code, TransportErrorCode.AEAD_LIMIT_REACHED);
  }
});

test('KeyUpdatePolicy: an update needs an acknowledgment of a packet of the current phase (RFC 9001 §6.1)', () => {
  const policy = new KeyUpdatePolicy(10);
  const keys = { suite: TLS_AES_128_GCM_SHA256 } as unknown as PacketProtectionKeys;
  for (let pn = 50; pn < 60; pn++) policy.onPacketSent(pn);
  assert.ok(policy.wantsUpdate(keys));
  assert.not.ok(policy.mayInitiate(true));
  policy.onAckReceived(49); // an older phase's packet
  assert.not.ok(policy.mayInitiate(true));
  policy.onAckReceived(50);
  assert.ok(policy.mayInitiate(true));
  assert.not.ok(policy.mayInitiate(false), 'before handshake confirmation');
  policy.onPhaseChanged(true);
  assert.not.ok(policy.wantsUpdate(keys));
  assert.not.ok(policy.mayInitiate(true));
});

test.run();
