import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimRandom } from '../../src/sim/prng.js';
import { RecvBuffer } from '../../src/stream/recv-buffer.js';
import { SendBuffer, type SendChunk } from '../../src/stream/send-buffer.js';

const SEED = Number(process.env.SIM_SEED ?? 0x5eed_0002);

interface Frame {
  offset: number;
  length: number;
  fin: boolean;
  retransmit: boolean;
  data: Uint8Array;
}

function take(buf: SendBuffer, maxLength: number, maxNew = Number.POSITIVE_INFINITY): Frame | undefined {
  const c: SendChunk | undefined = buf.nextChunk(maxLength, maxNew);
  if (c === undefined) return undefined;
  const data = new Uint8Array(c.length);
  buf.copyTo(c.offset, c.length, data, 0);
  return { offset: c.offset, length: c.length, fin: c.fin, retransmit: c.retransmit, data };
}

function seq(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

test('new data goes out in order with FIN on the last chunk', () => {
  const b = new SendBuffer();
  b.write(seq(10));
  b.write(seq(5, 10));
  b.finish();
  const f1 = take(b, 8) as Frame;
  assert.equal([f1.offset, f1.length, f1.fin], [0, 8, false]);
  const f2 = take(b, 100) as Frame;
  assert.equal([f2.offset, f2.length, f2.fin], [8, 7, true]);
  assert.equal(f2.data, seq(7, 8), 'copy spans two written chunks');
  assert.is(take(b, 100), undefined);
  assert.not.ok(b.hasPendingData());
});

test('FIN alone is a zero-length chunk; write after finish is refused', () => {
  const b = new SendBuffer();
  b.write(seq(4));
  const f = take(b, 100) as Frame;
  assert.not.ok(f.fin);
  b.finish();
  assert.not.ok(b.write(seq(1)));
  const fin = take(b, 0) as Frame;
  assert.equal([fin.offset, fin.length, fin.fin], [4, 0, true]);
});

test('RFC 9000 §4.1: maxNewBytes limits new data, not retransmissions', () => {
  const b = new SendBuffer();
  b.write(seq(100));
  const f = take(b, 50, 20) as Frame;
  assert.is(f.length, 20);
  assert.is(take(b, 50, 0), undefined, 'no credit: nothing new');
  b.onLost(0, 20, false);
  const r = b.nextChunk(50, 0) as SendChunk;
  assert.equal([r.offset, r.length, r.retransmit], [0, 20, true]);
});

test('lost ranges are resent before new data; acked data is freed from the front', () => {
  const b = new SendBuffer();
  b.write(seq(30));
  b.finish();
  const f1 = take(b, 10) as Frame;
  const f2 = take(b, 10) as Frame;
  const f3 = take(b, 10) as Frame;
  assert.ok(f3.fin);
  b.onAcked(f2.offset, f2.length, f2.fin);
  assert.is(b.ackedOffset, 0, 'a hole at the front keeps everything');
  b.onLost(f1.offset, f1.length, f1.fin);
  b.onLost(f3.offset, f3.length, f3.fin);
  const r1 = take(b, 100) as Frame;
  assert.equal([r1.offset, r1.length, r1.fin], [0, 10, false]);
  const r3 = take(b, 100) as Frame;
  assert.equal([r3.offset, r3.length, r3.fin], [20, 10, true], 'lost FIN goes with the last bytes');
  assert.equal(r3.data, seq(10, 20));
  b.onAcked(0, 10, false);
  assert.is(b.ackedOffset, 20);
  assert.is(b.bufferedBytes, 10);
  b.onAcked(20, 10, true);
  assert.ok(b.isAllAcked());
  assert.is(b.bufferedBytes, 0);
});

test('a late ack of a range declared lost cancels its retransmission', () => {
  const b = new SendBuffer();
  b.write(seq(20));
  take(b, 20);
  b.onLost(0, 20, false);
  b.onAcked(5, 10, false);
  const r1 = take(b, 100) as Frame;
  const r2 = take(b, 100) as Frame;
  assert.equal([r1.offset, r1.length], [0, 5]);
  assert.equal([r2.offset, r2.length], [15, 5]);
  assert.is(take(b, 100), undefined);
});

test('loss of already acked bytes requeues nothing', () => {
  const b = new SendBuffer();
  b.write(seq(20));
  take(b, 20);
  b.onAcked(0, 20, false);
  b.onLost(0, 20, false);
  assert.not.ok(b.hasRetransmission());
});

test('random loss/ack/retransmit sequences end with all data acked exactly (seeded)', () => {
  const rng = new SimRandom(SEED);
  for (let round = 0; round < 40; round++) {
    const b = new SendBuffer();
    const source = rng.bytes(rng.intBetween(0, 20_000));
    for (let at = 0; at < source.length; ) {
      const n = Math.min(source.length - at, rng.intBetween(1, 3000));
      b.write(source.subarray(at, at + n));
      at += n;
    }
    b.finish();
    const receiver = new RecvBuffer();
    const inFlight: Frame[] = [];
    let newBytes = 0;
    let steps = 0;
    // Bounded: loss probability < 1 so each range is acked after a few tries; 100k steps is ample.
    while (!b.isAllAcked() && steps++ < 100_000) {
      if (rng.chance(0.6)) {
        const f = take(b, rng.intBetween(1, 1400));
        if (f !== undefined) {
          assert.equal(f.data, source.subarray(f.offset, f.offset + f.length), `round ${round}: bytes at ${f.offset}`);
          if (!f.retransmit) newBytes += f.length;
          inFlight.push(f);
          continue;
        }
      }
      if (inFlight.length === 0) continue;
      const f = inFlight.splice(rng.int(inFlight.length), 1)[0] as Frame;
      if (rng.chance(0.25)) b.onLost(f.offset, f.length, f.fin);
      else {
        receiver.insert(f.offset, f.data, f.fin);
        b.onAcked(f.offset, f.length, f.fin);
        // Sometimes a spurious loss of an acked frame is reported too.
        if (rng.chance(0.05)) b.onLost(f.offset, f.length, f.fin);
      }
    }
    assert.ok(b.isAllAcked(), `round ${round} (seed ${SEED}) finished`);
    assert.is(b.ackedOffset, source.length);
    assert.is(b.bufferedBytes, 0);
    assert.is(b.sentOffset, source.length);
    assert.is(newBytes, source.length, 'each new byte sent once as new data');
    assert.is(b.nextChunk(1000), undefined, 'nothing left to send');
    assert.ok(receiver.isAllReceived());
    assert.equal(receiver.readAll() ?? new Uint8Array(0), source, `round ${round}: receiver got the stream`);
  }
});

test('reset discards everything: nothing sent or retransmitted, memory freed', () => {
  const b = new SendBuffer();
  b.write(seq(100));
  take(b, 40);
  b.reset();
  b.reset();
  assert.ok(b.isReset);
  assert.is(b.reliableSize, 0);
  assert.is(b.finalSizeForReset, 40);
  assert.is(b.bufferedBytes, 0);
  b.onLost(0, 40, false);
  assert.is(b.nextChunk(1000), undefined);
  assert.ok(b.isAllAcked(), 'nothing is owed after a plain reset');
  assert.not.ok(b.write(seq(3)));
  b.onAcked(0, 40, false);
});

test('RESET_STREAM_AT: bytes below the reliable size are retransmitted, above are not', () => {
  const b = new SendBuffer();
  b.write(seq(100));
  b.finish();
  const frames: Frame[] = [];
  for (let i = 0; i < 6; i++) frames.push(take(b, 10) as Frame);
  assert.is(b.sentOffset, 60);
  assert.is(b.resetAt(35), 35);
  assert.is(b.finalSizeForReset, 60);
  for (const f of frames) b.onLost(f.offset, f.length, f.fin);
  const resent: [number, number, boolean][] = [];
  for (let f = take(b, 10); f !== undefined; f = take(b, 10)) resent.push([f.offset, f.length, f.fin]);
  assert.equal(resent, [[0, 10, false], [10, 10, false], [20, 10, false], [30, 5, false]]);
  assert.not.ok(b.isAllAcked());
  b.onAcked(0, 35, false);
  assert.ok(b.isAllAcked());
  assert.is(b.bufferedBytes, 0);
});

test('RESET_STREAM_AT: unsent bytes below the reliable size still go out; the size only shrinks', () => {
  const b = new SendBuffer();
  b.write(seq(50));
  take(b, 10);
  assert.is(b.resetAt(30), 30);
  assert.is(b.finalSizeForReset, 30, 'final size covers the bytes still to be sent');
  assert.is(b.resetAt(40), 30, 'cannot grow');
  const f = take(b, 100) as Frame;
  assert.equal([f.offset, f.length, f.fin], [10, 20, false]);
  assert.is(b.resetAt(200), 30);
  assert.is(b.resetAt(20), 20);
  b.onAcked(0, 10, false);
  b.onAcked(10, 20, false);
  assert.ok(b.isAllAcked());
  assert.is(b.resetAt(5), 5, 'shrinking after completion is harmless');
  assert.ok(b.isAllAcked());
});

test('reliable size is clamped to the bytes written', () => {
  const b = new SendBuffer();
  b.write(seq(10));
  assert.is(b.resetAt(1000), 10);
});

test('view returns a subarray inside one chunk, a copy across chunks', () => {
  const b = new SendBuffer();
  const a = seq(10);
  b.write(a);
  b.write(seq(10, 10));
  const v = b.view(2, 5);
  assert.ok(v.buffer === a.buffer);
  assert.equal(b.view(8, 4), seq(4, 8));
});

test.run();
