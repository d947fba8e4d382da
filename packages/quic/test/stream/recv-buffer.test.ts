import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportErrorCode } from '../../src/errors.js';
import { SimRandom } from '../../src/sim/prng.js';
import { RecvBuffer } from '../../src/stream/recv-buffer.js';
import { expectQuicError } from './expect-error.js';

const SEED = Number(process.env.SIM_SEED ?? 0x5eed_0001);

function bytes(from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  for (let i = 0; i < out.length; i++) out[i] = (from + i) * 7 & 0xff;
  return out;
}

test('in-order data is readable at once; read views advance the offset', () => {
  const b = new RecvBuffer();
  assert.is(b.insert(0, bytes(0, 10)), 10);
  assert.ok(b.hasReadable());
  assert.is(b.readableBytes(), 10);
  const first = b.read(4) as Uint8Array;
  assert.equal(Array.from(first), Array.from(bytes(0, 4)));
  assert.is(b.readOffset, 4);
  assert.equal(Array.from(b.read() as Uint8Array), Array.from(bytes(4, 10)));
  assert.is(b.read(), undefined);
  assert.is(b.bufferedBytes, 0);
});

test('a gap holds back later data until filled; only new bytes are stored', () => {
  const b = new RecvBuffer();
  assert.is(b.insert(5, bytes(5, 10)), 5);
  assert.not.ok(b.hasReadable());
  assert.is(b.highestOffset, 10);
  assert.is(b.insert(3, bytes(3, 8)), 2, 'overlap with [5,10) stores only [3,5)');
  assert.is(b.insert(0, bytes(0, 12)), 5, 'stores [0,3) and [10,12)');
  assert.is(b.bufferedBytes, 12);
  assert.equal(Array.from(b.readAll() as Uint8Array), Array.from(bytes(0, 12)));
  assert.is(b.insert(0, bytes(0, 12)), 0, 'duplicate of read data is ignored');
  assert.is(b.bufferedBytes, 0);
});

test('received data is copied unless ownership is handed over and the view is most of its buffer', () => {
  const b = new RecvBuffer();
  const src = bytes(0, 8);
  b.insert(0, src);
  src[0] = 99;
  assert.is.not((b.read() as Uint8Array)[0], 99);

  const owned = bytes(0, 1200);
  const c = new RecvBuffer();
  c.insert(0, owned, false, true);
  assert.ok(c.read() === owned, 'an owned in-order piece covering its buffer is kept without a copy');

  // A small owned piece of a large datagram is copied, so it does not pin the datagram (issue 12 #4).
  const datagram = bytes(0, 1400);
  const d = new RecvBuffer();
  d.insert(0, datagram.subarray(100, 400), false, true);
  const got = d.read() as Uint8Array;
  assert.is.not(got.buffer, datagram.buffer);
  assert.equal(Array.from(got), Array.from(bytes(100, 400)));
});

test('after a gap is filled and read, in-order data is kept without a copy again', () => {
  const b = new RecvBuffer();
  // A lost packet: the next one goes to the pages, then the retransmission fills the gap.
  b.insert(1200, bytes(1200, 2400), false, true);
  b.insert(0, bytes(0, 1200), false, true);
  let read = 0;
  for (let chunk = b.read(); chunk !== undefined; chunk = b.read()) {
    assert.equal(Array.from(chunk), Array.from(bytes(read, read + chunk.length)));
    read += chunk.length;
  }
  assert.is(read, 2400);
  // The reader stopped in the middle of a page; nothing beyond it was received.
  const next = bytes(2400, 3600);
  b.insert(2400, next, false, true);
  assert.ok(b.read() === next, 'in-order piece queued as it is, not copied into the old page');
  // A page with unread or out-of-order bytes is kept: those bytes are still delivered.
  b.insert(4800, bytes(4800, 6000), false, true);
  b.insert(3600, bytes(3600, 4800), false, true);
  read = 3600;
  for (let chunk = b.read(); chunk !== undefined; chunk = b.read()) {
    assert.equal(Array.from(chunk), Array.from(bytes(read, read + chunk.length)));
    read += chunk.length;
  }
  assert.is(read, 6000);
  assert.is(b.bufferedBytes, 0);
});

