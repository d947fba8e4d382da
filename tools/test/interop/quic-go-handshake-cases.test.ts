/**
 * The interop runner's handshake-feature cases against quic-go 0.29, both roles, through the
 * tiny runner with the relay recording the cleartext long headers (the runner's pcap checks,
 * tools/interop/runner-checks.ts): retry, resumption, zerortt, and a key update that our client
 * starts (quic-go starting them is in quic-go-runner-cases.test.ts), and our server validating
 * a quic-go client's new address behind a rebinding NAT. Debian's quic-go knows only
 * the draft codepoint of QUIC v2, so v2 is tested against ourselves (hq-endpoint.test.ts).
 * Skipped (reason printed) when quic-go cannot be built here.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { checkHandshakeCount, checkNoRetry, checkRetry, checkZeroRtt, receivedFrameCounts, wireChecks } from '../../interop/runner-checks.js';
import { RUNNER_FILES, runnerArrangement, type Implementation, type InteropOutcome } from '../../interop/runner.js';
import { buildQuicGoPeer, expectTransfer, quicGoTest, tail } from './quic-go-helpers.js';

const it = quicGoTest('quic-go handshake-case interop tests');

test.before(buildQuicGoPeer);

/** The runner's link delay (15 ms each way): over bare loopback 0-RTT would hardly matter. */
const LINK_DELAY_MS = 15;

async function runCase(server: Implementation, client: Implementation, testcase: string, seed: number, keepDirectory = false): Promise<InteropOutcome> {
  return expectTransfer(server, client, testcase, RUNNER_FILES[testcase]!, seed, { ...runnerArrangement(testcase), observeWire: true, delayMs: LINK_DELAY_MS, keepDirectory });
}

function assertWire(problems: string[], result: InteropOutcome): void {
  assert.equal(problems, [], `${problems.join('\n')}\n--- server\n${tail(result.serverLog)}\n--- client\n${tail(result.clientLog)}`);
}

/** `handshake complete` lines of a log, in order. */
function handshakeLines(log: string): string[] {
  return log.split('\n').filter((l) => l.startsWith('handshake complete:'));
}

it('retry: the quic-go server sends a Retry; our client echoes its token in the next Initial (RFC 9000 §8.1.2)', async () => {
  const result = await runCase('quic-go', 'purequic', 'retry', 31);
  assertWire(checkRetry(result.wire!), result);
  assert.is(handshakeLines(result.clientLog).length, 1);
});

it('retry: our server sends a Retry to the quic-go client, which echoes the token; one handshake', async () => {
  const result = await runCase('purequic', 'quic-go', 'retry', 32);
  assertWire(checkRetry(result.wire!), result);
  assert.is(handshakeLines(result.serverLog).length, 1);
});

it('resumption: our client resumes its first connection to the quic-go server on the second (no 0-RTT)', async () => {
  const result = await runCase('quic-go', 'purequic', 'resumption', 33);
  assertWire(wireChecks('resumption', result.wire!, RUNNER_FILES.resumption!), result);
  const client = handshakeLines(result.clientLog);
  assert.is(client.length, 2, result.clientLog);
  assert.match(client[0]!, /resumed=no early-data=no/);
  assert.match(client[1]!, /resumed=yes early-data=no/);
  assert.match(handshakeLines(result.serverLog)[1] ?? '', /resumed=yes 0rtt=no/, 'quic-go saw the resumption');
});

it('resumption: the quic-go client resumes with our server (its ticket, our session ticket keys)', async () => {
  const result = await runCase('purequic', 'quic-go', 'resumption', 34);
  assertWire(wireChecks('resumption', result.wire!, RUNNER_FILES.resumption!), result);
  const server = handshakeLines(result.serverLog);
  assert.is(server.length, 2, result.serverLog);
  assert.match(server[0]!, /resumed=no/);
  assert.match(server[1]!, /resumed=yes early-data=no/);
  assert.match(handshakeLines(result.clientLog)[1] ?? '', /resumed=yes 0rtt=no/);
});

it('zerortt: the quic-go client sends its 40 requests in 0-RTT; our server accepts them (runner checks pass)', async () => {
  const result = await runCase('purequic', 'quic-go', 'zerortt', 35);
  // All of the runner's wire checks: 2 handshakes, 0-RTT sent, little 1-RTT from the client.
  assertWire(wireChecks('zerortt', result.wire!, RUNNER_FILES.zerortt!), result);
  assert.match(handshakeLines(result.serverLog)[1] ?? '', /resumed=yes early-data=yes/);
  assert.match(handshakeLines(result.clientLog)[1] ?? '', /resumed=yes 0rtt=yes/);
});

it('zerortt: our client resumes with 0-RTT to the quic-go server, which accepts it', async () => {
  const result = await runCase('quic-go', 'purequic', 'zerortt', 36);
  const wire = result.wire!;
  assertWire([...checkHandshakeCount(wire, 2), ...checkNoRetry(wire)], result);
  assert.ok(wire.long('toServer', '0rtt').length > 0, 'our client sent 0-RTT packets');
  assert.match(handshakeLines(result.clientLog)[1] ?? '', /resumed=yes early-data=yes/);
  assert.match(handshakeLines(result.serverLog)[1] ?? '', /resumed=yes 0rtt=yes/);
  // The runner's "client 1-RTT under half of the request bytes": the requests go in 0-RTT
  // (the first flight is not paced before an RTT sample exists).
  assert.equal(checkZeroRtt(wire, 39 * `GET /${RUNNER_FILES.zerortt![1]!.name}\r\n`.length), []);
});

it('keyupdate: our client starts a key update once the handshake is confirmed; quic-go follows it (RFC 9001 §6)', async () => {
  const result = await runCase('quic-go', 'purequic', 'keyupdate', 37);
  const ours = /key updates: local=(\d+) remote=(\d+)/.exec(result.clientLog);
  assert.ok(ours && Number(ours[1]) >= 1, `our client started no key update:\n${tail(result.clientLog)}`);
  // quic-go's tracer counts updates it followed as remote: it decrypted our new key phase.
  const theirs = /key updates: local=(\d+) remote=(\d+)/.exec(result.serverLog);
  assert.ok(theirs && Number(theirs[2]) >= 1, `quic-go followed no key update:\n${tail(result.serverLog)}`);
  assertWire([...checkHandshakeCount(result.wire!, 1), ...checkNoRetry(result.wire!)], result);
});

it('rebind-addr: our server validates the new address of a quic-go client behind a rebinding NAT (RFC 9000 §9.3)', async () => {
  const result = await runCase('purequic', 'quic-go', 'rebind-addr', 38, true);
  try {
    assert.ok(result.rebinds >= 1, `the relay rebound ${result.rebinds} times`);
    assertWire([...checkHandshakeCount(result.wire!, 1), ...checkNoRetry(result.wire!)], result);
    // quic-go answered our PATH_CHALLENGE on the new path.
    assert.ok((receivedFrameCounts(join(result.directory, 'logs', 'qlog-server')).get('path_response') ?? 0) >= 1, 'no PATH_RESPONSE from quic-go');
    assert.match(result.serverLog, /connection ended: .*; remote=127\.0\.0\.(?!1:)\d+:\d+/, `the server ends on the new address:\n${tail(result.serverLog)}`);
  } finally {
    rmSync(result.directory, { recursive: true, force: true });
  }
});

test.run();
