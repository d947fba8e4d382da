import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError } from '../../src/errors.js';
import { CoalescedPacketReader, splitCoalescedPackets } from '../../src/packet/coalesced.js';
import {
  encodeRetryPacket,
  encodeVersionNegotiation,
  longHeaderSize,
  patchLongHeaderLength,
  shortHeaderSize,
  writeLongHeader,
  writeShortHeader,
} from '../../src/packet/header.js';
import { PacketType } from '../../src/packet/types.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { createPrng } from '../helpers/prng.js';

const rng = createPrng(0xc0a1e5ce);
const AEAD_TAG = 16;

interface Plan {
  type: PacketType;
  payload: number;
  dcid?: Uint8Array;
}

/** Builds a datagram the way the send path does: header, payload, then patch the Length. */
function buildDatagram(version: number, dcid: Uint8Array, scid: Uint8Array, plan: Plan[], trailing = new Uint8Array(0)) {
  const buf = new Uint8Array(2000);
  let o = 0;
  const starts: number[] = [];
  for (const p of plan) {
    starts.push(o);
    const d = p.dcid ?? dcid;
    if (p.type === PacketType.ONE_RTT) {
      const pnOffset = writeShortHeader(buf, o, { dcid: d, packetNumber: 7, pnLength: 2, keyPhase: 0 });
      o = pnOffset + 2 + p.payload + AEAD_TAG;
      rng.fill(buf.subarray(pnOffset + 2, o));
    } else {
      const token = p.type === PacketType.INITIAL ? rng.bytes(12) : undefined;
      const pnOffset = writeLongHeader(buf, o, { type: p.type, version, dcid: d, scid, token, packetNumber: 3, pnLength: 1 });
      o = pnOffset + 1 + p.payload + AEAD_TAG;
      rng.fill(buf.subarray(pnOffset + 1, o));
      patchLongHeaderLength(buf, pnOffset - 2, 1 + p.payload + AEAD_TAG);
    }
  }
  buf.set(trailing, o);
  return { datagram: buf.subarray(0, o + trailing.length), starts, end: o };
}

for (const version of [QUIC_V1, QUIC_V2]) {
  test(`§12.2: Initial + Handshake + 1-RTT in one datagram are split by Length (${version === QUIC_V1 ? 'v1' : 'v2'})`, () => {
    const dcid = rng.bytes(8);
    const scid = rng.bytes(5);
    const { datagram, starts } = buildDatagram(version, dcid, scid, [
      { type: PacketType.INITIAL, payload: 300 },
      { type: PacketType.HANDSHAKE, payload: 500 },
      { type: PacketType.ONE_RTT, payload: 100 },
    ]);
    const packets = splitCoalescedPackets(datagram, { shortDcidLength: 8 });
    assert.equal(packets.map((p) => p.type), [PacketType.INITIAL, PacketType.HANDSHAKE, PacketType.ONE_RTT]);
    assert.equal(packets.map((p) => p.start), starts);
    assert.is(packets[0]!.end, starts[1]);
    assert.is(packets[1]!.end, starts[2]);
    assert.is(packets[2]!.end, datagram.length);
    for (const p of packets) {
      assert.equal(p.dcid, dcid);
      // Views into the datagram, not copies.
      assert.is(p.packet.buffer, datagram.buffer);
      assert.is(p.packet.byteOffset, datagram.byteOffset + p.start);
      assert.is(p.packet.length, p.end - p.start);
    }
    assert.is(packets[0]!.token.length, 12);
    assert.is(packets[0]!.version, version);
    assert.is(packets[1]!.length, 1 + 500 + AEAD_TAG);
    assert.is(packets[2]!.pnOffset, starts[2]! + 1 + 8);
  });
}

test('§12.2: trailing bytes that are no packet (zero padding) end iteration; earlier packets stand', () => {
  const { datagram } = buildDatagram(QUIC_V1, rng.bytes(8), rng.bytes(8), [{ type: PacketType.INITIAL, payload: 100 }, { type: PacketType.HANDSHAKE, payload: 50 }], new Uint8Array(300));
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 }).reset(datagram);
  assert.is(reader.next()?.type, PacketType.INITIAL);
  assert.is(reader.next()?.type, PacketType.HANDSHAKE);
  assert.is(reader.next(), undefined);
  assert.ok(reader.error !== undefined && QuicError.is(reader.error), 'the zero bytes failed to parse');
  assert.is(reader.next(), undefined, 'stays at the end');
});

