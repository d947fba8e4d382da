import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteWriter } from '../../src/codec/writer.js';
import { ackFrameLength, writeAck } from '../../src/frame/ack.js';
import { parseFrames } from '../../src/frame/parse.js';
import { FrameType, wireFrameType, type AckFrame, type AckRange, type Frame } from '../../src/frame/types.js';
import { frameLength, writeFrame } from '../../src/frame/write.js';
import { PacketType } from '../../src/packet/types.js';
import { fromHex, toHex } from '../helpers/vectors.js';
import { SAMPLE_FRAMES } from './samples.js';

function encode(...frames: Frame[]): Uint8Array {
  const w = new ByteWriter(16);
  for (const f of frames) writeFrame(w, f);
  return w.toBytes();
}

test('every frame type: encode -> parse -> deep equal -> encode again byte-identical', () => {
  const seen = new Set<number>();
  for (const [name, frame] of SAMPLE_FRAMES) {
    const bytes = encode(frame);
    assert.is(bytes.length, frameLength(frame), `${name}: frameLength`);
    assert.is(bytes[0], wireFrameType(frame) === 0 ? 0 : wireFrameType(frame), `${name}: wire type`);
    const parsed = parseFrames(bytes, PacketType.ONE_RTT);
    assert.is(parsed.length, 1, name);
    assert.equal(parsed[0], frame, name);
    assert.is(toHex(encode(parsed[0] as Frame)), toHex(bytes), `${name}: re-encoding`);
    seen.add(wireFrameType(frame));
  }
  // Every wire codepoint we implement is exercised: 0x00-0x1e, 0x24, 0x30, 0x31.
  const expected = [...Array.from({ length: 0x1f }, (_, i) => i), 0x24, 0x30, 0x31];
  assert.equal([...seen].sort((a, b) => a - b), expected);
});

test('all sample frames in one 1-RTT packet parse back in order', () => {
  // Frames without a Length field run to the end of the packet, so they can only go last.
  // Adjacent PADDING runs merge into one, so only the first PADDING sample goes in.
  const withLength = SAMPLE_FRAMES.map(([, f]) => f).filter(
    (f, i, all) => (!('hasLength' in f) || f.hasLength) && (f.type !== FrameType.PADDING || all.findIndex((g) => g.type === FrameType.PADDING) === i),
  );
  const last: Frame = { type: FrameType.STREAM, streamId: 1, offset: 9, data: Uint8Array.of(1, 2), fin: false, hasLength: false };
  const frames = [...withLength, last];
  const parsed = parseFrames(encode(...frames), PacketType.ONE_RTT);
  assert.equal(parsed, frames);
});

test('parsed data fields are views into the packet, not copies (STREAM, CRYPTO, DATAGRAM, NEW_TOKEN, reason)', () => {
  const payload = encode(
    { type: FrameType.STREAM, streamId: 0, offset: 0, data: Uint8Array.of(1, 2, 3), fin: false, hasLength: true },
    { type: FrameType.CRYPTO, offset: 0, data: Uint8Array.of(4) },
    { type: FrameType.NEW_TOKEN, token: Uint8Array.of(5) },
    { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: 0, frameType: 0, reason: Uint8Array.of(6) },
    { type: FrameType.DATAGRAM, data: Uint8Array.of(7, 8), hasLength: false },
  );
  const frames = parseFrames(payload, PacketType.ONE_RTT);
  const views = frames.map((f) => {
    switch (f.type) {
      case FrameType.STREAM:
      case FrameType.CRYPTO:
      case FrameType.DATAGRAM:
        return f.data;
      case FrameType.NEW_TOKEN:
        return f.token;
      case FrameType.CONNECTION_CLOSE:
        return f.reason;
      default:
        throw new Error('unexpected frame');
    }
  });
  for (const v of views) assert.ok(v.buffer === payload.buffer, 'shares the packet buffer');
  payload[payload.length - 1] = 0x99; // last DATAGRAM byte
  assert.is(views[4]?.[1], 0x99);
});

test('a PADDING run is one frame with its length, also between other frames', () => {
  const payload = fromHex('01 000000 01 00');
  assert.equal(parseFrames(payload, PacketType.INITIAL), [
    { type: FrameType.PING },
    { type: FrameType.PADDING, length: 3 },
    { type: FrameType.PING },
    { type: FrameType.PADDING, length: 1 },
  ]);
  const big = new Uint8Array(1200);
  big[0] = 0x01;
  assert.equal(parseFrames(big, PacketType.INITIAL), [{ type: FrameType.PING }, { type: FrameType.PADDING, length: 1199 }]);
});

/** 200 ranges of varying sizes and gaps, highest first. */
function manyRanges(count: number): AckRange[] {
  const ranges: AckRange[] = [];
  let high = 1_000_000;
  for (let i = 0; i < count; i++) {
    const len = (i * 7) % 13;
    ranges.push({ smallest: high - len, largest: high });
    high = high - len - 2 - ((i * 11) % 300); // gap of at least one missing packet
  }
  return ranges;
}

