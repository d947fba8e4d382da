/**
 * Handshake failures end cleanly on both sides (RFC 9001 §4.8: TLS alerts become CRYPTO_ERROR
 * 0x0100 + alert; RFC 9000 §10.2.3: CONNECTION_CLOSE in the spaces the peer can read): no common
 * ALPN (RFC 9001 §8.1: no_application_protocol, alert 120), and a server certificate the
 * client does not trust (bad_certificate 42 / unknown_ca 48 family). Both sides learn the code,
 * emit one 'closed' and terminate; nothing throws.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair, TEST_CERT_DER } from './harness.js';
import { runUntilTerminated } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);
const CRYPTO_ERROR = 0x100;

test('no common ALPN: the server closes with CRYPTO_ERROR(no_application_protocol); the client hears it', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10 }, alpn: ['h3'], serverAlpn: ['hq-interop'] });
  assert.ok(runUntilTerminated(pair, 10_000), 'both terminate');
  const s = pair.server().closeReason!;
  const c = pair.client.closeReason!;
  assert.is(s.kind, 'transport');
  assert.is(c.kind, 'transport');
  if (s.kind !== 'transport' || c.kind !== 'transport') return;
  assert.is(s.code, CRYPTO_ERROR + 120, `server: ${JSON.stringify(s)}`);
  assert.not.ok(s.remote);
  assert.is(c.code, CRYPTO_ERROR + 120, `client: ${JSON.stringify(c)}`);
  assert.ok(c.remote);
  assert.not.ok(pair.client.isHandshakeComplete);
  assert.is(pair.clientNode.events.filter((e) => e.type === 'closed').length, 1);
  assert.is(pair.serverNode.events.filter((e) => e.type === 'closed').length, 1);
});

test('an untrusted server certificate: the client closes with a CRYPTO_ERROR alert; the server hears it', () => {
  // A chain whose leaf is not the trusted test certificate: the test certificate with one byte
  // of its signature flipped.
  const forged = TEST_CERT_DER.slice();
  forged[forged.length - 5] = (forged[forged.length - 5] as number) ^ 0x01;
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10 }, serverCertificateChain: [forged] });
  assert.ok(runUntilTerminated(pair, 10_000), 'both terminate');
  const c = pair.client.closeReason!;
  assert.is(c.kind, 'transport', JSON.stringify(c));
  if (c.kind !== 'transport') return;
  assert.ok(c.code > CRYPTO_ERROR && c.code < CRYPTO_ERROR + 0x100, `client code 0x${c.code.toString(16)}`);
  assert.not.ok(c.remote);
  const s = pair.server().closeReason!;
  assert.equal(s.kind === 'transport' ? [s.code, s.remote] : s, [c.code, true], `server: ${JSON.stringify(s)}`);
  assert.not.ok(pair.client.isHandshakeComplete);
});

test.run();
