/**
 * Packet protection throughput: protect and unprotect of one 1,200-byte 1-RTT packet (short
 * header, 8-byte DCID, 4-byte packet number) with each AEAD and each symmetric provider.
 *
 * Every case warms up, then runs for a fixed time (BENCH_TIME_MS, default 1,000 ms) in 4 slices
 * and reports the fastest slice as packets/s and MB/s (10^6 bytes of whole packets). Unprotect decrypts in
 * place, so each iteration first copies the protected packet back (1,200 bytes, about 1% of
 * the cost); protect re-encrypts the previous iteration's bytes, which costs the same.
 */

import {
  CIPHER_SUITES,
  type CipherSuiteInfo,
} from '../../packages/quic/src/crypto/cipher-suites.js';
import { autoSymmetric } from '../../packages/quic/src/crypto/auto.js';
import { createPacketProtectionKeys, type PacketProtectionKeys } from '../../packages/quic/src/crypto/keys.js';
import { nobleSymmetric } from '../../packages/quic/src/crypto/noble.js';
import { nodeSymmetric } from '../../packages/quic/src/crypto/node.js';
import { protect, unprotect } from '../../packages/quic/src/crypto/protection.js';
import type { SymmetricCrypto } from '../../packages/quic/src/crypto/provider.js';
import { QUIC_V1 } from '../../packages/quic/src/packet/version.js';

const PACKET_SIZE = 1200;
const DCID_LENGTH = 8;
const PN_LENGTH = 4;
const PN_OFFSET = 1 + DCID_LENGTH;
const PAYLOAD_END = PACKET_SIZE - 16;
const RUN_MS = Number(process.env.BENCH_TIME_MS ?? 1000);
const WARMUP_MS = Math.min(250, RUN_MS / 4);
const BATCH = 64;
const ROUNDS = 4;

const PROVIDERS: readonly SymmetricCrypto[] = [nobleSymmetric, nodeSymmetric, autoSymmetric];

/** Deterministic filler bytes (the benchmark needs no real randomness). */
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

/** A plaintext 1-RTT packet (RFC 9000 §17.3.1) with room for the tag. */
function plaintextPacket(): Uint8Array {
  const buf = filler(PACKET_SIZE, 0x1234);
  buf[0] = 0x40 | (PN_LENGTH - 1);
  buf.fill(0, PAYLOAD_END);
  return buf;
}

function writePacketNumber(buf: Uint8Array, pn: number): void {
  buf[0] = 0x40 | (PN_LENGTH - 1);
  buf[PN_OFFSET] = (pn >>> 24) & 0xff;
  buf[PN_OFFSET + 1] = (pn >>> 16) & 0xff;
  buf[PN_OFFSET + 2] = (pn >>> 8) & 0xff;
  buf[PN_OFFSET + 3] = pn & 0xff;
}

/** Runs `iteration` in batches for `ms` and returns iterations per second. */
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

function protectCase(keys: PacketProtectionKeys): (ms: number) => number {
  const buf = plaintextPacket();
  return (ms) =>
    bestOf((i) => {
      writePacketNumber(buf, i);
      protect(keys, buf, 0, PN_OFFSET, PN_LENGTH, PAYLOAD_END, i);
    }, ms);
}

function unprotectCase(keys: PacketProtectionKeys): (ms: number) => number {
  const protectedPacket = plaintextPacket();
  const pn = 1_000_000;
  writePacketNumber(protectedPacket, pn);
  protect(keys, protectedPacket, 0, PN_OFFSET, PN_LENGTH, PAYLOAD_END, pn);
  const buf = new Uint8Array(PACKET_SIZE);
  return (ms) =>
    bestOf(() => {
      buf.set(protectedPacket);
      if (unprotect(keys, buf, 0, PN_OFFSET, PACKET_SIZE, pn - 1) === null) throw new Error('unprotect failed');
    }, ms);
}

function formatRate(perSecond: number): string {
  const pps = perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`;
  const mbps = (perSecond * PACKET_SIZE) / 1e6;
  return `${pps} ${mbps.toFixed(0).padStart(4)} MB/s`;
}

export default async function run(filter?: string): Promise<void> {
  const words = filter ? filter.split(/\s+/) : [];
  const secret = filler(48, 0x5eed);
  console.log(
    `packet protection: ${PACKET_SIZE}-byte 1-RTT packet, short header, ${DCID_LENGTH}-byte DCID, ${PN_LENGTH}-byte PN; ` +
      `${RUN_MS} ms per case after ${WARMUP_MS.toFixed(0)} ms warm-up`,
  );
  const header = ['suite', 'op', ...PROVIDERS.map((p) => p.name)];
  const widths = [30, 10, 20, 20, 20];
  console.log(header.map((h, i) => h.padEnd(widths[i]!)).join(''));
  for (const suite of CIPHER_SUITES) {
    for (const op of ['protect', 'unprotect'] as const) {
      const caseName = `${suite.name} ${suite.aead} ${op}`;
      if (!words.every((w) => caseName.includes(w) || PROVIDERS.some((p) => p.name === w))) continue;
      const cells: string[] = [];
      for (const provider of PROVIDERS) {
        if (words.some((w) => PROVIDERS.some((p) => p.name === w)) && !words.includes(provider.name)) {
          cells.push('-');
          continue;
        }
        cells.push(formatRate(runCase(provider, suite, op, secret)));
      }
      console.log([suite.name, op, ...cells].map((c, i) => c.padEnd(widths[i]!)).join(''));
      // Let the event loop breathe between cases (and let Ctrl-C through).
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function runCase(provider: SymmetricCrypto, suite: CipherSuiteInfo, op: 'protect' | 'unprotect', secret: Uint8Array): number {
  const keys = createPacketProtectionKeys(provider, suite, QUIC_V1, secret.subarray(0, suite.hashLength));
  const bench = op === 'protect' ? protectCase(keys) : unprotectCase(keys);
  bench(WARMUP_MS);
  return bench(RUN_MS);
}
