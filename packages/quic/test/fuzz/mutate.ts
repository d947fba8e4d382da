/**
 * Byte-level mutations for the fuzz targets (targets.ts): bit flips, byte overwrites with
 * boundary values, insertion, deletion, truncation, duplication of a run, and splicing with
 * another corpus entry. Seeded, so a run replays exactly.
 */

import type { SimRandom } from '../../src/sim/prng.js';

const INTERESTING = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xfe, 0xff];

/** A mutated copy of `input` (never longer than `maxLength`), perhaps spliced with `other`. */
export function mutate(rng: SimRandom, input: Uint8Array, other: Uint8Array, maxLength = 4096): Uint8Array {
  let d: Uint8Array = input.slice();
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = d.length === 0 ? 0 : rng.int(d.length);
    switch (rng.int(7)) {
      case 0:
        if (d.length > 0) d[at] = (d[at] as number) ^ (1 << rng.int(8));
        break;
      case 1:
        if (d.length > 0) d[at] = INTERESTING[rng.int(INTERESTING.length)] as number;
        break;
      case 2: {
        const ins = rng.bytes(1 + rng.int(8));
        const out = new Uint8Array(d.length + ins.length);
        out.set(d.subarray(0, at));
        out.set(ins, at);
        out.set(d.subarray(at), at + ins.length);
        d = out;
        break;
      }
      case 3: {
        const n = Math.min(d.length - at, 1 + rng.int(8));
        const out = new Uint8Array(d.length - n);
        out.set(d.subarray(0, at));
        out.set(d.subarray(at + n), at);
        d = out;
        break;
      }
      case 4:
        d = d.slice(0, at);
        break;
      case 5: {
        const n = Math.min(d.length - at, 1 + rng.int(32));
        const out = new Uint8Array(d.length + n);
        out.set(d.subarray(0, at + n));
        out.set(d.subarray(at, at + n), at + n);
        out.set(d.subarray(at + n), at + 2 * n);
        d = out;
        break;
      }
      default: {
        const cut = other.length === 0 ? 0 : rng.int(other.length);
        const out = new Uint8Array(at + other.length - cut);
        out.set(d.subarray(0, at));
        out.set(other.subarray(cut), at);
        d = out;
      }
    }
  }
  return d.length > maxLength ? d.subarray(0, maxLength) : d;
}
