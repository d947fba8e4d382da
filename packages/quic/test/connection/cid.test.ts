import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalConnectionIds, PeerConnectionIds } from '../../src/connection/cid.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';

function counterFactory() {
  let n = 0;
  return () => {
    n++;
    return { cid: new Uint8Array(8).fill(n), resetToken: new Uint8Array(16).fill(0x80 + n) };
  };
}

function expectCode(fn: () => void, code: number): void {
  try {
    fn();
  } catch (e) {
    assert.ok(QuicError.is(e), String(e));
    assert.is((e as QuicError).code, code);
    return;
  }
  assert.unreachable('expected a QuicError');
}

test('§5.1.1: sequence 0 is the handshake CID; more are issued up to the peer limit and announced', () => {
  const routes: string[] = [];
  const local = new LocalConnectionIds(counterFactory());
  local.onRouteChange = (cid, on) => routes.push(`${on ? '+' : '-'}${cid[0]}`);
  const first = local.issueInitial();
  assert.is(first.sequence, 0);
  assert.equal([...local.pendingAnnouncements], []);
  local.setPeerLimit(4);
  assert.is(local.size, 4);
  assert.equal([...local.pendingAnnouncements], [1, 2, 3]);
  assert.equal(routes, ['+1', '+2', '+3', '+4']);
});

test('§19.16: retiring replaces the CID; retiring twice is harmless; unissued or packet DCID is a violation', () => {
  const local = new LocalConnectionIds(counterFactory());
  const first = local.issueInitial();
  local.setPeerLimit(3);
  local.pendingAnnouncements.clear();
  const second = local.get(1)!;
  local.onRetire(0, second.cid);
  assert.is(local.size, 3);
  assert.equal([...local.pendingAnnouncements], [3]);
  local.onRetire(0, second.cid); // again: no effect
  assert.is(local.size, 3);
  expectCode(() => local.onRetire(99, second.cid), TransportErrorCode.PROTOCOL_VIOLATION);
  expectCode(() => local.onRetire(1, second.cid), TransportErrorCode.PROTOCOL_VIOLATION);
  assert.ok(first.cid.length === 8);
});

test('§19.15: duplicates are fine, conflicting reuse is a PROTOCOL_VIOLATION, over the limit is CONNECTION_ID_LIMIT_ERROR', () => {
  const peer = new PeerConnectionIds(new Uint8Array([9, 9, 9, 9]), 3);
  const cid1 = new Uint8Array([1, 1, 1, 1]);
  const tok1 = new Uint8Array(16).fill(1);
  peer.onNewConnectionId(1, 0, cid1, tok1);
  peer.onNewConnectionId(1, 0, cid1, tok1); // retransmitted frame
  assert.is(peer.size, 2);
  expectCode(() => peer.onNewConnectionId(1, 0, new Uint8Array([2, 2, 2, 2]), tok1), TransportErrorCode.PROTOCOL_VIOLATION);
  expectCode(() => peer.onNewConnectionId(5, 0, cid1, tok1), TransportErrorCode.PROTOCOL_VIOLATION);
  peer.onNewConnectionId(2, 0, new Uint8Array([3, 3, 3, 3]), new Uint8Array(16).fill(3));
  expectCode(
    () => peer.onNewConnectionId(3, 0, new Uint8Array([4, 4, 4, 4]), new Uint8Array(16).fill(4)),
    TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
  );
});

test('§5.1.2: Retire Prior To retires older CIDs, switches away from them, and late arrivals below it are retired at once', () => {
  const peer = new PeerConnectionIds(new Uint8Array([9, 9]), 2);
  peer.onNewConnectionId(1, 0, new Uint8Array([1, 1]), new Uint8Array(16).fill(1));
  peer.onNewConnectionId(3, 2, new Uint8Array([3, 3]), new Uint8Array(16).fill(3));
  assert.equal([...peer.pendingRetirements].sort(), [0, 1]);
  assert.is(peer.currentSequence, 3);
  assert.equal([...peer.currentCid], [3, 3]);
  peer.onNewConnectionId(2, 0, new Uint8Array([2, 2]), new Uint8Array(16).fill(2)); // late, but not below Retire Prior To 2: kept
  assert.is(peer.size, 2);
  peer.onNewConnectionId(4, 4, new Uint8Array([4, 4]), new Uint8Array(16).fill(4));
  peer.onNewConnectionId(0, 0, new Uint8Array([9, 9]), new Uint8Array(16)); // sequence 0 after retirement
  assert.ok(peer.pendingRetirements.has(0));
  assert.ok(peer.pendingRetirements.has(2) && peer.pendingRetirements.has(3));
  assert.is(peer.currentSequence, 4);
});

test('zero-length CIDs: NEW_CONNECTION_ID is a PROTOCOL_VIOLATION (§19.15)', () => {
  const peer = new PeerConnectionIds(new Uint8Array(0), 2);
  expectCode(() => peer.onNewConnectionId(1, 0, new Uint8Array([1]), new Uint8Array(16)), TransportErrorCode.PROTOCOL_VIOLATION);
});

test('rotate moves to an unused CID and retires the old one; stateless reset tokens are listed', () => {
  const peer = new PeerConnectionIds(new Uint8Array([9]), 4);
  assert.not.ok(peer.rotate());
  peer.setInitialResetToken(new Uint8Array(16).fill(7));
  peer.onNewConnectionId(1, 0, new Uint8Array([1]), new Uint8Array(16).fill(1));
  assert.is(peer.resetTokens().length, 2);
  assert.ok(peer.rotate());
  assert.is(peer.currentSequence, 1);
  assert.equal([...peer.pendingRetirements], [0]);
  assert.is(peer.resetTokens().length, 1);
});

test.run();
