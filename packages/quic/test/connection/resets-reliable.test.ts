/**
 * Reset races with RESET_STREAM_AT (reliable-stream-reset draft §5, §6): the stream is forgotten
 * once its reliable part is read (its credit returns), every interleaving with local calls, the
 * client-side races, and a retransmitted STOP_SENDING reported once (see resets-helpers.ts).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Frame, FrameType } from '../../src/frame/types.js';
import { arrangements, clientRace, type LocalOp, type PeerFrame, runCase, SEED, setup, UPLOAD } from './resets-helpers.js';
import { drain, flushEvents, injectFrames } from './scenario.js';

test('RESET_STREAM_AT: once the reliable part is read the stream is forgotten and its credit returns (BUG 1)', () => {
  const s = setup(SEED);
  injectFrames(s.pair, 'client', [{ type: FrameType.RESET_STREAM_AT, streamId: s.id, errorCode: 0x11, finalSize: UPLOAD, reliableSize: 2000 }]);
  s.pair.client.resetStream(s.id, 0x11, 2000);
  s.server.writeStream(s.id, new Uint8Array(0), true);
  drain(s.server, s.id);
  flushEvents(s.pair);
  s.pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') drain(conn, e.streamId);
  };
  drain(s.pair.client, s.id);
  assert.ok(s.pair.run(() => s.server.streams.size === 0 && s.pair.client.streams.size === 0, 1_500), `server holds ${s.server.streams.size} streams`);
});

test('every peer frame set with RESET_STREAM_AT and no close, against every local interleaving (BUG 1)', () => {
  const peerSets = arrangements<PeerFrame>(['resetAt', 'reset', 'stop']).filter((p) => p.includes('resetAt'));
  let cases = 0;
  for (const peer of peerSets) {
    for (const locals of arrangements<LocalOp>(['resetStream', 'stopSending'])) {
      for (let at = 0; at <= locals.length; at++) {
        runCase(SEED * 3000 + cases, peer, locals, at, cases % 2 === 0 ? 0 : 15);
        cases++;
      }
    }
  }
  assert.ok(cases > 50);
});

test('client-side races with RESET_STREAM_AT (BUG 1)', () => {
  for (let variant = 0; variant < 8; variant++) clientRace(variant, true);
});

test('a retransmitted STOP_SENDING is answered once and reported once', () => {
  const s = setup(SEED + 2);
  const stop: Frame = { type: FrameType.STOP_SENDING, streamId: s.id, errorCode: 0x13 };
  injectFrames(s.pair, 'client', [stop]);
  s.pair.run(() => false, 5);
  injectFrames(s.pair, 'client', [stop, stop]);
  const stops = s.pair.serverNode.events.filter((e) => e.type === 'stream-stop-sending');
  assert.is(stops.length, 1, `${stops.length} stream-stop-sending events for one stream`);
});

test.run();
