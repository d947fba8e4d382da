/**
 * RSA signatures over BigInt arithmetic, for the pure-JavaScript provider (noble has no RSA):
 * RSASSA-PSS sign and verify (RFC 8017 §8.1, EMSA-PSS §9.1 with MGF1 §B.2.1) and
 * RSASSA-PKCS1-v1_5 verify (RFC 8017 §8.2, EMSA-PKCS1-v1_5 §9.2), the latter for certificate
 * chains signed with sha256WithRSAEncryption & co.
 *
 * BigInt arithmetic is not constant-time: signing leaks timing. It is meant for tests, interop
 * and runtimes without node:crypto; the node provider signs with OpenSSL.
 */

/** A hash function and its output length in bytes. */
export interface RsaHash {
  (data: Uint8Array): Uint8Array;
  readonly outputLen: number;
}

export interface RsaPublicKey {
  n: Uint8Array;
  e: Uint8Array;
}

export interface RsaPrivateKey extends RsaPublicKey {
  d: Uint8Array;
  p: Uint8Array;
  q: Uint8Array;
  dp: Uint8Array;
  dq: Uint8Array;
  qinv: Uint8Array;
}

// ---- integers ----

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i] as number).toString(16).padStart(2, '0');
  return hex.length === 0 ? 0n : BigInt('0x' + hex);
}

/** I2OSP (RFC 8017 §4.1); null if `x` does not fit in `length` bytes. */
export function bigIntToBytes(x: bigint, length: number): Uint8Array | null {
  let hex = x.toString(16);
  if (hex.length > 2 * length) return null;
  hex = hex.padStart(2 * length, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** base^exponent mod modulus, left-to-right with a 4-bit fixed window. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  const b = ((base % modulus) + modulus) % modulus;
  const table: bigint[] = [1n];
  for (let i = 1; i < 16; i++) table.push(((table[i - 1] as bigint) * b) % modulus);
  const hex = exponent.toString(16);
  let result = 1n;
  for (let i = 0; i < hex.length; i++) {
    if (i > 0) {
      result = (result * result) % modulus;
      result = (result * result) % modulus;
      result = (result * result) % modulus;
      result = (result * result) % modulus;
    }
    const digit = parseInt(hex[i] as string, 16);
    if (digit !== 0) result = (result * (table[digit] as bigint)) % modulus;
  }
  return result;
}

// ---- MGF1 (RFC 8017 §B.2.1) ----

function mgf1(hash: RsaHash, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  const rounds = Math.ceil(length / hash.outputLen);
  for (let counter = 0; counter < rounds; counter++) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const block = hash(input);
    const offset = counter * hash.outputLen;
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
  }
  return out;
}

/** H(0x00 * 8 || mHash || salt): the M' hash of EMSA-PSS (RFC 8017 §9.1.1 steps 5-6). */
function pssHash(hash: RsaHash, mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const mPrime = new Uint8Array(8 + mHash.length + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + mHash.length);
  return hash(mPrime);
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1). */
function emsaPssEncode(hash: RsaHash, message: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const hLen = hash.outputLen;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + salt.length + 2) throw new Error('RSA-PSS: key too small for this hash and salt');
  const h = pssHash(hash, hash(message), salt);
  // DB = PS || 0x01 || salt, then masked with MGF1(H).
  const db = new Uint8Array(emLen - hLen - 1);
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >>> (8 * emLen - emBits));
  const em = new Uint8Array(emLen);
  em.set(db);
  em.set(h, db.length);
  em[emLen - 1] = 0xbc;
  return em;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2). */
function emsaPssVerify(hash: RsaHash, message: Uint8Array, em: Uint8Array, emBits: number, saltLength: number): boolean {
  const hLen = hash.outputLen;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + saltLength + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLength = emLen - hLen - 1;
  const h = em.subarray(dbLength, dbLength + hLen);
  const topMask = 0xff >>> (8 * emLen - emBits);
  if (((em[0] as number) & ~topMask & 0xff) !== 0) return false;
  const db = mgf1(hash, h, dbLength);
  for (let i = 0; i < dbLength; i++) db[i] = (db[i] as number) ^ (em[i] as number);
  db[0] = (db[0] as number) & topMask;
  const psLength = dbLength - saltLength - 1;
  for (let i = 0; i < psLength; i++) if (db[i] !== 0) return false;
  if (db[psLength] !== 0x01) return false;
  const salt = db.subarray(dbLength - saltLength);
  return constantTimeEqual(pssHash(hash, hash(message), salt), h);
}

