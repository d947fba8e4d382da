import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CIPHER_SUITES, TLS_CHACHA20_POLY1305_SHA256 } from '../../src/crypto/cipher-suites.js';
import { createPacketProtectionKeys, deriveInitialKeys, nextKeyPhaseKeys, type PacketProtectionKeys } from '../../src/crypto/keys.js';
import {
  decryptPayload,
  packetNonce,
  protect,
  removeHeaderProtection,
  unprotect,
} from '../../src/crypto/protection.js';
import type { SymmetricCrypto } from '../../src/crypto/provider.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { createPrng, type Prng } from '../helpers/prng.js';
import { fromHex, toHex } from '../helpers/vectors.js';
import { SYMMETRIC_PROVIDERS } from './symmetric-providers.js';
import { VERSION_VECTORS, type VersionVectors } from './vectors.js';

/** The unprotected client Initial of Appendix A.2: header, CRYPTO frame, PADDING to 1162 bytes. */
function clientInitialPlaintext(v: VersionVectors): { buf: Uint8Array; payloadEnd: number } {
  const c = v.clientInitial;
  const header = fromHex(c.header);
  const frames = fromHex(c.payloadFrames);
  assert.ok(frames.length < c.payloadLength);
  // The PADDING frames are 0x00 bytes: a fresh buffer already holds them.
  const buf = new Uint8Array(header.length + c.payloadLength + 16);
  buf.set(header);
  buf.set(frames, header.length);
  return { buf, payloadEnd: header.length + c.payloadLength };
}

function plaintextPacket(headerHex: string, payloadHex: string): { buf: Uint8Array; payloadEnd: number } {
  const header = fromHex(headerHex);
  const payload = fromHex(payloadHex);
  const buf = new Uint8Array(header.length + payload.length + 16);
  buf.set(header);
  buf.set(payload, header.length);
  return { buf, payloadEnd: header.length + payload.length };
}

