/**
 * Asymmetric crypto on node:crypto (OpenSSL). Synchronous APIs only.
 *
 * Key exchange choices were measured on Node 20 (see the asymmetric tests' report):
 * X25519 keys are imported from raw bytes as JWK and the public key derived as X25519(k, 9)
 * (see x25519Share for the figures); P-256 with `createECDH` beat KeyObjects about 2-3x.
 * Node bug: exporting an X25519 key as JWK can hang the process; keys are never exported here.
 */

import {
  constants,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomFillSync,
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

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function illegalShare(reason: string): never {
  throw new TlsAlertError(TlsAlert.ILLEGAL_PARAMETER, reason);
}

/**
 * X25519 keys cross into OpenSSL as JWK *imports* (RFC 8037 OKP keys), which node hands to
 * OpenSSL's raw-key constructor; DER goes through OpenSSL 3's generic decoders, and exporting the
 * generated key's DER through its encoders. Measured per key share (node 20, CPU time, loaded
 * 2-core machine): generateKeyPairSync + DER export 122-138 µs, DER PKCS#8 import 450-475 µs,
 * JWK import of 32 random bytes + X25519(k, 9) for the public key 86-89 µs; the peer's public key
 * + diffieHellman: DER SPKI import 128-135 µs, JWK import 47-57 µs.
 * Only ever imported as JWK: exporting X25519 keys as JWK can hang node for good (a lock held
 * across garbage collection), see the module comment.
 */
const X25519_BASE_POINT = (() => {
  const u = new Uint8Array(32);
  u[0] = 9; // RFC 7748 §4.1: the base point of Curve25519 is u = 9
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(u).toString('base64url') }, format: 'jwk' });
})();

/** An X25519 private key from its 32 raw bytes; the public key is X25519(k, 9) (RFC 7748 §6.1). */
function x25519Share(raw: Uint8Array): KeyShare {
  // node checks `x` is a string but builds a private key from `d` alone.
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: toBuffer(raw).toString('base64url'), x: '' }, format: 'jwk' });
  const publicKey = toBytes(diffieHellman({ privateKey, publicKey: X25519_BASE_POINT }));
  return { group: 'x25519', publicKey, privateKey };
}

function generateKeyShare(group: NamedGroupName): KeyShare {
  if (group === 'x25519') {
    const raw = randomFillSync(new Uint8Array(32));
    const share = x25519Share(raw);
    raw.fill(0);
    return share;
  }
  const ecdh = createECDH('prime256v1');
  // Uncompressed point, 65 bytes (RFC 8446 §4.2.8.2).
  const publicKey = toBytes(ecdh.generateKeys());
  return { group, publicKey, privateKey: ecdh };
}

function importKeyShare(group: NamedGroupName, privateKey: Uint8Array): KeyShare {
  if (privateKey.length !== 32) throw new RangeError(`${group} private key must be 32 bytes`);
  if (group === 'x25519') return x25519Share(privateKey);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(toBuffer(privateKey));
  return { group, publicKey: toBytes(ecdh.getPublicKey()), privateKey: ecdh };
}

function deriveSharedSecret(share: KeyShare, peerPublicKey: Uint8Array): Uint8Array {
  if (share.group === 'x25519') {
    if (peerPublicKey.length !== 32) illegalShare('X25519 key share is not 32 bytes');
    let secret: Uint8Array;
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBuffer(peerPublicKey).toString('base64url') }, format: 'jwk' });
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
