import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionCloseReason } from '../../src/connection/types.js';
import { buildRetryPacket } from '../../src/endpoint/stateless-packets.js';
import { TransportErrorCode } from '../../src/errors.js';
import { makeEndpointPair, SERVER_ADDR } from './endpoint-node.js';

const LONG_HEADER = 0x80;

function isRetry(data: Uint8Array): boolean {
  // v1 long header type bits 0b11 = Retry (RFC 9000 §17.2.5).
  return (data[0]! & LONG_HEADER) !== 0 && ((data[0]! >> 4) & 3) === 3;
}

/** The client's Initials that carry a non-empty token. */
function initialTokenLength(data: Uint8Array): number {
  if ((data[0]! & LONG_HEADER) === 0 || ((data[0]! >> 4) & 3) !== 0) return -1;
  const dcidLength = data[5]!;
  const scidLength = data[6 + dcidLength]!;
  return data[7 + dcidLength + scidLength]! & 0x3f; // our tokens are < 64 bytes: 1-byte varint
}

function closedReason(events: { type: string }[]): ConnectionCloseReason | undefined {
  const e = events.find((x) => x.type === 'closed') as { reason: ConnectionCloseReason } | undefined;
  return e?.reason;
}

test("policy 'always': Retry, then the handshake completes with the token; §7.3 CIDs authenticated both ways", () => {
  const pair = makeEndpointPair({ retry: 'always' });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => pair.server.replies.length === 1));
  const sentBeforeRetry = c.conn.spaces[0].nextPacketNumber;
  assert.ok(sentBeforeRetry >= 1 && c.conn.retrySourceCid === undefined);
  // RFC 9000 §17.2.5.3: packet numbers are not reset: the server's first Initial from us continues the count.
  assert.ok(pair.run(() => pair.server.conns.length === 1));
  assert.ok(pair.server.conns[0]!.conn.spaces[0].ack.largestReceived >= sentBeforeRetry, 'client packet numbers continue after Retry');
  const ok = pair.run(() => c.conn.handshakeConfirmed && pair.server.conns[0]?.conn.isHandshakeComplete === true);
  assert.ok(ok, 'handshake did not complete after Retry');
  assert.equal(pair.server.replies, ['retry']);
  assert.equal(pair.server.decisions, ['reply', 'accept']);
  const server = pair.server.conns[0]!.conn;
  assert.ok(c.conn.retrySourceCid, 'client acted on the Retry');
  assert.equal(server.retrySourceCid, c.conn.retrySourceCid);
  // The server needed no 3x limit: the token validated the address (RFC 9000 §8.1).
  assert.ok(server.addressValidated);
  assert.is(c.conn.closeReason, undefined);
});

test('a Retry with a corrupted integrity tag is discarded; the next Retry is used (RFC 9001 §5.8)', () => {
  let corrupted = 0;
  const pair = makeEndpointPair({
    retry: 'always',
    back: {
      delayMs: 10,
      hook: (data) => {
        if (!isRetry(data) || corrupted > 0) return data;
        corrupted++;
        const copy = data.slice();
        copy[copy.length - 1]! ^= 0x01;
        return copy;
      },
    },
  });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.is(corrupted, 1);
  // The PTO resends the first Initial (twice: two probes); each gets its own Retry.
  assert.ok(pair.server.replies.length >= 2 && pair.server.replies.every((r) => r === 'retry'), pair.server.replies.join());
  assert.ok(c.conn.droppedPackets >= 1);
});

test('a modified Retry token is refused with INVALID_TOKEN, statelessly (RFC 9000 §8.1.3)', () => {
  const pair = makeEndpointPair({
    retry: 'always',
    link: {
      delayMs: 10,
      hook: (data) => {
        const length = initialTokenLength(data);
        if (length <= 0) return data;
        const copy = data.slice();
        const at = 8 + copy[5]! + copy[6 + copy[5]!]! + 5; // a byte inside the sealed part of the token
        copy[at]! ^= 0x40;
        return copy;
      },
    },
  });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.isClosed, 10_000));
  const reason = closedReason(c.events);
  assert.equal(reason && reason.kind === 'transport' ? [reason.code, reason.remote] : reason, [TransportErrorCode.INVALID_TOKEN, true]);
  assert.equal(pair.server.replies.slice(0, 2), ['retry', 'invalid-token']);
  assert.is(pair.server.conns.length, 0, 'no server state for a bad token');
});

test('an expired Retry token is refused with INVALID_TOKEN', () => {
  const pair = makeEndpointPair({ retry: 'always' });
  const c = pair.client.connect(SERVER_ADDR, 0);
  // The server's clock jumps a minute once its Retry is out: the echoed token has expired.
  assert.ok(pair.run(() => pair.server.replies.length === 1));
  pair.server.clockOffsetMs = 60_000;
  assert.ok(pair.run(() => c.conn.isClosed, 10_000));
  const reason = closedReason(c.events);
  assert.ok(reason?.kind === 'transport' && reason.code === TransportErrorCode.INVALID_TOKEN, JSON.stringify(reason));
});

