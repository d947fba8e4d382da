/** The congestion controller a connection runs, chosen by name per connection (default CUBIC). */

import { Bbr, type CongestionController, Cubic, NewReno } from '@purequic/congestion';
import type { TransportSettings } from './types.js';

export function createController(name: TransportSettings['congestionControl'], maxDatagramSize: number, now: number, random: (n: number) => Uint8Array): CongestionController {
  switch (name) {
    case 'newreno':
      return new NewReno({ maxDatagramSize });
    case 'bbr': {
      const seed = random(4);
      return new Bbr({ maxDatagramSize, now, randomSeed: ((seed[0]! << 24) | (seed[1]! << 16) | (seed[2]! << 8) | seed[3]!) >>> 0 });
    }
    default:
      return new Cubic({ maxDatagramSize });
  }
}
