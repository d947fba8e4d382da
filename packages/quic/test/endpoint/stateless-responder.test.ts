import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { autoSymmetric } from '../../src/crypto/auto.js';
import { StatelessResponder, type RetryPolicy } from '../../src/endpoint/stateless-responder.js';
import { Connection } from '../../src/connection/connection.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { parsePacketHeader } from '../../src/packet/header.js';
import { PacketType } from '../../src/packet/types.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { SimRandom } from '../../src/sim/prng.js';

const random = new SimRandom(77);
const rand = (n: number) => random.bytes(n);

/** `'default'` leaves the Retry policy unset. */
function responder(retry: RetryPolicy | 'default' = 'always', maxHandshakesInProgress?: number) {
  return new StatelessResponder({
    crypto: autoSymmetric,
    random: rand,
    staticKey: rand(32),
    cidLength: 8,
    isServer: true,
    retry: retry === 'default' ? undefined : retry,
    maxHandshakesInProgress,
  });
}

/** A real client's first datagram (an Initial with a ClientHello), from a sans-IO client. */
function clientInitial(version = QUIC_V1): Uint8Array {
  const client = Connection.connect({
    crypto: { ...nobleAsymmetric, ...autoSymmetric },
    random: rand,
    wallClock: () => 1_700_000_000_000,
    alpnProtocols: ['t'],
    serverName: 'localhost',
    verification: { mode: 'none' },
    remote: { address: 'server', port: 443 },
    now: 0,
    versions: [version],
  });
  const buf = new Uint8Array(1500);
  const t = client.pollTransmit(0, buf);
  if (!t) throw new Error('client sent nothing');
  return buf.slice(0, t.length);
}

/** A client Initial-shaped datagram (header only is real; the rest is noise). */
function initial(version: number, size: number, token: Uint8Array = new Uint8Array(0)): Uint8Array {
  const d = rand(size);
  d[0] = 0xc0 | (version === QUIC_V2 ? 0x10 : 0x00);
  d.set([version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff], 1);
  d[5] = 8;
  d[14] = 8;
  d[23] = token.length;
  d.set(token, 24);
  return d;
}

test('30,000 random and mutated datagrams: never throws; replies never exceed 3x the input (RFC 9000 §8)', () => {
  const r = responder();
  const seeds = [initial(QUIC_V1, 1200), initial(QUIC_V2, 1250), initial(0x1a2a3a4a, 1200), Uint8Array.from([0x40, ...rand(60)])];
  let replies = 0;
  for (let i = 0; i < 30_000; i++) {
    let d: Uint8Array;
    if (i % 3 === 0) d = rand(1 + (i % 1400));
    else {
      d = seeds[i % seeds.length]!.slice();
      for (let k = 0; k < 1 + (i % 4); k++) d[(i * 31 + k * 97) % d.length] = random.bytes(1)[0]!;
    }
    const out = r.handle(d, { address: '192.0.2.9', port: 1000 + (i % 7) }, i, 1_700_000_000_000, 0);
    if (out.action === 'reply') {
      replies++;
      assert.ok(out.datagram.length <= 3 * d.length, `${out.what}: ${out.datagram.length} for ${d.length}`);
    }
  }
  assert.ok(replies > 100);
});

test('Version Negotiation only for unknown versions in datagrams of at least 1200 bytes, echoing the CIDs', () => {
  const r = responder('never');
  assert.is(r.handle(initial(0x1a2a3a4a, 1199), { address: 'a', port: 1 }, 0, 0, 0).action, 'drop');
  const out = r.handle(initial(0x1a2a3a4a, 1200), { address: 'a', port: 1 }, 0, 0, 0);
  assert.ok(out.action === 'reply' && out.what === 'version-negotiation');
  if (out.action !== 'reply') return;
  const h = parsePacketHeader(out.datagram, 0, out.datagram.length, { shortDcidLength: 8 });
  assert.is(h.type, PacketType.VERSION_NEGOTIATION);
  assert.equal(h.supportedVersions!.slice(0, 2), [QUIC_V1, QUIC_V2]);
});

test('Retry only for Initials of at least 1200 bytes with a DCID of 8+ bytes; a v2 Initial gets a v2 Retry', () => {
  const r = responder();
  assert.is(r.handle(initial(QUIC_V1, 1100), { address: 'a', port: 1 }, 0, 0, 0).action, 'drop');
  const out = r.handle(initial(QUIC_V2, 1200), { address: 'a', port: 1 }, 0, 0, 0);
  assert.ok(out.action === 'reply' && out.what === 'retry');
  if (out.action !== 'reply') return;
  const h = parsePacketHeader(out.datagram, 0, out.datagram.length, { shortDcidLength: 8 });
  assert.is(h.type, PacketType.RETRY);
  assert.is(h.version, QUIC_V2);
  assert.is(h.token[0], 0x52);
});

test('issue 12 #1: an Initial-shaped datagram that does not authenticate creates no connection; a real one does', () => {
  const r = responder('never');
  let accepted = 0;
  // Before: every one of these was accepted (a server connection each, held for the idle timeout).
  for (let i = 0; i < 200; i++) if (r.handle(initial(QUIC_V1, 1200 + (i % 50)), { address: 'a', port: i }, 0, 0, 0).action === 'accept') accepted++;
  assert.is(accepted, 0);
  assert.is(r.stats.unopenedInitials, 200);
  const real = clientInitial();
  assert.is(r.handle(real, { address: 'a', port: 1 }, 0, 0, 0).action, 'accept');
  assert.is(r.handle(clientInitial(QUIC_V2), { address: 'a', port: 1 }, 0, 0, 0).action, 'accept');
  // One flipped bit in the protected payload: dropped.
  const bad = real.slice();
  bad[bad.length - 20] = (bad[bad.length - 20] as number) ^ 1;
  assert.is(r.handle(bad, { address: 'a', port: 1 }, 0, 0, 0).action, 'drop');
});

test('issue 12 #1: by default a server answers with Retry once 100 handshakes are in progress', () => {
  const r = responder('default');
  assert.equal(r.retryPolicy, { handshakesInProgress: 100 });
  assert.is(r.handle(clientInitial(), { address: 'a', port: 1 }, 0, 0, 99).action, 'accept');
  const out = r.handle(clientInitial(), { address: 'a', port: 1 }, 0, 0, 100);
  assert.ok(out.action === 'reply' && out.what === 'retry');
});

test('issue 12 #1: handshakes in progress are capped (Initials beyond are dropped), whatever the Retry policy', () => {
  const r = responder('never', 10);
  assert.is(r.handle(clientInitial(), { address: 'a', port: 1 }, 0, 0, 9).action, 'accept');
  assert.is(r.handle(clientInitial(), { address: 'a', port: 1 }, 0, 0, 10).action, 'drop');
  assert.is(r.stats.handshakesRefused, 1);
  const d = responder('default');
  assert.is(d.handle(clientInitial(), { address: 'a', port: 1 }, 0, 0, 999).action, 'reply', 'Retry (stateless) still answers');
});

test.run();
