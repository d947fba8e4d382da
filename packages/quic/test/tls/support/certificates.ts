/**
 * Test certificates made with WebCrypto (node:crypto) and @peculiar/x509: ECDSA P-256 leaves,
 * self-signed or issued by a test CA, with chosen names and validity windows, in the two shapes
 * the tests need — DER + PKCS#8 for our engine, PEM for node:tls.
 */

import './reflect-metadata.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { pemToDer } from '../../../src/crypto/der.js';
import { generateSelfSignedCertificate } from '../../../src/tls/self-signed.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Key types for test certificates: WebCrypto generation and certificate signing parameters. */
export type TestKeyType = 'p256' | 'p384' | 'rsa2048' | 'ed25519';

const KEY_TYPES: Record<TestKeyType, { generate: object; sign: object }> = {
  p256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  p384: { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  rsa2048: {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
  ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

/** A certificate with its private key. */
export interface TestCertificate {
  /** Certificate DER. */
  der: Uint8Array;
  /** Certificate PEM (node:tls `cert` / `ca`). */
  pem: string;
  /** Private key PKCS#8 DER (our providers' `importSigningKey`). */
  keyPkcs8: Uint8Array;
  /** Private key PKCS#8 PEM (node:tls `key`). */
  keyPem: string;
  /** WebCrypto key pair, to issue further certificates with (absent for `selfSigned`). */
  keys?: CryptoKeyPair;
  subject: string;
  keyType: TestKeyType;
}

/** Validity that contains both the real clock of the machine and TEST_NOW_MS. */
export const DEFAULT_NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
export const DEFAULT_NOT_AFTER = new Date('2035-01-01T00:00:00Z');
/** The virtual wall clock our engines run on in these tests (inside the default validity). */
export const TEST_NOW_MS = Date.UTC(2026, 5, 1);

export interface CertificateOptions {
  /** DNS names for subjectAltName (default `localhost`). */
  dnsNames?: string[];
  /** IP addresses for subjectAltName (default 127.0.0.1). */
  ipAddresses?: string[];
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Issue with this CA's key instead of self-signing. */
  issuer?: TestCertificate;
  /** Make a CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  /** Extended key usages (default serverAuth + clientAuth for leaves). */
  extendedKeyUsages?: string[];
  /** Key type (default ECDSA P-256). */
  keyType?: TestKeyType;
}

let serial = 1;

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Makes an ECDSA P-256 certificate (self-signed unless `issuer` is given). */
export async function makeCertificate(options: CertificateOptions = {}): Promise<TestCertificate> {
  const keyType = KEY_TYPES[options.keyType ?? 'p256'];
  const keys = (await webcrypto.subtle.generateKey(keyType.generate as never, true, ['sign', 'verify'])) as CryptoKeyPair;
  // Distinct CA names: a chain must fail for want of a trusted issuer, not by a name collision.
  const commonName = options.commonName ?? (options.ca ? `purequic test CA ${serial}` : 'purequic test');
  const subject = `CN=${commonName}`;
  const extensions: x509.Extension[] = [];
  if (options.ca) {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    extensions.push(
      new x509.ExtendedKeyUsageExtension(options.extendedKeyUsages ?? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    );
    const names: x509.JsonGeneralName[] = [
      ...(options.dnsNames ?? ['localhost']).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? ['127.0.0.1']).map((value) => ({ type: 'ip' as const, value })),
    ];
    extensions.push(new x509.SubjectAlternativeNameExtension(names));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const common = {
    serialNumber: (0x1000 + serial++).toString(16),
    notBefore: options.notBefore ?? DEFAULT_NOT_BEFORE,
    notAfter: options.notAfter ?? DEFAULT_NOT_AFTER,
    // The issuer's key type decides the certificate's signature algorithm.
    signingAlgorithm: (options.issuer ? KEY_TYPES[options.issuer.keyType] : keyType).sign as never,
    extensions,
  };
  let cert: x509.X509Certificate;
  if (options.issuer) {
    const issuerKeys = options.issuer.keys;
    if (issuerKeys === undefined) throw new Error('issuer has no key pair to sign with');
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey));
    cert = await x509.X509CertificateGenerator.create({
      ...common,
      subject,
      issuer: options.issuer.subject,
      publicKey: keys.publicKey,
      signingKey: issuerKeys.privateKey,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, keys });
  }
  const der = new Uint8Array(cert.rawData);
  const keyPkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { der, pem: toPem('CERTIFICATE', der), keyPkcs8, keyPem: toPem('PRIVATE KEY', keyPkcs8), keys, subject, keyType: options.keyType ?? 'p256' };
}

/**
 * The production generator (tls/self-signed.ts: ECDSA P-256, 13 days from `nowMs`) in the shape
 * the tests use. `nowMs` is the real clock when OpenSSL checks the certificate.
 */
export async function selfSigned(nowMs: number, hostnames?: string[]): Promise<TestCertificate> {
  const generated = await generateSelfSignedCertificate({ nowMs, ...(hostnames ? { hostnames } : {}) });
  const keyPkcs8 = pemToDer(generated.privateKeyPem, 'PRIVATE KEY');
  return {
    der: generated.certificateDer,
    pem: generated.certificatePem,
    keyPkcs8,
    keyPem: generated.privateKeyPem,
    subject: `CN=${hostnames?.[0] ?? 'localhost'}`,
    keyType: 'p256',
  };
}

/** A CA and a leaf it issued (names/validity of the leaf from `leaf`). */
export async function makeChain(leaf: CertificateOptions = {}): Promise<{ ca: TestCertificate; leaf: TestCertificate }> {
  const ca = await makeCertificate({ ca: true });
  return { ca, leaf: await makeCertificate({ ...leaf, issuer: ca }) };
}
