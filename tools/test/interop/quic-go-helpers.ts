/**
 * Shared by the quic-go interop test files: peer availability (skip with the reason printed),
 * one build per process, and a run that must pass the runner's file check.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quicGoAvailability, quicGoPeer } from '../../interop/peers.js';
import { runInterop, type Implementation, type InteropCase, type InteropFile, type InteropOutcome } from '../../interop/runner.js';

const availability = quicGoAvailability();

/** `test` when quic-go can be built here, else `test.skip` (after printing why, once per file). */
export function quicGoTest(file: string): (name: string, fn: () => Promise<void>) => void {
  if (!availability.ok) console.log(`SKIP ${file}: ${availability.reason}`);
  return availability.ok ? test : test.skip;
}

/** Builds the wrappers (if stale) before the file's tests; throws when a build fails. */
export async function buildQuicGoPeer(): Promise<void> {
  if (!availability.ok) return;
  const built = await quicGoPeer();
  if (!built.ok) throw new Error(built.reason);
}

/** One run must finish within this (the slowest, 2,000 files, takes a few seconds when idle). */
const RUN_TIMEOUT_MS = 90_000;

export function tail(log: string, lines = 25): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a pair and asserts the runner's check passed (every file intact, nothing extra). */
export async function expectTransfer(
  server: Implementation,
  client: Implementation,
  testcase: string,
  files: InteropFile[],
  seed: number,
  extra: Partial<InteropCase> = {},
): Promise<InteropOutcome> {
  const result = await runInterop({ server, client, testcase, files, seed, timeoutMs: RUN_TIMEOUT_MS, ...extra });
  assert.ok(result.ok, `${result.problems.join('\n')}\n--- ${server} server\n${tail(result.serverLog)}\n--- ${client} client\n${tail(result.clientLog)}`);
  return result;
}

/** The quic-go side of a run prints the negotiated ALPN and cipher suite. */
export function quicGoHandshake(result: InteropOutcome, side: 'server' | 'client'): { alpn: string; cipher: string } | undefined {
  const m = /handshake complete: (?:remote=\S+ )?alpn=(\S+) cipher=(\S+)/.exec(side === 'server' ? result.serverLog : result.clientLog);
  return m ? { alpn: m[1]!, cipher: m[2]! } : undefined;
}

/** Our endpoint prints what its handshake negotiated. */
export function ourHandshake(result: InteropOutcome, side: 'server' | 'client'): { alpn: string; cipher: string; group: string } | undefined {
  const m = /handshake complete: (?:remote=\S+ )?alpn=(\S+) cipher=(\S+) group=(\S+)/.exec(side === 'server' ? result.serverLog : result.clientLog);
  return m ? { alpn: m[1]!, cipher: m[2]!, group: m[3]! } : undefined;
}

/** quic-go's count of key updates it initiated (printed by our wrappers' tracer at close). */
export function quicGoLocalKeyUpdates(log: string): number {
  const m = /key updates: local=(\d+) remote=\d+/.exec(log);
  return m ? Number(m[1]) : -1;
}
