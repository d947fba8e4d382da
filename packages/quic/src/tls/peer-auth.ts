/**
 * Authenticating the peer: its certificate chain (through `tls/certificate.ts`) and, always, the
 * CertificateVerify signature over the transcript (RFC 8446 §4.4.3), plus the choice of our own
 * signature scheme.
 */

import { ByteReader } from '../codec/reader.js';
import { readDer } from '../crypto/der.js';
import type { CryptoProvider, SignatureSchemeName, SigningKey } from '../crypto/provider.js';
import { signatureSchemeCode, signatureSchemeFromCode } from '../crypto/signature-schemes.js';
import { cryptoErrorCode } from '../errors.js';
import type { CertificateVerify } from './messages/cert-verify.js';
import { certificateVerifyContent } from './messages/cert-verify.js';
import { TlsAlert, tlsFail } from './messages/tls-reader.js';

/**
 * The DER SubjectPublicKeyInfo of a certificate (RFC 5280 §4.1): the 6th or 7th element of
 * tbsCertificate, depending on whether the explicit [0] version is present.
 */
export function certificateSpki(certificate: Uint8Array): Uint8Array {
  const r = new ByteReader(certificate, 0, certificate.length, cryptoErrorCode(TlsAlert.BAD_CERTIFICATE));
  const cert = readDer(r);
  if (cert.tag !== 0x30) r.fail('certificate is not a SEQUENCE');
  const certReader = new ByteReader(cert.content, 0, cert.content.length, r.errorCode);
  const tbs = readDer(certReader);
  if (tbs.tag !== 0x30) r.fail('tbsCertificate is not a SEQUENCE');
  const t = new ByteReader(tbs.content, 0, tbs.content.length, r.errorCode);
  if (t.peekU8() === 0xa0) readDer(t); // version
  for (let i = 0; i < 5; i++) readDer(t); // serialNumber, signature, issuer, validity, subject
  const start = t.offset;
  const spki = readDer(t);
  if (spki.tag !== 0x30) r.fail('subjectPublicKeyInfo is not a SEQUENCE');
  return tbs.content.subarray(start, t.offset);
}

/** Our scheme for CertificateVerify: the first of the key's schemes the peer accepts (§4.4.3). */
export function chooseSignatureScheme(key: SigningKey, peerSchemes: readonly number[]): SignatureSchemeName | undefined {
  for (const scheme of key.schemes) if (peerSchemes.includes(signatureSchemeCode(scheme))) return scheme;
  return undefined;
}

/** Our CertificateVerify for the transcript so far. */
export function signCertificateVerify(
  crypto: CryptoProvider,
  role: 'client' | 'server',
  key: SigningKey,
  scheme: SignatureSchemeName,
  transcriptHash: Uint8Array,
): CertificateVerify {
  const signature = crypto.sign(key, scheme, certificateVerifyContent(role, transcriptHash));
  return { scheme: signatureSchemeCode(scheme), signature };
}

/**
 * Checks the peer's CertificateVerify. A scheme we did not offer is illegal_parameter (§4.4.3:
 * "MUST be one offered in signature_algorithms"); a bad signature is decrypt_error (§4.4.3).
 */
export function verifyCertificateVerify(
  crypto: CryptoProvider,
  peerRole: 'client' | 'server',
  leafCertificate: Uint8Array,
  cv: CertificateVerify,
  offeredSchemes: readonly number[],
  transcriptHash: Uint8Array,
): void {
  const scheme = signatureSchemeFromCode(cv.scheme);
  if (scheme === undefined || !offeredSchemes.includes(cv.scheme)) {
    tlsFail(TlsAlert.ILLEGAL_PARAMETER, `CertificateVerify scheme 0x${cv.scheme.toString(16)} was not offered`);
  }
  const spki = certificateSpki(leafCertificate);
  if (!crypto.verify(spki, scheme, certificateVerifyContent(peerRole, transcriptHash), cv.signature)) {
    tlsFail(TlsAlert.DECRYPT_ERROR, 'CertificateVerify signature does not verify');
  }
}

