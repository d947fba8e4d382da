/**
 * Interop with quic-go 0.29 over hq-interop, both directions, through the tiny runner: our
 * endpoint (`pnpm endpoint`, a child process configured like a runner container) against our
 * quic-go wrappers (tools/interop/quicgo, built from Debian's sources into .scratch).
 * This file: handshake, 10 MB each way, 2,000-file multiplexing, ChaCha20-only; the other
 * runner cases are in quic-go-runner-cases.test.ts (its own time bound, runs in parallel).
 *
 * Every transfer is checked the interop runner's way: each requested file arrives with the same
 * SHA-256, and nothing else arrives. Skipped (with the reason printed) when Go or Debian's
 * quic-go sources are absent; CI installs them with .ci/interop-peers.sh.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNNER_FILES, type InteropFile } from '../../interop/runner.js';
import { buildQuicGoPeer, expectTransfer, ourHandshake, quicGoHandshake, quicGoTest } from './quic-go-helpers.js';

const it = quicGoTest('quic-go interop tests');

test.before(buildQuicGoPeer);

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

test.run();
