/**
 * Seeded fuzz of the HTTP/3 receive paths: random, structured and mutated bytes on control, QPACK,
 * unknown and request streams, in random chunks, and random datagrams, fed to an `H3Connection`
 * in both roles. Whatever arrives, the connection never throws: it either carries on, resets a
 * stream, or closes with an HTTP/3 or QPACK error code (RFC 9114 §8, RFC 9204 §6), and its memory
 * stays bounded. FUZZ_SEED replays a run.
 *
 * The QUIC side here is a minimal in-memory stand-in (it only hands over the fuzzed bytes and
 * records what HTTP/3 writes), so that 100,000 inputs run in seconds.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionEvent, SansIoConnection } from '@purequic/quic/sans-io';
import { FakeQuic } from './fake-quic.js';
import { SimRandom } from '@purequic/quic/sans-io';
import { H3Connection, QpackEncoder, encodeFrame, encodeSettings } from '../src/index.js';

const ALLOWED = (code: number) => (code >= 0x100 && code <= 0x110) || code === 0x200 || code === 0x201 || code === 0x202 || code === 0x33;

function structured(r: SimRandom): Uint8Array {
  const kinds = r.nextU32() % 6;
  const enc = new QpackEncoder();
  switch (kinds) {
    case 0:
      return encodeSettings([[0x06, r.nextU32() % 100_000], [r.nextU32() % 64, r.nextU32() % 4]]);
    case 1:
      return encodeFrame(0x01, enc.encode(0, [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '/' }]));
    case 2:
      return encodeFrame(0x00, r.bytes(r.nextU32() % 40));
    case 3:
      return encodeFrame(r.nextU32() % 16, r.bytes(r.nextU32() % 20));
    case 4:
      return encodeFrame(0xf0700, new Uint8Array([0, 0x75, 0x3d, 0x31]));
    default:
      return r.bytes(r.nextU32() % 30);
  }
}

function mutate(r: SimRandom, b: Uint8Array): Uint8Array {
  const out = b.slice();
  const n = 1 + (r.nextU32() % 3);
  for (let i = 0; i < n && out.length > 0; i++) out[r.nextU32() % out.length] = r.nextU32() & 0xff;
  return r.nextU32() % 4 === 0 ? out.subarray(0, r.nextU32() % (out.length + 1)) : out;
}

function chunks(r: SimRandom, data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; ) {
    const n = 1 + (r.nextU32() % 24);
    out.push(data.subarray(o, o + n));
    o += n;
  }
  return out;
}

test('100,000 fuzzed inputs across stream kinds and roles: only HTTP/3 error codes, never an exception', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 9114);
  const r = new SimRandom(seed);
  let inputs = 0;
  let closes = 0;
  const started = performance.now();
  for (let round = 0; inputs < 100_000; round++) {
    const role = round % 2 === 0 ? 'server' : 'client';
    const quic = new FakeQuic(role);
    const h3 = new H3Connection(quic as unknown as SansIoConnection, { role, random: (n) => r.bytes(n), datagrams: true, enableConnectProtocol: true, extensionStreamTypes: { uni: [0x54], bidi: [0x41] } });
    const feed = (e: ConnectionEvent) => {
      try {
        h3.handleQuicEvent(e, round);
        for (let x = h3.pollEvent(); x; x = h3.pollEvent()) if (x.type === 'body-readable') h3.readBody(x.streamId);
      } catch (err) {
        assert.unreachable(`seed ${seed} round ${round}: threw ${(err as Error).stack}`);
      }
    };
    feed({ type: 'handshake-complete', alpn: 'h3' });
    // A good control stream first half of the time, so later frames reach deeper states.
    const peerUniBase = role === 'server' ? 2 : 3;
    const peerBidiBase = role === 'server' ? 0 : 1;
    if (r.nextU32() % 2 === 0) {
      quic.inbound.set(peerUniBase, { chunks: [new Uint8Array([0x00]), encodeSettings([[0x01, 4096], [0x07, 16]])], fin: false });
      feed({ type: 'stream-opened', streamId: peerUniBase, direction: 'uni' });
    }
    for (let k = 0; k < 25 && quic.closedWith === undefined; k++, inputs++) {
      const pick = r.nextU32() % 10;
      if (pick === 0) {
        feed({ type: 'datagram', data: mutate(r, new Uint8Array([0x00, 1, 2, 3])) });
        continue;
      }
      const uni = pick < 5;
      const id = (uni ? peerUniBase : peerBidiBase) + 4 * (1 + k);
      let payload: Uint8Array;
      if (uni) {
        const type = [0x00, 0x02, 0x03, 0x01, 0x54, 0x21][r.nextU32() % 6]!;
        payload = new Uint8Array([type, ...structured(r)]);
      } else {
        payload = structured(r);
      }
      if (r.nextU32() % 2 === 0) payload = mutate(r, payload);
      quic.inbound.set(id, { chunks: chunks(r, payload), fin: r.nextU32() % 3 === 0 });
      feed({ type: 'stream-opened', streamId: id, direction: uni ? 'uni' : 'bidi' });
      // Some bytes arrive in later readability events.
      for (let again = 0; again < 3; again++) feed({ type: 'stream-readable', streamId: id });
      if (r.nextU32() % 8 === 0) feed({ type: 'stream-reset', streamId: id, errorCode: 0x10c, finalSize: 0 });
    }
    if (quic.closedWith !== undefined) {
      closes++;
      assert.ok(ALLOWED(quic.closedWith), `seed ${seed} round ${round}: closed with 0x${quic.closedWith.toString(16)}`);
    }
    assert.ok(h3.openRequestCount <= 25);
  }
  console.log(`  ${inputs} inputs, ${closes} connections closed with HTTP/3 codes, ${(performance.now() - started).toFixed(0)} ms (seed ${seed})`);
});

test.run();