test('a Retry token minted for another address, or forged, is refused with INVALID_TOKEN', () => {
  for (const make of ['other-address', 'forged'] as const) {
    const pair = makeEndpointPair({ retry: 'always' });
    const token =
      make === 'other-address'
        ? pair.server.responder.tokens.mintRetryToken({ address: '192.0.2.1', port: 443 }, new Uint8Array(8), new Uint8Array(8), pair.server.wallClock())
        : Uint8Array.from([0x52, ...new Uint8Array(40).fill(7)]);
    const c = pair.client.connect(SERVER_ADDR, 0, { token });
    assert.ok(pair.run(() => c.conn.isClosed, 10_000), make);
    const reason = closedReason(c.events);
    assert.ok(reason?.kind === 'transport' && reason.code === TransportErrorCode.INVALID_TOKEN, `${make}: ${JSON.stringify(reason)}`);
    assert.equal(pair.server.replies, ['invalid-token'], make);
  }
});

test('Retry under loss: 20 seeds with 20% loss both ways complete the handshake', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const link = { delayMs: 15, lossRate: 0.2 };
    const pair = makeEndpointPair({ seed, retry: 'always', link });
    const c = pair.client.connect(SERVER_ADDR, 0);
    const ok = pair.run(() => c.conn.handshakeConfirmed && pair.server.conns.some((s) => s.conn.isHandshakeComplete), 60_000);
    assert.ok(ok, `seed ${seed}: handshake did not complete (${c.conn.state})`);
    assert.ok(pair.server.replies.filter((r) => r === 'retry').length >= 1, `seed ${seed}`);
  }
});

test('Retry, then the Initial carrying the token is lost: the client resends it with the token', () => {
  let dropped = 0;
  const pair = makeEndpointPair({
    retry: 'always',
    link: {
      delayMs: 10,
      hook: (data) => {
        if (initialTokenLength(data) > 0 && dropped === 0) {
          dropped++;
          return null;
        }
        return data;
      },
    },
  });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  assert.is(dropped, 1);
  assert.equal(pair.server.replies, ['retry']);
});

test("threshold policy: Retry only once the handshakes in progress reach the limit", () => {
  const pair = makeEndpointPair({ retry: { handshakesInProgress: 1 } });
  const a = pair.client.connect(SERVER_ADDR, 0);
  const b = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => a.conn.handshakeConfirmed && b.conn.handshakeConfirmed));
  assert.ok(!a.conn.retrySourceCid, 'first connection needs no Retry');
  assert.ok(b.conn.retrySourceCid, 'second one arrives while the first is in progress');
  assert.equal(pair.server.replies, ['retry']);
});

test('NEW_TOKEN: the second connection to the server brings it and skips the Retry (RFC 9000 §8.1.3)', () => {
  const pair = makeEndpointPair({ retry: 'always' });
  const first = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => first.conn.handshakeConfirmed && pair.client.tokenStore.count(SERVER_ADDR) === 1));
  assert.ok(first.events.some((e) => e.type === 'new-token'));
  first.conn.close(0, 'done', pair.sim.now);
  assert.ok(pair.run(() => first.conn.isTerminated || first.conn.state === 'closing', 5_000));
  const second = pair.client.connect(SERVER_ADDR, pair.sim.now);
  assert.is(pair.client.tokenStore.count(SERVER_ADDR), 0, 'a token is used once');
  assert.ok(pair.run(() => second.conn.handshakeConfirmed));
  assert.is(second.conn.retrySourceCid, undefined, 'no Retry the second time');
  assert.equal(pair.server.replies, ['retry']);
  const serverSide = pair.server.conns.find((s) => s.conn.isHandshakeComplete && s.conn !== pair.server.conns[0]?.conn)!;
  assert.ok(serverSide.conn.addressValidated, 'the NEW_TOKEN token validated the address');
});

test('an expired NEW_TOKEN token is ignored: Retry as without one, then success (RFC 9000 §8.1.4)', () => {
  const pair = makeEndpointPair({ retry: 'always' });
  const first = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => first.conn.handshakeConfirmed && pair.client.tokenStore.count(SERVER_ADDR) === 1));
  pair.server.clockOffsetMs = 3 * 24 * 3600_000;
  const second = pair.client.connect(SERVER_ADDR, pair.sim.now);
  assert.ok(pair.run(() => second.conn.handshakeConfirmed));
  assert.ok(second.conn.retrySourceCid, 'a Retry was needed');
  assert.is(pair.server.responder.stats.ignoredTokens, 1);
  assert.equal(pair.server.replies, ['retry', 'retry']);
});

test('a Retry is ignored by a client that already received an Initial from the server', () => {
  const pair = makeEndpointPair({ retry: 'never' });
  const c = pair.client.connect(SERVER_ADDR, 0);
  assert.ok(pair.run(() => c.conn.handshakeConfirmed));
  // A stale Retry for this connection, correctly tagged, arrives late: discarded (RFC 9000 §17.2.5.2).
  const before = c.conn.droppedPackets;
  const scid = c.conn.localHandshakeCid;
  const odcid = c.conn.originalDcid;
  const token = pair.server.responder.tokens.mintRetryToken({ address: 'client', port: 443 }, odcid, new Uint8Array(8).fill(9), pair.server.wallClock());
  const packet = buildRetryPacket(c.conn.crypto, 1, scid, odcid, new Uint8Array(8).fill(9), token, 0);
  c.conn.handleDatagram(packet, { address: SERVER_ADDR, port: 443 }, pair.sim.now);
  assert.is(c.conn.droppedPackets, before + 1);
  assert.ok(!c.conn.isClosed);
});

test.run();
