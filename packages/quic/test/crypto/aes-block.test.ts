import { createCipheriv } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex } from '../../src/codec/hex.js';
import { AesHeaderProtection, aesEncryptBlock, expandAesKey } from '../../src/crypto/aes-block.js';

function encrypt(keyHex: string, blockHex: string): Uint8Array {
  const out = new Uint8Array(16);
  aesEncryptBlock(expandAesKey(fromHex(keyHex)), fromHex(blockHex), 0, out, 16);
  return out;
}

test('FIPS 197 Appendix C.1: AES-128 example vector', () => {
  assert.equal(encrypt('000102030405060708090a0b0c0d0e0f', '00112233445566778899aabbccddeeff'), fromHex('69c4e0d86a7b0430d8cdb78070b4c55a'));
});

test('FIPS 197 Appendix C.3: AES-256 example vector', () => {
  assert.equal(
    encrypt('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '00112233445566778899aabbccddeeff'),
    fromHex('8ea2b7ca516745bfeafc49904b496089'),
  );
});

test('RFC 9001 Appendix A.2: client Initial header protection mask', () => {
  const hp = new AesHeaderProtection('aes-128-gcm', fromHex('9f50449e04a0e810283a1e9933adedd2'));
  const mask = new Uint8Array(5);
  hp.mask(fromHex('d1b1c98dd7689fb8ec11d242b123dc9b'), mask);
  assert.equal(mask, fromHex('437b9aec36'));
});

test('matches OpenSSL AES-ECB on 2,000 deterministic keys and blocks (128 and 256 bits)', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 2000; n++) {
    const key = new Uint8Array(n % 2 === 0 ? 16 : 32).map(next);
    const block = new Uint8Array(16).map(next);
    const ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null).setAutoPadding(false);
    const expected = new Uint8Array(ecb.update(block));
    const out = new Uint8Array(16);
    aesEncryptBlock(expandAesKey(key), block, 0, out, 16);
    assert.equal(out, expected);
  }
});

test('rejects keys of the wrong length', () => {
  assert.throws(() => new AesHeaderProtection('aes-128-gcm', new Uint8Array(32)), RangeError);
  assert.throws(() => new AesHeaderProtection('aes-256-gcm', new Uint8Array(16)), RangeError);
  assert.throws(() => expandAesKey(new Uint8Array(24)), RangeError);
});

test.run();
