import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteWriter } from '../../src/codec/writer.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { parseFrames } from '../../src/frame/parse.js';
import { FrameType, wireFrameType, type Frame } from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { PacketType } from '../../src/packet/types.js';
import { createPrng } from '../helpers/prng.js';
import { expectQuicError } from './helpers.js';
import { SAMPLE_FRAMES } from './samples.js';

function encode(frames: readonly Frame[]): Uint8Array {
  const w = new ByteWriter(64);
  for (const f of frames) writeFrame(w, f);
  return w.toBytes();
}

/** Frames whose last field runs to the end of the packet: cutting their data leaves a valid, shorter frame. */
function isOpenEnded(f: Frame): boolean {
  return f.type === FrameType.PADDING || ((f.type === FrameType.STREAM || f.type === FrameType.DATAGRAM) && !f.hasLength);
}

test('truncation at every byte of every sample frame: FRAME_ENCODING_ERROR naming the frame type', () => {
  let cuts = 0;
  for (const [name, frame] of SAMPLE_FRAMES) {
    const bytes = encode([frame]);
    const wire = wireFrameType(frame);
    for (let cut = 1; cut < bytes.length; cut++) {
      const payload = bytes.subarray(0, cut);
      if (isOpenEnded(frame)) {
        // Either the header is cut (an error) or the frame is complete with less data.
        try {
          const [f] = parseFrames(payload, PacketType.ONE_RTT);
          assert.is(f?.type, frame.type, `${name} cut at ${cut}`);
        } catch (e) {
          assert.ok(QuicError.is(e), `${name} cut at ${cut}: ${String(e)}`);
          assert.is((e as QuicError).code, TransportErrorCode.FRAME_ENCODING_ERROR);
          assert.is((e as QuicError).frameType, wire);
        }
      } else {
        expectQuicError(() => parseFrames(payload, PacketType.ONE_RTT), TransportErrorCode.FRAME_ENCODING_ERROR, wire, `${name} cut at ${cut}`);
      }
      cuts++;
    }
  }
  assert.ok(cuts > 500, `${cuts} cuts`);
});

test('a frame truncated after complete frames reports the truncated frame\'s type', () => {
  const bytes = encode([{ type: FrameType.PING }, { type: FrameType.MAX_DATA, maximum: 100_000 }]);
  expectQuicError(() => parseFrames(bytes.subarray(0, bytes.length - 1), PacketType.ONE_RTT), TransportErrorCode.FRAME_ENCODING_ERROR, 0x10);
});

/**
 * Seeded mutation fuzzing of encoded sample packets (bit flips, byte changes, cuts, splices):
 * parseFrames throws only QuicError, and whatever it accepts re-encodes and parses back equal.
 */
test('mutated packets: only QuicError, and every accepted packet re-encodes to the same frames', () => {
  const seed = Number(process.env.FRAME_FUZZ_SEED ?? 0x5eed_f4a3);
  const rng = createPrng(seed);
  const samples = SAMPLE_FRAMES.map(([, f]) => encode([f]));
  const packetTypes = Object.values(PacketType).filter((t) => t !== PacketType.RETRY && t !== PacketType.VERSION_NEGOTIATION);
  let accepted = 0;
  const ITERATIONS = 20_000;
  for (let i = 0; i < ITERATIONS; i++) {
    const parts = [rng.pick(samples), rng.pick(samples), rng.pick(samples)].slice(0, 1 + rng.int(3));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const packet = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      packet.set(p, at);
      at += p.length;
    }
    const mutations = 1 + rng.int(4);
    for (let m = 0; m < mutations && packet.length > 0; m++) {
      const pos = rng.int(packet.length);
      if (rng.chance(0.5)) packet[pos] = (packet[pos] as number) ^ (1 << rng.int(8));
      else packet[pos] = rng.chance(0.5) ? rng.int(0x40) : rng.int(256);
    }
    const payload = rng.chance(0.2) ? packet.subarray(0, rng.int(packet.length + 1)) : packet;
    const pt = rng.pick(packetTypes);
    let frames: Frame[];
    try {
      frames = parseFrames(payload, pt);
    } catch (e) {
      if (!QuicError.is(e)) assert.unreachable(`seed ${seed} iteration ${i}: non-QuicError ${String(e)}`);
      continue;
    }
    accepted++;
    assert.equal(parseFrames(encode(frames), pt), frames, `seed ${seed} iteration ${i}: re-encoding`);
  }
  assert.ok(accepted > ITERATIONS / 20, `accepted ${accepted}`);
});

test.run();
