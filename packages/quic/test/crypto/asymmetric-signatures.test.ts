import { constants, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { derToPem, ecdsaDerToRaw, ecdsaRawToDer, pemToDer } from '../../src/crypto/der.js';
import { parsePkcs8 } from '../../src/crypto/key-info.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { nodeAsymmetric } from '../../src/crypto/node-asymmetric.js';
import type {
  AsymmetricCrypto,
  CertificateSignatureAlgorithm,
  SignatureSchemeName,
} from '../../src/crypto/provider.js';
import { rsaPkcs1Sign } from '../../src/crypto/rsa.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { signatureSchemeFromCode, signatureSchemeCode } from '../../src/crypto/signature-schemes.js';
import { toHex } from '../helpers/vectors.js';

const providers: [string, AsymmetricCrypto][] = [
  ['noble', nobleAsymmetric],
  ['node', nodeAsymmetric],
];

interface TestKey {
  label: string;
  pkcs8: Uint8Array;
  spki: Uint8Array;
  privateKey: KeyObject;
  schemes: SignatureSchemeName[];
}

function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function makeKey(label: string, pair: { privateKey: KeyObject; publicKey: KeyObject }, schemes: SignatureSchemeName[]): TestKey {
  return {
    label,
    pkcs8: bytes(pair.privateKey.export({ format: 'der', type: 'pkcs8' })),
    spki: bytes(pair.publicKey.export({ format: 'der', type: 'spki' })),
    privateKey: pair.privateKey,
    schemes,
  };
}

// Keys are made once per run by OpenSSL; every assertion below holds for any key.
const keys: TestKey[] = [
  makeKey('P-256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), ['ecdsa_secp256r1_sha256']),
  makeKey('P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), ['ecdsa_secp384r1_sha384']),
  makeKey('Ed25519', generateKeyPairSync('ed25519'), ['ed25519']),
  makeKey('RSA-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }), ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384']),
];
// modBits = 1025: emLen (128) is one byte shorter than k (129), the RFC 8017 §9.1 edge case.
const oddRsa = makeKey('RSA-1025', generateKeyPairSync('rsa', { modulusLength: 1025 }), ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384']);

const message = new TextEncoder().encode('TLS 1.3, server CertificateVerify\0 transcript hash stand-in');

for (const key of [...keys, oddRsa]) {
  for (const [signerName, signer] of providers) {
    const signingKey = signer.importSigningKey(key.pkcs8);

    test(`${signerName} imports a ${key.label} PKCS#8 key: schemes and SPKI`, () => {
      assert.equal([...signingKey.schemes], key.schemes);
      assert.is(toHex(signingKey.publicKey), toHex(key.spki));
    });

    for (const scheme of key.schemes) {
      for (const [verifierName, verifier] of providers) {
        test(`${key.label} ${scheme}: ${signerName} signs, ${verifierName} verifies; tampering fails`, () => {
          const signature = signer.sign(signingKey, scheme, message);
          assert.ok(verifier.verify(key.spki, scheme, message, signature), 'valid signature');
          const badSignature = signature.slice();
          badSignature[badSignature.length - 5] = (badSignature[badSignature.length - 5] as number) ^ 0x10;
          assert.not.ok(verifier.verify(key.spki, scheme, message, badSignature), 'tampered signature');
          const badMessage = message.slice();
          badMessage[3] = (badMessage[3] as number) ^ 1;
          assert.not.ok(verifier.verify(key.spki, scheme, badMessage, signature), 'tampered message');
          assert.not.ok(verifier.verify(key.spki, scheme, message, signature.subarray(0, signature.length - 1)), 'truncated');
          assert.not.ok(verifier.verify(key.spki, scheme, message, new Uint8Array(0)), 'empty');
        });
      }
    }
  }
}

test('verify: a key that does not fit the scheme is refused, never throws', () => {
  const [p256, p384, ed, rsa] = keys as [TestKey, TestKey, TestKey, TestKey];
  for (const [, provider] of providers) {
    const sig = provider.sign(provider.importSigningKey(p256.pkcs8), 'ecdsa_secp256r1_sha256', message);
    // RFC 8446 §4.2.3: ecdsa_secp384r1_sha384 needs a P-384 key.
    assert.not.ok(provider.verify(p256.spki, 'ecdsa_secp384r1_sha384', message, sig));
    assert.not.ok(provider.verify(p384.spki, 'ecdsa_secp256r1_sha256', message, sig));
    assert.not.ok(provider.verify(ed.spki, 'ecdsa_secp256r1_sha256', message, sig));
    assert.not.ok(provider.verify(rsa.spki, 'ed25519', message, sig));
    assert.not.ok(provider.verify(new Uint8Array([0x30, 0x03, 0x02, 0x01]), 'ed25519', message, sig));
    assert.not.ok(provider.verify(new Uint8Array(0), 'ecdsa_secp256r1_sha256', message, sig));
    assert.not.ok(provider.verify(p256.spki, 'rsa_pkcs1_sha1' as SignatureSchemeName, message, sig));
  }
});

test('sign: a scheme the key cannot make throws', () => {
  for (const [, provider] of providers) {
    const key = provider.importSigningKey((keys[0] as TestKey).pkcs8);
    assert.throws(() => provider.sign(key, 'ed25519', message));
    assert.throws(() => provider.sign(key, 'rsa_pss_rsae_sha256', message));
  }
});

test('sign: keys are provider-specific', () => {
  const nobleKey = nobleAsymmetric.importSigningKey((keys[0] as TestKey).pkcs8);
  assert.throws(() => nodeAsymmetric.sign(nobleKey, 'ecdsa_secp256r1_sha256', message), /node provider/);
});

test('importSigningKey accepts PEM', () => {
  const key = keys[2] as TestKey;
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  assert.is(toHex(pemToDer(pem, 'PRIVATE KEY')), toHex(key.pkcs8));
  assert.is(derToPem(key.pkcs8, 'PRIVATE KEY').replace(/\s/g, ''), pem.replace(/\s/g, ''));
  for (const [, provider] of providers) {
    assert.is(toHex(provider.importSigningKey(pem).publicKey), toHex(key.spki));
  }
});

test('ECDSA: high-S signatures (as OpenSSL makes them) verify in both providers', () => {
  const key = keys[0] as TestKey;
  const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const original = bytes(nodeSign('sha256', message, { key: key.privateKey, dsaEncoding: 'der' }));
  const raw = ecdsaDerToRaw(original, 32) as Uint8Array;
  assert.is(toHex(ecdsaRawToDer(raw)), toHex(original), 'DER <-> raw round trip');
  const s = BigInt('0x' + toHex(raw.subarray(32)));
  const flipped = raw.slice();
  flipped.set(
    Uint8Array.from((n - s).toString(16).padStart(64, '0').match(/../g) as string[], (h) => parseInt(h, 16)),
    32,
  );
  const flippedDer = ecdsaRawToDer(flipped);
  for (const [name, provider] of providers) {
    assert.ok(provider.verify(key.spki, 'ecdsa_secp256r1_sha256', message, original), `${name} original`);
    assert.ok(provider.verify(key.spki, 'ecdsa_secp256r1_sha256', message, flippedDer), `${name} s' = n - s`);
  }
});

test('ECDSA DER: malformed encodings are rejected by the raw converter', () => {
  assert.is(ecdsaDerToRaw(new Uint8Array([0x30, 0x00]), 32), null);
  assert.is(ecdsaDerToRaw(new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]), 32), null, 'trailing byte');
  assert.is(ecdsaDerToRaw(new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]), 32), null, 'negative r');
  assert.ok(ecdsaDerToRaw(new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]), 32));
});

