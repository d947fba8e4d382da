/**
 * Seeded pseudo-random numbers for the simulator and tests: xoshiro128** (Blackman and Vigna,
 * 2018) with its 128-bit state filled by splitmix32 from a 32-bit seed, so nearby seeds give
 * unrelated sequences. Fast and reproducible across platforms; not for cryptography.
 */

/** One splitmix32 step from `state`; returns the output, the next state is `state + 0x9e3779b9`. */
function splitmix32(state: number): number {
  let z = state >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class SimRandom {
  /** The seed this generator started from (print it so a failing run can be replayed). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    let x = this.seed;
    x = (x + 0x9e37_79b9) >>> 0;
    this.s0 = splitmix32(x);
    x = (x + 0x9e37_79b9) >>> 0;
    this.s1 = splitmix32(x);
    x = (x + 0x9e37_79b9) >>> 0;
    this.s2 = splitmix32(x);
    x = (x + 0x9e37_79b9) >>> 0;
    this.s3 = splitmix32(x);
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the raw xoshiro128** state (for reference vectors); the state must not be all zero. */
  static fromState(s0: number, s1: number, s2: number, s3: number): SimRandom {
    const r = new SimRandom(0);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n) for 1 <= n <= 2^32 (floor of a scaled float: bias below 2^-32 · n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [min, max]. */
  intBetween(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p` (false for p <= 0, true for p >= 1, drawing nothing then). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** Fills `buf` with random bytes and returns it. */
  fill(buf: Uint8Array): Uint8Array {
    let i = 0;
    // Bounded by buf.length: four bytes per draw.
    while (i + 4 <= buf.length) {
      const v = this.nextU32();
      buf[i] = v & 0xff;
      buf[i + 1] = (v >>> 8) & 0xff;
      buf[i + 2] = (v >>> 16) & 0xff;
      buf[i + 3] = v >>> 24;
      i += 4;
    }
    if (i < buf.length) {
      let v = this.nextU32();
      for (; i < buf.length; i++, v >>>= 8) buf[i] = v & 0xff;
    }
    return buf;
  }

  /** `n` random bytes in a new array. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** A new independent generator seeded from this one (a sub-stream, e.g. per link). */
  fork(): SimRandom {
    return new SimRandom(this.nextU32());
  }
}