for (const v of VERSION_VECTORS) {
  for (const p of SYMMETRIC_PROVIDERS) {
    test(`${v.rfc} A.2 [${p.name}]: client Initial protected byte-for-byte, sample and mask as shown, and back`, () => {
      const c = v.clientInitial;
      const keys = deriveInitialKeys(p, v.version, fromHex(c.clientDcid)).client;
      const { buf, payloadEnd } = clientInitialPlaintext(v);
      const plainPayload = toHex(buf.subarray(fromHex(c.header).length, payloadEnd));
      const end = protect(keys, buf, 0, c.pnOffset, c.pnLength, payloadEnd, c.packetNumber);
      assert.is(end, buf.length);
      assert.is(buf.length, 1200);
      assert.is(toHex(buf), toHex(fromHex(c.packet)));
      assert.is(toHex(buf.subarray(c.pnOffset + 4, c.pnOffset + 20)), c.sample);
      const mask = new Uint8Array(5);
      keys.headerProtection.mask(fromHex(c.sample), mask);
      assert.is(toHex(mask), c.mask);
      assert.is(toHex(buf.subarray(0, fromHex(c.protectedHeader).length)), c.protectedHeader);

      // The server reads it with the same (client) keys.
      const server = deriveInitialKeys(p, v.version, fromHex(c.clientDcid)).client;
      const opened = unprotect(server, buf, 0, c.pnOffset, end, -1);
      assert.ok(opened, 'unprotect');
      assert.is(opened!.packetNumber, c.packetNumber);
      assert.is(opened!.pnLength, c.pnLength);
      assert.is(opened!.keyPhase, 0);
      assert.is(opened!.firstByte, fromHex(c.header)[0]);
      assert.is(opened!.payloadOffset, c.pnOffset + c.pnLength);
      assert.is(toHex(opened!.payload), plainPayload);
      assert.is(toHex(buf.subarray(0, c.pnOffset + c.pnLength)), c.header, 'header unprotected in place');
    });

    test(`${v.rfc} A.3 [${p.name}]: server Initial protected byte-for-byte and back`, () => {
      const s = v.serverInitial;
      const keys = deriveInitialKeys(p, v.version, fromHex(s.clientDcid)).server;
      const { buf, payloadEnd } = plaintextPacket(s.header, s.payload);
      const end = protect(keys, buf, 0, s.pnOffset, s.pnLength, payloadEnd, s.packetNumber);
      assert.is(toHex(buf.subarray(0, end)), toHex(fromHex(s.packet)));
      assert.is(toHex(buf.subarray(s.pnOffset + 4, s.pnOffset + 20)), s.sample);
      const mask = new Uint8Array(5);
      keys.headerProtection.mask(fromHex(s.sample), mask);
      assert.is(toHex(mask), s.mask);
      assert.is(toHex(buf.subarray(0, s.pnOffset + s.pnLength)), s.protectedHeader);

      const opened = unprotect(keys, buf, 0, s.pnOffset, end, 0);
      assert.ok(opened);
      assert.is(opened!.packetNumber, s.packetNumber);
      assert.is(opened!.pnLength, s.pnLength);
      assert.is(toHex(opened!.payload), toHex(fromHex(s.payload)));
    });

    test(`${v.rfc} A.5 [${p.name}]: ChaCha20-Poly1305 short header packet, nonce, ciphertext, mask and back`, () => {
      const h = v.chacha;
      const keys = createPacketProtectionKeys(p, TLS_CHACHA20_POLY1305_SHA256, v.version, fromHex(h.secret));
      assert.is(toHex(packetNonce(keys.iv, h.packetNumber)), h.nonce);
      const { buf, payloadEnd } = plaintextPacket(h.header, h.payload);
      const header = fromHex(h.header);
      const end = protect(keys, buf, 0, h.pnOffset, h.pnLength, payloadEnd, h.packetNumber);
      assert.is(end, 21, 'the smallest possible packet');
      assert.is(toHex(buf), h.packet);
      assert.is(toHex(buf.subarray(header.length)), h.ciphertext);
      assert.is(toHex(buf.subarray(h.pnOffset + 4, h.pnOffset + 20)), h.sample);
      const mask = new Uint8Array(5);
      keys.headerProtection.mask(fromHex(h.sample), mask);
      assert.is(toHex(mask), h.mask);
      assert.is(toHex(buf.subarray(0, header.length)), h.protectedHeader);

      // The 3-byte packet number 0x00bff4 expands to 654360564 next to the previous packet.
      const opened = unprotect(keys, buf, 0, h.pnOffset, end, h.packetNumber - 1);
      assert.ok(opened);
      assert.is(opened!.packetNumber, h.packetNumber);
      assert.is(opened!.pnLength, 3);
      assert.is(opened!.keyPhase, 0);
      assert.is(toHex(opened!.payload), h.payload);
    });
  }
}

function randomKeys(p: SymmetricCrypto, prng: Prng, suiteIndex: number, version: number): PacketProtectionKeys {
  const suite = CIPHER_SUITES[suiteIndex]!;
  return createPacketProtectionKeys(p, suite, version, prng.bytes(suite.hashLength));
}

/** Writes a 1-RTT header (RFC 9000 §17.3.1) plus payload into `buf` at `start`; returns offsets. */
function writeShortHeaderPacket(
  buf: Uint8Array,
  start: number,
  dcid: Uint8Array,
  pn: number,
  pnLength: number,
  payload: Uint8Array,
  keyPhase: 0 | 1,
): { pnOffset: number; payloadEnd: number } {
  buf[start] = 0x40 | (keyPhase << 2) | (pnLength - 1);
  buf.set(dcid, start + 1);
  const pnOffset = start + 1 + dcid.length;
  for (let i = 0; i < pnLength; i++) buf[pnOffset + i] = (pn >>> (8 * (pnLength - 1 - i))) & 0xff;
  buf.set(payload, pnOffset + pnLength);
  return { pnOffset, payloadEnd: pnOffset + pnLength + payload.length };
}

