/**
 * A seeded, reproducible PRNG for tests and fuzzing: xoshiro128** (Blackman & Vigna), seeded
 * through splitmix32 so any 32-bit seed gives a well-mixed state. Not for cryptography.
 */

export interface Prng {
  /** The seed this generator started from (print it so a failure can be replayed). */
  readonly seed: number;
  /** A uniform 32-bit unsigned integer. */
  u32(): number;
  /** A uniform integer in [0, n) for 1 <= n <= 2^32. */
  int(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** `n` random bytes (a new array). */
  bytes(n: number): Uint8Array;
  /** Fills `buf` with random bytes. */
  fill(buf: Uint8Array): Uint8Array;
  /** A random element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e37_79b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A generator seeded with `seed` (any 32-bit value). */
export function createPrng(seed: number): Prng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point

  function u32(): number {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  }

  function int(n: number): number {
    // Multiply-shift keeps the bias below 2^-32 per draw, enough for tests.
    return Math.floor((u32() / 0x1_0000_0000) * n);
  }

  function fill(buf: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) {
      const v = u32();
      buf[i] = v & 0xff;
      buf[i + 1] = (v >>> 8) & 0xff;
      buf[i + 2] = (v >>> 16) & 0xff;
      buf[i + 3] = v >>> 24;
    }
    if (i < buf.length) {
      let v = u32();
      for (; i < buf.length; i++, v >>>= 8) buf[i] = v & 0xff;
    }
    return buf;
  }

  return {
    seed: seed >>> 0,
    u32,
    int,
    chance: (p) => u32() / 0x1_0000_0000 < p,
    bytes: (n) => fill(new Uint8Array(n)),
    fill,
    pick: (items) => items[int(items.length)] as (typeof items)[number],
  };
}

/**
 * The seed for a fuzz or simulation run: `process.env[envName]` when set (decimal or 0x-hex),
 * else `fallback`. Tests print it so any failure can be replayed with the same value.
 */
export function seedFromEnv(envName: string, fallback: number): number {
  const raw = process.env[envName];
  if (raw === undefined || raw.trim() === '') return fallback >>> 0;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`${envName} must be a 32-bit unsigned integer, got ${raw}`);
  return value >>> 0;
}
