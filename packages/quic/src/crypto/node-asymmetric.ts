/**
 * Asymmetric crypto on node:crypto (OpenSSL). Synchronous APIs only.
 *
 * Key exchange choices were measured on Node 20 (see the asymmetric tests' report):
 * X25519 with `generateKeyPairSync` + `diffieHellman` beat deriving the public key as
 * X25519(priv, 9) from random bytes; P-256 with `createECDH` beat KeyObjects about 2-3x.
 * Node bug: exporting an X25519 public key as JWK can hang the process, so the raw key is
 * taken from the DER SPKI export (its last 32 bytes) and keys are never exported as JWK.
 */

import {
  constants,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import { TlsAlert, TlsAlertError } from '../tls/alert.js';
import { parsePkcs8, pkcs8Der } from './key-info.js';
import type {
  AsymmetricCrypto,
  CertificateSignatureAlgorithm,
  KeyShare,
  NamedGroupName,
  SignatureSchemeName,
  SigningKey,
} from './provider.js';
import { keyForRequest, requestForCertificate, requestForScheme, type VerifyRequest } from './signature-dispatch.js';
import { SIGNATURE_SCHEMES, schemesForKey } from './signature-schemes.js';

/** DER SPKI header of an X25519 public key (RFC 8410 §4): the raw 32-byte key follows. */
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function illegalShare(reason: string): never {
  throw new TlsAlertError(TlsAlert.ILLEGAL_PARAMETER, reason);
}

function generateKeyShare(group: NamedGroupName): KeyShare {
  if (group === 'x25519') {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    return { group, publicKey: toBytes(spki).slice(spki.length - 32), privateKey };
  }
  const ecdh = createECDH('prime256v1');
  // Uncompressed point, 65 bytes (RFC 8446 §4.2.8.2).
  const publicKey = toBytes(ecdh.generateKeys());
  return { group, publicKey, privateKey: ecdh };
}

/** DER PKCS#8 header of an X25519 private key (RFC 8410 §7): the raw 32-byte key follows. */
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

function importKeyShare(group: NamedGroupName, privateKey: Uint8Array): KeyShare {
  if (privateKey.length !== 32) throw new RangeError(`${group} private key must be 32 bytes`);
  if (group === 'x25519') {
    const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + 32);
    pkcs8.set(X25519_PKCS8_PREFIX);
    pkcs8.set(privateKey, X25519_PKCS8_PREFIX.length);
    const key = createPrivateKey({ key: toBuffer(pkcs8), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return { group, publicKey: toBytes(spki).slice(spki.length - 32), privateKey: key };
  }
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(toBuffer(privateKey));
  return { group, publicKey: toBytes(ecdh.getPublicKey()), privateKey: ecdh };
}

function deriveSharedSecret(share: KeyShare, peerPublicKey: Uint8Array): Uint8Array {
  if (share.group === 'x25519') {
    if (peerPublicKey.length !== 32) illegalShare('X25519 key share is not 32 bytes');
    const spki = new Uint8Array(X25519_SPKI_PREFIX.length + 32);
    spki.set(X25519_SPKI_PREFIX);
    spki.set(peerPublicKey, X25519_SPKI_PREFIX.length);
    let secret: Uint8Array;
    try {
      const publicKey = createPublicKey({ key: toBuffer(spki), format: 'der', type: 'spki' });
      secret = toBytes(diffieHellman({ privateKey: share.privateKey as KeyObject, publicKey }));
    } catch {
      // OpenSSL refuses an all-zero result itself (small-order peer key).
      return illegalShare('X25519 key share yields no shared secret');
    }
    // RFC 8446 §7.4.2: reject the all-zero value, whatever the library did.
    let acc = 0;
    for (let i = 0; i < secret.length; i++) acc |= secret[i] as number;
    if (acc === 0) illegalShare('X25519 shared secret is all zero');
    return secret;
  }
  // RFC 8446 §4.2.8.2: only the uncompressed form; OpenSSL checks the point is on the curve.
  if (peerPublicKey.length !== 65 || peerPublicKey[0] !== 0x04) illegalShare('secp256r1 key share is not an uncompressed point');
  try {
    // RFC 8446 §7.4.1: the ECDH output is the x-coordinate, which computeSecret returns.
    return toBytes((share.privateKey as ECDH).computeSecret(toBuffer(peerPublicKey)));
  } catch {
    return illegalShare('secp256r1 key share is not a valid curve point');
  }
}

class NodeSigningKey implements SigningKey {
  readonly schemes: readonly SignatureSchemeName[];
  readonly publicKey: Uint8Array;
  readonly key: KeyObject;

  constructor(der: Uint8Array) {
    // Our parser decides what the key is (same rules as the noble provider); OpenSSL holds it.
    const info = parsePkcs8(der);
    if (info.kind === 'rsa' && info.pss) throw new Error('RSASSA-PSS-only (id-RSASSA-PSS) keys are not supported for signing');
    this.schemes = info.kind === 'ec' ? schemesForKey('ec', info.curve) : schemesForKey(info.kind);
    this.key = createPrivateKey({ key: toBuffer(der), format: 'der', type: 'pkcs8' });
    this.publicKey = toBytes(createPublicKey(this.key).export({ format: 'der', type: 'spki' }));
  }
}

function importSigningKey(pkcs8: Uint8Array | string): SigningKey {
  return new NodeSigningKey(pkcs8Der(pkcs8));
}

function sign(key: SigningKey, scheme: SignatureSchemeName, data: Uint8Array): Uint8Array {
  if (!(key instanceof NodeSigningKey)) throw new TypeError('signing key was not imported by the node provider');
  if (!key.schemes.includes(scheme)) throw new Error(`key cannot sign with ${scheme}`);
  const info = SIGNATURE_SCHEMES[scheme];
  const input = toBuffer(data);
  switch (info.key) {
    case 'ed25519':
      return toBytes(nodeSign(null, input, key.key));
    case 'ec':
      return toBytes(nodeSign(info.hash ?? 'sha256', input, { key: key.key, dsaEncoding: 'der' }));
    case 'rsa':
      // RFC 8446 §4.2.3: RSASSA-PSS, MGF1 with the same hash, salt length = digest length.
      return toBytes(
        nodeSign(info.hash ?? 'sha256', input, {
          key: key.key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        }),
      );
  }
}

/**
 * Recently used public keys. Importing an SPKI costs more than an ECDSA verification (measured
 * ~4.5k imports/s vs ~8k verifies/s for P-256), and the same CA and server keys come back
 * connection after connection. Bounded; the oldest entry goes first.
 */
const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_SIZE = 32;

function publicKeyFor(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = publicKeyCache.get(id);
  if (key !== undefined) {
    // Refresh its position (Map keeps insertion order).
    publicKeyCache.delete(id);
  } else {
    key = createPublicKey({ key: toBuffer(spki), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_SIZE) {
      const oldest = publicKeyCache.keys().next();
      if (!oldest.done) publicKeyCache.delete(oldest.value);
    }
  }
  publicKeyCache.set(id, key);
  return key;
}

function verifyRequest(spki: Uint8Array, request: VerifyRequest, data: Uint8Array, signature: Uint8Array): boolean {
  if (keyForRequest(spki, request) === undefined) return false;
  const algorithm = request.algorithm;
  try {
    const key = publicKeyFor(spki);
    const input = toBuffer(data);
    const sig = toBuffer(signature);
    switch (algorithm.kind) {
      case 'ed25519':
        return nodeVerify(null, input, key, sig);
      case 'ecdsa':
        return nodeVerify(algorithm.hash, input, { key, dsaEncoding: 'der' }, sig);
      case 'rsa-pkcs1':
        return nodeVerify(algorithm.hash, input, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
      case 'rsa-pss':
        return nodeVerify(
          algorithm.hash,
          input,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength },
          sig,
        );
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

/** The node:crypto asymmetric half of the node provider. */
export const nodeAsymmetric: AsymmetricCrypto = {
  generateKeyShare,
  importKeyShare,
  deriveSharedSecret,
  importSigningKey,
  sign,
  verify,
  verifyCertificateSignature,
};
