/**
 * TEST-ONLY: our client and server engines with test defaults — seeded randomness, the virtual
 * wall clock TEST_NOW_MS, a test ALPN, no certificate verification unless asked.
 */

import type { CryptoProvider } from '../../../src/crypto/provider.js';
import { createTlsClient } from '../../../src/tls/client.js';
import type { TlsClientOptions, TlsEngine, TlsServerOptions } from '../../../src/tls/engine-api.js';
import { createTlsServer } from '../../../src/tls/server.js';
import type { TestCertificate } from './certificates.js';
import { TEST_NOW_MS } from './certificates.js';
import { seededRandom } from './harness.js';
import { providers } from './providers.js';

export const TEST_ALPN = 'purequic-test';

let seed = 0x5eed;

export type ClientOverrides = Partial<TlsClientOptions>;
export type ServerOverrides = Partial<TlsServerOptions>;

export function ourClient(overrides: ClientOverrides = {}): TlsEngine {
  const crypto: CryptoProvider = overrides.crypto ?? providers.auto;
  return createTlsClient({
    crypto,
    random: seededRandom(seed++),
    now: () => TEST_NOW_MS,
    alpnProtocols: [TEST_ALPN],
    verification: { mode: 'none' },
    ...overrides,
  });
}

export function ourServer(certificate: TestCertificate, overrides: ServerOverrides = {}): TlsEngine {
  const crypto: CryptoProvider = overrides.crypto ?? providers.auto;
  return createTlsServer({
    crypto,
    random: seededRandom(seed++),
    now: () => TEST_NOW_MS,
    alpnProtocols: [TEST_ALPN],
    certificateChain: [certificate.der],
    key: crypto.importSigningKey(certificate.keyPkcs8),
    ...overrides,
  });
}
