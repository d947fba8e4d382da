import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { nodeAsymmetric } from '../../src/crypto/node-asymmetric.js';
import type { AsymmetricCrypto, NamedGroupName } from '../../src/crypto/provider.js';
import { QuicError } from '../../src/errors.js';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

interface X25519Vectors {
  source: string;
  alicePrivate: string;
  alicePublic: string;
  bobPrivate: string;
  bobPublic: string;
  sharedSecret: string;
}
const rfc7748 = loadVectors<X25519Vectors>('rfc7748-6.1-x25519.json');

const providers: [string, AsymmetricCrypto][] = [
  ['noble', nobleAsymmetric],
  ['node', nodeAsymmetric],
];

function expectIllegalParameter(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(TlsAlertError.isTlsAlert(error), `${what}: a TlsAlertError`);
    assert.ok(QuicError.is(error), `${what}: also a QuicError`);
    assert.is((error as TlsAlertError).alert, TlsAlert.ILLEGAL_PARAMETER, what);
    assert.is((error as TlsAlertError).code, 0x100 + TlsAlert.ILLEGAL_PARAMETER, what);
    return;
  }
  assert.unreachable(`${what}: accepted`);
}

for (const [name, provider] of providers) {
  test(`${name}: RFC 7748 §6.1 X25519 public keys and shared secret, byte for byte`, () => {
    const alice = provider.importKeyShare('x25519', fromHex(rfc7748.alicePrivate));
    const bob = provider.importKeyShare('x25519', fromHex(rfc7748.bobPrivate));
    assert.is(toHex(alice.publicKey), rfc7748.alicePublic);
    assert.is(toHex(bob.publicKey), rfc7748.bobPublic);
    assert.is(toHex(provider.deriveSharedSecret(alice, fromHex(rfc7748.bobPublic))), rfc7748.sharedSecret);
    assert.is(toHex(provider.deriveSharedSecret(bob, fromHex(rfc7748.alicePublic))), rfc7748.sharedSecret);
  });

  test(`${name}: key share encodings have the RFC 8446 §4.2.8.2 sizes`, () => {
    const x = provider.generateKeyShare('x25519');
    assert.is(x.group, 'x25519');
    assert.is(x.publicKey.length, 32);
    const p = provider.generateKeyShare('secp256r1');
    assert.is(p.group, 'secp256r1');
    assert.is(p.publicKey.length, 65);
    assert.is(p.publicKey[0], 0x04);
    // Two fresh shares differ (the provider's RNG is used).
    assert.is.not(toHex(provider.generateKeyShare('x25519').publicKey), toHex(x.publicKey));
  });

  test(`${name}: X25519 rejects small-order peer keys (all-zero secret, RFC 8446 §7.4.2) and bad lengths`, () => {
    const share = provider.generateKeyShare('x25519');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, new Uint8Array(32)), 'u = 0');
    const one = new Uint8Array(32);
    one[0] = 1;
    expectIllegalParameter(() => provider.deriveSharedSecret(share, one), 'u = 1');
    // A point of order 8 (RFC 7748 §6.1 discussion; widely listed small-order u-coordinate).
    const order8 = fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, order8), 'order-8 point');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, new Uint8Array(31).fill(9)), '31 bytes');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, new Uint8Array(33).fill(9)), '33 bytes');
  });

  test(`${name}: secp256r1 rejects compressed, off-curve, infinity and truncated points`, () => {
    const share = provider.generateKeyShare('secp256r1');
    const good = provider.generateKeyShare('secp256r1').publicKey;
    assert.is(provider.deriveSharedSecret(share, good).length, 32);
    const offCurve = good.slice();
    offCurve[64] = (offCurve[64] as number) ^ 1;
    expectIllegalParameter(() => provider.deriveSharedSecret(share, offCurve), 'off-curve point');
    const compressed = new Uint8Array(33);
    compressed[0] = 0x02 | ((good[64] as number) & 1);
    compressed.set(good.subarray(1, 33), 1);
    expectIllegalParameter(() => provider.deriveSharedSecret(share, compressed), 'compressed point');
    const wrongPrefix = good.slice();
    wrongPrefix[0] = 0x06;
    expectIllegalParameter(() => provider.deriveSharedSecret(share, wrongPrefix), 'hybrid-form prefix');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, Uint8Array.of(0)), 'point at infinity');
    expectIllegalParameter(() => provider.deriveSharedSecret(share, good.subarray(0, 64)), 'truncated');
    const zeros = new Uint8Array(65);
    zeros[0] = 4;
    expectIllegalParameter(() => provider.deriveSharedSecret(share, zeros), '(0, 0)');
  });
}

const groups: NamedGroupName[] = ['x25519', 'secp256r1'];
for (const group of groups) {
  test(`${group}: noble and node derive the same secret from each other's shares`, () => {
    for (let round = 0; round < 3; round++) {
      const a = nobleAsymmetric.generateKeyShare(group);
      const b = nodeAsymmetric.generateKeyShare(group);
      const fromNoble = nobleAsymmetric.deriveSharedSecret(a, b.publicKey);
      const fromNode = nodeAsymmetric.deriveSharedSecret(b, a.publicKey);
      assert.is(fromNoble.length, 32);
      assert.is(toHex(fromNoble), toHex(fromNode));
    }
  });

  test(`${group}: importKeyShare gives both providers the same public key for one scalar`, () => {
    const scalar = nobleAsymmetric.generateKeyShare(group).privateKey as Uint8Array;
    const a = nobleAsymmetric.importKeyShare(group, scalar);
    const b = nodeAsymmetric.importKeyShare(group, scalar);
    assert.is(toHex(a.publicKey), toHex(b.publicKey));
    const peer = nodeAsymmetric.generateKeyShare(group);
    assert.is(toHex(nobleAsymmetric.deriveSharedSecret(a, peer.publicKey)), toHex(nodeAsymmetric.deriveSharedSecret(b, peer.publicKey)));
  });
}

test.run();
