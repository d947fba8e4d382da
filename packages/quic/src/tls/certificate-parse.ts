/**
 * A strict DER parser for the X.509 certificate fields path validation needs (RFC 5280 §4.1):
 * the exact tbsCertificate bytes, the signature algorithm with its parameters, issuer/subject
 * names (compared as DER bytes), validity, the SubjectPublicKeyInfo and the extensions TLS cares
 * about (basicConstraints, keyUsage, extKeyUsage, subjectAltName).
 *
 * Why not @peculiar/x509 here: verification needs the signed bytes as they were received, the
 * RSASSA-PSS parameters and raw iPAddress octets, which it does not expose synchronously; and
 * its module needs a global Reflect metadata polyfill (tsyringe). It is used to *generate*
 * certificates (self-signed.ts, tests) instead.
 *
 * Any malformed input throws TlsAlertError(bad_certificate) (RFC 8446 §6.2).
 */

import { ByteReader } from '../codec/reader.js';
import {
  DerTag,
  expectDer,
  innerReader,
  oidToString,
  readDer,
  readDerWithRaw,
  readOid,
  readUnsignedInteger,
} from '../crypto/der.js';
import type { CertificateSignatureAlgorithm, SignatureHashAlgorithm } from '../crypto/provider.js';
import { QuicError } from '../errors.js';
import { TlsAlert, TlsAlertError } from './alert.js';

/** Extension and purpose OIDs (RFC 5280 §4.2.1). */
export const X509Oid = {
  BASIC_CONSTRAINTS: '2.5.29.19',
  KEY_USAGE: '2.5.29.15',
  EXT_KEY_USAGE: '2.5.29.37',
  SUBJECT_ALT_NAME: '2.5.29.17',
  SUBJECT_KEY_ID: '2.5.29.14',
  AUTHORITY_KEY_ID: '2.5.29.35',
  CERTIFICATE_POLICIES: '2.5.29.32',
  CRL_DISTRIBUTION_POINTS: '2.5.29.31',
  AUTHORITY_INFO_ACCESS: '1.3.6.1.5.5.7.1.1',
  SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  ANY_EXTENDED_KEY_USAGE: '2.5.29.37.0',
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3), as bit positions in `ParsedCertificate.keyUsage`. */
export const KeyUsageBit = {
  DIGITAL_SIGNATURE: 1 << 0,
  NON_REPUDIATION: 1 << 1,
  KEY_ENCIPHERMENT: 1 << 2,
  DATA_ENCIPHERMENT: 1 << 3,
  KEY_AGREEMENT: 1 << 4,
  KEY_CERT_SIGN: 1 << 5,
  CRL_SIGN: 1 << 6,
  ENCIPHER_ONLY: 1 << 7,
  DECIPHER_ONLY: 1 << 8,
} as const;

export interface ParsedCertificate {
  /** The whole certificate as received. */
  readonly der: Uint8Array;
  /** The complete tbsCertificate TLV: the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3 (the encoded value + 1). */
  readonly version: number;
  readonly serialNumber: Uint8Array;
  /** undefined when the algorithm is not one we verify (e.g. sha1WithRSAEncryption). */
  readonly signatureAlgorithm: CertificateSignatureAlgorithm | undefined;
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
  /** Name TLVs, compared byte for byte when chaining. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** The SubjectPublicKeyInfo TLV. */
  readonly spki: Uint8Array;
  readonly basicConstraints: { ca: boolean; pathLength: number | undefined } | undefined;
  /** Bit i set = keyUsage bit i asserted; undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** undefined when there is no subjectAltName extension. */
  readonly subjectAltNames: { dns: string[]; ip: Uint8Array[] } | undefined;
  /** Critical extensions we do not process: path validation must reject them (RFC 5280 §4.2). */
  readonly unhandledCriticalExtensions: readonly string[];
}

