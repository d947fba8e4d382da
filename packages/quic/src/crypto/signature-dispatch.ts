/**
 * The provider-independent part of signature verification: which key a scheme or certificate
 * algorithm accepts. Both providers parse the SPKI with key-info.ts and apply these rules, so they
 * accept and reject exactly the same keys.
 */

import { parseSpki, type EcCurve, type PublicKeyInfo } from './key-info.js';
import type { CertificateSignatureAlgorithm, SignatureSchemeName } from './provider.js';
import { SIGNATURE_SCHEMES, signatureHashLength } from './signature-schemes.js';

/** A verification request: the algorithm plus the key constraints a TLS 1.3 scheme adds. */
export interface VerifyRequest {
  algorithm: CertificateSignatureAlgorithm;
  /** ECDSA schemes name their curve (RFC 8446 §4.2.3); certificate algorithms do not. */
  curve: EcCurve | undefined;
  /** rsa_pss_rsae_* requires an rsaEncryption key, not id-RSASSA-PSS (RFC 8446 §4.2.3). */
  rsaeOnly: boolean;
}

const schemeRequests = new Map<SignatureSchemeName, VerifyRequest>();
for (const info of Object.values(SIGNATURE_SCHEMES)) {
  let algorithm: CertificateSignatureAlgorithm;
  if (info.key === 'ed25519') algorithm = { kind: 'ed25519' };
  else if (info.key === 'ec') algorithm = { kind: 'ecdsa', hash: info.hash ?? 'sha256' };
  // RFC 8446 §4.2.3: RSASSA-PSS with MGF1, salt length equal to the digest length.
  else algorithm = { kind: 'rsa-pss', hash: info.hash ?? 'sha256', saltLength: signatureHashLength(info.hash ?? 'sha256') };
  schemeRequests.set(info.name, { algorithm, curve: info.curve, rsaeOnly: info.key === 'rsa' });
}

/** The request for a TLS 1.3 CertificateVerify scheme; undefined for unknown names. */
export function requestForScheme(scheme: SignatureSchemeName): VerifyRequest | undefined {
  return schemeRequests.get(scheme);
}

/** The request for a certificate signature algorithm (any supported curve, any RSA key). */
export function requestForCertificate(algorithm: CertificateSignatureAlgorithm): VerifyRequest {
  return { algorithm, curve: undefined, rsaeOnly: false };
}

/**
 * Parses the SPKI and checks it fits the request. Returns undefined when it does not (or does not
 * parse), never throws.
 */
export function keyForRequest(spki: Uint8Array, request: VerifyRequest): PublicKeyInfo | undefined {
  let key: PublicKeyInfo;
  try {
    key = parseSpki(spki);
  } catch {
    return undefined;
  }
  switch (request.algorithm.kind) {
    case 'ed25519':
      return key.kind === 'ed25519' ? key : undefined;
    case 'ecdsa':
      if (key.kind !== 'ec') return undefined;
      return request.curve === undefined || request.curve === key.curve ? key : undefined;
    case 'rsa-pkcs1':
      // An id-RSASSA-PSS key must not be used with PKCS#1 v1.5 (RFC 4055 §1.2).
      return key.kind === 'rsa' && !key.pss ? key : undefined;
    case 'rsa-pss':
      if (key.kind !== 'rsa' || (request.rsaeOnly && key.pss)) return undefined;
      return key;
  }
}
