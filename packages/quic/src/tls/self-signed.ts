/**
 * Self-signed certificates for development, tests and WebTransport's serverCertificateHashes:
 * ECDSA P-256, valid 13 days by default (the W3C API allows at most two weeks), with
 * keyUsage digitalSignature, extendedKeyUsage serverAuth and subjectAltName entries.
 *
 * Generation is asynchronous (WebCrypto through @peculiar/x509); it happens at setup, not in a
 * handshake. The validity period starts from `nowMs`, the wall clock unless given (tests pass
 * a fixed time).
 */

import type { webcrypto } from 'node:crypto';
import { derToPem } from '../crypto/der.js';
import { parseIpAddress } from './certificate-names.js';
import { loadX509 } from './x509-loader.js';

/** Options of `generateSelfSignedCertificate`; all optional. */
export interface SelfSignedOptions {
  /** Wall-clock ms since the epoch (default: now); the validity period starts one minute before (clock skew). */
  nowMs?: number;
  /** DNS names and IP literals for subjectAltName; default localhost, 127.0.0.1, ::1. */
  hostnames?: string[];
  /** Validity in days; default 13 (WebTransport certificate hashes need <= 14). */
  days?: number;
  keyType?: 'ecdsa-p256';
}

/** A generated certificate and its key (PEM), the certificate's DER and its SHA-256. */
export interface SelfSignedCertificate {
  certificatePem: string;
  /** PKCS#8. */
  privateKeyPem: string;
  certificateDer: Uint8Array;
  /** SHA-256 of `certificateDer`: the serverCertificateHashes value. */
  sha256: Uint8Array;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CLOCK_SKEW_MS = 60 * 1000;

/** Generates a key pair and a self-signed certificate for `hostnames`. */
export async function generateSelfSignedCertificate(options: SelfSignedOptions = {}): Promise<SelfSignedCertificate> {
  const where = 'generateSelfSignedCertificate';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  const nowMs = options.nowMs ?? Date.now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new TypeError(`${where}: options.nowMs must be milliseconds since the epoch, got ${String(nowMs)}`);
  const hostnames = options.hostnames ?? ['localhost', '127.0.0.1', '::1'];
  if (!Array.isArray(hostnames) || !hostnames.every((h) => typeof h === 'string' && h.length > 0)) {
    throw new TypeError(`${where}: options.hostnames must be an array of host names and IP addresses`);
  }
  const days = options.days ?? 13;
  if (typeof days !== 'number') throw new TypeError(`${where}: options.days must be a number, got ${String(days)}`);
  if (hostnames.length === 0) throw new RangeError('at least one host name is required');
  if (!(days > 0)) throw new RangeError('days must be positive');
  if ((options.keyType ?? 'ecdsa-p256') !== 'ecdsa-p256') throw new RangeError(`unsupported key type ${options.keyType}`);

  const x509 = await loadX509();
  const subtle = globalThis.crypto.subtle;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;

  // X.509 times have one-second resolution: keep whole seconds so the period is exactly `days`.
  const notBeforeMs = Math.floor((nowMs - CLOCK_SKEW_MS) / 1000) * 1000;
  const notAfterMs = notBeforeMs + Math.round(days * DAY_MS);
  const serial = globalThis.crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] as number) & 0x7f; // RFC 5280 §4.1.2.2: a positive integer
  serial[0] = (serial[0] as number) | 0x01; // and no leading zero octet

  const altNames = hostnames.map((name) =>
    parseIpAddress(name) !== undefined
      ? { type: 'ip' as const, value: name.replace(/^\[|\]$/g, '') }
      : { type: 'dns' as const, value: name },
  );
  const commonName = (hostnames[0] as string).replace(/[,=+<>#;"\\]/g, '');
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Array.from(serial, (b) => b.toString(16).padStart(2, '0')).join(''),
    name: `CN=${commonName}`,
    notBefore: new Date(notBeforeMs),
    notAfter: new Date(notAfterMs),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(altNames, false),
    ],
  });

  const certificateDer = new Uint8Array(certificate.rawData);
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  const sha256 = new Uint8Array(await subtle.digest('SHA-256', certificateDer));
  return {
    certificatePem: derToPem(certificateDer, 'CERTIFICATE'),
    privateKeyPem: derToPem(pkcs8, 'PRIVATE KEY'),
    certificateDer,
    sha256,
  };
}