const HASH_OIDS: Record<string, SignatureHashAlgorithm> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const SIMPLE_SIGNATURE_ALGORITHMS: Record<string, CertificateSignatureAlgorithm> = {
  '1.2.840.113549.1.1.11': { kind: 'rsa-pkcs1', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa-pkcs1', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa-pkcs1', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { kind: 'ed25519' },
};

const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';
const MGF1_OID = '1.2.840.113549.1.1.8';

/** Extensions we either process or may safely ignore even when marked critical. */
const HANDLED_EXTENSIONS = new Set<string>([
  X509Oid.BASIC_CONSTRAINTS,
  X509Oid.KEY_USAGE,
  X509Oid.EXT_KEY_USAGE,
  X509Oid.SUBJECT_ALT_NAME,
  X509Oid.SUBJECT_KEY_ID,
  X509Oid.AUTHORITY_KEY_ID,
]);

function badCertificate(reason: string): never {
  throw new TlsAlertError(TlsAlert.BAD_CERTIFICATE, reason);
}

function readerFor(bytes: Uint8Array): ByteReader {
  // The code is only a carrier: parseCertificate turns any QuicError into bad_certificate.
  return new ByteReader(bytes, 0, bytes.length);
}

/** AlgorithmIdentifier -> OID and the raw parameters element (if any). */
function readAlgorithmIdentifier(reader: ByteReader): { oid: string; params: { tag: number; content: Uint8Array } | undefined; raw: Uint8Array } {
  const element = readDerWithRaw(reader);
  if (element.tag !== DerTag.SEQUENCE) reader.fail('expected AlgorithmIdentifier');
  const inner = innerReader(reader, element.content);
  const oid = readOid(inner);
  const params = inner.isEmpty() ? undefined : readDer(inner);
  if (!inner.isEmpty()) reader.fail('trailing data in AlgorithmIdentifier');
  return { oid, params, raw: element.raw };
}

function hashFromAlgorithmIdentifier(reader: ByteReader): SignatureHashAlgorithm | undefined {
  const { oid, params } = readAlgorithmIdentifier(reader);
  if (params !== undefined && params.tag !== DerTag.NULL) return undefined;
  return HASH_OIDS[oid];
}

/** The same, from the content of the AlgorithmIdentifier SEQUENCE. */
function hashFromAlgorithmContent(reader: ByteReader, content: Uint8Array): SignatureHashAlgorithm | undefined {
  const r = innerReader(reader, content);
  const oid = readOid(r);
  if (!r.isEmpty() && readDer(r).tag !== DerTag.NULL) return undefined;
  if (!r.isEmpty()) return undefined;
  return HASH_OIDS[oid];
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1). We accept SHA-256/384/512 with MGF1 over the same hash
 * and trailerField 1; the defaults (SHA-1) are refused.
 */
function parsePssParams(reader: ByteReader, content: Uint8Array): CertificateSignatureAlgorithm | undefined {
  const r = innerReader(reader, content);
  let hash: SignatureHashAlgorithm | undefined;
  let mgfHash: SignatureHashAlgorithm | undefined;
  let saltLength = 20;
  let trailer = 1;
  for (let i = 0; i < 4 && !r.isEmpty(); i++) {
    const field = readDer(r);
    const f = innerReader(r, field.content);
    if (field.tag === DerTag.CONTEXT_0) hash = hashFromAlgorithmIdentifier(f);
    else if (field.tag === DerTag.CONTEXT_1) {
      // maskGenAlgorithm: MGF1 whose parameter is the hash AlgorithmIdentifier.
      const mgf = readAlgorithmIdentifier(f);
      if (mgf.oid !== MGF1_OID || mgf.params === undefined || mgf.params.tag !== DerTag.SEQUENCE) return undefined;
      mgfHash = hashFromAlgorithmContent(f, mgf.params.content);
    } else if (field.tag === DerTag.CONTEXT_2) saltLength = bytesToSmallInt(f, readUnsignedInteger(f));
    else if (field.tag === DerTag.CONTEXT_3) trailer = bytesToSmallInt(f, readUnsignedInteger(f));
    else r.fail('unexpected field in RSASSA-PSS-params');
  }
  if (!r.isEmpty()) r.fail('trailing data in RSASSA-PSS-params');
  if (hash === undefined || mgfHash !== hash || trailer !== 1) return undefined;
  return { kind: 'rsa-pss', hash, saltLength };
}

function bytesToSmallInt(reader: ByteReader, bytes: Uint8Array): number {
  if (bytes.length > 4) reader.fail('integer too large');
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + (bytes[i] as number);
  return v;
}

function signatureAlgorithmOf(reader: ByteReader, oid: string, params: { tag: number; content: Uint8Array } | undefined): CertificateSignatureAlgorithm | undefined {
  if (oid === RSASSA_PSS_OID) {
    if (params === undefined || params.tag !== DerTag.SEQUENCE) return undefined;
    return parsePssParams(reader, params.content);
  }
  const algorithm = SIMPLE_SIGNATURE_ALGORITHMS[oid];
  if (algorithm === undefined) return undefined;
  // RFC 5758 §3.2 / RFC 8410 §3: ECDSA and Ed25519 have absent parameters; RSA PKCS#1 has NULL.
  if (algorithm.kind === 'rsa-pkcs1') {
    if (params !== undefined && params.tag !== DerTag.NULL) return undefined;
  } else if (params !== undefined) {
    return undefined;
  }
  return algorithm;
}

/** UTCTime / GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (UTC, seconds, 'Z'). */
function readTime(reader: ByteReader): number {
  const { tag, content } = readDer(reader);
  const text = asciiString(content);
  let year: number;
  let rest: string;
  if (tag === DerTag.UTC_TIME) {
    if (!/^\d{12}Z$/.test(text)) reader.fail('UTCTime not in YYMMDDHHMMSSZ form');
    const yy = Number(text.slice(0, 2));
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = text.slice(2);
  } else if (tag === DerTag.GENERALIZED_TIME) {
    if (!/^\d{14}Z$/.test(text)) reader.fail('GeneralizedTime not in YYYYMMDDHHMMSSZ form');
    year = Number(text.slice(0, 4));
    rest = text.slice(4);
  } else {
    return reader.fail('expected a Time');
  }
  const month = Number(rest.slice(0, 2));
  const day = Number(rest.slice(2, 4));
  const hour = Number(rest.slice(4, 6));
  const minute = Number(rest.slice(6, 8));
  const second = Number(rest.slice(8, 10));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) reader.fail('invalid time');
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

interface Extensions {
  basicConstraints: ParsedCertificate['basicConstraints'];
  keyUsage: number | undefined;
  extendedKeyUsage: string[] | undefined;
  subjectAltNames: ParsedCertificate['subjectAltNames'];
  unhandledCriticalExtensions: string[];
}

function parseBasicConstraints(reader: ByteReader, value: Uint8Array): ParsedCertificate['basicConstraints'] {
  const outer = readerFor(value);
  const r = innerReader(reader, expectDer(outer, DerTag.SEQUENCE, 'BasicConstraints'));
  let ca = false;
  let pathLength: number | undefined;
  if (!r.isEmpty() && r.peekU8() === DerTag.BOOLEAN) {
    const b = expectDer(r, DerTag.BOOLEAN, 'cA');
    if (b.length !== 1) r.fail('bad BOOLEAN');
    ca = b[0] !== 0;
  }
  if (!r.isEmpty()) pathLength = bytesToSmallInt(r, readUnsignedInteger(r));
  if (!r.isEmpty()) r.fail('trailing data in BasicConstraints');
  return { ca, pathLength };
}

function parseKeyUsage(reader: ByteReader, value: Uint8Array): number {
  const bits = expectDer(readerFor(value), DerTag.BIT_STRING, 'KeyUsage');
  if (bits.length < 1 || (bits[0] as number) > 7) reader.fail('bad KeyUsage BIT STRING');
  let usage = 0;
  // BIT STRING bit 0 is the most significant bit of the first content octet.
  for (let i = 1; i < bits.length && i < 3; i++) {
    const octet = bits[i] as number;
    for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >>> bit)) usage |= 1 << ((i - 1) * 8 + bit);
  }
  return usage;
}

