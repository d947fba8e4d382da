import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChaCha20HeaderProtection } from '../../src/crypto/chacha20-block.js';
import { aeadKeyLength, hashLength, type AeadAlgorithm, type HashAlgorithm } from '../../src/crypto/provider.js';
import { createPrng } from '../helpers/prng.js';
import { toHex } from '../helpers/vectors.js';
import { nobleSymmetric, nodeSymmetric, SYMMETRIC_PROVIDERS } from './symmetric-providers.js';

const AEADS: readonly AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const HASHES: readonly HashAlgorithm[] = ['sha256', 'sha384'];
const [noble, ...others] = SYMMETRIC_PROVIDERS as [(typeof SYMMETRIC_PROVIDERS)[number], ...typeof SYMMETRIC_PROVIDERS];

test('hash, HMAC, HKDF-Extract and HKDF-Expand agree across providers (seeded inputs)', () => {
  const prng = createPrng(0x5eed_0001);
  for (let round = 0; round < 20; round++) {
    const data = prng.bytes(prng.int(300));
    const key = prng.bytes(prng.int(200));
    const info = prng.bytes(prng.int(80));
    for (const hash of HASHES) {
      // Up to several output blocks, including lengths that are not a multiple of the hash size.
      const length = 1 + prng.int(4 * hashLength(hash));
      const reference = {
        hash: toHex(noble.hash(hash, data)),
        hmac: toHex(noble.hmac(hash, key, data)),
        prk: toHex(noble.hkdfExtract(hash, key, data)),
        okm: toHex(noble.hkdfExpand(hash, noble.hkdfExtract(hash, key, data), info, length)),
      };
      assert.is(reference.hash.length, 2 * hashLength(hash));
      assert.is(reference.okm.length, 2 * length);
      for (const p of others) {
        assert.is(toHex(p.hash(hash, data)), reference.hash, `${p.name} ${hash}`);
        assert.is(toHex(p.hmac(hash, key, data)), reference.hmac, `${p.name} hmac ${hash}`);
        const prk = p.hkdfExtract(hash, key, data);
        assert.is(toHex(prk), reference.prk, `${p.name} extract ${hash}`);
        assert.is(toHex(p.hkdfExpand(hash, prk, info, length)), reference.okm, `${p.name} expand ${hash} ${length}`);
      }
    }
  }
});

test('HKDF-Expand: an empty salt extracts like HashLen zero bytes (RFC 5869 §2.2); too long an output is refused', () => {
  for (const p of SYMMETRIC_PROVIDERS) {
    for (const hash of HASHES) {
      const ikm = new Uint8Array([1, 2, 3]);
      assert.is(toHex(p.hkdfExtract(hash, new Uint8Array(0), ikm)), toHex(p.hkdfExtract(hash, new Uint8Array(hashLength(hash)), ikm)));
      assert.throws(() => p.hkdfExpand(hash, new Uint8Array(hashLength(hash)), new Uint8Array(0), 255 * hashLength(hash) + 1));
    }
  }
});

test('AEADs: every provider opens what every other provider sealed, in place or not', () => {
  const prng = createPrng(0x5eed_0002);
  for (const algorithm of AEADS) {
    for (let round = 0; round < 6; round++) {
      const key = prng.bytes(aeadKeyLength(algorithm));
      const nonce = prng.bytes(12);
      const aad = prng.bytes(prng.int(60));
      const plaintext = prng.bytes(prng.int(1500));
      const sealed = SYMMETRIC_PROVIDERS.map((p) => p.createAead(algorithm, key).seal(nonce, aad, plaintext));
      for (const s of sealed) {
        assert.is(s.length, plaintext.length + 16);
        assert.is(toHex(s), toHex(sealed[0]!), algorithm);
      }
      for (const p of SYMMETRIC_PROVIDERS) {
        const aead = p.createAead(algorithm, key);
        assert.is(aead.algorithm, algorithm);
        const opened = aead.open(nonce, aad, sealed[0]!);
        assert.ok(opened !== null, `${p.name} ${algorithm} open`);
        assert.is(toHex(opened!), toHex(plaintext));

        // In place, at an unaligned offset of a larger buffer.
        const offset = 3 + prng.int(5);
        const buf = new Uint8Array(offset + plaintext.length + 16 + 7);
        buf.set(plaintext, offset);
        const end = aead.sealInto(nonce, aad, buf.subarray(offset, offset + plaintext.length), buf, offset);
        assert.is(end, offset + plaintext.length + 16);
        assert.is(toHex(buf.subarray(offset, end)), toHex(sealed[0]!), `${p.name} sealInto`);
        const length = aead.openInto(nonce, aad, buf.subarray(offset, end), buf, offset);
        assert.is(length, plaintext.length);
        assert.is(toHex(buf.subarray(offset, offset + length)), toHex(plaintext), `${p.name} openInto`);
      }
    }
  }
});

