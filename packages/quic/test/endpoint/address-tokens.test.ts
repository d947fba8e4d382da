import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AddressTokens, NEW_TOKEN_KIND, RETRY_TOKEN_KIND } from '../../src/endpoint/address-tokens.js';
import { autoSymmetric } from '../../src/crypto/auto.js';
import { SimRandom } from '../../src/sim/prng.js';

const random = new SimRandom(9);
const rand = (n: number) => random.bytes(n);
const key = rand(32);
const tokens = new AddressTokens({ crypto: autoSymmetric, staticKey: key, random: rand });
const T0 = Date.UTC(2026, 0, 1);
const client = { address: '198.51.100.7', port: 40_000 };
const odcid = rand(8);
const rscid = rand(8);

test('a Retry token round-trips its CIDs for the same address, within its lifetime', () => {
  const t = tokens.mintRetryToken(client, odcid, rscid, T0);
  assert.is(t[0], RETRY_TOKEN_KIND);
  const c = tokens.check(t, client, T0 + 1_000);
  assert.ok(c.valid && c.kind === 'retry');
  if (c.valid && c.kind === 'retry') {
    assert.equal(c.originalDcid, odcid);
    assert.equal(c.retrySourceCid, rscid);
    assert.is(c.issuedAtMs, T0);
  }
  // The same IPv4 address written as IPv4-mapped IPv6 is the same client.
  assert.ok(tokens.check(t, { address: '::ffff:198.51.100.7', port: 40_000 }, T0).valid);
});

test('Retry tokens are refused: other port or address, expired, from the future, modified, truncated, another key', () => {
  const t = tokens.mintRetryToken(client, odcid, rscid, T0);
  const why = (x: ReturnType<typeof tokens.check>) => (x.valid ? 'valid' : x.why);
  assert.match(why(tokens.check(t, { ...client, port: 40_001 }, T0)), /authenticate/);
  assert.match(why(tokens.check(t, { ...client, address: '198.51.100.8' }, T0)), /authenticate/);
  assert.is(why(tokens.check(t, client, T0 + tokens.retryLifetimeMs + 1)), 'expired');
  assert.is(why(tokens.check(t, client, T0 - 60_000)), 'issued in the future');
  for (let i = 1; i < t.length; i++) {
    const m = t.slice();
    m[i]! ^= 0x01;
    const c = tokens.check(m, client, T0);
    assert.ok(!c.valid && c.kind === 'retry', `byte ${i}`);
  }
  assert.not.ok(tokens.check(t.subarray(0, 20), client, T0).valid);
  const other = new AddressTokens({ crypto: autoSymmetric, staticKey: rand(32), random: rand });
  assert.not.ok(other.check(t, client, T0).valid);
  // The same key (a restarted server) still reads it.
  assert.ok(new AddressTokens({ crypto: autoSymmetric, staticKey: key, random: rand }).check(t, client, T0).valid);
});

test('NEW_TOKEN tokens bind the IP address only, last a day, and are told apart from Retry tokens', () => {
  const t = tokens.mintNewToken(client, T0);
  assert.is(t[0], NEW_TOKEN_KIND);
  const later = tokens.check(t, { ...client, port: 50_000 }, T0 + 3600_000);
  assert.ok(later.valid && later.kind === 'new-token', 'another port, an hour later');
  const stale = tokens.check(t, client, T0 + tokens.newTokenLifetimeMs + 1);
  assert.ok(!stale.valid && stale.kind === 'new-token' && stale.why === 'expired');
  assert.not.ok(tokens.check(t, { ...client, address: '203.0.113.1' }, T0).valid);
  // Flipping the kind byte does not turn one kind into the other: it is authenticated data.
  const flipped = t.slice();
  flipped[0] = RETRY_TOKEN_KIND;
  assert.not.ok(tokens.check(flipped, client, T0).valid);
  const foreign = tokens.check(Uint8Array.from([1, 2, 3]), client, T0);
  assert.ok(!foreign.valid && foreign.kind === 'unknown');
});

test('tokens are unlinkable: two tokens for the same inputs differ', () => {
  const a = tokens.mintNewToken(client, T0);
  const b = tokens.mintNewToken(client, T0);
  assert.is.not(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'));
});

test.run();