function parseExtendedKeyUsage(reader: ByteReader, value: Uint8Array): string[] {
  const outer = readerFor(value);
  const r = innerReader(reader, expectDer(outer, DerTag.SEQUENCE, 'ExtKeyUsageSyntax'));
  const usages: string[] = [];
  for (let i = 0; i < 64 && !r.isEmpty(); i++) usages.push(readOid(r));
  if (!r.isEmpty() || usages.length === 0) r.fail('bad ExtKeyUsageSyntax');
  return usages;
}

function parseSubjectAltName(reader: ByteReader, value: Uint8Array): { dns: string[]; ip: Uint8Array[] } {
  const outer = readerFor(value);
  const r = innerReader(reader, expectDer(outer, DerTag.SEQUENCE, 'GeneralNames'));
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  for (let i = 0; i < 1024 && !r.isEmpty(); i++) {
    const name = readDer(r);
    // GeneralName (RFC 5280 §4.2.1.6): dNSName [2] IA5String, iPAddress [7] OCTET STRING.
    if (name.tag === 0x82) {
      for (let j = 0; j < name.content.length; j++) if ((name.content[j] as number) > 0x7e) r.fail('dNSName is not IA5String');
      dns.push(asciiString(name.content));
    } else if (name.tag === 0x87) {
      if (name.content.length !== 4 && name.content.length !== 16) r.fail('iPAddress is not 4 or 16 octets');
      ip.push(name.content);
    }
  }
  if (!r.isEmpty()) r.fail('too many subjectAltName entries');
  return { dns, ip };
}