test('§12.2: a later packet with a different DCID is ignored, the ones after it are still read', () => {
  const dcid = rng.bytes(8);
  const { datagram } = buildDatagram(QUIC_V2, dcid, rng.bytes(8), [
    { type: PacketType.INITIAL, payload: 40 },
    { type: PacketType.ZERO_RTT, payload: 40, dcid: rng.bytes(8) },
    { type: PacketType.HANDSHAKE, payload: 40 },
    { type: PacketType.ONE_RTT, payload: 40, dcid: rng.bytes(8) },
  ]);
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 }).reset(datagram);
  const types: PacketType[] = [];
  for (let h = reader.next(); h !== undefined; h = reader.next()) types.push(h.type);
  assert.equal(types, [PacketType.INITIAL, PacketType.HANDSHAKE]);
  assert.is(reader.ignored, 2);
  assert.is(reader.error, undefined);
});

test('§12.2: a first packet that cannot be parsed yields nothing; a bad Length stops at that packet', () => {
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 });
  assert.is(reader.reset(new Uint8Array([0x00, 1, 2, 3])).next(), undefined);
  assert.ok(reader.error !== undefined);
  const { datagram, starts } = buildDatagram(QUIC_V1, rng.bytes(8), rng.bytes(8), [{ type: PacketType.INITIAL, payload: 40 }, { type: PacketType.HANDSHAKE, payload: 40 }]);
  // Make the Handshake packet's Length claim one byte more than is left.
  const hsLengthOffset = starts[1]! + longHeaderSize(PacketType.HANDSHAKE, 8, 8, 0, 1) - 1 - 2;
  patchLongHeaderLength(datagram, hsLengthOffset, datagram.length - (hsLengthOffset + 2) + 1);
  const packets = splitCoalescedPackets(datagram, { shortDcidLength: 8 });
  assert.equal(packets.map((p) => p.type), [PacketType.INITIAL]);
  assert.is(reader.reset(datagram).next()?.type, PacketType.INITIAL);
  assert.is(reader.next(), undefined);
  assert.match(reader.error!.reason, /Length/);
  // reset clears the previous datagram's state.
  reader.reset(datagram.subarray(0, starts[1]));
  assert.is(reader.next()?.type, PacketType.INITIAL);
  assert.is(reader.next(), undefined);
  assert.is(reader.error, undefined);
});

test('Retry and Version Negotiation take the whole datagram', () => {
  const retry = encodeRetryPacket({ version: QUIC_V1, dcid: rng.bytes(8), scid: rng.bytes(8), token: rng.bytes(30) }, rng.bytes(16));
  const r = splitCoalescedPackets(retry, { shortDcidLength: 8 });
  assert.is(r.length, 1);
  assert.is(r[0]!.type, PacketType.RETRY);
  assert.is(r[0]!.end, retry.length);
  const vn = encodeVersionNegotiation({ dcid: rng.bytes(8), scid: rng.bytes(8), supportedVersions: [QUIC_V1, QUIC_V2], unusedBits: 5 });
  const v = splitCoalescedPackets(vn, { shortDcidLength: 8 });
  assert.is(v.length, 1);
  assert.equal(v[0]!.supportedVersions, [QUIC_V1, QUIC_V2]);
});

test('a datagram of only a short header packet', () => {
  const buf = new Uint8Array(shortHeaderSize(4, 4) + 40);
  writeShortHeader(buf, 0, { dcid: rng.bytes(4), packetNumber: 99, pnLength: 4, keyPhase: 1, spinBit: true });
  const p = splitCoalescedPackets(buf, { shortDcidLength: 4 });
  assert.is(p.length, 1);
  assert.is(p[0]!.spinBit, true);
  assert.is(p[0]!.end, buf.length);
});

test.run();
