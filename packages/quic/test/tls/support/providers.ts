/**
 * TEST-ONLY: the three crypto providers as whole CryptoProviders (symmetric + asymmetric), by name.
 * `auto` pairs the auto symmetric choice with node:crypto's asymmetric side (the faster one for
 * X25519 and ECDSA on Node).
 */

import { autoSymmetric } from '../../../src/crypto/auto.js';
import { nobleAsymmetric } from '../../../src/crypto/noble-asymmetric.js';
import { nobleSymmetric } from '../../../src/crypto/noble.js';
import { nodeAsymmetric } from '../../../src/crypto/node-asymmetric.js';
import { nodeSymmetric } from '../../../src/crypto/node.js';
import type { CryptoProvider, CryptoProviderName } from '../../../src/crypto/provider.js';

export const providers: Record<CryptoProviderName, CryptoProvider> = {
  noble: { ...nobleSymmetric, ...nobleAsymmetric },
  node: { ...nodeSymmetric, ...nodeAsymmetric },
  auto: { ...autoSymmetric, ...nodeAsymmetric },
};