function parseExtensions(reader: ByteReader, content: Uint8Array): Extensions {
  const outer = innerReader(reader, content);
  const r = innerReader(reader, expectDer(outer, DerTag.SEQUENCE, 'Extensions'));
  const result: Extensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    extendedKeyUsage: undefined,
    subjectAltNames: undefined,
    unhandledCriticalExtensions: [],
  };
  const seen = new Set<string>();
  for (let i = 0; i < 256 && !r.isEmpty(); i++) {
    const ext = innerReader(r, expectDer(r, DerTag.SEQUENCE, 'Extension'));
    const oid = readOid(ext);
    let critical = false;
    if (ext.peekU8() === DerTag.BOOLEAN) {
      const b = expectDer(ext, DerTag.BOOLEAN, 'critical');
      critical = b.length === 1 && b[0] !== 0;
    }
    const value = expectDer(ext, DerTag.OCTET_STRING, 'extnValue');
    if (!ext.isEmpty()) ext.fail('trailing data in Extension');
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) r.fail(`duplicate extension ${oid}`);
    seen.add(oid);
    switch (oid) {
      case X509Oid.BASIC_CONSTRAINTS:
        result.basicConstraints = parseBasicConstraints(r, value);
        break;
      case X509Oid.KEY_USAGE:
        result.keyUsage = parseKeyUsage(r, value);
        break;
      case X509Oid.EXT_KEY_USAGE:
        result.extendedKeyUsage = parseExtendedKeyUsage(r, value);
        break;
      case X509Oid.SUBJECT_ALT_NAME:
        result.subjectAltNames = parseSubjectAltName(r, value);
        break;
      default:
        if (critical && !HANDLED_EXTENSIONS.has(oid)) result.unhandledCriticalExtensions.push(oid);
    }
  }
  if (!r.isEmpty()) r.fail('too many extensions');
  return result;
}

