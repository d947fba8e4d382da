import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import {
  encodeRetryPacket,
  encodeRetryWithoutTag,
  encodeVersionNegotiation,
  hasReservedBitsSet,
  keyPhaseFromFirstByte,
  longHeaderSize,
  MIN_PROTECTED_LENGTH,
  type PacketHeader,
  packetNumberLengthFromFirstByte,
  parsePacketHeader,
  patchLongHeaderLength,
  shortHeaderSize,
  writeLongHeader,
  writeShortHeader,
} from '../../src/packet/header.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import type { PacketNumberLength } from '../../src/packet/number.js';
import { retryPseudoPacket } from '../../src/packet/retry-pseudo.js';
import { PacketType } from '../../src/packet/types.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { createPrng } from '../helpers/prng.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

// RFC 9001 Appendix A and RFC 9369 Appendix A packets, from the shared vector files.
interface InitialVector {
  source: string;
  version: string;
  clientDcid: string;
  packetNumber: number;
  pnLength: PacketNumberLength;
  pnOffset: number;
  header: string;
  protectedHeader: string;
  packet: string;
}
interface RetryVector {
  source: string;
  version: string;
  originalDcid: string;
  packet: string;
}
interface ShortVector {
  source: string;
  packetNumber: number;
  pnLength: PacketNumberLength;
  pnOffset: number;
  header: string;
  packet: string;
}

const SERVER_SCID = 'f067a5502a4262b5';
const RFC = Object.fromEntries(
  (['rfc9001', 'rfc9369'] as const).map((rfc) => [
    rfc,
    {
      clientInitial: loadVectors<InitialVector>(`${rfc}-a2-client-initial.json`),
      serverInitial: loadVectors<InitialVector>(`${rfc}-a3-server-initial.json`),
      retry: loadVectors<RetryVector>(`${rfc}-a4-retry.json`),
      short: loadVectors<ShortVector>(`${rfc}-a5-chacha20-short-header.json`),
    },
  ]),
) as Record<'rfc9001' | 'rfc9369', { clientInitial: InitialVector; serverInitial: InitialVector; retry: RetryVector; short: ShortVector }>;
const hex = (h: string): string => h.replace(/\s+/g, '');

const OPTS = { shortDcidLength: 0 };

