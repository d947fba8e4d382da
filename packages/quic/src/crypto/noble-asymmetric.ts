/**
 * Asymmetric crypto in pure JavaScript: @noble/curves for X25519, P-256/P-384 ECDH and ECDSA,
 * Ed25519; our BigInt RSA (rsa.ts) for RSA-PSS and PKCS#1 v1.5. Synchronous throughout, because
 * the TLS engine is a synchronous state machine.
 */

import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { TlsAlert, TlsAlertError } from '../tls/alert.js';
import { encodeSpki, parsePkcs8, pkcs8Der, type EcCurve, type PrivateKeyInfo, type PublicKeyInfo } from './key-info.js';
import type {
  AsymmetricCrypto,
  CertificateSignatureAlgorithm,
  KeyShare,
  NamedGroupName,
  SignatureHashAlgorithm,
  SignatureSchemeName,
  SigningKey,
} from './provider.js';
import { rsaPkcs1Verify, rsaPssSign, rsaPssVerify, type RsaHash } from './rsa.js';
import { keyForRequest, requestForCertificate, requestForScheme, type VerifyRequest } from './signature-dispatch.js';
import { SIGNATURE_SCHEMES, schemesForKey, signatureHashLength } from './signature-schemes.js';

const HASHES: Record<SignatureHashAlgorithm, RsaHash> = { sha256, sha384, sha512 };

function curveImpl(curve: EcCurve): typeof p256 {
  return curve === 'P-256' ? p256 : p384;
}

/** The X25519 key_share is 32 bytes; secp256r1 an uncompressed point, 65 bytes (RFC 8446 §4.2.8.2). */
function generateKeyShare(group: NamedGroupName): KeyShare {
  if (group === 'x25519') {
    const privateKey = x25519.utils.randomSecretKey();
    return { group, publicKey: x25519.getPublicKey(privateKey), privateKey };
  }
  const privateKey = p256.utils.randomSecretKey();
  return { group, publicKey: p256.getPublicKey(privateKey, false), privateKey };
}

function importKeyShare(group: NamedGroupName, privateKey: Uint8Array): KeyShare {
  if (privateKey.length !== 32) throw new RangeError(`${group} private key must be 32 bytes`);
  const copy = privateKey.slice();
  if (group === 'x25519') return { group, publicKey: x25519.getPublicKey(copy), privateKey: copy };
  return { group, publicKey: p256.getPublicKey(copy, false), privateKey: copy };
}

function illegalShare(reason: string): never {
  throw new TlsAlertError(TlsAlert.ILLEGAL_PARAMETER, reason);
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}

function deriveSharedSecret(share: KeyShare, peerPublicKey: Uint8Array): Uint8Array {
  const privateKey = share.privateKey;
  if (!(privateKey instanceof Uint8Array)) throw new TypeError('key share was not made by the noble provider');
  if (share.group === 'x25519') {
    if (peerPublicKey.length !== 32) illegalShare('X25519 key share is not 32 bytes');
    let secret: Uint8Array;
    try {
      secret = x25519.getSharedSecret(privateKey, peerPublicKey);
    } catch {
      return illegalShare('X25519 key share yields no shared secret');
    }
    // RFC 8446 §7.4.2: an all-zero X25519 result means a small-order peer key: abort.
    if (isAllZero(secret)) illegalShare('X25519 shared secret is all zero');
    return secret;
  }
  // RFC 8446 §4.2.8.2: only the uncompressed form (0x04 || X || Y); the point must be on the curve.
  if (peerPublicKey.length !== 65 || peerPublicKey[0] !== 0x04) illegalShare('secp256r1 key share is not an uncompressed point');
  let shared: Uint8Array;
  try {
    p256.Point.fromBytes(peerPublicKey).assertValidity();
    shared = p256.getSharedSecret(privateKey, peerPublicKey, true);
  } catch {
    return illegalShare('secp256r1 key share is not a valid curve point');
  }
  // RFC 8446 §7.4.1: the shared secret is the x-coordinate, 32 bytes.
  return shared.slice(1);
}

class NobleSigningKey implements SigningKey {
  readonly schemes: readonly SignatureSchemeName[];
  readonly publicKey: Uint8Array;
  readonly info: PrivateKeyInfo;