test('ACK with 200 ranges and ECN counts round-trips', () => {
  const ack: AckFrame = { type: FrameType.ACK, ackDelay: 999, ranges: manyRanges(200), ecn: { ect0: 12, ect1: 0, ce: 3 } };
  const bytes = encode(ack);
  assert.is(bytes[0], 0x03);
  assert.is(bytes.length, ackFrameLength(ack));
  const [parsed] = parseFrames(bytes, PacketType.HANDSHAKE);
  assert.equal(parsed, ack);
  const plain: AckFrame = { type: FrameType.ACK, ackDelay: 0, ranges: manyRanges(200) };
  const plainBytes = encode(plain);
  assert.is(plainBytes[0], 0x02);
  assert.equal(parseFrames(plainBytes, PacketType.INITIAL), [plain]);
});

test('ACK encoding bounded to N ranges keeps the N highest ranges', () => {
  const ranges = manyRanges(200);
  const ack: AckFrame = { type: FrameType.ACK, ackDelay: 5, ranges };
  for (const limit of [1, 2, 10, 64, 199, 200, 500]) {
    const w = new ByteWriter(8);
    writeAck(w, ack, limit);
    assert.is(w.offset, ackFrameLength(ack, limit), `length for ${limit}`);
    const [parsed] = parseFrames(w.finish(), PacketType.ONE_RTT) as [AckFrame];
    assert.equal(parsed.ranges, ranges.slice(0, Math.min(limit, 200)), `ranges for ${limit}`);
  }
  // Fewer ranges is never longer.
  assert.ok(ackFrameLength(ack, 10) < ackFrameLength(ack, 11));
});

test('exact bytes: STREAM 0x0f (OFF|LEN|FIN) follows the §19.8 layout', () => {
  const f: Frame = { type: FrameType.STREAM, streamId: 4, offset: 0x40, data: Uint8Array.of(0xaa, 0xbb, 0xcc), fin: true, hasLength: true };
  // Type 0x0f, Stream ID 4, Offset 64 (two-byte varint 0x4040), Length 3, data.
  assert.is(toHex(encode(f)), '0f' + '04' + '4040' + '03' + 'aabbcc');
  // OFF absent when the offset is 0, LEN absent: type 0x08 + FIN = 0x09, data runs to the end.
  const g: Frame = { type: FrameType.STREAM, streamId: 0x3fff, offset: 0, data: Uint8Array.of(1), fin: true, hasLength: false };
  assert.is(toHex(encode(g)), '09' + '7fff' + '01');
});

test('exact bytes: ACK with a gap follows §19.3 / §19.3.1', () => {
  // Acknowledges 8..10 and 2..5: First ACK Range 2, then Gap = 8 - 5 - 2 = 1, ACK Range Length 3.
  const f: Frame = { type: FrameType.ACK, ackDelay: 0x1234, ranges: [{ smallest: 8, largest: 10 }, { smallest: 2, largest: 5 }] };
  assert.is(toHex(encode(f)), '02' + '0a' + '5234' + '01' + '02' + '01' + '03');
  const ecn: Frame = { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }], ecn: { ect0: 1, ect1: 2, ce: 0x40 } };
  assert.is(toHex(encode(ecn)), '03' + '00' + '00' + '00' + '00' + '01' + '02' + '4040');
});

test('exact bytes: CONNECTION_CLOSE 0x1c has a Frame Type field, 0x1d does not (§19.19)', () => {
  const reason = new TextEncoder().encode('x');
  const transport: Frame = { type: FrameType.CONNECTION_CLOSE, application: false, errorCode: 0x0a, frameType: 0x08, reason };
  assert.is(toHex(encode(transport)), '1c' + '0a' + '08' + '01' + '78');
  const app: Frame = { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: 0x0a, frameType: 0, reason };
  assert.is(toHex(encode(app)), '1d' + '0a' + '01' + '78');
});

test('exact bytes: NEW_CONNECTION_ID, MAX_STREAMS uni, RESET_STREAM_AT, DATAGRAM', () => {
  const ncid: Frame = {
    type: FrameType.NEW_CONNECTION_ID,
    sequenceNumber: 2,
    retirePriorTo: 1,
    connectionId: fromHex('c0ffee'),
    statelessResetToken: fromHex('00112233445566778899aabbccddeeff'),
  };
  assert.is(toHex(encode(ncid)), '18' + '02' + '01' + '03' + 'c0ffee' + '00112233445566778899aabbccddeeff');
  assert.is(toHex(encode({ type: FrameType.MAX_STREAMS, bidirectional: false, maximum: 100 })), '13' + '4064');
  assert.is(toHex(encode({ type: FrameType.STREAMS_BLOCKED, bidirectional: true, limit: 1 })), '16' + '01');
  const rsa: Frame = { type: FrameType.RESET_STREAM_AT, streamId: 1, errorCode: 2, finalSize: 300, reliableSize: 100 };
  // Type 0x24, Stream ID, Application Protocol Error Code, Final Size (0x412c), Reliable Size (0x4064).
  assert.is(toHex(encode(rsa)), '24' + '01' + '02' + '412c' + '4064');
  assert.is(toHex(encode({ type: FrameType.DATAGRAM, data: fromHex('abcd'), hasLength: true })), '31' + '02' + 'abcd');
  assert.is(toHex(encode({ type: FrameType.DATAGRAM, data: fromHex('abcd'), hasLength: false })), '30' + 'abcd');
});

test.run();
