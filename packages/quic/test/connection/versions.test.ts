import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkClientVersionInformation,
  checkServerVersionInformation,
  clientInitialVersion,
  clientVersionInformation,
  compatibleVersion,
  versionAfterNegotiation,
} from '../../src/connection/versions.js';
import type { ConnectionCloseReason } from '../../src/connection/types.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { encodeVersionNegotiation, patchLongHeaderLength, writeLongHeader } from '../../src/packet/header.js';
import { PacketType } from '../../src/packet/types.js';
import { isReservedVersion, QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { CLIENT_ADDR, makeEndpointPair, SERVER_ADDR } from './endpoint-node.js';

/** Version fields of the long-header packets (first packet of each datagram) that crossed a link. */
function versionRecorder(list: number[]) {
  return (data: Uint8Array) => {
    if ((data[0]! & 0x80) !== 0) list.push(((data[1]! << 24) | (data[2]! << 16) | (data[3]! << 8) | data[4]!) >>> 0);
    return data;
  };
}

function closeReason(events: { type: string }[]): ConnectionCloseReason | undefined {
  return (events.find((e) => e.type === 'closed') as { reason: ConnectionCloseReason } | undefined)?.reason;
}

function exchange(pair: ReturnType<typeof makeEndpointPair>, conn: ReturnType<typeof pair.client.connect>): boolean {
  const id = conn.conn.openStream('bidi')!;
  conn.conn.writeStream(id, new TextEncoder().encode('hello over ' + conn.conn.version.toString(16)), true);
  return pair.run(() => {
    const s = pair.server.conns.find((x) => x.conn.isHandshakeComplete)?.conn;
    return s !== undefined && s.readStream(id)?.fin === true;
  });
}

test('QUIC v2 end to end: every long header on the wire is v2 (RFC 9369)', () => {
  const toServer: number[] = [];
  const toClient: number[] = [];
  const pair = makeEndpointPair({ link: { delayMs: 10, hook: versionRecorder(toServer) }, back: { delayMs: 10, hook: versionRecorder(toClient) } });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V2] });
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.ok(exchange(pair, c), 'stream data over v2');
  assert.is(c.conn.version, QUIC_V2);
  assert.is(pair.server.conns[0]!.conn.version, QUIC_V2);
  assert.ok(toServer.length > 0 && toServer.every((v) => v === QUIC_V2), toServer.map((v) => v.toString(16)).join());
  assert.ok(toClient.length > 0 && toClient.every((v) => v === QUIC_V2));
});

test('compatible negotiation v1 -> v2: the server switches during the handshake (RFC 9368 §2.3)', () => {
  const toServer: number[] = [];
  const toClient: number[] = [];
  const pair = makeEndpointPair({
    serverVersions: [QUIC_V2, QUIC_V1],
    link: { delayMs: 10, hook: versionRecorder(toServer) },
    back: { delayMs: 10, hook: versionRecorder(toClient) },
  });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1, QUIC_V2] });
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.ok(exchange(pair, c));
  assert.is(c.conn.version, QUIC_V2);
  assert.is(c.conn.originalVersion, QUIC_V1);
  assert.is(pair.server.conns[0]!.conn.version, QUIC_V2);
  assert.is(toServer[0], QUIC_V1, 'the first flight is v1');
  assert.ok(toClient.every((v) => v === QUIC_V2), 'the server answers in v2 only');
  assert.is(toServer[toServer.length - 1], QUIC_V2, 'the client follows');
  assert.equal(pair.server.replies, [], 'no Version Negotiation packet was needed');
});

test('compatible negotiation under loss: 10 seeds, 15% loss, always v2 and complete', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const pair = makeEndpointPair({ seed, serverVersions: [QUIC_V2, QUIC_V1], link: { delayMs: 10, lossRate: 0.15 } });
    const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1, QUIC_V2] });
    assert.ok(pair.run(() => c.conn.handshakeConfirmed && pair.server.conns.some((s) => s.conn.handshakeConfirmed), 60_000), `seed ${seed}`);
    assert.is(c.conn.version, QUIC_V2, `seed ${seed}`);
  }
});

test('Retry, then compatible negotiation: the Retry is v1, the server switches to v2 on the Initial with the token', () => {
  const toClient: number[] = [];
  const pair = makeEndpointPair({ retry: 'always', serverVersions: [QUIC_V2, QUIC_V1], back: { delayMs: 10, hook: versionRecorder(toClient) } });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1, QUIC_V2] });
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.ok(exchange(pair, c));
  assert.equal(pair.server.replies, ['retry']);
  assert.is(toClient[0], QUIC_V1, 'the Retry is in the version of the Initial it answers');
  assert.ok(toClient.slice(1).every((v) => v === QUIC_V2));
  assert.is(c.conn.version, QUIC_V2);
  assert.ok(c.conn.retrySourceCid);
});

