/** Shared helpers of the QPACK tests: hex, vector files, a seeded PRNG, byte chunking. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const vectorDir = fileURLToPath(new URL('../../../../test-vectors/', import.meta.url));

/** Loads a JSON vector file from test-vectors/; it must name its source section. */
export function loadVectors<T extends { source: string }>(name: string): T {
  const data = JSON.parse(readFileSync(vectorDir + name, 'utf8')) as T;
  if (typeof data.source !== 'string' || data.source.length === 0) throw new Error(`${name} has no source`);
  return data;
}

export function toHex(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

/** A small seeded PRNG (xorshift32 seeded through splitmix32); reproducible, not cryptographic. */
export class Rng {
  #s: number;
  constructor(readonly seed: number) {
    let z = (seed + 0x9e3779b9) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.#s = (z ^ (z >>> 16)) >>> 0 || 1;
  }
  u32(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.#s = x >>> 0);
  }
  /** Uniform in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Seed from the environment variable `name` (decimal or 0x hex), else `fallback`. */
export function seedFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v) >>> 0;
}

/** Splits `data` into random chunks of 1..maxChunk bytes (subarrays). */
export function chunks(rng: Rng, data: Uint8Array, maxChunk: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < data.length; ) {
    const n = Math.min(data.length - p, 1 + rng.int(maxChunk));
    out.push(data.subarray(p, p + n));
    p += n;
  }
  return out;
}
