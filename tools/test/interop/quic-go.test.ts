/**
 * Interop with quic-go 0.29 over hq-interop, both directions, through the tiny runner: our
 * endpoint (`pnpm endpoint`, a child process configured like a runner container) against our
 * quic-go wrappers (tools/interop/quicgo, built from Debian's sources into .scratch).
 *
 * Every transfer is checked the interop runner's way: each requested file arrives with the same
 * SHA-256, and nothing else arrives. Skipped (with the reason printed) when Go or Debian's
 * quic-go sources are absent; CI installs them with .ci/interop-peers.sh.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quicGoAvailability, quicGoPeer } from '../../interop/peers.js';
import { RUNNER_FILES, runInterop, type Implementation, type InteropCase, type InteropFile, type InteropOutcome } from '../../interop/runner.js';

const availability = quicGoAvailability();
if (!availability.ok) console.log(`SKIP quic-go interop tests: ${availability.reason}`);
const it = availability.ok ? test : test.skip;

/** One run must finish within this (the slowest, 2,000 files, takes a few seconds). */
const RUN_TIMEOUT_MS = 90_000;

test.before(async () => {
  if (!availability.ok) return;
  const built = await quicGoPeer();
  if (!built.ok) throw new Error(built.reason);
});

function tail(log: string, lines = 25): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

async function expectTransfer(
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
function quicGoHandshake(result: InteropOutcome, side: 'server' | 'client'): { alpn: string; cipher: string } | undefined {
  const m = /handshake complete: (?:remote=\S+ )?alpn=(\S+) cipher=(\S+)/.exec(side === 'server' ? result.serverLog : result.clientLog);
  return m ? { alpn: m[1]!, cipher: m[2]! } : undefined;
}

/** Our endpoint prints what its handshake negotiated. */
function ourHandshake(result: InteropOutcome, side: 'server' | 'client'): { alpn: string; cipher: string; group: string } | undefined {
  const m = /handshake complete: (?:remote=\S+ )?alpn=(\S+) cipher=(\S+) group=(\S+)/.exec(side === 'server' ? result.serverLog : result.clientLog);
  return m ? { alpn: m[1]!, cipher: m[2]!, group: m[3]! } : undefined;
}

const TEN_MB: InteropFile[] = [{ name: 'ten-mb.bin', size: 10_000_000 }];

it('handshake: our client downloads 1 KiB from the quic-go server (hq-interop, one connection)', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'handshake', RUNNER_FILES.handshake!, 1);
  assert.equal(quicGoHandshake(result, 'server'), { alpn: 'hq-interop', cipher: 'TLS_AES_128_GCM_SHA256' });
  assert.equal(ourHandshake(result, 'client'), { alpn: 'hq-interop', cipher: 'TLS_AES_128_GCM_SHA256', group: 'x25519' });
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 1, 'exactly one handshake');
  assert.ok(result.keyLogBytes.client > 0, 'our SSLKEYLOGFILE was written');
});

it('handshake: the quic-go client downloads 1 KiB from our server', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'handshake', RUNNER_FILES.handshake!, 2);
  assert.equal(quicGoHandshake(result, 'client'), { alpn: 'hq-interop', cipher: 'TLS_AES_128_GCM_SHA256' });
  assert.equal(ourHandshake(result, 'server'), { alpn: 'hq-interop', cipher: 'TLS_AES_128_GCM_SHA256', group: 'x25519' });
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 1, 'exactly one handshake');
  assert.ok(result.keyLogBytes.server > 0, 'our SSLKEYLOGFILE was written');
});

it('transfer: our client downloads 10 MB from the quic-go server (small client windows), SHA-256 intact', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'transfer', TEN_MB, 3);
  assert.is(result.clientReport?.bytes, 10_000_000);
});

it('transfer: the quic-go client downloads 10 MB from our server, SHA-256 intact', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'transfer', TEN_MB, 4);
  assert.is(result.clientReport?.bytes, 10_000_000);
});

it('transfer: the runner file set (2, 3 and 5 MiB in parallel) both ways', async () => {
  await expectTransfer('quic-go', 'purequic', 'transfer', RUNNER_FILES.transfer!, 5);
  await expectTransfer('purequic', 'quic-go', 'transfer', RUNNER_FILES.transfer!, 6);
});

it('multiplexing: our client fetches 2,000 files of 32 bytes over one connection to quic-go (MAX_STREAMS grows)', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'multiplexing', RUNNER_FILES.multiplexing!, 7);
  assert.is(result.clientReport?.files, 2000);
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 1, 'one connection for all streams');
});

it('multiplexing: the quic-go client fetches 2,000 files from our server (initial_max_streams_bidi <= 1000)', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'multiplexing', RUNNER_FILES.multiplexing!, 8);
  assert.is(result.clientReport?.files, 2000);
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 1, 'one connection for all streams');
});

it('chacha20: our client offering only TLS_CHACHA20_POLY1305_SHA256 to the quic-go server (also ChaCha20-only)', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'chacha20', RUNNER_FILES.chacha20!, 9);
  assert.equal(quicGoHandshake(result, 'server'), { alpn: 'hq-interop', cipher: 'TLS_CHACHA20_POLY1305_SHA256' });
  assert.is(ourHandshake(result, 'client')?.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
});

it('chacha20: the quic-go client offering only TLS_CHACHA20_POLY1305_SHA256 to our server (also ChaCha20-only)', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'chacha20', RUNNER_FILES.chacha20!, 10);
  assert.equal(quicGoHandshake(result, 'client'), { alpn: 'hq-interop', cipher: 'TLS_CHACHA20_POLY1305_SHA256' });
  assert.is(ourHandshake(result, 'server')?.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
});

it('multiconnect: a new connection per file, both ways (the runner runs handshakeloss this way)', async () => {
  const one = await expectTransfer('quic-go', 'purequic', 'multiconnect', RUNNER_FILES.multiconnect!, 11);
  assert.is(one.serverLog.match(/handshake complete/g)?.length, RUNNER_FILES.multiconnect!.length);
  const two = await expectTransfer('purequic', 'quic-go', 'multiconnect', RUNNER_FILES.multiconnect!, 12);
  assert.is(two.serverLog.match(/handshake complete/g)?.length, RUNNER_FILES.multiconnect!.length);
});

/** quic-go's count of key updates it initiated (printed by our wrappers' tracer at close). */
function quicGoLocalKeyUpdates(log: string): number {
  const m = /key updates: local=(\d+) remote=\d+/.exec(log);
  return m ? Number(m[1]) : -1;
}

// quic-go initiates a key update only after receiving a packet protected with its current keys
// (RFC 9001 §6.1 / §6.2): every update after the first proves that we followed the previous one.
it('keyupdate: the quic-go client updates keys every 100 packets; our server follows (RFC 9001 §6.2)', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'keyupdate', RUNNER_FILES.keyupdate!, 13, { serverTestcase: 'transfer' });
  const updates = quicGoLocalKeyUpdates(result.clientLog);
  assert.ok(updates >= 2, `quic-go initiated ${updates} key updates:\n${tail(result.clientLog)}`);
});

it('keyupdate: the quic-go server updates keys every 100 packets; our client follows (RFC 9001 §6.2)', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'handshake', RUNNER_FILES.keyupdate!, 14, { quicGoKeyUpdateInterval: 100 });
  const updates = quicGoLocalKeyUpdates(result.serverLog);
  assert.ok(updates >= 2, `quic-go initiated ${updates} key updates:\n${tail(result.serverLog)}`);
});

test.run();
