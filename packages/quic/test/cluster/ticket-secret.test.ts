/**
 * Session ticket keys derived from a shared secret (SessionTicketKeys `secret`, the cluster's
 * `sessionTicketSecret`): two instances with the same secret open each other's tickets, rotate
 * at the same wall-clock instants, keep opening the previous interval's tickets for one
 * interval, and an instance with another secret opens none.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { providers } from '../tls/support/providers.js';

const crypto = providers.node;
const random = (n: number): Uint8Array => crypto.randomBytes(n);
const HOUR = 3600_000;
const secret = new Uint8Array(32).fill(0x42);
const state = new TextEncoder().encode('resumption state');

test('same secret: tickets open on the other instance, across one rotation but not two', () => {
  const a = new SessionTicketKeys({ crypto, random, rotationIntervalMs: HOUR, secret });
  const b = new SessionTicketKeys({ crypto, random, rotationIntervalMs: HOUR, secret });
  const t0 = 1_000 * HOUR + 10;
  const ticket = a.seal(state, t0);
  assert.equal(b.open(ticket, t0 + 1), state);
  assert.equal(b.open(ticket, t0 + HOUR), state, 'the previous interval still opens');
  assert.is(b.open(ticket, t0 + 2 * HOUR), undefined, 'two intervals later it is expired');
  // A ticket b seals after the rotation opens on a, which has not sealed anything since.
  const later = b.seal(state, t0 + HOUR);
  assert.equal(a.open(later, t0 + HOUR + 5), state);
  const modified = later.slice();
  modified[modified.length - 1]! ^= 1;
  assert.is(a.open(modified, t0 + HOUR + 5), undefined);
});

test('another secret opens nothing; short secrets are refused', () => {
  const a = new SessionTicketKeys({ crypto, random, secret });
  const c = new SessionTicketKeys({ crypto, random, secret: new Uint8Array(32).fill(1) });
  assert.is(c.open(a.seal(state, 5_000), 5_000), undefined);
  assert.throws(() => new SessionTicketKeys({ crypto, random, secret: new Uint8Array(16) }), /at least 32 bytes/);
});

test.run();