function parse(der: Uint8Array): ParsedCertificate {
  const top = readerFor(der);
  const cert = innerReader(top, expectDer(top, DerTag.SEQUENCE, 'Certificate'));
  if (!top.isEmpty()) top.fail('trailing data after Certificate');
  const tbsElement = readDerWithRaw(cert);
  if (tbsElement.tag !== DerTag.SEQUENCE) cert.fail('expected tbsCertificate');
  const outerAlgorithm = readAlgorithmIdentifier(cert);
  const signatureBits = expectDer(cert, DerTag.BIT_STRING, 'signatureValue');
  if (signatureBits.length < 1 || signatureBits[0] !== 0) cert.fail('signatureValue has unused bits');
  if (!cert.isEmpty()) cert.fail('trailing data in Certificate');

  const tbs = innerReader(cert, tbsElement.content);
  let version = 1;
  if (tbs.peekU8() === DerTag.CONTEXT_0) {
    const v = innerReader(tbs, readDer(tbs).content);
    version = bytesToSmallInt(v, readUnsignedInteger(v)) + 1;
    if (version < 2 || version > 3) tbs.fail('bad certificate version');
  }
  const serialNumber = expectDer(tbs, DerTag.INTEGER, 'serialNumber');
  const innerAlgorithm = readAlgorithmIdentifier(tbs);
  // RFC 5280 §4.1.1.2: the signature field in tbsCertificate MUST match signatureAlgorithm.
  if (!bytesEqual(innerAlgorithm.raw, outerAlgorithm.raw)) tbs.fail('signature algorithm mismatch');
  const issuer = readDerWithRaw(tbs);
  if (issuer.tag !== DerTag.SEQUENCE) tbs.fail('expected issuer Name');
  const validity = innerReader(tbs, expectDer(tbs, DerTag.SEQUENCE, 'Validity'));
  const notBeforeMs = readTime(validity);
  const notAfterMs = readTime(validity);
  const subject = readDerWithRaw(tbs);
  if (subject.tag !== DerTag.SEQUENCE) tbs.fail('expected subject Name');
  const spki = readDerWithRaw(tbs);
  if (spki.tag !== DerTag.SEQUENCE) tbs.fail('expected SubjectPublicKeyInfo');
  let extensions: Extensions | undefined;
  for (let i = 0; i < 3 && !tbs.isEmpty(); i++) {
    const field = readDer(tbs);
    // [1] issuerUniqueID, [2] subjectUniqueID (implicit, primitive 0x81/0x82) are skipped.
    if (field.tag === DerTag.CONTEXT_3) {
      if (version !== 3) tbs.fail('extensions in a pre-v3 certificate');
      extensions = parseExtensions(tbs, field.content);
    } else if (field.tag !== 0x81 && field.tag !== 0x82 && field.tag !== DerTag.CONTEXT_1 && field.tag !== DerTag.CONTEXT_2) {
      tbs.fail('unexpected field in tbsCertificate');
    }
  }
  if (!tbs.isEmpty()) tbs.fail('trailing data in tbsCertificate');

  return {
    der,
    tbs: tbsElement.raw,
    version,
    serialNumber,
    signatureAlgorithm: signatureAlgorithmOf(cert, outerAlgorithm.oid, outerAlgorithm.params),
    signatureAlgorithmOid: outerAlgorithm.oid,
    signature: signatureBits.subarray(1),
    issuer: issuer.raw,
    subject: subject.raw,
    notBeforeMs,
    notAfterMs,
    spki: spki.raw,
    basicConstraints: extensions?.basicConstraints,
    keyUsage: extensions?.keyUsage,
    extendedKeyUsage: extensions?.extendedKeyUsage,
    subjectAltNames: extensions?.subjectAltNames,
    unhandledCriticalExtensions: extensions?.unhandledCriticalExtensions ?? [],
  };
}

function asciiString(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parses a DER certificate; throws TlsAlertError(bad_certificate) when malformed. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return parse(der);
  } catch (error) {
    if (TlsAlertError.isTlsAlert(error)) throw error;
    if (QuicError.is(error)) badCertificate(`malformed certificate: ${error.reason}`);
    throw error;
  }
}

/** Dotted OID of an OBJECT IDENTIFIER content (re-exported for diagnostics). */
export { oidToString };
