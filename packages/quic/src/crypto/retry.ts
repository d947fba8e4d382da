/**
 * The Retry Integrity Tag (RFC 9001 §5.8; RFC 9369 §3.3.3 for v2): AEAD_AES_128_GCM with a
 * fixed key and nonce per version over an empty plaintext, the Retry Pseudo-Packet as associated
 * data. It proves the Retry came from a host that saw the client's Initial (the pseudo-packet
 * starts with the client's original Destination Connection ID).
 */

import { fromHex } from '../codec/hex.js';
import { retryPseudoPacket } from '../packet/retry-pseudo.js';
import { QUIC_V1, QUIC_V2, versionName } from '../packet/version.js';
import type { Aead, SymmetricCrypto } from './provider.js';

export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** The fixed AEAD inputs of one version, and the secret they are derived from. */
export interface RetryIntegrityParameters {
  /** HKDF-Expand-Label(secret, "quic key" / "quicv2 key", "", 16). */
  readonly key: Uint8Array;
  /** HKDF-Expand-Label(secret, "quic iv" / "quicv2 iv", "", 12). */
  readonly nonce: Uint8Array;
  readonly secret: Uint8Array;
}

// RFC 9001 §5.8
const V1_RETRY: RetryIntegrityParameters = Object.freeze({
  key: fromHex('be0c690b9f66575a1d766b54e368c84e'),
  nonce: fromHex('461599d35d632bf2239825bb'),
  secret: fromHex('d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e'),
});

// RFC 9369 §3.3.3: the secret is SHA-256("QUICv2 retry secret").
const V2_RETRY: RetryIntegrityParameters = Object.freeze({
  key: fromHex('8fb4b01b56ac48e260fbcbcead7ccc92'),
  nonce: fromHex('d86969bc2d7c6d9990efb04a'),
  secret: fromHex('c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f'),
});

/** Retry integrity key, nonce and secret of `version`; RangeError for versions we do not speak. */
export function retryIntegrityParameters(version: number): RetryIntegrityParameters {
  if (version === QUIC_V1) return V1_RETRY;
  if (version === QUIC_V2) return V2_RETRY;
  throw new RangeError(`no Retry integrity key for QUIC version ${versionName(version)}`);
}

// One imported AEAD per provider and version: its key never changes.
const aeadCache = new WeakMap<SymmetricCrypto, Map<number, Aead>>();

function retryAead(crypto: SymmetricCrypto, version: number): Aead {
  let byVersion = aeadCache.get(crypto);
  if (byVersion === undefined) {
    byVersion = new Map();
    aeadCache.set(crypto, byVersion);
  }
  let aead = byVersion.get(version);
  if (aead === undefined) {
    aead = crypto.createAead('aes-128-gcm', retryIntegrityParameters(version).key);
    byVersion.set(version, aead);
  }
  return aead;
}

const EMPTY = new Uint8Array(0);

/**
 * The 16-byte Retry Integrity Tag for a Retry packet (`retryWithoutTag`: everything before the
 * tag) answering an Initial whose Destination Connection ID was `originalDcid`.
 */
export function computeRetryIntegrityTag(
  crypto: SymmetricCrypto,
  version: number,
  originalDcid: Uint8Array,
  retryWithoutTag: Uint8Array,
): Uint8Array {
  const nonce = retryIntegrityParameters(version).nonce;
  // The plaintext is empty, so the AEAD output is the tag alone.
  return retryAead(crypto, version).seal(nonce, retryPseudoPacket(originalDcid, retryWithoutTag), EMPTY);
}

/**
 * Checks the tag at the end of a received Retry packet (`retryPacket` is the whole packet).
 * False for a packet too short to carry a tag or a mismatch: the client discards such a Retry
 * (RFC 9000 §17.2.5.2). The comparison takes the same time wherever the tags differ.
 */
export function verifyRetryIntegrityTag(
  crypto: SymmetricCrypto,
  version: number,
  originalDcid: Uint8Array,
  retryPacket: Uint8Array,
): boolean {
  const tagStart = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH;
  if (tagStart < 0) return false;
  const expected = computeRetryIntegrityTag(crypto, version, originalDcid, retryPacket.subarray(0, tagStart));
  return constantTimeEqual(expected, retryPacket.subarray(tagStart));
}

/** Compares two byte strings of equal length without an early exit. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}
