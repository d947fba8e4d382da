/**
 * The fastest symmetric primitive per operation on Node, as measured on the 2-vCPU build
 * machine (`pnpm bench -- packet-protection` and the figures in node.ts / noble.ts):
 *
 * | operation                     | node:crypto   | @noble        | own JS     | chosen |
 * |-------------------------------|---------------|---------------|------------|--------|
 * | AES-128-GCM seal, 1,200 B     | ~220k/s       | ~20k/s        | —          | node   |
 * | ChaCha20-Poly1305 seal        | ~190k/s       | ~38k/s        | —          | node   |
 * | AES header protection mask    | ~1.0M/s       | ~4.6M/s       | —          | noble  |
 * | ChaCha20 header protection    | ~0.35M/s      | ~0.8M/s       | ~8.9M/s    | own    |
 * | SHA-256 (200 B) / HMAC        | 0.80M / 0.47M | 0.40M / 0.18M | —          | node   |
 * | HKDF-Expand (32 B)            | ~0.43M/s      | ~0.23M/s      | —          | node   |
 *
 * Noble's AES header protection wins because its key schedule is expanded once and a single
 * block costs less than one call into node:crypto; the ChaCha20 mask uses our own one-block
 * function (chacha20-block.ts), which skips the per-call set-up of a general stream cipher.
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
