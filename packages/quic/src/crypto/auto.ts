/**
 * The fastest symmetric primitive per operation on Node, as measured on the 2-vCPU build
 * machine (`pnpm bench -- primitives` and `pnpm bench -- packet`, best of 4 slices, Node 20):
 *
 * | operation                          | node:crypto   | @noble        | own JS  | chosen |
 * |------------------------------------|---------------|---------------|---------|--------|
 * | protect 1,200 B 1-RTT, AES-128-GCM | 163k/s        | 25k/s         | —       | node   |
 * | protect, ChaCha20-Poly1305         | 113k/s        | 50k/s         | —       | node   |
 * | AES-128 header protection mask     | 1.5M/s        | 4.8M/s        | —       | noble  |
 * | ChaCha20 header protection mask    | 0.46M/s       | 0.76M/s       | 4.9M/s  | own    |
 * | SHA-256 of 200 B / HMAC-SHA256     | 0.78M / 0.44M | 0.39M / 0.18M | —       | node   |
 * | HKDF-Expand SHA-256, 32 B          | 0.43M/s       | 0.25M/s       | —       | node   |
 *
 * With these choices a whole protect runs at ~185k packets/s for AES-128-GCM and ChaCha20 alike
 * (unprotect ~204k/s and ~177k/s). Noble's AES header protection wins because its key schedule
 * is expanded once and one block costs less than a call into node:crypto; the ChaCha20 mask uses
 * our own one-block function (chacha20-block.ts), which skips a stream cipher's per-call set-up.
 */

import { ChaCha20HeaderProtection } from './chacha20-block.js';
import { nobleSymmetric } from './noble.js';
import { nodeSymmetric } from './node.js';
import type { AeadAlgorithm, HeaderProtection, SymmetricCrypto } from './provider.js';

/** node:crypto AEADs, hashes and HKDF, with JavaScript header protection. */
export const autoSymmetric: SymmetricCrypto = {
  name: 'auto',
  createAead: nodeSymmetric.createAead,
  createHeaderProtection(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtection {
    if (algorithm === 'chacha20-poly1305') return new ChaCha20HeaderProtection(hpKey);
    return nobleSymmetric.createHeaderProtection(algorithm, hpKey);
  },
  hash: nodeSymmetric.hash,
  hmac: nodeSymmetric.hmac,
  hkdfExtract: nodeSymmetric.hkdfExtract,
  hkdfExpand: nodeSymmetric.hkdfExpand,
  randomBytes: nodeSymmetric.randomBytes,
};
