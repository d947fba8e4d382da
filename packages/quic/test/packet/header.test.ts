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
import { fromHex, toHex } from '../helpers/vectors.js';

// RFC 9001 Appendix A and RFC 9369 Appendix A: header bytes as printed there (hard-coded here,
// as no shared JSON file for them existed when this was written).
const CLIENT_DCID = '8394c8f03e515708';
const SERVER_SCID = 'f067a5502a4262b5';
const RFC = {
  v1: {
    version: QUIC_V1,
    // A.2: unprotected and protected client Initial header (PN 2, 4 bytes, Length 1182).
    clientInitialUnprotected: 'c300000001088394c8f03e5157080000449e00000002',
    clientInitialProtected: 'c000000001088394c8f03e5157080000449e7b9aec34',
    // A.3: unprotected server Initial header (PN 1, 2 bytes, Length 117) and the whole packet.
    serverInitialUnprotected: 'c1000000010008f067a5502a4262b50040750001',
    serverInitialPacket:
      'cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a' +
      '5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3' +
      'dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84' +
      '022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4' +
      '2158407dd074ee',
    // A.4: Retry.
    retry: 'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
    retryTag: '04a265ba2eff4d829058fb3f0f2496ba',
    // A.5: ChaCha20 short header packet (empty DCID, PN 654360564 in 3 bytes).
    shortUnprotected: '4200bff4',
    shortPacket: '4cfe4189655e5cd55c41f69080575d7999c25a5bfb',
  },
  v2: {
    version: QUIC_V2,
    clientInitialUnprotected: 'd36b3343cf088394c8f03e5157080000449e00000002',
    clientInitialProtected: 'd76b3343cf088394c8f03e5157080000449ea0c95e82',
    serverInitialUnprotected: 'd16b3343cf0008f067a5502a4262b50040750001',
    serverInitialPacket:
      'dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698' +
      'baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17' +
      'f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2' +
      'c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8' +
      '4bed8521e2e140',
    retry: 'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe3395 2d955543665dcc7b6'.replace(/ /g, ''),
    retryTag: 'c8646ce8bfe33952d955543665dcc7b6',
    shortUnprotected: '4200bff4',
    shortPacket: '5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba',
  },
} as const;

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
  const tag = name === 'v1' ? 'RFC 9001 A' : 'RFC 9369 A';

  test(`${tag}: writeLongHeader + patchLongHeaderLength reproduce the client Initial header (${name})`, () => {
    const buf = new Uint8Array(64);
    const pnOffset = writeLongHeader(buf, 3, {
      type: PacketType.INITIAL,
      version: v.version,
      dcid: fromHex(CLIENT_DCID),
      scid: new Uint8Array(0),
      token: new Uint8Array(0),
      packetNumber: 2,
      pnLength: 4,
    });
    assert.is(pnOffset, 3 + 18);
    patchLongHeaderLength(buf, pnOffset - 2, 1182);
    assert.is(toHex(buf.subarray(3, pnOffset + 4)), v.clientInitialUnprotected);
    assert.is(longHeaderSize(PacketType.INITIAL, 8, 0, 0, 4), 22);
  });

  test(`${tag}: server Initial header (2-byte PN, Length 117) is written byte-for-byte (${name})`, () => {
    const buf = new Uint8Array(20);
    const pnOffset = writeLongHeader(buf, 0, {
      type: PacketType.INITIAL,
      version: v.version,
      dcid: new Uint8Array(0),
      scid: fromHex(SERVER_SCID),
      packetNumber: 1,
      pnLength: 2,
    });
    patchLongHeaderLength(buf, pnOffset - 2, 117);
    assert.is(toHex(buf), v.serverInitialUnprotected);
  });

  test(`${tag}: the protected client Initial parses (Length 1182, pnOffset 18, 1200 bytes) (${name})`, () => {
    // The appendix prints the whole 1200-byte packet; the parser only reads the header and the
    // Length, so the protected payload is stood in by filler of the right size.
    const datagram = new Uint8Array(1200).fill(0x5a);
    datagram.set(fromHex(v.clientInitialProtected));
    const h = parseAll(datagram);
    assert.is(h.isLong, true);
    assert.is(h.type, PacketType.INITIAL);
    assert.is(h.version, v.version);
    assert.is(toHex(h.dcid), CLIENT_DCID);
    assert.is(h.scid.length, 0);
    assert.is(h.token.length, 0);
    assert.is(h.length, 1182);
    assert.is(h.pnOffset, 18);
    assert.is(h.start, 0);
    assert.is(h.end, 1200);
    assert.is(h.packet.length, 1200);
    assert.is(h.firstByte, fromHex(v.clientInitialProtected)[0]);
    // Header protection removed, the appendix's unprotected first byte gives PN length 4.
    assert.is(packetNumberLengthFromFirstByte(fromHex(v.clientInitialUnprotected)[0]!), 4);
    assert.is(hasReservedBitsSet(fromHex(v.clientInitialUnprotected)[0]!), false);
  });

  test(`${tag}: the whole protected server Initial parses (${name})`, () => {
    const packet = fromHex(v.serverInitialPacket);
    assert.is(packet.length, 135);
    const h = parseAll(packet);
    assert.is(h.type, PacketType.INITIAL);
    assert.is(h.dcid.length, 0);
    assert.is(toHex(h.scid), SERVER_SCID);
    assert.is(h.length, 117);
    assert.is(h.pnOffset, 18);
    assert.is(h.end, 135);
  });

  test(`${tag}: Retry parses, re-encodes byte-for-byte, and its pseudo-packet has the ODCID prefix (${name})`, () => {
    const packet = fromHex(v.retry);
    const h = parseAll(packet);
    assert.is(h.type, PacketType.RETRY);
    assert.is(h.version, v.version);
    assert.is(h.dcid.length, 0);
    assert.is(toHex(h.scid), SERVER_SCID);
    assert.is(new TextDecoder().decode(h.token), 'token');
    assert.is(toHex(h.retryIntegrityTag!), v.retryTag);
    assert.is(h.pnOffset, -1);
    assert.is(h.end, packet.length);
    const fields = { version: v.version, dcid: new Uint8Array(0), scid: fromHex(SERVER_SCID), token: h.token, unusedBits: 0xf };
    assert.is(toHex(encodeRetryPacket(fields, fromHex(v.retryTag))), v.retry);
    const withoutTag = encodeRetryWithoutTag(fields);
    assert.is(toHex(withoutTag), v.retry.slice(0, -32));
    const pseudo = retryPseudoPacket(fromHex(CLIENT_DCID), packet.subarray(0, packet.length - 16));
    assert.is(toHex(pseudo), '08' + CLIENT_DCID + v.retry.slice(0, -32));
  });

  test(`${tag}: short header: written as the appendix's unprotected header, protected packet parses (${name})`, () => {
    const buf = new Uint8Array(4);
    const pnOffset = writeShortHeader(buf, 0, { dcid: new Uint8Array(0), packetNumber: 654360564, pnLength: 3, keyPhase: 0 });
    assert.is(pnOffset, 1);
    assert.is(toHex(buf), v.shortUnprotected);
    const packet = fromHex(v.shortPacket);
    const h = parseAll(packet);
    assert.is(h.isLong, false);
    assert.is(h.type, PacketType.ONE_RTT);
    assert.is(h.dcid.length, 0);
    assert.is(h.pnOffset, 1);
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
  const retry = fromHex(RFC.v1.retry);
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
  for (const hex of [RFC.v1.serverInitialPacket, RFC.v2.serverInitialPacket]) {
    const packet = fromHex(hex);
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
  const retry = fromHex(RFC.v2.retry);
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
