import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteWriter } from '../../src/codec/writer.js';
import { TransportErrorCode } from '../../src/errors.js';
import { parseFrames } from '../../src/frame/parse.js';
import {
  ALLOWED_IN,
  countsInFlight,
  FrameType,
  isAckEliciting,
  isFrameAllowedIn,
  isProbingFrame,
  wireFrameType,
} from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { PacketType } from '../../src/packet/types.js';
import { expectQuicError } from './helpers.js';
import { SAMPLE_FRAMES } from './samples.js';

const KNOWN = [...Array.from({ length: 0x1f }, (_, i) => i), 0x24, 0x30, 0x31];
/** RFC 9000 §12.4 Table 3, written out per packet type. */
const IN_INITIAL_AND_HANDSHAKE = [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c];
/** §12.5: ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE, RETIRE_CONNECTION_ID cannot be in 0-RTT. */
const NOT_IN_0RTT = [0x02, 0x03, 0x06, 0x07, 0x19, 0x1b, 0x1e];
const EXPECTED: Record<PacketType, number[]> = {
  [PacketType.INITIAL]: IN_INITIAL_AND_HANDSHAKE,
  [PacketType.HANDSHAKE]: IN_INITIAL_AND_HANDSHAKE,
  [PacketType.ZERO_RTT]: KNOWN.filter((t) => !NOT_IN_0RTT.includes(t)),
  [PacketType.ONE_RTT]: KNOWN,
  [PacketType.RETRY]: [],
  [PacketType.VERSION_NEGOTIATION]: [],
};
const PACKET_TYPES = Object.values(PacketType);

test('ALLOWED_IN matches §12.4 Table 3 and §12.5 for every packet type', () => {
  for (const pt of PACKET_TYPES) {
    assert.equal([...ALLOWED_IN[pt]].sort((a, b) => a - b), EXPECTED[pt], `packet type ${pt}`);
  }
});

test('§12.4: parseFrames accepts every frame where allowed and rejects it elsewhere with PROTOCOL_VIOLATION', () => {
  let rejected = 0;
  for (const [name, frame] of SAMPLE_FRAMES) {
    const w = new ByteWriter(16);
    writeFrame(w, frame);
    const bytes = w.toBytes();
    const wire = wireFrameType(frame);
    for (const pt of PACKET_TYPES) {
      if (EXPECTED[pt].includes(wire)) {
        assert.is(parseFrames(bytes, pt).length, 1, `${name} in ${pt}`);
        assert.ok(isFrameAllowedIn(wire, pt));
      } else {
        expectQuicError(() => parseFrames(bytes, pt), TransportErrorCode.PROTOCOL_VIOLATION, wire, `${name} in ${pt}`);
        assert.not.ok(isFrameAllowedIn(wire, pt));
        rejected++;
      }
    }
  }
  assert.ok(rejected > 100);
});

test('§12.4 "ih": only CONNECTION_CLOSE 0x1c may appear in Initial and Handshake, 0x1d may not', () => {
  const transport = Uint8Array.of(0x1c, 0x0a, 0x00, 0x00);
  const application = Uint8Array.of(0x1d, 0x0a, 0x00);
  for (const pt of [PacketType.INITIAL, PacketType.HANDSHAKE]) {
    assert.is(parseFrames(transport, pt).length, 1);
    expectQuicError(() => parseFrames(application, pt), TransportErrorCode.PROTOCOL_VIOLATION, 0x1d);
  }
  assert.is(parseFrames(application, PacketType.ZERO_RTT).length, 1);
});

test('§12.4: a disallowed frame after allowed ones still fails the whole packet', () => {
  // PING, PADDING, then STREAM in an Initial packet.
  expectQuicError(() => parseFrames(Uint8Array.of(0x01, 0x00, 0x00, 0x08, 0x00), PacketType.INITIAL), TransportErrorCode.PROTOCOL_VIOLATION, 0x08);
});

test('§13.2: ACK, PADDING and CONNECTION_CLOSE are not ack-eliciting, every other frame is', () => {
  for (const t of KNOWN) {
    const expected = ![0x00, 0x02, 0x03, 0x1c, 0x1d].includes(t);
    assert.is(isAckEliciting(t), expected, `wire 0x${t.toString(16)}`);
  }
  assert.not.ok(isAckEliciting(FrameType.ACK));
  assert.not.ok(isAckEliciting(FrameType.CONNECTION_CLOSE));
  assert.ok(isAckEliciting(FrameType.DATAGRAM));
  assert.ok(isAckEliciting(FrameType.RESET_STREAM_AT));
});

test('RFC 9002 §2: in flight = ack-eliciting or PADDING', () => {
  for (const t of KNOWN) {
    assert.is(countsInFlight(t), ![0x02, 0x03, 0x1c, 0x1d].includes(t), `wire 0x${t.toString(16)}`);
  }
  assert.ok(countsInFlight(FrameType.PADDING));
});

test('§9.1: probing frames are PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING', () => {
  const probing = KNOWN.filter((t) => isProbingFrame(t));
  assert.equal(probing, [0x00, 0x18, 0x1a, 0x1b]);
});

test.run();