test('random chunking with overlap and duplicates reassembles exactly (seeded)', () => {
  const rng = new SimRandom(SEED);
  for (let round = 0; round < 60; round++) {
    const total = rng.intBetween(0, 5000);
    const source = rng.bytes(total);
    // Pieces covering everything, plus extra overlapping and duplicate ones.
    const pieces: [number, number][] = [];
    for (let at = 0; at < total; ) {
      const len = Math.min(total - at, rng.intBetween(1, 300));
      pieces.push([at, at + len]);
      at += len;
    }
    const extra = rng.int(pieces.length + 1);
    for (let i = 0; i < extra; i++) {
      const s = rng.int(Math.max(1, total));
      pieces.push([s, Math.min(total, s + rng.intBetween(0, 400))]);
    }
    for (let i = pieces.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [pieces[i], pieces[j]] = [pieces[j] as [number, number], pieces[i] as [number, number]];
    }
    const fin = rng.chance(0.5);
    if (fin) pieces.push([total, total]);

    const b = new RecvBuffer();
    const out = new Uint8Array(total);
    let outAt = 0;
    let storedTotal = 0;
    for (const [s, e] of pieces) {
      storedTotal += b.insert(s, source.subarray(s, e), fin && e === total && rng.chance(0.5));
      // Memory never exceeds what lies between the read offset and the highest offset.
      assert.ok(b.bufferedBytes <= b.highestOffset - b.readOffset, `round ${round}: bounded memory`);
      if (rng.chance(0.3)) {
        const chunk = b.read(rng.intBetween(1, 500));
        if (chunk !== undefined) {
          out.set(chunk, outAt);
          outAt += chunk.length;
        }
      }
    }
    if (fin) b.insert(total, new Uint8Array(0), true);
    const rest = b.readAll();
    if (rest !== undefined) {
      out.set(rest, outAt);
      outAt += rest.length;
    }
    assert.is(outAt, total, `round ${round} (seed ${SEED}): all bytes read`);
    assert.equal(out, source, `round ${round} (seed ${SEED}): bytes match`);
    assert.is(storedTotal, total, `round ${round}: every byte stored exactly once`);
    assert.is(b.highestOffset, total);
    if (fin) {
      assert.ok(b.isAllReceived());
      assert.ok(b.isAllRead());
    } else assert.not.ok(b.isAllRead());
  }
});

test('RFC 9000 §4.5: data beyond a known final size is FINAL_SIZE_ERROR', () => {
  const b = new RecvBuffer();
  b.insert(0, bytes(0, 10), true);
  assert.is(b.finalSize, 10);
  expectQuicError(() => b.insert(8, bytes(8, 11)), TransportErrorCode.FINAL_SIZE_ERROR);
  expectQuicError(() => b.insert(10, bytes(10, 11)), TransportErrorCode.FINAL_SIZE_ERROR);
});

test('RFC 9000 §4.5: a FIN changing the final size is FINAL_SIZE_ERROR; repeating it is fine', () => {
  const b = new RecvBuffer();
  b.insert(5, bytes(5, 10), true);
  b.insert(5, bytes(5, 10), true);
  b.insert(0, bytes(0, 5));
  expectQuicError(() => b.insert(0, bytes(0, 9), true), TransportErrorCode.FINAL_SIZE_ERROR);
  expectQuicError(() => b.insert(0, bytes(0, 11), true), TransportErrorCode.FINAL_SIZE_ERROR);
  assert.ok(b.isAllReceived());
});

test('RFC 9000 §4.5: a FIN below data already received is FINAL_SIZE_ERROR', () => {
  const b = new RecvBuffer();
  b.insert(10, bytes(10, 20));
  expectQuicError(() => b.insert(0, bytes(0, 15), true), TransportErrorCode.FINAL_SIZE_ERROR);
  // An empty FIN at exactly the highest offset is fine.
  b.insert(20, new Uint8Array(0), true);
  assert.is(b.finalSize, 20);
});

test('RFC 9000 §4.5: reset final size checked against FIN and received data', () => {
  const a = new RecvBuffer();
  a.insert(0, bytes(0, 10));
  expectQuicError(() => a.setFinalSize(9), TransportErrorCode.FINAL_SIZE_ERROR);
  a.setFinalSize(12);
  assert.is(a.highestOffset, 12, 'final size counts for flow control');
  a.setFinalSize(12);
  expectQuicError(() => a.setFinalSize(13), TransportErrorCode.FINAL_SIZE_ERROR);

  const c = new RecvBuffer();
  c.insert(0, bytes(0, 4), true);
  expectQuicError(() => c.setFinalSize(5), TransportErrorCode.FINAL_SIZE_ERROR);
  c.setFinalSize(4);
});

test('discard frees memory but keeps checking sizes and counting the highest offset', () => {
  const b = new RecvBuffer();
  b.insert(4, bytes(4, 100));
  b.discard();
  assert.is(b.bufferedBytes, 0);
  assert.is(b.insert(100, bytes(100, 200)), 0);
  assert.is(b.highestOffset, 200);
  b.insert(200, new Uint8Array(0), true);
  expectQuicError(() => b.insert(150, bytes(150, 201)), TransportErrorCode.FINAL_SIZE_ERROR);
});

test('RESET_STREAM_AT: data below the reliable size is still delivered, above is dropped', () => {
  const b = new RecvBuffer();
  b.insert(0, bytes(0, 5));
  b.insert(8, bytes(8, 20));
  b.setFinalSize(30);
  b.limitDelivery(12);
  assert.is(b.bufferedBytes, 5 + 4);
  assert.not.ok(b.isAllReceived());
  assert.is(b.insert(5, bytes(5, 30)), 3, 'only [5,8) is new and below the reliable size');
  assert.ok(b.isAllReceived());
  assert.equal(b.readAll(), bytes(0, 12));
  assert.ok(b.isAllRead());
  b.limitDelivery(20);
  assert.is(b.deliveryEnd, 12, 'the delivery limit never rises');
});

test('CRYPTO-style use: no FIN, far-ahead data bounded by the caller', () => {
  const b = new RecvBuffer();
  b.insert(1000, bytes(1000, 1010));
  assert.is(b.highestOffset, 1010);
  assert.is(b.bufferedBytes, 10);
  assert.is(b.deliveryEnd, undefined);
  assert.not.ok(b.isAllReceived());
});

test.run();