test('every suite round-trips at every packet number length, short and long headers, across providers', () => {
  const prng = createPrng(0x9001_0001);
  for (let suiteIndex = 0; suiteIndex < CIPHER_SUITES.length; suiteIndex++) {
    for (const version of [QUIC_V1, QUIC_V2]) {
      const secret = prng.bytes(CIPHER_SUITES[suiteIndex]!.hashLength);
      const all = SYMMETRIC_PROVIDERS.map((p) => createPacketProtectionKeys(p, CIPHER_SUITES[suiteIndex]!, version, secret));
      for (let pnLength = 1; pnLength <= 4; pnLength++) {
        for (const long of [false, true]) {
          const largest = 1_000_000 + prng.int(1000);
          const pn = largest + 1 + prng.int(50);
          const payload = prng.bytes(4 + prng.int(1200));
          const dcid = prng.bytes(prng.int(21));
          const start = prng.int(30);
          const buf = new Uint8Array(start + 1 + 4 + 21 + 20 + payload.length + 16 + 10);
          let pnOffset: number;
          let payloadEnd: number;
          if (long) {
            // A long-header shape: first byte, version, CID lengths and CIDs, then the PN.
            buf[start] = 0xc0 | (pnLength - 1);
            buf.set([0, 0, 0, 1], start + 1);
            buf[start + 5] = dcid.length;
            buf.set(dcid, start + 6);
            buf[start + 6 + dcid.length] = 0;
            pnOffset = start + 7 + dcid.length;
            for (let i = 0; i < pnLength; i++) buf[pnOffset + i] = (pn >>> (8 * (pnLength - 1 - i))) & 0xff;
            buf.set(payload, pnOffset + pnLength);
            payloadEnd = pnOffset + pnLength + payload.length;
          } else {
            ({ pnOffset, payloadEnd } = writeShortHeaderPacket(buf, start, dcid, pn, pnLength, payload, 1));
          }
          const plaintext = buf.slice();
          const protectedBytes: string[] = [];
          for (const keys of all) {
            const copy = plaintext.slice();
            const end = protect(keys, copy, start, pnOffset, pnLength, payloadEnd, pn);
            assert.is(end, payloadEnd + 16);
            protectedBytes.push(toHex(copy));
          }
          for (const bytes of protectedBytes) assert.is(bytes, protectedBytes[0], 'providers protect identically');
          // Header protection changed the protected first-byte bits only.
          const protectedBuf = fromHex(protectedBytes[0]!);
          const unprotectedBits = long ? 0xf0 : 0xe0;
          assert.is(protectedBuf[start]! & unprotectedBits, plaintext[start]! & unprotectedBits);
          for (const keys of all) {
            const copy = protectedBuf.slice();
            const opened = unprotect(keys, copy, start, pnOffset, payloadEnd + 16, largest);
            assert.ok(opened, `${keys.aead.algorithm} pnLength ${pnLength} long ${long}`);
            assert.is(opened!.packetNumber, pn);
            assert.is(opened!.pnLength, pnLength);
            assert.is(opened!.keyPhase, long ? 0 : 1);
            assert.is(toHex(opened!.payload), toHex(payload));
            assert.is(toHex(copy.subarray(start, pnOffset + pnLength)), toHex(plaintext.subarray(start, pnOffset + pnLength)));
          }
        }
      }
    }
  }
});

test('coalesced packets: each one protected and unprotected inside one datagram buffer, untouched neighbours', () => {
  const prng = createPrng(0x9001_0002);
  for (const p of SYMMETRIC_PROVIDERS) {
    const initial = deriveInitialKeys(p, QUIC_V1, prng.bytes(8)).client;
    const oneRtt = randomKeys(p, prng, 2, QUIC_V1);
    const datagram = new Uint8Array(1200);
    const a = writeShortHeaderPacket(datagram, 0, prng.bytes(8), 7, 2, prng.bytes(100), 0);
    const endA = protect(initial, datagram, 0, a.pnOffset, 2, a.payloadEnd, 7);
    const b = writeShortHeaderPacket(datagram, endA, prng.bytes(8), 9, 1, prng.bytes(200), 0);
    const endB = protect(oneRtt, datagram, endA, b.pnOffset, 1, b.payloadEnd, 9);
    const before = datagram.slice();
    const second = unprotect(oneRtt, datagram, endA, b.pnOffset, endB, 8);
    assert.ok(second);
    assert.is(second!.packetNumber, 9);
    assert.is(toHex(datagram.subarray(0, endA)), toHex(before.subarray(0, endA)), 'first packet untouched');
    const first = unprotect(initial, datagram, 0, a.pnOffset, endA, 6);
    assert.ok(first);
    assert.is(first!.packetNumber, 7);
  }
});

