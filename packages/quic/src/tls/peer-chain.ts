/**
 * Checks the peer's certificate chain according to the configured verification mode, through
 * `certificate.ts`. The CertificateVerify signature is checked separately and always (peer-auth.ts).
 */

import type { CryptoProvider } from '../crypto/provider.js';
import { verifyCertificateChain, verifyCertificateHashes } from './certificate.js';
import type { ServerVerification } from './engine-api.js';

/** Throws a TlsAlertError (bad_certificate, unknown_ca, certificate_expired, ...) when the chain is not acceptable. */
export function checkPeerChain(
  crypto: CryptoProvider,
  chain: readonly Uint8Array[],
  verification: ServerVerification,
  nowMs: number,
  hostname: string | undefined,
  purpose: 'server' | 'client' = 'server',
): void {
  switch (verification.mode) {
    case 'none':
      return;
    case 'certificate-hashes':
      verifyCertificateHashes({ leaf: chain[0]!, hashes: verification.hashes, nowMs, crypto });
      return;
    case 'chain': {
      const options = { chain, trustAnchors: verification.trustAnchors, nowMs, crypto, purpose };
      verifyCertificateChain(hostname === undefined ? options : { ...options, hostname });
      return;
    }
  }
}
