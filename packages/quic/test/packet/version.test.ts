import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PacketType } from '../../src/packet/types.js';
import {
  greaseVersion,
  isReservedVersion,
  isSupportedVersion,
  longHeaderBitsForPacketType,
  packetTypeFromLongHeaderBits,
  QUIC_V1,
  QUIC_V2,
  versionName,
} from '../../src/packet/version.js';
import { createPrng } from '../helpers/prng.js';

test('RFC 9000 §17.2 / RFC 9369 §3.2: long packet type bits per version', () => {
  const v1: [PacketType, number][] = [[PacketType.INITIAL, 0], [PacketType.ZERO_RTT, 1], [PacketType.HANDSHAKE, 2], [PacketType.RETRY, 3]];
  const v2: [PacketType, number][] = [[PacketType.INITIAL, 1], [PacketType.ZERO_RTT, 2], [PacketType.HANDSHAKE, 3], [PacketType.RETRY, 0]];
  for (const [version, table] of [[QUIC_V1, v1], [QUIC_V2, v2]] as const) {
    for (const [type, bits] of table) {
      assert.is(longHeaderBitsForPacketType(version, type), bits);
      assert.is(packetTypeFromLongHeaderBits(version, bits), type);
    }
  }
  assert.throws(() => longHeaderBitsForPacketType(QUIC_V1, PacketType.ONE_RTT), RangeError);
  assert.throws(() => longHeaderBitsForPacketType(QUIC_V2, PacketType.VERSION_NEGOTIATION), RangeError);
});

test('version constants and names', () => {
  assert.is(QUIC_V1, 1);
  assert.is(QUIC_V2, 0x6b3343cf);
  assert.ok(isSupportedVersion(QUIC_V1) && isSupportedVersion(QUIC_V2));
  assert.not.ok(isSupportedVersion(0));
  assert.not.ok(isSupportedVersion(0x709a50c4)); // the v2 draft codepoint is not v2
  assert.is(versionName(QUIC_V1), 'v1');
  assert.is(versionName(QUIC_V2), 'v2');
  assert.is(versionName(0xfaceb00c), '0xfaceb00c');
});

test('RFC 9000 §15: the 0x?a?a?a?a pattern is reserved; greased versions always match it', () => {
  for (const v of [0x0a0a0a0a, 0x1a2a3a4a, 0xfafafafa, 0xea0a5aba]) assert.ok(isReservedVersion(v), v.toString(16));
  for (const v of [QUIC_V1, QUIC_V2, 0, 0x0a0a0a0b, 0xa0a0a0a0, 0x0a0a0a1b, 0x0a0b0a0a]) assert.not.ok(isReservedVersion(v), v.toString(16));
  const rng = createPrng(0x9ea5e);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const random = rng.u32();
    const v = greaseVersion(random);
    assert.ok(isReservedVersion(v));
    assert.ok(v >= 0 && v <= 0xffffffff);
    assert.is((v & 0xf0f0f0f0) >>> 0, (random & 0xf0f0f0f0) >>> 0, 'high nibbles come from the RNG');
    seen.add(v);
  }
  assert.ok(seen.size > 900, 'greased versions vary');
});

test.run();
