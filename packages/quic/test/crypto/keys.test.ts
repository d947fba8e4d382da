import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CIPHER_SUITES,
  cipherSuiteInfo,
  requireCipherSuite,
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
} from '../../src/crypto/cipher-suites.js';
import {
  createPacketProtectionKeys,
  deriveInitialKeys,
  deriveInitialSecrets,
  derivePacketKeyMaterial,
  encodeHkdfLabel,
  hkdfExpandLabel,
  nextKeyPhaseKeys,
  nextTrafficSecret,
  versionKeyParameters,
} from '../../src/crypto/keys.js';
import { aeadKeyLength, hashLength } from '../../src/crypto/provider.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { fromHex, toHex } from '../helpers/vectors.js';
import { SYMMETRIC_PROVIDERS } from './symmetric-providers.js';
import { VERSION_VECTORS } from './vectors.js';

const EMPTY = new Uint8Array(0);

for (const v of VERSION_VECTORS) {
  test(`${v.rfc} A.1: HkdfLabel encodings of every label`, () => {
    const { hkdfLabels } = v.keys;
    const lengths: Record<string, number> = { 'client in': 32, 'server in': 32 };
    const params = versionKeyParameters(v.version);
    lengths[params.keyLabel] = 16;
    lengths[params.ivLabel] = 12;
    lengths[params.hpLabel] = 16;
    assert.equal(Object.keys(hkdfLabels).sort(), Object.keys(lengths).sort());
    for (const [label, hex] of Object.entries(hkdfLabels)) {
      assert.is(toHex(encodeHkdfLabel(label, EMPTY, lengths[label]!)), hex, label);
    }
  });

  test(`${v.rfc} A.1: initial salt, initial secret, client and server secrets, keys, IVs and hp keys`, () => {
    const k = v.keys;
    assert.is(toHex(versionKeyParameters(v.version).initialSalt), k.initialSalt);
    for (const p of SYMMETRIC_PROVIDERS) {
      const dcid = fromHex(k.clientDcid);
      assert.is(toHex(p.hkdfExtract('sha256', fromHex(k.initialSalt), dcid)), k.initialSecret, p.name);
      const secrets = deriveInitialSecrets(p, v.version, dcid);
      for (const [direction, secret] of [
        ['client', secrets.client],
        ['server', secrets.server],
      ] as const) {
        const expected = k[direction];
        assert.is(toHex(secret), expected.secret, `${p.name} ${direction} secret`);
        const material = derivePacketKeyMaterial(p, TLS_AES_128_GCM_SHA256, v.version, secret);
        assert.is(toHex(material.key), expected.key, `${p.name} ${direction} key`);
        assert.is(toHex(material.iv), expected.iv, `${p.name} ${direction} iv`);
        assert.is(toHex(material.hp), expected.hp, `${p.name} ${direction} hp`);
      }
      const keys = deriveInitialKeys(p, v.version, dcid);
      assert.is(toHex(keys.client.iv), k.client.iv);
      assert.is(toHex(keys.server.iv), k.server.iv);
      assert.is(keys.client.suite, TLS_AES_128_GCM_SHA256);
      assert.is(keys.client.version, v.version);
      assert.is(keys.client.aead.algorithm, 'aes-128-gcm');
    }
  });

  test(`${v.rfc} A.5: ChaCha20 key, IV, hp and the key-update secret from the application secret`, () => {
    const c = v.chacha;
    assert.is(c.cipherSuite, TLS_CHACHA20_POLY1305_SHA256.name);
    for (const p of SYMMETRIC_PROVIDERS) {
      const secret = fromHex(c.secret);
      const material = derivePacketKeyMaterial(p, TLS_CHACHA20_POLY1305_SHA256, v.version, secret);
      assert.is(toHex(material.key), c.key, p.name);
      assert.is(toHex(material.iv), c.iv, p.name);
      assert.is(toHex(material.hp), c.hp, p.name);
      assert.is(toHex(nextTrafficSecret(p, TLS_CHACHA20_POLY1305_SHA256, v.version, secret)), c.ku, p.name);
    }
  });
}

test('RFC 9001 A.5 / RFC 9369 A.5: v1 and v2 derive different keys from the same secret (RFC 9369 §3.3.2 labels)', () => {
  const [v1, v2] = VERSION_VECTORS as [(typeof VERSION_VECTORS)[0], (typeof VERSION_VECTORS)[0]];
  assert.is(v1.chacha.secret, v2.chacha.secret);
  assert.is.not(v1.chacha.key, v2.chacha.key);
  assert.is.not(v1.chacha.ku, v2.chacha.ku);
});

