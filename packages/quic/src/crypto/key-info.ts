/**
 * Public and private key containers: SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and PKCS#8
 * (RFC 5208 / RFC 5958) for the key types TLS 1.3 signatures use: RSA (RFC 8017 App. A),
 * EC on P-256/P-384 (RFC 5480, RFC 5915) and Ed25519 (RFC 8410).
 *
 * Parsing throws a QuicError with CRYPTO_ERROR(bad_certificate): public keys come from peers'
 * certificates. Providers catch it where the API promises not to throw (`verify`).
 */

import { ByteReader } from '../codec/reader.js';
import { cryptoErrorCode } from '../errors.js';
import {
  DerTag,
  encodeDer,
  pemToDer,
  encodeOid,
  encodeUnsignedInteger,
  expectDer,
  innerReader,
  readDer,
  readOid,
  readUnsignedInteger,
} from './der.js';

const BAD_CERTIFICATE = 42;

export const KeyOid = {
  RSA_ENCRYPTION: '1.2.840.113549.1.1.1',
  RSASSA_PSS: '1.2.840.113549.1.1.10',
  EC_PUBLIC_KEY: '1.2.840.10045.2.1',
  P256: '1.2.840.10045.3.1.7',
  P384: '1.3.132.0.34',
  ED25519: '1.3.101.112',
} as const;

export type EcCurve = 'P-256' | 'P-384';

/** Byte length of a scalar / coordinate on the curve. */
export function ecCurveSize(curve: EcCurve): 32 | 48 {
  return curve === 'P-256' ? 32 : 48;
}

export type PublicKeyInfo =
  /** `pss`: the key is id-RSASSA-PSS (RFC 4055), usable only for PSS signatures. */
  | { kind: 'rsa'; n: Uint8Array; e: Uint8Array; pss: boolean }
  /** `point`: the SEC1 encoding as found in the key (validated by the curve code, not here). */
  | { kind: 'ec'; curve: EcCurve; point: Uint8Array }
  | { kind: 'ed25519'; key: Uint8Array };

export type PrivateKeyInfo =
  | {
      kind: 'rsa';
      pss: boolean;
      n: Uint8Array;
      e: Uint8Array;
      d: Uint8Array;
      p: Uint8Array;
      q: Uint8Array;
      dp: Uint8Array;
      dq: Uint8Array;
      qinv: Uint8Array;
    }
  /** `d` left-padded to the curve size; `point` when the key carries its public key. */
  | { kind: 'ec'; curve: EcCurve; d: Uint8Array; point: Uint8Array | undefined }
  | { kind: 'ed25519'; seed: Uint8Array };

function readerFor(der: Uint8Array): ByteReader {
  return new ByteReader(der, 0, der.length, cryptoErrorCode(BAD_CERTIFICATE));
}

function readAlgorithm(reader: ByteReader): { oid: string; parameters: Uint8Array | undefined; parametersTag: number } {
  const alg = innerReader(reader, expectDer(reader, DerTag.SEQUENCE, 'AlgorithmIdentifier'));
  const oid = readOid(alg);
  if (alg.isEmpty()) return { oid, parameters: undefined, parametersTag: -1 };
  const params = readDer(alg);
  return { oid, parameters: params.content, parametersTag: params.tag };
}

function curveFromOid(reader: ByteReader, oid: string): EcCurve {
  if (oid === KeyOid.P256) return 'P-256';
  if (oid === KeyOid.P384) return 'P-384';
  return reader.fail(`unsupported EC curve ${oid}`);
}

function readRsaPublicKey(reader: ByteReader, bits: Uint8Array, pss: boolean): PublicKeyInfo {
  const r = readerFor(bits);
  const seq = innerReader(r, expectDer(r, DerTag.SEQUENCE, 'RSAPublicKey'));
  const n = readUnsignedInteger(seq);
  const e = readUnsignedInteger(seq);
  if (n.length < 64 || (e.length === 1 && (e[0] as number) < 3)) reader.fail('RSA key too small');
  return { kind: 'rsa', n, e, pss };
}

/** Parses a DER SubjectPublicKeyInfo. */
export function parseSpki(spki: Uint8Array): PublicKeyInfo {
  const outer = readerFor(spki);
  const seq = innerReader(outer, expectDer(outer, DerTag.SEQUENCE, 'SubjectPublicKeyInfo'));
  if (!outer.isEmpty()) outer.fail('trailing bytes after SubjectPublicKeyInfo');
  const alg = readAlgorithm(seq);
  const bitString = expectDer(seq, DerTag.BIT_STRING, 'BIT STRING');
  if (bitString.length < 1 || bitString[0] !== 0) seq.fail('public key BIT STRING with unused bits');
  const bits = bitString.subarray(1);
  switch (alg.oid) {
    case KeyOid.RSA_ENCRYPTION:
      return readRsaPublicKey(seq, bits, false);
    case KeyOid.RSASSA_PSS:
      return readRsaPublicKey(seq, bits, true);
    case KeyOid.EC_PUBLIC_KEY: {
      if (alg.parametersTag !== DerTag.OID || alg.parameters === undefined) return seq.fail('EC key without a named curve');
      return { kind: 'ec', curve: curveFromOid(seq, oidFromContent(alg.parameters)), point: bits };
    }
    case KeyOid.ED25519:
      if (bits.length !== 32) seq.fail('Ed25519 key is not 32 bytes');
      return { kind: 'ed25519', key: bits };
    default:
      return seq.fail(`unsupported public key algorithm ${alg.oid}`);
  }
}

