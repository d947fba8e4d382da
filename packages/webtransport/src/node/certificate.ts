/**
 * Certificates for WebTransport with `serverCertificateHashes` (W3C WebTransport §4.4 "custom
 * certificate requirements"): ECDSA P-256, valid for less than 14 days. 13 days here.
 */

import { generateSelfSignedCertificate } from '@purequic/quic';

export interface WebTransportCertificate {
  certificatePem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  certificateDer: Uint8Array;
  /** SHA-256 of the DER certificate: `serverCertificateHashes: [{ algorithm: 'sha-256', value: sha256 }]`. */
  sha256: Uint8Array;
  /** The same hash in hex and base64 (to paste into a page). */
  sha256Hex: string;
  sha256Base64: string;
  /** The validity period's end. */
  notAfter: Date;
}

/**
 * Generates a self-signed ECDSA P-256 certificate valid `days` days (default 13, at most 13:
 * browsers refuse 14 and more) for `hostnames` (default localhost, 127.0.0.1, ::1).
 */
export async function generateWebTransportCertificate(options: { hostnames?: string[]; days?: number } = {}): Promise<WebTransportCertificate> {
  const days = options.days ?? 13;
  if (!(days > 0 && days <= 13)) throw new RangeError('WebTransport certificate hashes need a validity under 14 days (1-13)');
  const nowMs = Date.now();
  const c = await generateSelfSignedCertificate({ nowMs, hostnames: options.hostnames, days, keyType: 'ecdsa-p256' });
  return {
    certificatePem: c.certificatePem,
    privateKeyPem: c.privateKeyPem,
    certificateDer: c.certificateDer,
    sha256: c.sha256,
    sha256Hex: Buffer.from(c.sha256).toString('hex'),
    sha256Base64: Buffer.from(c.sha256).toString('base64'),
    notAfter: new Date(nowMs - 60_000 + days * 86_400_000),
  };
}