test('a forged v2 Initial does not switch the client: the switch is undone when it fails to decrypt', () => {
  const pair = makeEndpointPair({ serverVersions: [QUIC_V1, QUIC_V2], link: { delayMs: 10 }, back: { delayMs: 30 } });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1, QUIC_V2] });
  const forged = new Uint8Array(200).fill(0x5a);
  const pnOffset = writeLongHeader(forged, 0, { type: PacketType.INITIAL, version: QUIC_V2, dcid: c.conn.localHandshakeCid, scid: new Uint8Array(8).fill(3), packetNumber: 0, pnLength: 1 });
  patchLongHeaderLength(forged, pnOffset - 2, 200 - pnOffset);
  pair.sim.inject(SERVER_ADDR, CLIENT_ADDR, forged); // arrives before the server's real answer
  assert.ok(pair.run(() => c.conn.droppedPackets > 0, 1_000));
  assert.is(c.conn.version, QUIC_V1, 'back to v1 at once');
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.is(c.conn.version, QUIC_V1);
});

test('a client preferring v2 starts in v1 and lists v2 first (RFC 9368 §5): a server following the client order picks v2', () => {
  assert.is(clientInitialVersion([QUIC_V2, QUIC_V1]), QUIC_V1, 'v1 first flight by default');
  assert.is(clientInitialVersion([QUIC_V2]), QUIC_V2, 'v2 only: nothing else to start in');
  assert.is(clientInitialVersion([QUIC_V2, QUIC_V1], QUIC_V2), QUIC_V2, 'an explicit first-flight version');
  assert.throws(() => clientInitialVersion([QUIC_V1], QUIC_V2), /not among the offered versions/);
  const toServer: number[] = [];
  // Our server keeps its own order (RFC 9368 §2.3 lets it); here it lists v2 first too.
  const pair = makeEndpointPair({ serverVersions: [QUIC_V2, QUIC_V1], link: { delayMs: 10, hook: versionRecorder(toServer) } });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V2, QUIC_V1] });
  assert.is(c.conn.originalVersion, QUIC_V1);
  assert.equal(c.conn.offeredVersions.slice(0, 2), [QUIC_V2, QUIC_V1], 'Available Versions by descending preference');
  // A server that follows the client's order (another implementation tried here does) takes the
  // first version it also supports: v2. Before, the list was [v1, v2] and such a server stayed on v1.
  const info = { chosenVersion: QUIC_V1, availableVersions: [...c.conn.offeredVersions] };
  assert.is(compatibleVersion(QUIC_V1, info, info.availableVersions), QUIC_V2);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.ok(exchange(pair, c));
  assert.is(toServer[0], QUIC_V1, 'the first flight is v1');
  assert.is(c.conn.version, QUIC_V2);
  assert.equal(pair.server.replies, [], 'no Version Negotiation packet was needed');
});

test('no switch when the client does not offer v2', () => {
  const pair = makeEndpointPair({ serverVersions: [QUIC_V2, QUIC_V1] });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1] });
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.is(c.conn.version, QUIC_V1);
  assert.is(pair.server.conns[0]!.conn.version, QUIC_V1);
});

test('Version Negotiation: a v1 client facing a v2-only server retries in v2 and completes (RFC 9000 §6.2)', () => {
  const pair = makeEndpointPair({ serverVersions: [QUIC_V2] });
  const first = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1, QUIC_V2] });
  assert.ok(pair.run(() => first.conn.isClosed, 5_000));
  const reason = closeReason(first.events);
  assert.ok(reason?.kind === 'version-negotiation', JSON.stringify(reason));
  if (reason?.kind !== 'version-negotiation') return;
  assert.ok(reason.versions.includes(QUIC_V2));
  assert.ok(reason.versions.some(isReservedVersion), 'the server greases its list (RFC 9000 §6.3)');
  const next = versionAfterNegotiation([QUIC_V1, QUIC_V2], reason.versions, QUIC_V1);
  assert.is(next, QUIC_V2);
  const second = pair.client.connect(SERVER_ADDR, pair.sim.now, { versions: [QUIC_V1, QUIC_V2], version: next!, reactedToVersionNegotiation: true });
  assert.ok(pair.run(() => second.conn.handshakeConfirmed));
  assert.is(second.conn.version, QUIC_V2);
  assert.equal(pair.server.replies, ['version-negotiation']);
});

test('Version Negotiation with no common version ends the attempt cleanly', () => {
  const pair = makeEndpointPair({ serverVersions: [QUIC_V2] });
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1] });
  assert.ok(pair.run(() => c.conn.isTerminated, 5_000));
  const reason = closeReason(c.events);
  assert.ok(reason?.kind === 'version-negotiation');
  if (reason?.kind === 'version-negotiation') assert.is(versionAfterNegotiation([QUIC_V1], reason.versions, QUIC_V1), undefined);
  assert.is(pair.server.conns.length, 0);
});