const HASH_FNS = { sha256, sha384, sha512 } as const;

test('certificate signatures: RSA PKCS#1 v1.5 with SHA-256/384/512, made by OpenSSL and by us', () => {
  const rsa = keys[3] as TestKey;
  const info = parsePkcs8(rsa.pkcs8);
  if (info.kind !== 'rsa') throw new Error('expected an RSA key');
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const algorithm: CertificateSignatureAlgorithm = { kind: 'rsa-pkcs1', hash };
    const byOpenSsl = bytes(nodeSign(hash, message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING }));
    const byUs = rsaPkcs1Sign(info, HASH_FNS[hash], message);
    // PKCS#1 v1.5 is deterministic: both must produce the same bytes.
    assert.is(toHex(byUs), toHex(byOpenSsl), hash);
    for (const [name, provider] of providers) {
      assert.ok(provider.verifyCertificateSignature(rsa.spki, algorithm, message, byOpenSsl), `${name} ${hash}`);
      const other: CertificateSignatureAlgorithm = { kind: 'rsa-pkcs1', hash: hash === 'sha256' ? 'sha384' : 'sha256' };
      assert.not.ok(provider.verifyCertificateSignature(rsa.spki, other, message, byOpenSsl), `${name} wrong hash`);
      const bad = byOpenSsl.slice();
      bad[10] = (bad[10] as number) ^ 1;
      assert.not.ok(provider.verifyCertificateSignature(rsa.spki, algorithm, message, bad), `${name} tampered`);
    }
  }
});

