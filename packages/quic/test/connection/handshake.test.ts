import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';

test('client and server complete the handshake over the simulator and confirm it (RFC 9001 §4.1.2)', () => {
  const pair = makePair({ link: { delayMs: 10 } });
  const ok = pair.run(() => pair.client.isHandshakeComplete && pair.server().isHandshakeComplete && pair.client.handshakeConfirmed, 5_000);
  assert.ok(ok, 'handshake did not complete');
  assert.is(pair.client.negotiatedAlpn, 'test');
  assert.is(pair.server().negotiatedAlpn, 'test');
  const types = pair.clientNode.events.map((e) => e.type);
  assert.ok(types.includes('handshake-complete'));
  assert.ok(types.includes('handshake-confirmed'));
});

test.run();