function leftPad(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length === size) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(Math.max(0, bytes.length - size)), Math.max(0, size - bytes.length));
  return out;
}

/** Parses a DER PKCS#8 PrivateKeyInfo / OneAsymmetricKey. */
export function parsePkcs8(der: Uint8Array): PrivateKeyInfo {
  const outer = readerFor(der);
  const seq = innerReader(outer, expectDer(outer, DerTag.SEQUENCE, 'PrivateKeyInfo'));
  readUnsignedInteger(seq); // version 0 (v1) or 1 (v2, RFC 5958)
  const alg = readAlgorithm(seq);
  const keyOctets = expectDer(seq, DerTag.OCTET_STRING, 'privateKey');
  const key = readerFor(keyOctets);
  switch (alg.oid) {
    case KeyOid.RSA_ENCRYPTION:
    case KeyOid.RSASSA_PSS: {
      const r = innerReader(key, expectDer(key, DerTag.SEQUENCE, 'RSAPrivateKey'));
      readUnsignedInteger(r); // version
      const n = readUnsignedInteger(r);
      const e = readUnsignedInteger(r);
      const d = readUnsignedInteger(r);
      const p = readUnsignedInteger(r);
      const q = readUnsignedInteger(r);
      const dp = readUnsignedInteger(r);
      const dq = readUnsignedInteger(r);
      const qinv = readUnsignedInteger(r);
      return { kind: 'rsa', pss: alg.oid === KeyOid.RSASSA_PSS, n, e, d, p, q, dp, dq, qinv };
    }
    case KeyOid.EC_PUBLIC_KEY: {
      // RFC 5915 §3: ECPrivateKey { version 1, privateKey OCTET STRING, [0] parameters, [1] publicKey }
      const r = innerReader(key, expectDer(key, DerTag.SEQUENCE, 'ECPrivateKey'));
      readUnsignedInteger(r);
      const d = expectDer(r, DerTag.OCTET_STRING, 'EC private key');
      let curveOid = alg.parametersTag === DerTag.OID && alg.parameters ? oidFromContent(alg.parameters) : undefined;
      let point: Uint8Array | undefined;
      for (let i = 0; i < 2 && !r.isEmpty(); i++) {
        const el = readDer(r);
        if (el.tag === DerTag.CONTEXT_0) curveOid ??= readOid(readerFor(el.content));
        else if (el.tag === DerTag.CONTEXT_1) {
          const bits = expectDer(readerFor(el.content), DerTag.BIT_STRING, 'EC public key');
          if (bits.length > 1) point = bits.subarray(1);
        }
      }
      if (curveOid === undefined) return r.fail('EC private key without a named curve');
      const curve = curveFromOid(r, curveOid);
      return { kind: 'ec', curve, d: leftPad(d, ecCurveSize(curve)), point };
    }
    case KeyOid.ED25519: {
      // RFC 8410 §7: CurvePrivateKey ::= OCTET STRING, inside the privateKey OCTET STRING.
      const seed = expectDer(key, DerTag.OCTET_STRING, 'CurvePrivateKey');
      if (seed.length !== 32) key.fail('Ed25519 private key is not 32 bytes');
      return { kind: 'ed25519', seed };
    }
    default:
      return seq.fail(`unsupported private key algorithm ${alg.oid}`);
  }
}

function oidFromContent(content: Uint8Array): string {
  return readOid(readerFor(encodeDer(DerTag.OID, content)));
}

/** Encodes a SubjectPublicKeyInfo (to describe a noble key to peers and tests). */
export function encodeSpki(info: PublicKeyInfo): Uint8Array {
  let algorithm: Uint8Array;
  let bits: Uint8Array;
  switch (info.kind) {
    case 'rsa':
      algorithm = info.pss
        ? encodeDer(DerTag.SEQUENCE, encodeOid(KeyOid.RSASSA_PSS))
        : encodeDer(DerTag.SEQUENCE, encodeOid(KeyOid.RSA_ENCRYPTION), encodeDer(DerTag.NULL));
      bits = encodeDer(DerTag.SEQUENCE, encodeUnsignedInteger(info.n), encodeUnsignedInteger(info.e));
      break;
    case 'ec':
      algorithm = encodeDer(
        DerTag.SEQUENCE,
        encodeOid(KeyOid.EC_PUBLIC_KEY),
        encodeOid(info.curve === 'P-256' ? KeyOid.P256 : KeyOid.P384),
      );
      bits = info.point;
      break;
    case 'ed25519':
      algorithm = encodeDer(DerTag.SEQUENCE, encodeOid(KeyOid.ED25519));
      bits = info.key;
      break;
  }
  return encodeDer(DerTag.SEQUENCE, algorithm, encodeDer(DerTag.BIT_STRING, new Uint8Array(1), bits));
}

/** PKCS#8 from PEM ("PRIVATE KEY") or DER. */
export function pkcs8Der(pkcs8: Uint8Array | string): Uint8Array {
  return typeof pkcs8 === 'string' ? pemToDer(pkcs8, 'PRIVATE KEY') : pkcs8;
}
