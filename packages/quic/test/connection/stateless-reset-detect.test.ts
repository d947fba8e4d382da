/**
 * Stateless reset detection at the connection (RFC 9000 §10.3.1), with a datagram built by hand:
 * random bytes shaped like a short header, ending in the peer's token. A match drains the
 * connection and nothing more is sent; a wrong token is an undecryptable packet, dropped.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimRandom } from '../../src/sim/prng.js';
import { makePair, SERVER } from './harness.js';
import { deliverTo, establish } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

test('a datagram ending in the peer stateless reset token ends the connection (draining, no more packets)', () => {
  const pair = makePair({ seed: SEED, link: { delayMs: 10 } });
  establish(pair);
  const c = pair.client;
  const tokens = c.peerCids.resetTokens();
  assert.ok(tokens.length > 0, 'the client knows the server reset token');
  // RFC 9000 §10.3: looks like a short-header packet: 0b01xxxxxx, unpredictable bits, token last.
  const rng = new SimRandom(SEED);
  const datagram = rng.bytes(60);
  datagram[0] = 0x40 | ((datagram[0] as number) & 0x3f);
  datagram.set(tokens[0]!, datagram.length - 16);
  let sentAfter = 0;
  // Both links share one config object: count the client's datagrams only.
  pair.sim.link('client', SERVER)!.config.hook = (d, info) => {
    if (info.from === 'client') sentAfter++;
    return d;
  };
  deliverTo(pair, 'client', datagram);
  assert.equal(c.closeReason, { kind: 'stateless-reset' });
  assert.ok(pair.run(() => c.isTerminated, 10_000), 'client terminates');
  assert.is(sentAfter, 0, 'nothing sent after a stateless reset (§10.3.1)');
});

test('a datagram with a wrong token is just dropped', () => {
  const pair = makePair({ seed: SEED + 1, link: { delayMs: 10 } });
  establish(pair);
  const datagram = new SimRandom(SEED + 1).bytes(60);
  datagram[0] = 0x40;
  deliverTo(pair, 'client', datagram);
  assert.not.ok(pair.client.isClosed);
});

test.run();
