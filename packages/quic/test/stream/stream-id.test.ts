import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  canReceiveOn,
  canSendOn,
  isBidirectional,
  isClientInitiated,
  isLocallyInitiated,
  isServerInitiated,
  isUnidirectional,
  MAX_STREAM_ID,
  streamIdOf,
  streamIndex,
  StreamType,
  streamTypeFor,
  streamTypeOf,
} from '../../src/stream/stream-id.js';

test('RFC 9000 §2.1 Table 1: the two low bits give initiator and direction', () => {
  const rows: [number, boolean, boolean][] = [
    [0x00, true, true],
    [0x01, false, true],
    [0x02, true, false],
    [0x03, false, false],
  ];
  for (const [type, client, bidi] of rows) {
    for (const index of [0, 1, 7, 1000]) {
      const id = streamIdOf(type as StreamType, index);
      assert.is(id, index * 4 + type);
      assert.is(isClientInitiated(id), client);
      assert.is(isServerInitiated(id), !client);
      assert.is(isBidirectional(id), bidi);
      assert.is(isUnidirectional(id), !bidi);
      assert.is(streamTypeOf(id), type);
      assert.is(streamIndex(id), index);
      assert.is(streamTypeFor(!client, !bidi), type);
    }
  }
});

test('IDs beyond 32 bits keep their type and index', () => {
  const id = streamIdOf(StreamType.SERVER_UNI, 2 ** 40 + 5);
  assert.is(streamTypeOf(id), StreamType.SERVER_UNI);
  assert.is(streamIndex(id), 2 ** 40 + 5);
  assert.ok(isServerInitiated(id));
  assert.ok(isUnidirectional(id));
  // The largest exact number, 2^53 - 1, is a server-initiated unidirectional ID.
  assert.is(streamTypeOf(Number.MAX_SAFE_INTEGER), StreamType.SERVER_UNI);
  assert.ok(MAX_STREAM_ID > Number.MAX_SAFE_INTEGER);
});

test('which side may send or receive on each stream type', () => {
  // Client-initiated unidirectional stream 2: the client sends, the server receives.
  assert.ok(canSendOn(2, false));
  assert.not.ok(canSendOn(2, true));
  assert.ok(canReceiveOn(2, true));
  assert.not.ok(canReceiveOn(2, false));
  // Server-initiated unidirectional stream 3: the reverse.
  assert.ok(canSendOn(3, true));
  assert.not.ok(canReceiveOn(3, true));
  // Bidirectional streams: both ways for both sides.
  for (const id of [0, 1]) for (const server of [false, true]) assert.ok(canSendOn(id, server) && canReceiveOn(id, server));
  assert.ok(isLocallyInitiated(0, false));
  assert.ok(isLocallyInitiated(1, true));
  assert.not.ok(isLocallyInitiated(1, false));
});

test.run();
