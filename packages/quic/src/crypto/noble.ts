/**
 * Symmetric crypto in pure JavaScript with @noble/ciphers and @noble/hashes: works on any
 * runtime with `crypto.getRandomValues`, and is the reference the node:crypto provider is
 * checked against.
 *
 * Per-packet costs here are dominated by noble's AEADs, which expand the key and build their
 * GHASH / Poly1305 state on every call (their API is one nonce per cipher object). Header
 * protection keeps its expanded AES key for the whole connection.
 */

import { gcm, unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand as hkdfExpandNoble, extract as hkdfExtractNoble } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { ChaCha20HeaderProtection } from './chacha20-block.js';
import {
  AEAD_TAG_LENGTH,
  aeadKeyLength,
  type Aead,
  type AeadAlgorithm,
  type HashAlgorithm,
  type HeaderProtection,
  type SymmetricCrypto,
} from './provider.js';

function hashFunction(algorithm: HashAlgorithm): CHash {
  return algorithm === 'sha256' ? sha256 : sha384;
}

function checkKey(algorithm: AeadAlgorithm, key: Uint8Array): void {
  if (key.length !== aeadKeyLength(algorithm)) {
    throw new RangeError(`${algorithm} key must be ${aeadKeyLength(algorithm)} bytes, got ${key.length}`);
  }
}

/** AES-GCM (RFC 5116 AEAD_AES_128_GCM / AEAD_AES_256_GCM) through noble's `gcm`. */
class NobleAesGcm implements Aead {
  readonly algorithm: AeadAlgorithm;
  readonly #key: Uint8Array;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    checkKey(algorithm, key);
    this.algorithm = algorithm;
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return gcm(this.#key, nonce, aad).encrypt(plaintext);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number {
    // noble's gcm has no output parameter; its result is copied once into place.
    const sealed = gcm(this.#key, nonce, aad).encrypt(plaintext);
    out.set(sealed, outOffset);
    return outOffset + sealed.length;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null {
    if (ciphertextAndTag.length < AEAD_TAG_LENGTH) return null;
    try {
      // noble checks the tag before decrypting and throws on a mismatch.
      return gcm(this.#key, nonce, aad).decrypt(ciphertextAndTag);
    } catch {
      return null;
    }
  }

  openInto(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array, out: Uint8Array, outOffset: number): number {
    const plaintext = this.open(nonce, aad, ciphertextAndTag);
    if (plaintext === null) return -1;
    out.set(plaintext, outOffset);
    return plaintext.length;
  }
}

/** ChaCha20-Poly1305 (RFC 8439) through noble, which can write into a caller's buffer. */
class NobleChaCha20Poly1305 implements Aead {
  readonly algorithm: AeadAlgorithm = 'chacha20-poly1305';
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    checkKey('chacha20-poly1305', key);
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return chacha20poly1305(this.#key, nonce, aad).encrypt(plaintext);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number {
    const end = outOffset + plaintext.length + AEAD_TAG_LENGTH;
    // noble copies the plaintext into `output` first (a no-op when in place), then encrypts there.
    chacha20poly1305(this.#key, nonce, aad).encrypt(plaintext, out.subarray(outOffset, end));
    return end;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null {
    if (ciphertextAndTag.length < AEAD_TAG_LENGTH) return null;
    try {
      return chacha20poly1305(this.#key, nonce, aad).decrypt(ciphertextAndTag);
    } catch {
      return null;
    }
  }

  openInto(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array, out: Uint8Array, outOffset: number): number {
    const length = ciphertextAndTag.length - AEAD_TAG_LENGTH;
    if (length < 0) return -1;
    try {
      // noble verifies the tag before writing anything to `output`, so a failure leaves it untouched.
      chacha20poly1305(this.#key, nonce, aad).decrypt(ciphertextAndTag, out.subarray(outOffset, outOffset + length));
      return length;
    } catch {
      return -1;
    }
  }
}

/** AES-ECB of one block with the key schedule expanded once (RFC 9001 §5.4.3). */
class NobleAesHeaderProtection implements HeaderProtection {
  readonly #expandedKey: Uint32Array;
  // noble's single-block helper works in place on a 4-byte-aligned block: our own buffer is.
  readonly #block = new Uint8Array(16);

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    checkKey(algorithm, hpKey);
    this.#expandedKey = aesUnsafe.expandKeyLE(hpKey.slice());
  }

  mask(sample: Uint8Array, out: Uint8Array): void {
    const block = this.#block;
    for (let i = 0; i < 16; i++) block[i] = sample[i] as number;
    aesUnsafe.encryptBlock(this.#expandedKey, block);
    out[0] = block[0] as number;
    out[1] = block[1] as number;
    out[2] = block[2] as number;
    out[3] = block[3] as number;
    out[4] = block[4] as number;
  }
}

const FIVE_ZEROS = new Uint8Array(5);
const COUNTER_MAX = 0xffff_ffff;

/** ChaCha20 of five zero bytes through noble's `chacha20` (RFC 9001 §5.4.4). */
class NobleChaCha20HeaderProtection implements HeaderProtection {
  readonly #key: Uint8Array;
  readonly #nonce = new Uint8Array(12);
  readonly #mask = new Uint8Array(5);
  // noble refuses block counter 2^32-1 (it never wraps its counter), yet a sample starting with
  // ff ff ff ff needs exactly that block: that one case uses our own block function.
  readonly #lastCounterBlock: ChaCha20HeaderProtection;

  constructor(hpKey: Uint8Array) {
    checkKey('chacha20-poly1305', hpKey);
    this.#key = hpKey.slice();
    this.#lastCounterBlock = new ChaCha20HeaderProtection(this.#key);
  }

  mask(sample: Uint8Array, out: Uint8Array): void {
    const counter =
      ((sample[0] as number) | ((sample[1] as number) << 8) | ((sample[2] as number) << 16) | ((sample[3] as number) << 24)) >>> 0;
    if (counter === COUNTER_MAX) {
      this.#lastCounterBlock.mask(sample, out);
      return;
    }
    const nonce = this.#nonce;
    for (let i = 0; i < 12; i++) nonce[i] = sample[4 + i] as number;
    const mask = chacha20(this.#key, nonce, FIVE_ZEROS, this.#mask, counter);
    for (let i = 0; i < 5; i++) out[i] = mask[i] as number;
  }
}

// crypto.getRandomValues fills at most 65,536 bytes per call (WebCrypto).
const RANDOM_CHUNK = 65_536;

/** Symmetric primitives from @noble/ciphers and @noble/hashes only. */
export const nobleSymmetric: SymmetricCrypto = {
  name: 'noble',

  createAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead {
    return algorithm === 'chacha20-poly1305' ? new NobleChaCha20Poly1305(key) : new NobleAesGcm(algorithm, key);
  },

  createHeaderProtection(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtection {
    return algorithm === 'chacha20-poly1305'
      ? new NobleChaCha20HeaderProtection(hpKey)
      : new NobleAesHeaderProtection(algorithm, hpKey);
  },

  hash(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array {
    return hashFunction(algorithm)(data);
  },

  hmac(algorithm: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(hashFunction(algorithm), key, data);
  },

  hkdfExtract(algorithm: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    return hkdfExtractNoble(hashFunction(algorithm), ikm, salt);
  },

  hkdfExpand(algorithm: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    return hkdfExpandNoble(hashFunction(algorithm), prk, info, length);
  },

  randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += RANDOM_CHUNK) {
      crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + RANDOM_CHUNK)));
    }
    return out;
  },
};
