/**
 * Checks the peer's certificate chain according to the configured verification mode. The
 * CertificateVerify signature is checked separately and always (peer-auth.ts).
 */

import type { CryptoProvider } from '../crypto/provider.js';
import type { ServerVerification } from './engine-api.js';
import { TlsAlert, tlsFail } from './messages/tls-reader.js';

/** Throws a TlsAlertError when the chain is not acceptable. */
export function checkPeerChain(
  crypto: CryptoProvider,
  chain: readonly Uint8Array[],
  verification: ServerVerification,
  nowMs: number,
  serverName: string | undefined,
): void {
  void nowMs;
  void serverName;
  switch (verification.mode) {
    case 'none':
      return;
    case 'certificate-hashes': {
      const digest = crypto.hash('sha256', chain[0]!);
      if (!verification.hashes.some((h) => sameBytes(h, digest))) tlsFail(TlsAlert.BAD_CERTIFICATE, 'certificate hash not allowed');
      return;
    }
    case 'chain':
      tlsFail(TlsAlert.BAD_CERTIFICATE, 'chain verification not wired yet');
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
