import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QUIC_LB_UNROUTABLE, quicLbCidFactory, quicLbCidLength, quicLbServerId, type QuicLbConfig } from '../../src/connection/quic-lb.js';

/** Deterministic "random" bytes: 0xa0, 0xa1, ... so that every byte of a CID is predictable. */
function counter(): (n: number) => Uint8Array {
  let next = 0xa0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

const CONFIG: QuicLbConfig = { configRotation: 2, serverIdLength: 2, nonceLength: 5, lengthSelfEncoding: true };

test('plaintext CID layout (draft-ietf-quic-load-balancers-19 §3, §5.2): rotation, length, server ID, nonce', () => {
  const make = quicLbCidFactory(CONFIG, Uint8Array.of(0x12, 0x34), counter());
  const cid = make();
  assert.is(cid.length, 8);
  assert.is(quicLbCidLength(CONFIG), 8);
  // 0b010 << 5 | (8 - 1) = 0x47; then the server ID in the clear; then 5 nonce bytes.
  assert.equal([...cid], [0x47, 0x12, 0x34, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4]);
  assert.equal([...quicLbServerId(CONFIG, cid)!], [0x12, 0x34]);
});

test('without length self-encoding the low 5 bits are random and ignored by the router', () => {
  const config = { ...CONFIG, lengthSelfEncoding: false };
  const make = quicLbCidFactory(config, Uint8Array.of(7, 9), counter());
  const cid = make();
  // The sixth random byte (0xa5) gives the low bits: 0xa5 & 0x1f = 5.
  assert.is(cid[0], (2 << 5) | 5);
  assert.equal([...quicLbServerId(config, cid)!], [7, 9]);
});

test('every CID a factory makes routes to its server ID; successive nonces differ', () => {
  const make = quicLbCidFactory(CONFIG, Uint8Array.of(0, 3), counter());
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const cid = make();
    assert.equal([...quicLbServerId(CONFIG, cid)!], [0, 3]);
    seen.add(cid.join(','));
  }
  assert.is(seen.size, 100);
});

test('the router refuses CIDs of another rotation, the unroutable codepoint, a wrong length', () => {
  const make = quicLbCidFactory(CONFIG, Uint8Array.of(1, 2), counter());
  const cid = make();
  const other = cid.slice();
  other[0] = (3 << 5) | 7;
  assert.is(quicLbServerId(CONFIG, other), undefined);
  const unroutable = cid.slice();
  unroutable[0] = (QUIC_LB_UNROUTABLE << 5) | 7;
  assert.is(quicLbServerId(CONFIG, unroutable), undefined);
  assert.is(quicLbServerId(CONFIG, cid.subarray(0, 7)), undefined);
  const longer = new Uint8Array(9);
  longer.set(cid);
  assert.is(quicLbServerId(CONFIG, longer), undefined); // self-encoded length says 8
});

test('configurations outside the draft bounds are rejected', () => {
  const id = Uint8Array.of(1);
  const base = { configRotation: 0, serverIdLength: 1, nonceLength: 4, lengthSelfEncoding: true };
  assert.throws(() => quicLbCidFactory({ ...base, configRotation: 7 }, id, counter()), RangeError);
  assert.throws(() => quicLbCidFactory({ ...base, nonceLength: 3 }, id, counter()), RangeError);
  assert.throws(() => quicLbCidFactory({ ...base, serverIdLength: 15, nonceLength: 5 }, new Uint8Array(15), counter()), RangeError);
  assert.throws(() => quicLbCidFactory(base, Uint8Array.of(1, 2), counter()), RangeError);
});

test.run();
