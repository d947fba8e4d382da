/**
 * TLS 1.3 SignatureScheme code points (RFC 8446 §4.2.3) and what each one requires of the key,
 * shared by both providers and by the handshake (which puts the codes on the wire).
 */

import type { EcCurve } from './key-info.js';
import type { CertificateSignatureAlgorithm, SignatureHashAlgorithm, SignatureSchemeName } from './provider.js';

/** Wire values (RFC 8446 §4.2.3), including those only valid in signature_algorithms_cert. */
export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
} as const;

export interface SignatureSchemeInfo {
  readonly name: SignatureSchemeName;
  readonly code: number;
  readonly key: 'ec' | 'rsa' | 'ed25519';
  /** ECDSA schemes name their curve (RFC 8446 §4.2.3). */
  readonly curve: EcCurve | undefined;
  /** Hash of the scheme; undefined for Ed25519, which hashes internally (RFC 8032). */
  readonly hash: SignatureHashAlgorithm | undefined;
}

/** The schemes we implement for CertificateVerify, in our default preference order. */
export const SIGNATURE_SCHEMES: Readonly<Record<SignatureSchemeName, SignatureSchemeInfo>> = {
  ecdsa_secp256r1_sha256: { name: 'ecdsa_secp256r1_sha256', code: 0x0403, key: 'ec', curve: 'P-256', hash: 'sha256' },
  ed25519: { name: 'ed25519', code: 0x0807, key: 'ed25519', curve: undefined, hash: undefined },
  rsa_pss_rsae_sha256: { name: 'rsa_pss_rsae_sha256', code: 0x0804, key: 'rsa', curve: undefined, hash: 'sha256' },
  ecdsa_secp384r1_sha384: { name: 'ecdsa_secp384r1_sha384', code: 0x0503, key: 'ec', curve: 'P-384', hash: 'sha384' },
  rsa_pss_rsae_sha384: { name: 'rsa_pss_rsae_sha384', code: 0x0805, key: 'rsa', curve: undefined, hash: 'sha384' },
};

/** Our supported schemes in preference order (for the signature_algorithms extension). */
export const SUPPORTED_SIGNATURE_SCHEMES: readonly SignatureSchemeName[] = Object.keys(SIGNATURE_SCHEMES) as SignatureSchemeName[];

const byCode = new Map<number, SignatureSchemeName>();
for (const info of Object.values(SIGNATURE_SCHEMES)) byCode.set(info.code, info.name);

/** The scheme for a wire code point, if we support it for CertificateVerify. */
export function signatureSchemeFromCode(code: number): SignatureSchemeName | undefined {
  return byCode.get(code);
}

export function signatureSchemeCode(name: SignatureSchemeName): number {
  return SIGNATURE_SCHEMES[name].code;
}

/** Output length of a signature hash in bytes. */
export function signatureHashLength(hash: SignatureHashAlgorithm): 32 | 48 | 64 {
  return hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64;
}

/** RSA-PSS schemes use a salt as long as the hash (RFC 8446 §4.2.3). */
export function pssAlgorithmForScheme(hash: SignatureHashAlgorithm): CertificateSignatureAlgorithm {
  return { kind: 'rsa-pss', hash, saltLength: signatureHashLength(hash) };
}

/** Schemes a key of this kind can produce, in preference order (RSA: PSS only in TLS 1.3, §4.4.3). */
export function schemesForKey(key: 'ec' | 'rsa' | 'ed25519', curve?: EcCurve): SignatureSchemeName[] {
  if (key === 'ed25519') return ['ed25519'];
  if (key === 'rsa') return ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384'];
  return curve === 'P-384' ? ['ecdsa_secp384r1_sha384'] : ['ecdsa_secp256r1_sha256'];
}
