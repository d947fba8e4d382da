/** The three SymmetricCrypto implementations every crypto test runs against. */

import { autoSymmetric } from '../../src/crypto/auto.js';
import { nobleSymmetric } from '../../src/crypto/noble.js';
import { nodeSymmetric } from '../../src/crypto/node.js';
import type { SymmetricCrypto } from '../../src/crypto/provider.js';

export const SYMMETRIC_PROVIDERS: readonly SymmetricCrypto[] = [nobleSymmetric, nodeSymmetric, autoSymmetric];

export { autoSymmetric, nobleSymmetric, nodeSymmetric };