test('RFC 9001 §6.1: the key-update chain — each phase derives from the previous secret, header protection is kept', () => {
  const prng = [0x11, 0x22, 0x33];
  for (const suite of CIPHER_SUITES) {
    for (const version of [QUIC_V1, QUIC_V2]) {
      const secret0 = new Uint8Array(suite.hashLength).map((_, i) => (i * 7 + (prng[i % 3] as number)) & 0xff);
      const chains = SYMMETRIC_PROVIDERS.map((p) => {
        let keys = createPacketProtectionKeys(p, suite, version, secret0);
        const hp = keys.headerProtection;
        const secrets: string[] = [toHex(keys.secret)];
        const ivs: string[] = [toHex(keys.iv)];
        for (let phase = 1; phase <= 3; phase++) {
          const next = nextKeyPhaseKeys(p, keys);
          assert.is(next.headerProtection, hp, 'RFC 9001 §6: the header protection key does not change');
          assert.is(next.suite, suite);
          assert.is(next.version, version);
          // The next secret is Expand-Label(previous, "quic ku" | "quicv2 ku", "", Hash.length).
          const label = versionKeyParameters(version).keyUpdateLabel;
          assert.is(toHex(next.secret), toHex(hkdfExpandLabel(p, suite.hash, keys.secret, label, EMPTY, suite.hashLength)));
          assert.is(toHex(next.iv), toHex(derivePacketKeyMaterial(p, suite, version, next.secret).iv));
          assert.is.not(toHex(next.secret), toHex(keys.secret));
          secrets.push(toHex(next.secret));
          ivs.push(toHex(next.iv));
          keys = next;
        }
        return { secrets, ivs };
      });
      for (const chain of chains) assert.equal(chain, chains[0], `${suite.name} v${version.toString(16)}`);
      assert.is(new Set(chains[0]!.secrets).size, 4);
    }
  }
});

test('cipher suites: sizes and RFC 9001 §6.6 limits', () => {
  assert.equal(
    CIPHER_SUITES.map((s) => s.id),
    [0x1301, 0x1302, 0x1303],
  );
  for (const suite of CIPHER_SUITES) {
    assert.is(cipherSuiteInfo(suite.id), suite);
    assert.is(requireCipherSuite(suite.id), suite);
    assert.is(suite.keyLength, aeadKeyLength(suite.aead));
    assert.is(suite.hpKeyLength, suite.keyLength);
    assert.is(suite.hashLength, hashLength(suite.hash));
    assert.is(suite.ivLength, 12);
    assert.is(suite.tagLength, 16);
  }
  assert.is(TLS_AES_128_GCM_SHA256.confidentialityLimit, 2 ** 23);
  assert.is(TLS_AES_128_GCM_SHA256.integrityLimit, 2 ** 52);
  assert.is(TLS_AES_256_GCM_SHA384.confidentialityLimit, 2 ** 23);
  assert.is(TLS_AES_256_GCM_SHA384.integrityLimit, 2 ** 52);
  assert.is(TLS_AES_256_GCM_SHA384.hash, 'sha384');
  assert.is(TLS_CHACHA20_POLY1305_SHA256.confidentialityLimit, 2 ** 62);
  assert.is(TLS_CHACHA20_POLY1305_SHA256.integrityLimit, 2 ** 36);
  assert.is(cipherSuiteInfo(0x1304), undefined, 'TLS_AES_128_CCM_SHA256 is not offered');
  assert.throws(() => requireCipherSuite(0x1305), RangeError);
});

test('HkdfLabel: context is carried, lengths are checked', () => {
  const info = encodeHkdfLabel('derived', fromHex('e3b0c442'), 32);
  assert.is(toHex(info), '0020' + '0d' + toHex(new TextEncoder().encode('tls13 derived')) + '04' + 'e3b0c442');
  assert.throws(() => encodeHkdfLabel('x'.repeat(250), EMPTY, 32), RangeError);
  assert.throws(() => encodeHkdfLabel('quic key', new Uint8Array(256), 32), RangeError);
  assert.throws(() => encodeHkdfLabel('quic key', EMPTY, 0x10000), RangeError);
  assert.throws(() => encodeHkdfLabel('clé', EMPTY, 16), RangeError);
});

test('unsupported QUIC versions have no keys', () => {
  for (const p of SYMMETRIC_PROVIDERS) {
    assert.throws(() => deriveInitialSecrets(p, 0xff00_001d, new Uint8Array(8)), RangeError);
    assert.throws(() => deriveInitialSecrets(p, 0x0a0a_0a0a, new Uint8Array(8)), RangeError);
  }
});

test.run();
