/**
 * The fastest symmetric primitive per operation on Node, as measured on the 2-vCPU build
 * machine (`pnpm bench -- primitives` and `pnpm bench -- packet`, best of 4 slices, Node 20):
 *
 * | operation                          | node:crypto   | @noble        | own JS  | chosen |
 * |------------------------------------|---------------|---------------|---------|--------|
 * | protect 1,200 B 1-RTT, AES-128-GCM | 163k/s        | 25k/s         | —       | node   |
 * | protect, ChaCha20-Poly1305         | 113k/s        | 50k/s         | —       | node   |
 * | AES-128 header protection mask     | 1.1-1.2M/s    | 3-4M/s        | 6-8M/s  | own    |
 * | ChaCha20 header protection mask    | 0.46M/s       | 0.76M/s       | 4.9M/s  | own    |
 * | SHA-256 of 200 B / HMAC-SHA256     | 0.78M / 0.44M | 0.39M / 0.18M | —       | node   |
 * | HKDF-Expand SHA-256, 32 B          | 0.43M/s       | 0.25M/s       | —       | node   |
 *
 * With these choices a whole protect runs at ~185k packets/s for AES-128-GCM and ChaCha20 alike
 * (unprotect ~204k/s and ~177k/s). AES header protection is our own one-block function
 * (aes-block.ts: key expanded once, 4 KB of tables, nothing allocated; 120-165 ns per mask against
 * noble's 250-320 ns and a reused node ECB cipher's 830-920 ns, CPU time, 2026-12 on a loaded
 * machine); the ChaCha20 mask likewise (chacha20-block.ts), which skips a stream cipher's per-call
 * set-up.
 *
 * The AEAD stays on node:crypto: a packet costs ~6 µs to seal and ~5 µs to open there, of which
 * 1.9-2.7 µs is `createCipheriv` (a GCM cipher takes no new nonce, so one per packet), against
 * 17-34 µs for noble's ChaCha20-Poly1305 and more for its AES-GCM; node's own ChaCha20-Poly1305
 * is slower than its AES-GCM (9-12 µs), so preferring it when a client offers both would not pay.
 */

import { ChaCha20HeaderProtection } from './chacha20-block.js';
import { AesHeaderProtection } from './aes-block.js';
import { nodeSymmetric } from './node.js';
import type { AeadAlgorithm, HeaderProtection, SymmetricCrypto } from './provider.js';

/** node:crypto AEADs, hashes and HKDF, with JavaScript header protection. */
export const autoSymmetric: SymmetricCrypto = {
  name: 'auto',
  createAead: nodeSymmetric.createAead,
  createHeaderProtection(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtection {
    if (algorithm === 'chacha20-poly1305') return new ChaCha20HeaderProtection(hpKey);
    return new AesHeaderProtection(algorithm, hpKey);
  },
  hash: nodeSymmetric.hash,
  hmac: nodeSymmetric.hmac,
  hkdfExtract: nodeSymmetric.hkdfExtract,
  hkdfExpand: nodeSymmetric.hkdfExpand,
  randomBytes: nodeSymmetric.randomBytes,
};
