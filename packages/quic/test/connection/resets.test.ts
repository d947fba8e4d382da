/**
 * Resets racing on one stream (RFC 9000 §3.5, §19.4, §19.5, §10.2; reliable-stream-reset draft):
 * see resets-helpers.ts for what every case checks. RESET_STREAM_AT cases without a close are in
 * resets-reliable.test.ts.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameType } from '../../src/frame/types.js';
import { arrangements, clientRace, type LocalOp, type PeerFrame, runCase, SEED, setup, UPLOAD } from './resets-helpers.js';
import { drain, flushEvents, injectFrames } from './scenario.js';

test('all four peer frames in ONE packet, in several orders, against every local interleaving (at once)', () => {
  const peerSets: PeerFrame[][] = [
    ['resetAt', 'reset', 'stop', 'close'],
    ['close', 'stop', 'reset', 'resetAt'],
    ['stop', 'resetAt', 'close', 'reset'],
    ['reset', 'stop'],
    ['stop', 'reset'],
  ];
  let cases = 0;
  for (const peer of peerSets) {
    for (const locals of arrangements<LocalOp>(['resetStream', 'stopSending', 'close'])) {
      for (let at = 0; at <= locals.length; at++) {
        runCase(SEED + cases, peer, locals, at, 0);
        cases++;
      }
    }
  }
  assert.ok(cases > 100);
});

test('each peer frame alone and in pairs, with local calls 15 ms apart (frames cross on the wire)', () => {
  // RESET_STREAM_AT without a close: resets-reliable.test.ts.
  const peerSets = arrangements<PeerFrame>(['resetAt', 'reset', 'stop', 'close']).filter(
    (p) => p.length >= 1 && p.length <= 2 && (!p.includes('resetAt') || p.includes('close')),
  );
  const localSets = arrangements<LocalOp>(['resetStream', 'stopSending', 'close']).filter((l) => l.length <= 2);
  let cases = 0;
  for (const peer of peerSets) {
    for (const locals of localSets) {
      for (let at = 0; at <= locals.length; at++) {
        runCase(SEED * 1000 + cases, peer, locals, at, 15);
        cases++;
      }
    }
  }
  assert.ok(cases > 50);
});

test('RESET_STREAM_AT delivers the reliable part before the reset shows (draft §6); a later RESET_STREAM cuts it', () => {
  const s = setup(SEED);
  // The server read 1000 of 3000 bytes. The peer resets with reliable size 2000: bytes 1000..2000 still come.
  injectFrames(s.pair, 'client', [{ type: FrameType.RESET_STREAM_AT, streamId: s.id, errorCode: 7, finalSize: UPLOAD, reliableSize: 2000 }]);
  const events = s.pair.serverNode.events;
  assert.not.ok(events.some((e) => e.type === 'stream-reset'), 'reset withheld until the reliable part is read');
  const r = drain(s.server, s.id);
  flushEvents(s.pair);
  assert.is(r.bytes, 1000, 'exactly the reliable part');
  assert.not.ok(r.fin);
  const reset = events.filter((e) => e.type === 'stream-reset');
  assert.equal(reset, [{ type: 'stream-reset', streamId: s.id, errorCode: 7, finalSize: UPLOAD }]);
  // Duplicates and a plain RESET_STREAM afterwards change nothing.
  injectFrames(s.pair, 'client', [
    { type: FrameType.RESET_STREAM_AT, streamId: s.id, errorCode: 7, finalSize: UPLOAD, reliableSize: 2000 },
    { type: FrameType.RESET_STREAM, streamId: s.id, errorCode: 7, finalSize: UPLOAD },
  ]);
  flushEvents(s.pair);
  assert.is(events.filter((e) => e.type === 'stream-reset').length, 1);
  assert.not.ok(s.server.isClosed);
});

test('RESET_STREAM_AT then RESET_STREAM before the reliable part is read: the reset shows at once', () => {
  const s = setup(SEED + 1);
  injectFrames(s.pair, 'client', [
    { type: FrameType.RESET_STREAM_AT, streamId: s.id, errorCode: 7, finalSize: UPLOAD, reliableSize: 2000 },
    { type: FrameType.RESET_STREAM, streamId: s.id, errorCode: 7, finalSize: UPLOAD },
  ]);
  const reset = s.pair.serverNode.events.filter((e) => e.type === 'stream-reset');
  assert.is(reset.length, 1);
  assert.not.ok(s.server.isClosed);
});

test('client-side races: the client resets and stops its own stream while the server resets, stops and closes', () => {
  // Plain resets here; the RESET_STREAM_AT variants are in resets-reliable.test.ts.
  for (let variant = 0; variant < 8; variant++) clientRace(variant, false);
});

test.run();