function expectQuicError(fn: () => unknown, what: string): QuicError {
  try {
    fn();
  } catch (e) {
    assert.ok(QuicError.is(e), `${what}: expected QuicError, got ${String(e)}`);
    assert.is((e as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION, what);
    return e as QuicError;
  }
  assert.unreachable(`${what}: did not throw`);
  throw new Error('unreachable');
}

function parseAll(bytes: Uint8Array, shortDcidLength = 0): PacketHeader {
  return parsePacketHeader(bytes, 0, bytes.length, { shortDcidLength });
}

for (const [name, v] of Object.entries(RFC)) {
  const version = parseInt(v.clientInitial.version, 16);

  test(`${name} A.2: writeLongHeader + patchLongHeaderLength reproduce the client Initial header`, () => {
    const ci = v.clientInitial;
    const buf = new Uint8Array(64);
    const pnOffset = writeLongHeader(buf, 3, {
      type: PacketType.INITIAL,
      version,
      dcid: fromHex(ci.clientDcid),
      scid: new Uint8Array(0),
      token: new Uint8Array(0),
      packetNumber: ci.packetNumber,
      pnLength: ci.pnLength,
    });
    assert.is(pnOffset, 3 + ci.pnOffset);
    // Length = packet number + payload + AEAD tag = the rest of the packet after the Length field.
    patchLongHeaderLength(buf, pnOffset - 2, fromHex(ci.packet).length - ci.pnOffset);
    assert.is(toHex(buf.subarray(3, pnOffset + ci.pnLength)), hex(ci.header));
    assert.is(longHeaderSize(PacketType.INITIAL, 8, 0, 0, ci.pnLength), hex(ci.header).length / 2);
  });

  test(`${name} A.3: the server Initial header (2-byte PN) is written byte-for-byte`, () => {
    const si = v.serverInitial;
    const buf = new Uint8Array(hex(si.header).length / 2);
    const pnOffset = writeLongHeader(buf, 0, {
      type: PacketType.INITIAL,
      version,
      dcid: new Uint8Array(0),
      scid: fromHex(SERVER_SCID),
      packetNumber: si.packetNumber,
      pnLength: si.pnLength,
    });
    assert.is(pnOffset, si.pnOffset);
    patchLongHeaderLength(buf, pnOffset - 2, fromHex(si.packet).length - si.pnOffset);
    assert.is(toHex(buf), hex(si.header));
  });

  test(`${name} A.2: the whole protected client Initial parses (1200 bytes)`, () => {
    const ci = v.clientInitial;
    const datagram = fromHex(ci.packet);
    assert.is(datagram.length, 1200);
    const h = parseAll(datagram);
    assert.is(h.isLong, true);
    assert.is(h.type, PacketType.INITIAL);
    assert.is(h.version, version);
    assert.is(toHex(h.dcid), ci.clientDcid);
    assert.is(h.scid.length, 0);
    assert.is(h.token.length, 0);
    assert.is(h.length, 1182);
    assert.is(h.pnOffset, ci.pnOffset);
    assert.is(h.start, 0);
    assert.is(h.end, 1200);
    assert.is(h.packet.length, 1200);
    assert.is(h.firstByte, fromHex(ci.protectedHeader)[0]);
    // With header protection removed, the unprotected first byte gives the PN length.
    const unprotectedFirst = fromHex(ci.header)[0]!;
    assert.is(packetNumberLengthFromFirstByte(unprotectedFirst), ci.pnLength);
    assert.is(hasReservedBitsSet(unprotectedFirst), false);
  });

  test(`${name} A.3: the whole protected server Initial parses`, () => {
    const si = v.serverInitial;
    const packet = fromHex(si.packet);
    const h = parseAll(packet);
    assert.is(h.type, PacketType.INITIAL);
    assert.is(h.version, version);
    assert.is(h.dcid.length, 0);
    assert.is(toHex(h.scid), SERVER_SCID);
    assert.is(h.pnOffset, si.pnOffset);
    assert.is(h.length, packet.length - si.pnOffset);
    assert.is(h.end, packet.length);
    assert.is(packetNumberLengthFromFirstByte(fromHex(si.header)[0]!), si.pnLength);
  });

  test(`${name} A.4: Retry parses, re-encodes byte-for-byte, and its pseudo-packet has the ODCID prefix`, () => {
    const rv = v.retry;
    const packet = fromHex(rv.packet);
    const h = parseAll(packet);
    assert.is(h.type, PacketType.RETRY);
    assert.is(h.version, version);
    assert.is(h.dcid.length, 0);
    assert.is(toHex(h.scid), SERVER_SCID);
    assert.is(new TextDecoder().decode(h.token), 'token');
    assert.is(toHex(h.retryIntegrityTag!), toHex(packet.subarray(packet.length - 16)));
    assert.is(h.pnOffset, -1);
    assert.is(h.end, packet.length);
    // Both appendix Retry packets set all four unused bits.
    const fields = { version, dcid: new Uint8Array(0), scid: fromHex(SERVER_SCID), token: h.token, unusedBits: 0xf };
    assert.is(toHex(encodeRetryPacket(fields, h.retryIntegrityTag!)), hex(rv.packet));
    const withoutTag = encodeRetryWithoutTag(fields);
    assert.is(toHex(withoutTag), toHex(packet.subarray(0, packet.length - 16)));
    const pseudo = retryPseudoPacket(fromHex(rv.originalDcid), packet.subarray(0, packet.length - 16));
    assert.is(toHex(pseudo), '08' + rv.originalDcid + toHex(withoutTag));
  });

  test(`${name} A.5: short header written as the appendix's unprotected header; the protected packet parses`, () => {
    const sv = v.short;
    const buf = new Uint8Array(hex(sv.header).length / 2);
    const pnOffset = writeShortHeader(buf, 0, { dcid: new Uint8Array(0), packetNumber: sv.packetNumber, pnLength: sv.pnLength, keyPhase: 0 });
    assert.is(pnOffset, sv.pnOffset);
    assert.is(toHex(buf), hex(sv.header));
    const packet = fromHex(sv.packet);
    assert.is(packet.length, 21);
    const h = parseAll(packet);
    assert.is(h.isLong, false);
    assert.is(h.type, PacketType.ONE_RTT);
    assert.is(h.dcid.length, 0);
    assert.is(h.pnOffset, sv.pnOffset);
    assert.is(h.length, 20);
    assert.is(h.end, 21);
    assert.is(h.spinBit, (packet[0]! & 0x20) !== 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Round trips

const rng = createPrng(0x4ead_e401);

function buildLong(version: number, type: PacketType, dcidLen: number, scidLen: number, tokenLen: number, pnLength: PacketNumberLength, payloadLen: number) {
  const dcid = rng.bytes(dcidLen);
  const scid = rng.bytes(scidLen);
  const token = rng.bytes(tokenLen);
  const pn = rng.u32() * 1024 + rng.int(1024);
  const size = longHeaderSize(type, dcidLen, scidLen, tokenLen, pnLength) + payloadLen;
  const buf = new Uint8Array(size + 7);
  const offset = 7;
  const pnOffset = writeLongHeader(buf, offset, { type, version, dcid, scid, token, packetNumber: pn, pnLength });
  rng.fill(buf.subarray(pnOffset + pnLength, offset + size));
  patchLongHeaderLength(buf, pnOffset - 2, pnLength + payloadLen);
  return { buf, offset, size, pnOffset, dcid, scid, token, pn };
}

for (const version of [QUIC_V1, QUIC_V2]) {
  for (const type of [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE]) {
    test(`round trip: ${version === QUIC_V1 ? 'v1' : 'v2'} long header type ${type} for CID lengths 0..20 and PN lengths 1..4`, () => {
      for (let cidLen = 0; cidLen <= 20; cidLen++) {
        for (let pnLength = 1 as PacketNumberLength; pnLength <= 4; pnLength++) {
          const tokenLen = type === PacketType.INITIAL ? rng.int(80) : 0;
          const b = buildLong(version, type, cidLen, 20 - cidLen, tokenLen, pnLength, MIN_PROTECTED_LENGTH + rng.int(100));
          const h = parsePacketHeader(b.buf, b.offset, b.buf.length, OPTS);
          assert.is(h.isLong, true);
          assert.is(h.type, type);
          assert.is(h.version, version);
          assert.equal(h.dcid, b.dcid);
          assert.equal(h.scid, b.scid);
          assert.equal(h.token, b.token);
          assert.is(h.start, b.offset);
          assert.is(h.pnOffset, b.pnOffset);
          assert.is(h.end, b.offset + b.size);
          assert.is(h.length, b.offset + b.size - b.pnOffset);
          assert.is(packetNumberLengthFromFirstByte(h.firstByte), pnLength);
          assert.is(hasReservedBitsSet(h.firstByte), false);
          assert.is(h.packet.buffer, b.buf.buffer, 'packet is a view');
          assert.is(h.packet.byteOffset, b.offset);
        }
      }
    });
  }

  test(`round trip: ${version === QUIC_V1 ? 'v1' : 'v2'} Retry with random CIDs and token`, () => {
    for (let i = 0; i < 50; i++) {
      const fields = { version, dcid: rng.bytes(rng.int(21)), scid: rng.bytes(rng.int(21)), token: rng.bytes(1 + rng.int(100)), unusedBits: rng.int(16) };
      const tagBytes = rng.bytes(16);
      const packet = encodeRetryPacket(fields, tagBytes);
      const h = parseAll(packet);
      assert.is(h.type, PacketType.RETRY);
      assert.is(h.version, version);
      assert.equal(h.dcid, fields.dcid);
      assert.equal(h.scid, fields.scid);
      assert.equal(h.token, fields.token);
      assert.equal(h.retryIntegrityTag, tagBytes);
      assert.is(h.firstByte & 0x0f, fields.unusedBits);
    }
  });
}

test('round trip: short headers with every DCID length, key phase and spin bit', () => {
  for (let dcidLen = 0; dcidLen <= 20; dcidLen++) {
    for (let pnLength = 1 as PacketNumberLength; pnLength <= 4; pnLength++) {
      const dcid = rng.bytes(dcidLen);
      const keyPhase = rng.int(2) as 0 | 1;
      const spinBit = rng.chance(0.5);
      const buf = new Uint8Array(shortHeaderSize(dcidLen, pnLength) + MIN_PROTECTED_LENGTH + rng.int(50));
      const pnOffset = writeShortHeader(buf, 0, { dcid, packetNumber: rng.u32(), pnLength, keyPhase, spinBit });
      const h = parsePacketHeader(buf, 0, buf.length, { shortDcidLength: dcidLen });
      assert.is(h.isLong, false);
      assert.is(h.type, PacketType.ONE_RTT);
      assert.equal(h.dcid, dcid);
      assert.is(h.pnOffset, pnOffset);
      assert.is(h.end, buf.length);
      assert.is(h.spinBit, spinBit);
      assert.is(keyPhaseFromFirstByte(h.firstByte), keyPhase);
      assert.is(packetNumberLengthFromFirstByte(h.firstByte), pnLength);
      assert.is(hasReservedBitsSet(h.firstByte), false);
      assert.is(hasReservedBitsSet(h.firstByte | 0x10), true);
    }
  }
});

test('round trip: Version Negotiation with CIDs up to 255 bytes; random unused bits, 0x40 set', () => {
  for (const cidLen of [0, 8, 20, 21, 255]) {
    const versions = [QUIC_V1, QUIC_V2, 0x1a2a3a4a];
    const unusedBits = rng.u32();
    const packet = encodeVersionNegotiation({ dcid: rng.bytes(cidLen), scid: rng.bytes(255 - cidLen), supportedVersions: versions, unusedBits });
    assert.is(packet[0]! & 0xc0, 0xc0);
    assert.is(packet[0]! & 0x3f, unusedBits & 0x3f);
    const h = parseAll(packet);
    assert.is(h.type, PacketType.VERSION_NEGOTIATION);
    assert.is(h.version, 0);
    assert.is(h.dcid.length, cidLen);
    assert.is(h.scid.length, 255 - cidLen);
    assert.equal(h.supportedVersions, versions);
    assert.is(h.end, packet.length);
  }
  // §17.2.1: the fixed bit of a VN packet is not checked (it is an unused bit there).
  const packet = encodeVersionNegotiation({ dcid: new Uint8Array(0), scid: new Uint8Array(0), supportedVersions: [QUIC_V1], unusedBits: 0 });
  packet[0] = 0x80;
  assert.equal(parseAll(packet).supportedVersions, [QUIC_V1]);
});

test('writeLongHeader: a 4-byte Length placeholder, an offset, and overflow is a RangeError', () => {
  const buf = new Uint8Array(200);
  const fields = { type: PacketType.HANDSHAKE, version: QUIC_V1, dcid: rng.bytes(8), scid: rng.bytes(8), packetNumber: 70000, pnLength: 3 as const, lengthFieldSize: 4 as const };
  const pnOffset = writeLongHeader(buf, 10, fields);
  assert.is(pnOffset, 10 + longHeaderSize(PacketType.HANDSHAKE, 8, 8, 0, 3, 4) - 3);
  patchLongHeaderLength(buf, pnOffset - 4, 150);
  const h = parsePacketHeader(buf, 10, buf.length, OPTS);
  assert.is(h.type, PacketType.HANDSHAKE);
  assert.is(h.pnOffset, pnOffset);
  assert.is(h.length, 150);
  assert.is(h.end, pnOffset + 150);
  patchLongHeaderLength(buf, pnOffset - 4, 100_000);
  assert.is(toHex(buf.subarray(pnOffset - 4, pnOffset + 3)), '800186a0011170');
  // 100000 > what the 200-byte buffer holds: the Length check catches it.
  expectQuicError(() => parsePacketHeader(buf, 10, buf.length, OPTS), 'Length beyond datagram');
  assert.throws(() => writeLongHeader(new Uint8Array(20), 0, fields), RangeError);
  assert.throws(() => patchLongHeaderLength(new Uint8Array(2).fill(0x40), 0, 16384), RangeError);
  assert.throws(() => writeLongHeader(buf, 0, { ...fields, type: PacketType.RETRY }), RangeError);
  assert.throws(() => writeLongHeader(buf, 0, { ...fields, token: new Uint8Array(1) }), RangeError);
  assert.throws(() => writeLongHeader(buf, 0, { ...fields, dcid: new Uint8Array(21) }), RangeError);
  assert.throws(() => writeShortHeader(new Uint8Array(5), 0, { dcid: new Uint8Array(4), packetNumber: 1, pnLength: 1, keyPhase: 0 }), RangeError);
});

test('writeLongHeader/writeShortHeader: clearFixedBit greases the QUIC bit (RFC 9287), accepted only when allowed', () => {
  const b = new Uint8Array(64);
  const pnOffset = writeLongHeader(b, 0, { type: PacketType.HANDSHAKE, version: QUIC_V2, dcid: new Uint8Array(4), scid: new Uint8Array(4), packetNumber: 0, pnLength: 1, clearFixedBit: true });
  patchLongHeaderLength(b, pnOffset - 2, b.length - pnOffset);
  assert.is(b[0]! & 0x40, 0);
  expectQuicError(() => parseAll(b), 'fixed bit 0 (long)');
  assert.is(parsePacketHeader(b, 0, b.length, { shortDcidLength: 0, allowClearedFixedBit: true }).type, PacketType.HANDSHAKE);
  const s = new Uint8Array(30);
  writeShortHeader(s, 0, { dcid: new Uint8Array(4), packetNumber: 0, pnLength: 1, keyPhase: 1, clearFixedBit: true });
  expectQuicError(() => parseAll(s, 4), 'fixed bit 0 (short)');
  assert.is(parsePacketHeader(s, 0, s.length, { shortDcidLength: 4, allowClearedFixedBit: true }).type, PacketType.ONE_RTT);
});

// ---------------------------------------------------------------------------------------------
// Rejections

test('§17.2: long-header CIDs over 20 bytes, unknown versions, bad Length and token are QuicErrors', () => {
  const ok = buildLong(QUIC_V1, PacketType.INITIAL, 8, 8, 4, 2, 40);
  const packet = ok.buf.subarray(ok.offset, ok.offset + ok.size);
  assert.is(parseAll(packet).type, PacketType.INITIAL);

  const longDcid = packet.slice();
  longDcid[5] = 21;
  expectQuicError(() => parseAll(longDcid), 'DCID length 21');
  const longScid = packet.slice();
  longScid[6 + 8] = 21;
  expectQuicError(() => parseAll(longScid), 'SCID length 21');

  const unknown = packet.slice();
  unknown.set([0xfa, 0xce, 0xb0, 0x0c], 1);
  const err = expectQuicError(() => parseAll(unknown), 'unknown version');
  assert.match(err.reason, /unsupported version/);
  // ...which the invariant view still reads, for a Version Negotiation reply (RFC 8999).
  const inv = parseInvariantHeader(unknown, 0);
  assert.is(inv.isLong, true);
  assert.is(inv.version, 0xfaceb00c);
  assert.equal(inv.dcid, ok.dcid);
  assert.equal(inv.scid, ok.scid);

  // Token Length (1-byte varint at 6+8+1+8) claiming more than the datagram holds.
  const bigToken = packet.slice();
  bigToken[6 + 8 + 1 + 8] = 0x3f;
  expectQuicError(() => parseAll(bigToken.subarray(0, 40)), 'token beyond datagram');

  // Length one byte longer than the datagram.
  const tooLong = packet.slice();
  patchLongHeaderLength(tooLong, ok.pnOffset - ok.offset - 2, packet.length - (ok.pnOffset - ok.offset) + 1);
  expectQuicError(() => parseAll(tooLong), 'Length beyond datagram');

  // Length below the header protection sample (RFC 9001 §5.4.2).
  const tooShort = packet.slice();
  patchLongHeaderLength(tooShort, ok.pnOffset - ok.offset - 2, MIN_PROTECTED_LENGTH - 1);
  expectQuicError(() => parseAll(tooShort), 'Length below HP sample');
});

test('§17.2.5: Retry without a whole tag or with an empty token is a QuicError', () => {
  const retry = fromHex(RFC.rfc9001.retry.packet);
  // Token 'token' is 5 bytes: dropping 5 bytes empties it, dropping 6 cuts into the tag.
  expectQuicError(() => parseAll(retry.subarray(0, retry.length - 5)), 'empty Retry token');
  expectQuicError(() => parseAll(retry.subarray(0, retry.length - 6)), 'Retry shorter than tag');
  assert.throws(() => encodeRetryWithoutTag({ version: QUIC_V1, dcid: new Uint8Array(0), scid: new Uint8Array(0), token: new Uint8Array(0) }), RangeError);
});

test('§17.2.1: a Version Negotiation list that is not a multiple of 4 bytes is a QuicError', () => {
  const packet = encodeVersionNegotiation({ dcid: new Uint8Array(3), scid: new Uint8Array(3), supportedVersions: [QUIC_V1, QUIC_V2], unusedBits: 0 });
  for (let cut = 1; cut < 8; cut++) {
    if (cut === 4) continue;
    expectQuicError(() => parseAll(packet.subarray(0, packet.length - cut)), `VN cut ${cut}`);
  }
  assert.equal(parseAll(packet.subarray(0, packet.length - 4)).supportedVersions, [QUIC_V1]);
});

test('truncation at every byte position of Initial, 0-RTT and Handshake packets throws QuicError', () => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    for (const type of [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE]) {
      const b = buildLong(version, type, 8, 5, type === PacketType.INITIAL ? 70 : 0, 4, 60);
      const packet = b.buf.subarray(b.offset, b.offset + b.size);
      assert.is(parseAll(packet).end, packet.length);
      for (let cut = 0; cut < packet.length; cut++) expectQuicError(() => parseAll(packet.subarray(0, cut)), `type ${type} cut at ${cut}`);
    }
  }
  for (const vector of [RFC.rfc9001.serverInitial, RFC.rfc9369.serverInitial]) {
    const packet = fromHex(vector.packet);
    for (let cut = 0; cut < packet.length; cut++) expectQuicError(() => parseAll(packet.subarray(0, cut)), `server Initial cut at ${cut}`);
  }
});

test('truncation of short, Retry and VN packets throws QuicError up to their minimum size', () => {
  // Short header with an 8-byte DCID: header + the 20-byte HP sample area is the minimum.
  const s = new Uint8Array(1 + 8 + MIN_PROTECTED_LENGTH + 30);
  writeShortHeader(s, 0, { dcid: rng.bytes(8), packetNumber: 5, pnLength: 2, keyPhase: 0 });
  for (let cut = 0; cut < 1 + 8 + MIN_PROTECTED_LENGTH; cut++) expectQuicError(() => parseAll(s.subarray(0, cut), 8), `short cut at ${cut}`);
  assert.is(parseAll(s.subarray(0, 1 + 8 + MIN_PROTECTED_LENGTH), 8).length, MIN_PROTECTED_LENGTH);
  // Retry: header, at least one token byte, and the tag.
  const retry = fromHex(RFC.rfc9369.retry.packet);
  const minRetry = 1 + 4 + 1 + 0 + 1 + 8 + 1 + 16;
  for (let cut = 0; cut < minRetry; cut++) expectQuicError(() => parseAll(retry.subarray(0, cut)), `Retry cut at ${cut}`);
  // VN: every cut inside the fixed fields or between versions.
  const vn = encodeVersionNegotiation({ dcid: rng.bytes(30), scid: rng.bytes(40), supportedVersions: [1, 2, 3], unusedBits: 0 });
  for (let cut = 0; cut < vn.length; cut++) {
    const afterCids = 1 + 4 + 1 + 30 + 1 + 40;
    if (cut >= afterCids && (cut - afterCids) % 4 === 0) continue;
    expectQuicError(() => parseAll(vn.subarray(0, cut)), `VN cut at ${cut}`);
  }
});

test('invariants: short header routes by the caller\'s DCID length; truncation is a QuicError', () => {
  const s = new Uint8Array(40);
  const dcid = rng.bytes(12);
  writeShortHeader(s, 0, { dcid, packetNumber: 1, pnLength: 1, keyPhase: 0 });
  const inv = parseInvariantHeader(s, 12);
  assert.is(inv.isLong, false);
  assert.equal(inv.dcid, dcid);
  expectQuicError(() => parseInvariantHeader(s.subarray(0, 12), 12), 'short invariant cut');
  expectQuicError(() => parseInvariantHeader(new Uint8Array(0), 0), 'empty');
  const vn = encodeVersionNegotiation({ dcid: rng.bytes(200), scid: rng.bytes(3), supportedVersions: [], unusedBits: 0 });
  assert.is(parseInvariantHeader(vn, 0).dcid.length, 200);
  expectQuicError(() => parseInvariantHeader(vn.subarray(0, 100), 0), 'long invariant cut');
});

test('parsePacketHeader: bad offset/end arguments are programming errors (RangeError)', () => {
  assert.throws(() => parsePacketHeader(new Uint8Array(4), 0, 5, OPTS), RangeError);
  assert.throws(() => parsePacketHeader(new Uint8Array(4), 3, 2, OPTS), RangeError);
});

test.run();
