/**
 * `PathManager` driven by hand (RFC 9000 §8.2, §9): challenges and responses, the 3x allowance,
 * reverting to the last validated address when a new one fails, a client's probe failing,
 * challenge retries with fresh data, and the bound on remembered addresses.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PathManager, PathOutcome } from '../../src/connection/path.js';
import { SimRandom } from '../../src/sim/prng.js';

const A = { address: '192.0.2.1', port: 1000 };
const B = { address: '192.0.2.1', port: 2000 };
const PTO = 100;

function manager(): PathManager {
  const random = new SimRandom(9);
  return new PathManager(A, true, (n) => random.bytes(n));
}

test('a new peer address: 3x allowance until its challenge is answered; a wrong answer validates nothing', () => {
  const m = manager();
  const b = m.findOrCreate(B);
  b.bytesReceived = 100;
  m.switchTo(b, 0, PTO);
  assert.is(m.active, b);
  assert.is(m.previous?.remote, A);
  assert.is(b.allowance, 300);
  b.bytesSent = 280;
  assert.ok(b.sendBlocked, '20 bytes left: nothing fits');
  assert.is(m.nextPathWithFrames(), b);
  const data = m.takeChallenge(b, 0, PTO)!;
  assert.is(data.length, 8);
  assert.is(m.onResponse(new Uint8Array(8)), PathOutcome.NONE);
  assert.not.ok(b.validated);
  assert.is(m.onResponse(data), PathOutcome.ACTIVE_VALIDATED);
  assert.ok(b.validated);
  assert.is(b.allowance, Infinity);
  assert.is(m.previous, undefined);
  assert.is(m.nextTimeout(), Infinity);
});

test('validation failure of the new address reverts to the last validated one (§9.3.2)', () => {
  const m = manager();
  const b = m.findOrCreate(B);
  m.switchTo(b, 0, PTO);
  const deadline = b.validationDeadline;
  assert.ok(deadline >= 3 * 3 * 333, 'three times the kInitialRtt-based PTO of the new path');
  const first = m.takeChallenge(b, 0, PTO)!;
  // A retry goes out with fresh data; both stay acceptable.
  assert.is(m.onTimeout(b.nextChallengeAt), PathOutcome.NONE);
  assert.ok(b.challengePending);
  const second = m.takeChallenge(b, b.nextChallengeAt, PTO)!;
  assert.not.equal(first, second);
  assert.is(b.challenges.length, 2);
  assert.is(m.onTimeout(deadline), PathOutcome.REVERTED);
  assert.is(m.active.remote, A);
  assert.is(m.left, b);
  // A late answer changes nothing now.
  assert.is(m.onResponse(first), PathOutcome.NONE);
});

test('a client probe from a new local address: no allowance limit, migrates on the response, or fails and is dropped', () => {
  const m = manager();
  const local = { address: '10.1.1.1', port: 5 };
  const probe = m.probeLocal(local, 0, PTO);
  assert.is(probe.allowance, Infinity);
  assert.is(m.probeLocal(local, 0, PTO), probe, 'one probe per local address');
  const data = m.takeChallenge(probe, 0, PTO)!;
  assert.is(m.onResponse(data), PathOutcome.MIGRATED);
  assert.is(m.active, probe);
  assert.is(m.candidates.length, 0);

  const m2 = manager();
  const p2 = m2.probeLocal(local, 0, PTO);
  m2.takeChallenge(p2, 0, PTO);
  assert.is(m2.onTimeout(p2.validationDeadline), PathOutcome.PROBE_FAILED);
  assert.is(m2.left, p2);
  assert.is(m2.active.local, undefined);
  assert.is(m2.candidates.length, 0);
});

test('responses queue on the path the challenge came from, bounded; remembered addresses are bounded', () => {
  const m = manager();
  const b = m.findOrCreate(B);
  for (let i = 0; i < 10; i++) m.onChallenge(b, new Uint8Array(8).fill(i), 1200);
  assert.is(b.responses.length, 4);
  assert.is(m.active.responses.length, 0);
  for (let port = 3000; port < 3020; port++) m.findOrCreate({ address: '198.51.100.9', port });
  assert.ok(m.candidates.length <= 4);
});

test.run();