  constructor(info: PrivateKeyInfo) {
    this.info = info;
    let pub: PublicKeyInfo;
    switch (info.kind) {
      case 'ed25519':
        pub = { kind: 'ed25519', key: ed25519.getPublicKey(info.seed) };
        this.schemes = schemesForKey('ed25519');
        break;
      case 'ec':
        pub = { kind: 'ec', curve: info.curve, point: curveImpl(info.curve).getPublicKey(info.d, false) };
        this.schemes = schemesForKey('ec', info.curve);
        break;
      case 'rsa':
        // rsa_pss_pss_* (id-RSASSA-PSS keys) are not among the schemes we offer.
        if (info.pss) throw new Error('RSASSA-PSS-only (id-RSASSA-PSS) keys are not supported for signing');
        pub = { kind: 'rsa', n: info.n, e: info.e, pss: false };
        this.schemes = schemesForKey('rsa');
        break;
    }
    this.publicKey = encodeSpki(pub);
  }
}

function importSigningKey(pkcs8: Uint8Array | string): SigningKey {
  return new NobleSigningKey(parsePkcs8(pkcs8Der(pkcs8)));
}

function sign(key: SigningKey, scheme: SignatureSchemeName, data: Uint8Array): Uint8Array {
  if (!(key instanceof NobleSigningKey)) throw new TypeError('signing key was not imported by the noble provider');
  if (!key.schemes.includes(scheme)) throw new Error(`key cannot sign with ${scheme}`);
  const info = key.info;
  const hashName = SIGNATURE_SCHEMES[scheme].hash;
  switch (info.kind) {
    case 'ed25519':
      return ed25519.sign(data, info.seed);
    case 'ec': {
      const hash = HASHES[hashName ?? 'sha256'];
      // Deterministic k (RFC 6979) hedged with fresh randomness; DER on the wire (RFC 8446 §4.2.3).
      return curveImpl(info.curve).sign(hash(data), info.d, { prehash: false, format: 'der', extraEntropy: true });
    }
    case 'rsa': {
      const name = hashName ?? 'sha256';
      return rsaPssSign(info, HASHES[name], data, randomBytes(signatureHashLength(name)));
    }
  }
}

function verifyRequest(spki: Uint8Array, request: VerifyRequest, data: Uint8Array, signature: Uint8Array): boolean {
  const key = keyForRequest(spki, request);
  if (key === undefined) return false;
  const algorithm = request.algorithm;
  try {
    switch (algorithm.kind) {
      case 'ed25519':
        // Strict RFC 8032 §5.1.7 checks (canonical encodings), not ZIP-215.
        return key.kind === 'ed25519' && ed25519.verify(signature, data, key.key, { zip215: false });
      case 'ecdsa':
        if (key.kind !== 'ec') return false;
        // OpenSSL produces high-S signatures: accept both halves (lowS: false).
        return curveImpl(key.curve).verify(signature, HASHES[algorithm.hash](data), key.point, {
          prehash: false,
          format: 'der',
          lowS: false,
        });
      case 'rsa-pkcs1':
        return key.kind === 'rsa' && rsaPkcs1Verify(key, HASHES[algorithm.hash], data, signature);
      case 'rsa-pss':
        return key.kind === 'rsa' && rsaPssVerify(key, HASHES[algorithm.hash], algorithm.saltLength, data, signature);
    }
  } catch {
    return false;
  }
}

function verify(spki: Uint8Array, scheme: SignatureSchemeName, data: Uint8Array, signature: Uint8Array): boolean {
  const request = requestForScheme(scheme);
  return request !== undefined && verifyRequest(spki, request, data, signature);
}

function verifyCertificateSignature(
  spki: Uint8Array,
  algorithm: CertificateSignatureAlgorithm,
  tbs: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifyRequest(spki, requestForCertificate(algorithm), tbs, signature);
}

/** The pure-JavaScript asymmetric half of the noble provider. */
export const nobleAsymmetric: AsymmetricCrypto = {
  generateKeyShare,
  importKeyShare,
  deriveSharedSecret,
  importSigningKey,
  sign,
  verify,
  verifyCertificateSignature,
};