test('tampered ciphertext, tag or header: unprotect returns null and leaves the buffer exactly as it was', () => {
  const prng = createPrng(0x9001_0003);
  for (const p of SYMMETRIC_PROVIDERS) {
    for (let suiteIndex = 0; suiteIndex < CIPHER_SUITES.length; suiteIndex++) {
      const keys = randomKeys(p, prng, suiteIndex, QUIC_V1);
      const buf = new Uint8Array(300);
      const dcid = prng.bytes(8);
      const { pnOffset, payloadEnd } = writeShortHeaderPacket(buf, 0, dcid, 42, 2, prng.bytes(200), 0);
      const end = protect(keys, buf, 0, pnOffset, 2, payloadEnd, 42);
      // Positions: first byte, a DCID byte, the packet number, ciphertext (sampled and not), tag.
      for (const where of [0, 3, pnOffset, pnOffset + 1, pnOffset + 5, pnOffset + 100, end - 20, end - 1]) {
        const bad = buf.slice();
        bad[where]! ^= 0x04;
        const snapshot = toHex(bad);
        assert.is(unprotect(keys, bad, 0, pnOffset, end, 41), null, `${p.name} suite ${suiteIndex} byte ${where}`);
        assert.is(toHex(bad), snapshot, 'restored after failure');
      }
      // Truncated: the tag no longer lines up.
      assert.is(unprotect(keys, buf.slice(), 0, pnOffset, end - 1, 41), null);
      // Other keys (e.g. the wrong key phase) fail too; the untouched buffer then opens with the right ones.
      const wrong = nextKeyPhaseKeys(p, keys);
      const copy = buf.slice();
      assert.is(unprotect(wrong, copy, 0, pnOffset, end, 41), null);
      assert.ok(unprotect(keys, copy, 0, pnOffset, end, 41));
    }
  }
});

test('RFC 9001 §5.4.2: too short to sample is dropped (null); protect refuses an unpadded payload', () => {
  const prng = createPrng(0x9001_0004);
  for (const p of SYMMETRIC_PROVIDERS) {
    const keys = randomKeys(p, prng, 0, QUIC_V1);
    // pnOffset + 4 + 16 bytes must exist: 1-byte PN + 3 payload bytes + 16 tag is the minimum.
    const buf = new Uint8Array(64);
    const ok = writeShortHeaderPacket(buf, 0, new Uint8Array(0), 3, 1, prng.bytes(3), 0);
    const end = protect(keys, buf, 0, ok.pnOffset, 1, ok.payloadEnd, 3);
    assert.is(end, 1 + 1 + 3 + 16);
    assert.ok(unprotect(keys, buf.slice(), 0, ok.pnOffset, end, 2));
    assert.is(unprotect(keys, buf.slice(), 0, ok.pnOffset, end - 1, 2), null);
    assert.is(removeHeaderProtection(keys.headerProtection, buf.slice(), 0, ok.pnOffset, end - 1, 2), null);

    const short = new Uint8Array(64);
    const tooShort = writeShortHeaderPacket(short, 0, new Uint8Array(0), 3, 1, prng.bytes(2), 0);
    assert.throws(() => protect(keys, short, 0, tooShort.pnOffset, 1, tooShort.payloadEnd, 3), RangeError);
    // No room for the tag.
    const tight = new Uint8Array(20);
    const t = writeShortHeaderPacket(tight, 0, new Uint8Array(0), 3, 1, prng.bytes(10), 0);
    assert.throws(() => protect(keys, tight, 0, t.pnOffset, 1, t.payloadEnd, 3), RangeError);
  }
});

