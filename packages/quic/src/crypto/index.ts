/**
 * The three crypto providers (see provider.ts): `noble` (pure JavaScript), `node` (node:crypto)
 * and `auto`, which takes per operation whichever was faster here (`pnpm bench`): node:crypto's
 * AEAD, key exchange and signatures, noble's cached-key block cipher for header protection.
 */

import { autoSymmetric } from './auto.js';
import { nobleAsymmetric } from './noble-asymmetric.js';
import { nobleSymmetric } from './noble.js';
import { nodeAsymmetric } from './node-asymmetric.js';
import { nodeSymmetric } from './node.js';
import type { AsymmetricCrypto, CryptoProvider, CryptoProviderName, SymmetricCrypto } from './provider.js';

function compose(symmetric: SymmetricCrypto, asymmetric: AsymmetricCrypto): CryptoProvider {
  return Object.freeze({ ...asymmetric, ...symmetric });
}

const providers: Record<CryptoProviderName, CryptoProvider> = {
  noble: compose(nobleSymmetric, nobleAsymmetric),
  node: compose(nodeSymmetric, nodeAsymmetric),
  auto: compose(autoSymmetric, nodeAsymmetric),
};

/** A crypto provider by name; `auto` is the default on Node. */
export function getCryptoProvider(name: CryptoProviderName = 'auto'): CryptoProvider {
  return providers[name];
}