test('AEADs: a flipped bit anywhere (ciphertext, tag, AAD, nonce) fails with null / -1 and leaves the buffer alone', () => {
  const prng = createPrng(0x5eed_0003);
  for (const algorithm of AEADS) {
    const key = prng.bytes(aeadKeyLength(algorithm));
    const nonce = prng.bytes(12);
    const aad = prng.bytes(20);
    const plaintext = prng.bytes(100);
    for (const p of SYMMETRIC_PROVIDERS) {
      const aead = p.createAead(algorithm, key);
      const sealed = aead.seal(nonce, aad, plaintext);
      for (const where of [0, 50, 99, 100, 115]) {
        const bad = sealed.slice();
        bad[where]! ^= 0x01;
        assert.is(aead.open(nonce, aad, bad), null, `${p.name} ${algorithm} byte ${where}`);
        const before = toHex(bad);
        assert.is(aead.openInto(nonce, aad, bad, bad, 0), -1);
        assert.is(toHex(bad), before, 'failed openInto must not write');
      }
      const badAad = aad.slice();
      badAad[7]! ^= 0x80;
      assert.is(aead.open(nonce, badAad, sealed), null);
      const badNonce = nonce.slice();
      badNonce[11]! ^= 0x01;
      assert.is(aead.open(badNonce, aad, sealed), null);
      // Shorter than a tag: no exception, just a failure.
      assert.is(aead.open(nonce, aad, sealed.subarray(0, 15)), null);
      assert.is(aead.openInto(nonce, aad, sealed.subarray(0, 15), new Uint8Array(16), 0), -1);
      // A key of the wrong size is a programming error.
      assert.throws(() => p.createAead(algorithm, new Uint8Array(aeadKeyLength(algorithm) + 1)));
    }
  }
});

test('header protection masks agree across providers, including block counter 2^32-1 for ChaCha20', () => {
  const prng = createPrng(0x5eed_0004);
  for (const algorithm of AEADS) {
    const hpKey = prng.bytes(aeadKeyLength(algorithm));
    const hps = SYMMETRIC_PROVIDERS.map((p) => p.createHeaderProtection(algorithm, hpKey));
    const samples = Array.from({ length: 40 }, () => prng.bytes(16));
    samples.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, ...prng.bytes(12)]));
    samples.push(Uint8Array.from([0xfe, 0xff, 0xff, 0xff, ...prng.bytes(12)]));
    samples.push(new Uint8Array(16));
    for (const sample of samples) {
      const masks = hps.map((hp) => {
        const out = new Uint8Array(8).fill(0xaa);
        hp.mask(sample, out);
        assert.is(toHex(out.subarray(5)), 'aaaaaa', 'mask writes exactly 5 bytes');
        return toHex(out.subarray(0, 5));
      });
      for (const m of masks) assert.is(m, masks[0], `${algorithm} sample ${toHex(sample)}`);
    }
  }
});

test('ChaCha20 header protection: own block function equals noble and node for seeded keys and samples', () => {
  const prng = createPrng(0x5eed_0005);
  for (let round = 0; round < 50; round++) {
    const key = prng.bytes(32);
    const sample = prng.bytes(16);
    const own = new Uint8Array(5);
    new ChaCha20HeaderProtection(key).mask(sample, own);
    const viaNode = new Uint8Array(5);
    nodeSymmetric.createHeaderProtection('chacha20-poly1305', key).mask(sample, viaNode);
    const viaNoble = new Uint8Array(5);
    nobleSymmetric.createHeaderProtection('chacha20-poly1305', key).mask(sample, viaNoble);
    assert.is(toHex(own), toHex(viaNode));
    assert.is(toHex(own), toHex(viaNoble));
  }
  assert.throws(() => new ChaCha20HeaderProtection(new Uint8Array(16)), RangeError);
});

test('randomBytes: requested length, also beyond one getRandomValues call, and not constant', () => {
  for (const p of SYMMETRIC_PROVIDERS) {
    for (const length of [0, 1, 32, 65_536, 65_537, 200_000]) {
      const bytes = p.randomBytes(length);
      assert.ok(bytes instanceof Uint8Array);
      assert.is(bytes.length, length);
    }
    // 2^-256 chance of a false failure.
    assert.is.not(toHex(p.randomBytes(32)), toHex(p.randomBytes(32)));
    const tail = p.randomBytes(70_000).subarray(65_536);
    assert.ok(tail.some((b) => b !== 0), `${p.name}: bytes past the first 64 KiB are filled`);
  }
});

test('node provider returns plain Uint8Arrays, not Buffers, across the boundary', () => {
  const aead = nodeSymmetric.createAead('aes-128-gcm', new Uint8Array(16));
  const sealed = aead.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(4));
  const results = [
    nodeSymmetric.hash('sha256', new Uint8Array(1)),
    nodeSymmetric.hmac('sha256', new Uint8Array(1), new Uint8Array(1)),
    nodeSymmetric.hkdfExtract('sha384', new Uint8Array(1), new Uint8Array(1)),
    sealed,
    aead.open(new Uint8Array(12), new Uint8Array(0), sealed)!,
  ];
  for (const r of results) assert.is(Object.getPrototypeOf(r), Uint8Array.prototype);
});

test.run();