test('two-step receive: remove header protection, read the Key Phase, decrypt with that phase', () => {
  const prng = createPrng(0x9001_0005);
  for (const p of SYMMETRIC_PROVIDERS) {
    const phase0 = randomKeys(p, prng, 0, QUIC_V2);
    const phase1 = nextKeyPhaseKeys(p, phase0);
    const phases = [phase0, phase1] as const;
    for (const keyPhase of [0, 1] as const) {
      const buf = new Uint8Array(200);
      const payload = prng.bytes(60);
      const { pnOffset, payloadEnd } = writeShortHeaderPacket(buf, 0, prng.bytes(4), 500 + keyPhase, 4, payload, keyPhase);
      const end = protect(phases[keyPhase], buf, 0, pnOffset, 4, payloadEnd, 500 + keyPhase);
      // Both phases share the header protection object, so either removes it.
      const header = removeHeaderProtection(phase0.headerProtection, buf, 0, pnOffset, end, 499);
      assert.ok(header);
      assert.is(header!.keyPhase, keyPhase);
      assert.is(header!.packetNumber, 500 + keyPhase);
      // The other phase fails and leaves the buffer for the right one.
      const other = phases[(1 - keyPhase) as 0 | 1];
      assert.is(decryptPayload(other, buf, 0, pnOffset, header!.pnLength, end, header!.packetNumber), null);
      const plaintext = decryptPayload(phases[keyPhase], buf, 0, pnOffset, header!.pnLength, end, header!.packetNumber);
      assert.ok(plaintext);
      assert.is(toHex(plaintext!), toHex(payload));
    }
  }
});

test('RFC 9001 §5.3: the nonce XORs the full 62-bit-range packet number into the IV’s low bytes', () => {
  const iv = fromHex('000102030405060708090a0b');
  assert.is(toHex(packetNonce(iv, 0)), '000102030405060708090a0b');
  assert.is(toHex(packetNonce(iv, 1)), '000102030405060708090a0a');
  assert.is(toHex(packetNonce(iv, 0x1_0000_0000)), '000102030405060608090a0b');
  assert.is(toHex(packetNonce(iv, Number.MAX_SAFE_INTEGER)), '00010203041af9f8f7f6f5f4');
  const out = new Uint8Array(12);
  assert.is(packetNonce(iv, 5, out), out);
});

test('largest packet numbers: protect and unprotect near 2^32 and 2^40 with 4-byte encodings', () => {
  const prng = createPrng(0x9001_0006);
  for (const p of SYMMETRIC_PROVIDERS) {
    const keys = randomKeys(p, prng, 1, QUIC_V1);
    for (const pn of [0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 12345]) {
      const buf = new Uint8Array(100);
      const { pnOffset, payloadEnd } = writeShortHeaderPacket(buf, 0, prng.bytes(8), pn % 0x1_0000_0000, 4, prng.bytes(30), 0);
      const end = protect(keys, buf, 0, pnOffset, 4, payloadEnd, pn);
      const opened = unprotect(keys, buf, 0, pnOffset, end, pn - 3);
      assert.ok(opened);
      assert.is(opened!.packetNumber, pn);
    }
  }
});

test('random bytes as packets: unprotect never throws, returns null, and leaves the buffer as it was', () => {
  const prng = createPrng(0x9001_0007);
  for (const p of SYMMETRIC_PROVIDERS) {
    const all = CIPHER_SUITES.map((_, i) => randomKeys(p, prng, i, QUIC_V1));
    for (let round = 0; round < 150; round++) {
      const buf = prng.bytes(prng.int(300));
      const packetStart = prng.int(10);
      const pnOffset = packetStart + 1 + prng.int(30);
      const packetEnd = prng.int(buf.length + 20);
      const before = toHex(buf);
      const keys = all[round % all.length]!;
      assert.is(unprotect(keys, buf, packetStart, pnOffset, packetEnd, prng.int(1000) - 1), null);
      assert.is(toHex(buf), before);
    }
  }
});

test.run();
