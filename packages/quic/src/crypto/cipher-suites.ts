/**
 * The TLS 1.3 cipher suites QUIC can use (RFC 9001 §5.3): their AEAD, hash, key sizes and the
 * AEAD usage limits of RFC 9001 §6.6.
 *
 * TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 are not offered: CCM_8 has no header
 * protection scheme (§5.3) and nobody deploys CCM with QUIC.
 */

import { TlsCipherSuite } from '../tls/engine-api.js';
import { AEAD_TAG_LENGTH, type AeadAlgorithm, type HashAlgorithm } from './provider.js';

/** Everything packet protection and the key schedule need to know about one cipher suite. */
export interface CipherSuiteInfo {
  readonly id: TlsCipherSuite;
  readonly name: string;
  readonly aead: AeadAlgorithm;
  /** The suite's hash, used by HKDF for every derived secret and key (RFC 9001 §5.1). */
  readonly hash: HashAlgorithm;
  readonly hashLength: 32 | 48;
  /** AEAD key length: the Length given with "quic key" (RFC 9001 §5.1). */
  readonly keyLength: 16 | 32;
  /** Nonce length, max(N_MIN, 8) = 12 for every suite here: the Length given with "quic iv". */
  readonly ivLength: 12;
  /** Header protection key length: AES-128 / AES-256 / ChaCha20 key (RFC 9001 §5.4.3, §5.4.4). */
  readonly hpKeyLength: 16 | 32;
  readonly tagLength: typeof AEAD_TAG_LENGTH;
  /**
   * Packets that may be encrypted with one key before a key update is required
   * (RFC 9001 §6.6, confidentiality limit).
   */
  readonly confidentialityLimit: number;
  /**
   * Packets failing authentication, across all keys of a connection, after which the connection
   * must close with AEAD_LIMIT_REACHED (RFC 9001 §6.6, integrity limit).
   */
  readonly integrityLimit: number;
}

// RFC 9001 §6.6 / Appendix B.1: AES-GCM confidentiality 2^23 and integrity 2^52 packets, the
// limits for endpoints that do not restrict packet size to 2^11 bytes (we accept up to 2^16).
const AES_GCM_CONFIDENTIALITY_LIMIT = 2 ** 23;
const AES_GCM_INTEGRITY_LIMIT = 2 ** 52;
// RFC 9001 §6.6: ChaCha20-Poly1305's confidentiality limit exceeds the number of possible packets
// (2^62) "and so can be disregarded"; we record 2^62, which a packet number can never reach.
const CHACHA20_CONFIDENTIALITY_LIMIT = 2 ** 62;
// RFC 9001 §6.6: ChaCha20-Poly1305 integrity limit, 2^36 invalid packets.
const CHACHA20_INTEGRITY_LIMIT = 2 ** 36;

export const TLS_AES_128_GCM_SHA256: CipherSuiteInfo = Object.freeze({
  id: TlsCipherSuite.TLS_AES_128_GCM_SHA256,
  name: 'TLS_AES_128_GCM_SHA256',
  aead: 'aes-128-gcm',
  hash: 'sha256',
  hashLength: 32,
  keyLength: 16,
  ivLength: 12,
  hpKeyLength: 16,
  tagLength: AEAD_TAG_LENGTH,
  confidentialityLimit: AES_GCM_CONFIDENTIALITY_LIMIT,
  integrityLimit: AES_GCM_INTEGRITY_LIMIT,
});

export const TLS_AES_256_GCM_SHA384: CipherSuiteInfo = Object.freeze({
  id: TlsCipherSuite.TLS_AES_256_GCM_SHA384,
  name: 'TLS_AES_256_GCM_SHA384',
  aead: 'aes-256-gcm',
  hash: 'sha384',
  hashLength: 48,
  keyLength: 32,
  ivLength: 12,
  hpKeyLength: 32,
  tagLength: AEAD_TAG_LENGTH,
  // RFC 9001 Appendix B.1.2: AES-256 could use a far larger integrity limit, but the RFC
  // recommends the same limits as AES-128.
  confidentialityLimit: AES_GCM_CONFIDENTIALITY_LIMIT,
  integrityLimit: AES_GCM_INTEGRITY_LIMIT,
});

export const TLS_CHACHA20_POLY1305_SHA256: CipherSuiteInfo = Object.freeze({
  id: TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  aead: 'chacha20-poly1305',
  hash: 'sha256',
  hashLength: 32,
  keyLength: 32,
  ivLength: 12,
  hpKeyLength: 32,
  tagLength: AEAD_TAG_LENGTH,
  confidentialityLimit: CHACHA20_CONFIDENTIALITY_LIMIT,
  integrityLimit: CHACHA20_INTEGRITY_LIMIT,
});

/** All suites we implement, in our default order of preference. */
export const CIPHER_SUITES: readonly CipherSuiteInfo[] = Object.freeze([
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
]);

/** The suite for a TLS code point, or undefined for one we do not implement. */
export function cipherSuiteInfo(id: number): CipherSuiteInfo | undefined {
  switch (id) {
    case TlsCipherSuite.TLS_AES_128_GCM_SHA256:
      return TLS_AES_128_GCM_SHA256;
    case TlsCipherSuite.TLS_AES_256_GCM_SHA384:
      return TLS_AES_256_GCM_SHA384;
    case TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256:
      return TLS_CHACHA20_POLY1305_SHA256;
    default:
      return undefined;
  }
}

/** Like `cipherSuiteInfo`, but an unknown code point is a programming error (RangeError). */
export function requireCipherSuite(id: number): CipherSuiteInfo {
  const suite = cipherSuiteInfo(id);
  if (suite === undefined) throw new RangeError(`unsupported cipher suite 0x${id.toString(16).padStart(4, '0')}`);
  return suite;
}
