/**
 * One AES block (FIPS 197) for QUIC header protection (RFC 9001 §5.4.3): mask = AES-ECB(hp_key,
 * sample)[0..5). A packet needs exactly one block, so the cost that matters is the per-call
 * overhead, not throughput: the key is expanded once per key, the state lives in four local
 * 32-bit words, the round tables are the classic four 256-entry T-tables (4 KB, which stay in
 * the L1 cache next to the packet), and nothing is allocated per call.
 *
 * Measured (`pnpm bench -- primitives hp`): see tools/bench/crypto-primitives.bench.ts; this
 * replaced noble's `encryptBlock`, whose merged 64K-entry tables (512 KB) miss the cache when the
 * packet path runs between two masks, and which returns a fresh object per block.
 * Not constant-time against cache-timing attacks; header protection only hides packet numbers
 * from passive observers (RFC 9001 §9.5 names no timing requirement), and the AEAD keys never
 * go through this code.
 */

import type { AeadAlgorithm, HeaderProtection } from './provider.js';

const SBOX = new Uint8Array(256);
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

// FIPS 197 §5.1.1: the S-box from the multiplicative inverse in GF(2^8) and the affine map,
// computed here rather than spelled out (p walks the field by 3, q by its inverse 3^-1).
(() => {
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4);
    SBOX[p] = (x ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
  // Big-endian column words: T0[x] = (2·s, s, s, 3·s) for s = S(x); T1..T3 are its rotations.
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i] as number;
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const t = ((s2 << 24) | (s << 16) | (s << 8) | s3) >>> 0;
    T0[i] = t;
    T1[i] = ((t >>> 8) | (t << 24)) >>> 0;
    T2[i] = ((t >>> 16) | (t << 16)) >>> 0;
    T3[i] = ((t >>> 24) | (t << 8)) >>> 0;
  }
})();

function rotl8(x: number, n: number): number {
  return ((x << n) | (x >>> (8 - n))) & 0xff;
}

/** FIPS 197 §5.2 key expansion into big-endian round-key words (44 for AES-128, 60 for AES-256). */
export function expandAesKey(key: Uint8Array): Uint32Array {
  const nk = key.length / 4;
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES key must be 16 or 32 bytes, got ${key.length}`);
  const words = new Uint32Array(4 * (nk + 7));
  for (let i = 0; i < nk; i++) {
    words[i] = (((key[4 * i] as number) << 24) | ((key[4 * i + 1] as number) << 16) | ((key[4 * i + 2] as number) << 8) | (key[4 * i + 3] as number)) >>> 0;
  }
  let rcon = 1;
  for (let i = nk; i < words.length; i++) {
    let t = words[i - 1] as number;
    if (i % nk === 0) {
      // RotWord then SubWord, then Rcon in the top byte.
      t = subWord(((t << 8) | (t >>> 24)) >>> 0) ^ (rcon << 24);
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x1b : 0)) & 0xff;
    } else if (nk > 6 && i % nk === 4) {
      t = subWord(t);
    }
    words[i] = ((words[i - nk] as number) ^ t) >>> 0;
  }
  return words;
}

function subWord(w: number): number {
  return (
    (((SBOX[w >>> 24] as number) << 24) | ((SBOX[(w >>> 16) & 0xff] as number) << 16) | ((SBOX[(w >>> 8) & 0xff] as number) << 8) | (SBOX[w & 0xff] as number)) >>>
    0
  );
}

/**
 * Encrypts the 16 bytes at `input[offset..offset+16)` with the expanded key and writes the first
 * `outLength` (at most 16) bytes of the result to `out` from index 0.
 */
export function aesEncryptBlock(xk: Uint32Array, input: Uint8Array, offset: number, out: Uint8Array, outLength: number): void {
  let s0 = (((input[offset] as number) << 24) | ((input[offset + 1] as number) << 16) | ((input[offset + 2] as number) << 8) | (input[offset + 3] as number)) ^ (xk[0] as number);
  let s1 = (((input[offset + 4] as number) << 24) | ((input[offset + 5] as number) << 16) | ((input[offset + 6] as number) << 8) | (input[offset + 7] as number)) ^ (xk[1] as number);
  let s2 = (((input[offset + 8] as number) << 24) | ((input[offset + 9] as number) << 16) | ((input[offset + 10] as number) << 8) | (input[offset + 11] as number)) ^ (xk[2] as number);
  let s3 = (((input[offset + 12] as number) << 24) | ((input[offset + 13] as number) << 16) | ((input[offset + 14] as number) << 8) | (input[offset + 15] as number)) ^ (xk[3] as number);
  const rounds = (xk.length >>> 2) - 1;
  let k = 4;
  for (let r = 1; r < rounds; r++) {
    const t0 = (T0[s0 >>> 24] as number) ^ (T1[(s1 >>> 16) & 0xff] as number) ^ (T2[(s2 >>> 8) & 0xff] as number) ^ (T3[s3 & 0xff] as number) ^ (xk[k] as number);
    const t1 = (T0[s1 >>> 24] as number) ^ (T1[(s2 >>> 16) & 0xff] as number) ^ (T2[(s3 >>> 8) & 0xff] as number) ^ (T3[s0 & 0xff] as number) ^ (xk[k + 1] as number);
    const t2 = (T0[s2 >>> 24] as number) ^ (T1[(s3 >>> 16) & 0xff] as number) ^ (T2[(s0 >>> 8) & 0xff] as number) ^ (T3[s1 & 0xff] as number) ^ (xk[k + 2] as number);
    const t3 = (T0[s3 >>> 24] as number) ^ (T1[(s0 >>> 16) & 0xff] as number) ^ (T2[(s1 >>> 8) & 0xff] as number) ^ (T3[s2 & 0xff] as number) ^ (xk[k + 3] as number);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  // Last round: SubBytes and ShiftRows, no MixColumns.
  const o0 = finalWord(s0, s1, s2, s3) ^ (xk[k] as number);
  const o1 = finalWord(s1, s2, s3, s0) ^ (xk[k + 1] as number);
  const o2 = finalWord(s2, s3, s0, s1) ^ (xk[k + 2] as number);
  const o3 = finalWord(s3, s0, s1, s2) ^ (xk[k + 3] as number);
  for (let i = 0; i < outLength; i++) {
    const w = i < 4 ? o0 : i < 8 ? o1 : i < 12 ? o2 : o3;
    out[i] = (w >>> (24 - 8 * (i & 3))) & 0xff;
  }
}

function finalWord(a: number, b: number, c: number, d: number): number {
  return ((SBOX[a >>> 24] as number) << 24) | ((SBOX[(b >>> 16) & 0xff] as number) << 16) | ((SBOX[(c >>> 8) & 0xff] as number) << 8) | (SBOX[d & 0xff] as number);
}

/** AES header protection (RFC 9001 §5.4.3) on the block function above. */
export class AesHeaderProtection implements HeaderProtection {
  readonly #xk: Uint32Array;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    const expected = algorithm === 'aes-256-gcm' ? 32 : 16;
    if (algorithm === 'chacha20-poly1305' || hpKey.length !== expected) {
      throw new RangeError(`${algorithm} header protection key must be ${expected} bytes of AES, got ${hpKey.length}`);
    }
    this.#xk = expandAesKey(hpKey);
  }

  mask(sample: Uint8Array, out: Uint8Array): void {
    aesEncryptBlock(this.#xk, sample, 0, out, 5);
  }
}
