/**
 * The per-operation figures behind `autoSymmetric`'s choices (packages/quic/src/crypto/auto.ts):
 * header protection masks, hash, HMAC and HKDF for each provider, plus our own ChaCha20 block.
 *
 * Each case warms up, then runs for half of BENCH_TIME_MS (default 500 ms) in 4 slices and
 * reports the fastest slice; the providers of one operation run back to back.
 */

import { autoSymmetric } from '../../packages/quic/src/crypto/auto.js';
import { ChaCha20HeaderProtection } from '../../packages/quic/src/crypto/chacha20-block.js';
import { nobleSymmetric } from '../../packages/quic/src/crypto/noble.js';
import { nodeSymmetric } from '../../packages/quic/src/crypto/node.js';
import type { HeaderProtection, SymmetricCrypto } from '../../packages/quic/src/crypto/provider.js';

const RUN_MS = Number(process.env.BENCH_TIME_MS ?? 1000) / 2;
const WARMUP_MS = Math.min(150, RUN_MS / 4);
const BATCH = 64;
const ROUNDS = 4;

const PROVIDERS: readonly SymmetricCrypto[] = [nobleSymmetric, nodeSymmetric, autoSymmetric];

function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function measure(iteration: (i: number) => void, ms: number): number {
  let count = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < BATCH; i++) iteration(count + i);
    count += BATCH;
    now = performance.now();
  } while (now - start < ms);
  return count / ((now - start) / 1000);
}

/**
 * The best of ROUNDS equal slices of `ms`: on a shared machine other processes only ever slow
 * a slice down, so the fastest slice is the closest to the code's own speed.
 */
function bestOf(iteration: (i: number) => void, ms: number): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) best = Math.max(best, measure(iteration, ms / ROUNDS));
  return best;
}

function rate(iteration: () => void): string {
  measure(iteration, WARMUP_MS);
  const perSecond = bestOf(iteration, RUN_MS);
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`;
}

interface Operation {
  name: string;
  /** One iteration per provider; `undefined` when the provider has nothing to measure. */
  make(provider: SymmetricCrypto): () => void;
  /** An extra column: our own implementation where there is one. */
  own?: () => () => void;
}

function maskIteration(hp: HeaderProtection): () => void {
  const samples = Array.from({ length: 16 }, (_, i) => filler(16, 100 + i));
  const out = new Uint8Array(5);
  let i = 0;
  return () => hp.mask(samples[i++ & 15]!, out);
}

const data200 = filler(200, 7);
const key32 = filler(32, 8);
const info = filler(20, 9);
const prk48 = filler(48, 3);

const OPERATIONS: readonly Operation[] = [
  {
    name: 'hp mask aes-128',
    make: (p) => maskIteration(p.createHeaderProtection('aes-128-gcm', key32.subarray(0, 16))),
  },
  {
    name: 'hp mask aes-256',
    make: (p) => maskIteration(p.createHeaderProtection('aes-256-gcm', key32)),
  },
  {
    name: 'hp mask chacha20',
    make: (p) => maskIteration(p.createHeaderProtection('chacha20-poly1305', key32)),
    own: () => maskIteration(new ChaCha20HeaderProtection(key32)),
  },
  { name: 'sha256 200 B', make: (p) => () => void p.hash('sha256', data200) },
  { name: 'sha384 200 B', make: (p) => () => void p.hash('sha384', data200) },
  { name: 'hmac-sha256 200 B', make: (p) => () => void p.hmac('sha256', key32, data200) },
  { name: 'hkdf-extract sha256', make: (p) => () => void p.hkdfExtract('sha256', key32, data200.subarray(0, 32)) },
  { name: 'hkdf-expand sha256 32 B', make: (p) => () => void p.hkdfExpand('sha256', key32, info, 32) },
  { name: 'hkdf-expand sha384 48 B', make: (p) => () => void p.hkdfExpand('sha384', prk48, info, 48) },
];

export default async function run(filter?: string): Promise<void> {
  const words = filter ? filter.split(/\s+/) : [];
  console.log(`symmetric primitives: ${RUN_MS} ms per case after ${WARMUP_MS.toFixed(0)} ms warm-up`);
  const widths = [26, 14, 14, 14, 14];
  console.log(['operation', ...PROVIDERS.map((p) => p.name), 'own JS'].map((h, i) => h.padEnd(widths[i]!)).join(''));
  for (const op of OPERATIONS) {
    if (!words.every((w) => op.name.includes(w))) continue;
    const cells = PROVIDERS.map((p) => rate(op.make(p)));
    cells.push(op.own ? rate(op.own()) : '-');
    console.log([op.name, ...cells].map((c, i) => c.padEnd(widths[i]!)).join(''));
    await new Promise((resolve) => setImmediate(resolve));
  }
}