test('a forged Version Negotiation cannot downgrade: VERSION_NEGOTIATION_ERROR (RFC 9368 §4)', () => {
  // The client prefers v2; an attacker drops its first Initial and forges a VN listing only v1.
  let dropped = 0;
  const pair = makeEndpointPair({
    serverVersions: [QUIC_V1, QUIC_V2],
    link: {
      delayMs: 10,
      hook: (data) => {
        if (dropped === 0) {
          dropped++;
          return null;
        }
        return data;
      },
    },
    back: { delayMs: 10 },
  });
  const first = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V2, QUIC_V1], version: QUIC_V2 }); // starts in v2
  const vn = encodeVersionNegotiation({ dcid: first.conn.localHandshakeCid, scid: first.conn.originalDcid, supportedVersions: [QUIC_V1], unusedBits: 0 });
  pair.sim.inject(SERVER_ADDR, CLIENT_ADDR, vn);
  assert.ok(pair.run(() => first.conn.isClosed, 5_000));
  const reason = closeReason(first.events);
  assert.ok(reason?.kind === 'version-negotiation');
  if (reason?.kind !== 'version-negotiation') return;
  const next = versionAfterNegotiation([QUIC_V2, QUIC_V1], reason.versions, QUIC_V2);
  assert.is(next, QUIC_V1);
  const second = pair.client.connect(SERVER_ADDR, pair.sim.now, { versions: [QUIC_V2, QUIC_V1], version: next!, reactedToVersionNegotiation: true });
  assert.ok(pair.run(() => second.conn.isClosed, 10_000));
  const r2 = closeReason(second.events);
  assert.ok(r2?.kind === 'transport' && r2.code === TransportErrorCode.VERSION_NEGOTIATION_ERROR && !r2.remote, JSON.stringify(r2));
});

test('a Version Negotiation packet listing the version we tried is ignored (RFC 9000 §6.2)', () => {
  const pair = makeEndpointPair();
  const c = pair.client.connect(SERVER_ADDR, 0, { versions: [QUIC_V1] });
  const vn = encodeVersionNegotiation({ dcid: c.conn.localHandshakeCid, scid: c.conn.originalDcid, supportedVersions: [QUIC_V1, QUIC_V2], unusedBits: 0 });
  pair.sim.inject(SERVER_ADDR, CLIENT_ADDR, vn);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.is(c.conn.closeReason, undefined);
});

function vnError(f: () => void): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return QuicError.is(e) && e.code === TransportErrorCode.VERSION_NEGOTIATION_ERROR;
  }
}

test('version_information checks (RFC 9368 §4)', () => {
  // Server side: the client's Chosen Version must be its first flight's version.
  assert.ok(vnError(() => checkClientVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V1)));
  checkClientVersionInformation({ chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] }, QUIC_V1);
  checkClientVersionInformation(undefined, QUIC_V1); // servers MAY complete without it
  // Client side.
  const offered = [QUIC_V1, QUIC_V2];
  assert.ok(vnError(() => checkServerVersionInformation({ chosenVersion: 0x0a0a0a0a, availableVersions: [QUIC_V1] }, QUIC_V1, offered, offered, false)), 'chosen not offered');
  assert.ok(vnError(() => checkServerVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V1, offered, offered, false)), 'chosen is not in use');
  assert.ok(vnError(() => checkServerVersionInformation(undefined, QUIC_V2, offered, offered, true)), 'missing after VN');
  assert.ok(vnError(() => checkServerVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [] }, QUIC_V2, offered, [QUIC_V2], true)), 'empty after VN');
  checkServerVersionInformation(undefined, QUIC_V1, offered, offered, false);
  checkServerVersionInformation({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2] }, QUIC_V2, offered, offered, true);
  // The client's list: chosen first when not preferred, all preferred, one greased version.
  const info = clientVersionInformation(QUIC_V2, [QUIC_V1], 0x12345678);
  assert.equal(info.availableVersions.slice(0, 2), [QUIC_V2, QUIC_V1]);
  assert.ok(isReservedVersion(info.availableVersions[2]!));
  // After VN: the most preferred offered version; nothing if the VN lists the attempted one.
  assert.is(versionAfterNegotiation([QUIC_V2, QUIC_V1], [QUIC_V1, QUIC_V2], QUIC_V1), undefined);
  assert.is(versionAfterNegotiation([QUIC_V2, QUIC_V1], [0x1a2a3a4a, QUIC_V1], QUIC_V2), QUIC_V1);
});

test.run();
