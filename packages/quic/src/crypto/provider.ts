/**
 * The crypto provider: the one interface through which QUIC and TLS reach cryptography.
 *
 * Two implementations pass the same vectors: `noble` (pure JavaScript, any runtime) and `node`
 * (`node:crypto`). `auto` picks the faster primitive per operation on Node.
 * Keys are imported once (per key phase / per handshake) into objects that keep their expanded
 * state, so per-packet work never re-derives or re-imports anything.
 */

/** AEAD algorithms of the TLS 1.3 cipher suites QUIC uses (RFC 9001 §5.3). */
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HashAlgorithm = 'sha256' | 'sha384';
/** TLS 1.3 named groups we support (RFC 8446 §4.2.7). */
export type NamedGroupName = 'x25519' | 'secp256r1';
/** TLS 1.3 signature schemes we support (RFC 8446 §4.2.3). */
export type SignatureSchemeName =
  | 'ecdsa_secp256r1_sha256'
  | 'ecdsa_secp384r1_sha384'
  | 'rsa_pss_rsae_sha256'
  | 'rsa_pss_rsae_sha384'
  | 'ed25519';

export const AEAD_TAG_LENGTH = 16;

/** An AEAD with its key already imported (RFC 5116). Nonces are 12 bytes. */
export interface Aead {
  readonly algorithm: AeadAlgorithm;
  /** Returns ciphertext || 16-byte tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or null when authentication fails (never throws on bad input). */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
  /**
   * Seals into `out` at `outOffset` (ciphertext, then the 16-byte tag) and returns the offset after
   * the tag. `plaintext` may be the very bytes at `out[outOffset..]` (in place): packet protection
   * encrypts inside the datagram buffer without an intermediate copy.
   */
  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset: number): number;
  /**
   * Opens into `out` at `outOffset` and returns the plaintext length, or -1 when authentication
   * fails, in which case `out` is left untouched (so the caller can try other keys).
   * `ciphertextAndTag` may be the very bytes at `out[outOffset..]` (in place). Never throws on bad input.
   */
  openInto(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array, out: Uint8Array, outOffset: number): number;
}

/** Header protection with its key already imported (RFC 9001 §5.4). */
export interface HeaderProtection {
  /**
   * Computes the 5-byte mask for a 16-byte `sample` into `out[0..5)`.
   * AES: AES-ECB(hp_key, sample); ChaCha20: counter = sample[0..4) LE, nonce = sample[4..16).
   */
  mask(sample: Uint8Array, out: Uint8Array): void;
}

/** Symmetric primitives: what packet protection and the key schedule need. */
export interface SymmetricCrypto {
  readonly name: string;
  createAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead;
  /** `algorithm` selects AES (both GCM suites use AES-ECB of the hp key's size) or ChaCha20. */
  createHeaderProtection(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtection;
  hash(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array;
  hmac(algorithm: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(algorithm: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(algorithm: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** Cryptographically secure random bytes (the sans-IO core takes its RNG injected, see Random). */
  randomBytes(length: number): Uint8Array;
}

/** An ephemeral key-exchange key pair; `privateKey` is opaque to callers. */
export interface KeyShare {
  readonly group: NamedGroupName;
  /** The key_share encoding: X25519 32 raw bytes; secp256r1 uncompressed point (65 bytes). */
  readonly publicKey: Uint8Array;
  readonly privateKey: unknown;
}

/** A private key ready to sign with, imported once. */
export interface SigningKey {
  /** Schemes this key can produce, in our order of preference. */
  readonly schemes: readonly SignatureSchemeName[];
  /** The matching public key as a DER SubjectPublicKeyInfo (to check it against the leaf certificate). */
  readonly publicKey: Uint8Array;
}

/** Hashes certificate signatures use (RFC 5758 §3.2, RFC 4055 §5, RFC 8017 App. A.2.4). */
export type SignatureHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/**
 * A certificate's signatureAlgorithm (RFC 5280 §4.1.1.2) as the provider verifies it. Unlike TLS
 * 1.3 schemes, certificate ECDSA does not tie the hash to the curve: the curve is the issuer key's.
 * TLS names these in signature_algorithms_cert: rsa_pkcs1_sha256, rsa_pss_rsae_sha256, ...
 */
export type CertificateSignatureAlgorithm =
  | { kind: 'ecdsa'; hash: SignatureHashAlgorithm }
  | { kind: 'rsa-pkcs1'; hash: SignatureHashAlgorithm }
  /** RSASSA-PSS (RFC 4055 §3.1): MGF1 with the same hash is the only form accepted. */
  | { kind: 'rsa-pss'; hash: SignatureHashAlgorithm; saltLength: number }
  | { kind: 'ed25519' };

/** Asymmetric primitives: what the TLS handshake needs. */
export interface AsymmetricCrypto {
  generateKeyShare(group: NamedGroupName): KeyShare;
  /**
   * A key share from a known private key (X25519: 32 bytes; secp256r1: the 32-byte scalar), for
   * reproducible handshakes such as the RFC 8448 traces. Throws on an invalid scalar.
   */
  importKeyShare(group: NamedGroupName, privateKey: Uint8Array): KeyShare;
  /** ECDH; throws a QuicError (CRYPTO_ERROR illegal_parameter) for an invalid peer public key. */
  deriveSharedSecret(share: KeyShare, peerPublicKey: Uint8Array): Uint8Array;
  /** Imports a PKCS#8 private key (DER or PEM). */
  importSigningKey(pkcs8: Uint8Array | string): SigningKey;
  sign(key: SigningKey, scheme: SignatureSchemeName, data: Uint8Array): Uint8Array;
  /**
   * Verifies with the DER SubjectPublicKeyInfo of the signer; false on any failure (including a key
   * that does not fit the scheme: RFC 8446 §4.2.3 binds ECDSA schemes to a curve, rsa_pss_rsae to
   * rsaEncryption keys), never throws. ECDSA signatures are DER; high-S values are accepted.
   */
  verify(spki: Uint8Array, scheme: SignatureSchemeName, data: Uint8Array, signature: Uint8Array): boolean;
  /** Verifies a certificate (or CRL/OCSP) signature over `tbs`; false on any failure, never throws. */
  verifyCertificateSignature(
    spki: Uint8Array,
    algorithm: CertificateSignatureAlgorithm,
    tbs: Uint8Array,
    signature: Uint8Array,
  ): boolean;
}

/** Every cryptographic operation QUIC and TLS need, from one implementation (see `getCryptoProvider`). */
export interface CryptoProvider extends SymmetricCrypto, AsymmetricCrypto {}

/** `node` (node:crypto), `noble` (pure JavaScript), `auto` (the faster per operation). */
export type CryptoProviderName = 'noble' | 'node' | 'auto';

/** Output length of a hash. */
export function hashLength(algorithm: HashAlgorithm): 32 | 48 {
  return algorithm === 'sha256' ? 32 : 48;
}

/** Key length of an AEAD. */
export function aeadKeyLength(algorithm: AeadAlgorithm): 16 | 32 {
  return algorithm === 'aes-128-gcm' ? 16 : 32;
}