test('certificate signatures: RSA-PSS with an explicit salt length, and ECDSA with a hash of another size', () => {
  const rsa = keys[3] as TestKey;
  const pss20 = bytes(
    nodeSign('sha256', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }),
  );
  const p256 = keys[0] as TestKey;
  const ecdsa384 = bytes(nodeSign('sha384', message, { key: p256.privateKey, dsaEncoding: 'der' }));
  const p384 = keys[1] as TestKey;
  const ecdsa256 = bytes(nodeSign('sha256', message, { key: p384.privateKey, dsaEncoding: 'der' }));
  const ed = keys[2] as TestKey;
  const edSig = bytes(nodeSign(null, message, ed.privateKey));
  for (const [name, provider] of providers) {
    assert.ok(provider.verifyCertificateSignature(rsa.spki, { kind: 'rsa-pss', hash: 'sha256', saltLength: 20 }, message, pss20), name);
    assert.not.ok(provider.verifyCertificateSignature(rsa.spki, { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 }, message, pss20), `${name} salt`);
    // TLS 1.3 rsa_pss_rsae_sha256 fixes the salt at 32 bytes (RFC 8446 §4.2.3).
    assert.not.ok(provider.verify(rsa.spki, 'rsa_pss_rsae_sha256', message, pss20), `${name} scheme salt`);
    assert.not.ok(provider.verifyCertificateSignature(rsa.spki, { kind: 'rsa-pkcs1', hash: 'sha256' }, message, pss20), `${name} pkcs1`);
    assert.ok(provider.verifyCertificateSignature(p256.spki, { kind: 'ecdsa', hash: 'sha384' }, message, ecdsa384), `${name} P-256/SHA-384`);
    assert.ok(provider.verifyCertificateSignature(p384.spki, { kind: 'ecdsa', hash: 'sha256' }, message, ecdsa256), `${name} P-384/SHA-256`);
    assert.not.ok(provider.verifyCertificateSignature(p384.spki, { kind: 'ecdsa', hash: 'sha384' }, message, ecdsa256), `${name} hash mismatch`);
    assert.ok(provider.verifyCertificateSignature(ed.spki, { kind: 'ed25519' }, message, edSig), `${name} Ed25519`);
    assert.not.ok(provider.verifyCertificateSignature(ed.spki, { kind: 'ecdsa', hash: 'sha256' }, message, edSig), `${name} kind`);
  }
});

/** xorshift32: a seeded PRNG so mutation tests replay exactly. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

test('mutated signatures and keys: both providers never throw and always agree', () => {
  const next = prng(0x5eed);
  for (const key of keys) {
    const scheme = key.schemes[0] as SignatureSchemeName;
    const signature = nodeAsymmetric.sign(nodeAsymmetric.importSigningKey(key.pkcs8), scheme, message);
    // 40 mutations per key: noble verification is slow, the point is agreement, not volume.
    for (let round = 0; round < 40; round++) {
      const sig = signature.slice();
      const spki = key.spki.slice();
      const target = next() % 3 === 0 ? spki : sig;
      const flips = 1 + (next() % 3);
      for (let f = 0; f < flips; f++) {
        const at = next() % target.length;
        target[at] = (target[at] as number) ^ (1 << (next() % 8));
      }
      const byNoble = nobleAsymmetric.verify(spki, scheme, message, sig);
      const byNode = nodeAsymmetric.verify(spki, scheme, message, sig);
      assert.is(byNoble, byNode, `${key.label} round ${round}`);
    }
  }
});

test('signature scheme code points (RFC 8446 §4.2.3)', () => {
  assert.is(signatureSchemeCode('ecdsa_secp256r1_sha256'), 0x0403);
  assert.is(signatureSchemeCode('ecdsa_secp384r1_sha384'), 0x0503);
  assert.is(signatureSchemeCode('rsa_pss_rsae_sha256'), 0x0804);
  assert.is(signatureSchemeCode('rsa_pss_rsae_sha384'), 0x0805);
  assert.is(signatureSchemeCode('ed25519'), 0x0807);
  assert.is(signatureSchemeFromCode(0x0807), 'ed25519');
  assert.is(signatureSchemeFromCode(0x0401), undefined, 'rsa_pkcs1_sha256 is not a CertificateVerify scheme');
});

test.run();