/** RSAVP1 (RFC 8017 §5.2.2) yielding the k-byte encoded message, or null when out of range. */
function rsaPublicOperation(key: RsaPublicKey, signature: Uint8Array): { em: Uint8Array; modBits: number } | null {
  const n = bytesToBigInt(key.n);
  const k = Math.ceil(bitLength(n) / 8);
  // RFC 8017 §8.1.2 step 1 / §8.2.2 step 1: the signature is exactly k octets.
  if (signature.length !== k) return null;
  const s = bytesToBigInt(signature);
  if (s >= n) return null;
  const m = modPow(s, bytesToBigInt(key.e), n);
  const em = bigIntToBytes(m, k);
  return em === null ? null : { em, modBits: bitLength(n) };
}

/** RSASSA-PSS-VERIFY (RFC 8017 §8.1.2); false on any failure. */
export function rsaPssVerify(key: RsaPublicKey, hash: RsaHash, saltLength: number, message: Uint8Array, signature: Uint8Array): boolean {
  const result = rsaPublicOperation(key, signature);
  if (result === null) return false;
  const emBits = result.modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  // When emLen < k the leading octet of the k-octet value must be zero.
  const extra = result.em.length - emLen;
  for (let i = 0; i < extra; i++) if (result.em[i] !== 0) return false;
  return emsaPssVerify(hash, message, result.em.subarray(extra), emBits, saltLength);
}

/** RSASP1 with the Chinese Remainder Theorem (RFC 8017 §5.1.2, case 2.b), checked by re-encryption. */
function rsaPrivateOperation(key: RsaPrivateKey, m: bigint): bigint {
  const n = bytesToBigInt(key.n);
  const p = bytesToBigInt(key.p);
  const q = bytesToBigInt(key.q);
  const s1 = modPow(m, bytesToBigInt(key.dp), p);
  const s2 = modPow(m, bytesToBigInt(key.dq), q);
  const h = ((((s1 - s2) % p) + p) % p) * bytesToBigInt(key.qinv) % p;
  const s = s2 + q * h;
  // A fault in the CRT halves would leak the factorization: verify before releasing (cheap with small e).
  if (modPow(s, bytesToBigInt(key.e), n) !== m % n) throw new Error('RSA: CRT signature check failed');
  return s;
}

/** RSASSA-PSS-SIGN (RFC 8017 §8.1.1); `salt` is random, of the length the scheme requires. */
export function rsaPssSign(key: RsaPrivateKey, hash: RsaHash, message: Uint8Array, salt: Uint8Array): Uint8Array {
  const n = bytesToBigInt(key.n);
  const modBits = bitLength(n);
  const k = Math.ceil(modBits / 8);
  const em = emsaPssEncode(hash, message, modBits - 1, salt);
  const s = rsaPrivateOperation(key, bytesToBigInt(em));
  return bigIntToBytes(s, k) as Uint8Array;
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<number, Uint8Array> = {
  32: Uint8Array.from([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
  48: Uint8Array.from([0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]),
  64: Uint8Array.from([0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]),
};

/** EMSA-PKCS1-v1_5-ENCODE (RFC 8017 §9.2) for SHA-256/384/512 (selected by output length). */
function emsaPkcs1Encode(hash: RsaHash, message: Uint8Array, emLen: number): Uint8Array | null {
  const prefix = DIGEST_INFO_PREFIX[hash.outputLen];
  if (prefix === undefined) return null;
  const tLen = prefix.length + hash.outputLen;
  if (emLen < tLen + 11) return null;
  const em = new Uint8Array(emLen).fill(0xff);
  em[0] = 0x00;
  em[1] = 0x01;
  em[emLen - tLen - 1] = 0x00;
  em.set(prefix, emLen - tLen);
  em.set(hash(message), emLen - hash.outputLen);
  return em;
}

/** RSASSA-PKCS1-V1_5-VERIFY (RFC 8017 §8.2.2): compares encodings, never parses; false on failure. */
export function rsaPkcs1Verify(key: RsaPublicKey, hash: RsaHash, message: Uint8Array, signature: Uint8Array): boolean {
  const result = rsaPublicOperation(key, signature);
  if (result === null) return false;
  const expected = emsaPkcs1Encode(hash, message, result.em.length);
  return expected !== null && constantTimeEqual(expected, result.em);
}

/** RSASSA-PKCS1-V1_5-SIGN (RFC 8017 §8.2.1): only for tests and certificate generation. */
export function rsaPkcs1Sign(key: RsaPrivateKey, hash: RsaHash, message: Uint8Array): Uint8Array {
  const k = Math.ceil(bitLength(bytesToBigInt(key.n)) / 8);
  const em = emsaPkcs1Encode(hash, message, k);
  if (em === null) throw new Error('RSA PKCS#1 v1.5: key too small for this hash');
  return bigIntToBytes(rsaPrivateOperation(key, bytesToBigInt(em)), k) as Uint8Array;
}

/** Modulus size in bits. */
export function rsaModulusBits(key: RsaPublicKey): number {
  return bitLength(bytesToBigInt(key.n));
}
