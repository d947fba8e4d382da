/**
 * Issue 12 #2: a ClientHello of 131,071 bytes dripped one byte per CRYPTO frame (before any
 * address validation) cost the server ~4 s of CPU, because the handshake reassembler copied its
 * whole buffer on every push (131,071 one-byte pushes: 1.46 s, and ClientHelloPeek did the same
 * when the server speaks several versions). The figure checked here is deterministic: bytes
 * copied by the reassembler, counted through Uint8Array.prototype.set/slice while it runs. The
 * copying implementation moved ~8.6 GB for one such message; a linear one moves about 2x the
 * message.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HandshakeReassembler, encodeHandshake, MAX_HANDSHAKE_MESSAGE_LENGTH } from '../../src/tls/messages/handshake-framing.js';
import { ClientHelloPeek } from '../../src/connection/versions.js';
import { SimRandom } from '../../src/sim/prng.js';

/** Runs `body` and returns the bytes that Uint8Array set/slice copied meanwhile. */
function bytesCopied(body: () => void): number {
  const proto = Uint8Array.prototype as unknown as {
    set: (this: Uint8Array, src: ArrayLike<number>, offset?: number) => void;
    slice: (this: Uint8Array, start?: number, end?: number) => Uint8Array;
  };
  const set = proto.set;
  const slice = proto.slice;
  let copied = 0;
  proto.set = function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
    copied += src.length;
    return set.call(this, src, offset);
  };
  proto.slice = function (this: Uint8Array, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    copied += out.length;
    return out;
  };
  try {
    body();
  } finally {
    proto.set = set;
    proto.slice = slice;
  }
  return copied;
}

const BODY = MAX_HANDSHAKE_MESSAGE_LENGTH - 1;

test('#2: a 131,071-byte message pushed one byte at a time costs linear copying', () => {
  const message = encodeHandshake(1, new SimRandom(12).bytes(BODY));
  const r = new HandshakeReassembler();
  let got: Uint8Array | undefined;
  const copied = bytesCopied(() => {
    for (let i = 0; i < message.length; i++) {
      r.push(message.subarray(i, i + 1));
      const m = r.next();
      if (m) got = m.raw;
    }
  });
  assert.ok(got !== undefined);
  assert.equal(got, message);
  assert.ok(copied <= 3 * message.length, `copied ${copied} bytes for a ${message.length}-byte message`);
});

test('#2: ClientHelloPeek holds a dripped ClientHello with linear copying', () => {
  const message = encodeHandshake(1, new SimRandom(13).bytes(60_000));
  const peek = new ClientHelloPeek(64 * 1024);
  let out: Uint8Array | undefined;
  const copied = bytesCopied(() => {
    for (let i = 0; i < message.length && out === undefined; i++) out = peek.push(message.subarray(i, i + 1));
  });
  assert.ok(out !== undefined);
  assert.equal(out, message);
  assert.ok(copied <= 4 * message.length, `copied ${copied} bytes for a ${message.length}-byte message`);
});

test('reassembler: random splits of a run of messages (incl. empty ones) come out whole and in order', () => {
  const rng = new SimRandom(0x12);
  for (let round = 0; round < 50; round++) {
    const messages: Uint8Array[] = [];
    for (let i = rng.intBetween(1, 6); i > 0; i--) messages.push(encodeHandshake(rng.intBetween(1, 30), rng.bytes(rng.chance(0.2) ? 0 : rng.intBetween(1, 3000))));
    const all = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
    let at = 0;
    for (const m of messages) (all.set(m, at), (at += m.length));
    const r = new HandshakeReassembler();
    const out: Uint8Array[] = [];
    for (let i = 0; i < all.length; ) {
      const n = Math.min(all.length - i, rng.intBetween(1, 700));
      r.push(all.subarray(i, i + n));
      i += n;
      for (let m = r.next(); m; m = r.next()) out.push(m.raw);
    }
    assert.is(out.length, messages.length, `round ${round}`);
    out.forEach((m, i) => assert.equal(m, messages[i]));
    assert.not.ok(r.hasPartial);
  }
});

test('reassembler: an oversized header fails after the whole messages before it', () => {
  const ok = encodeHandshake(2, new Uint8Array(10));
  const bad = new Uint8Array([1, 0xff, 0xff, 0xff]);
  const r = new HandshakeReassembler();
  const both = new Uint8Array(ok.length + bad.length);
  both.set(ok);
  both.set(bad, ok.length);
  r.push(both);
  assert.equal(r.next()?.raw, ok);
  assert.throws(() => r.next());
});

test.run();
