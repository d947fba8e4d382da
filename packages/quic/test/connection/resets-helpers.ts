/**
 * Shared machinery of the reset-race tests (resets.test.ts, resets-reliable.test.ts).
 *
 * Resets racing on one stream (RFC 9000 §3.5, §19.4, §19.5; draft-ietf-quic-reliable-stream-reset;
 * RFC 9000 §10.2): RESET_STREAM, STOP_SENDING, RESET_STREAM_AT and CONNECTION_CLOSE from the
 * peer, in one packet and alone, interleaved in every order with the local `resetStream`,
 * `stopSending` and `close` calls. Nothing may throw, every call is idempotent, events are
 * consistent (at most one reset / closed per stream and connection, nothing after 'closed'),
 * the harness checks the recovery invariants after every event, and the end state is clean:
 * the stream is forgotten on both sides and the connection still carries a new stream, or both
 * sides terminate after a close.
 */

import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent } from '../../src/connection/types.js';
import { type Frame, FrameType } from '../../src/frame/types.js';
import { makePair, type Pair, payload } from './harness.js';
import { drain, enc, establish, flushEvents, injectFrames, runUntilTerminated } from './scenario.js';

export const SEED = Number(process.env.SIM_SEED ?? 1);
export const UPLOAD = 3000;
const PEER_CLOSE_CODE = 0x99;
const LOCAL_CLOSE_CODE = 0x42;

export interface Setup {
  pair: Pair;
  server: Connection;
  id: number;
}

/** Client opens bidi stream 0 and sends 3000 bytes (no FIN); the server accepts, reads 1000, answers 2000 bytes. */
export function setup(seed: number): Setup {
  const pair = makePair({ seed, link: { delayMs: 10 }, clientTransport: { maxIdleTimeoutMs: 2_000 }, serverTransport: { maxIdleTimeoutMs: 2_000 } });
  establish(pair);
  const id = pair.client.openStream('bidi')!;
  assert.is(id, 0);
  assert.is(pair.client.writeStream(id, payload(UPLOAD), false), UPLOAD);
  let serverRead = 0;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && serverRead === 0) {
      const r = conn.readStream(e.streamId, 1000);
      serverRead = r?.data.length ?? 0;
      conn.writeStream(e.streamId, payload(2000, 3), false);
    }
  };
  assert.ok(pair.run(() => serverRead > 0, 2_000), 'server got stream data');
  pair.run(() => false, 60); // let the rest and the answer arrive
  pair.serverNode.onEvent = () => {};
  return { pair, server: pair.server(), id };
}

export type PeerFrame = 'resetAt' | 'reset' | 'stop' | 'close';
export type LocalOp = 'resetStream' | 'stopSending' | 'close';

export function peerFrame(kind: PeerFrame, id: number): Frame {
  switch (kind) {
    case 'resetAt':
      return { type: FrameType.RESET_STREAM_AT, streamId: id, errorCode: 0x11, finalSize: UPLOAD, reliableSize: 1000 };
    case 'reset':
      // Draft §5: every reset of one stream carries the same error code.
      return { type: FrameType.RESET_STREAM, streamId: id, errorCode: 0x11, finalSize: UPLOAD };
    case 'stop':
      return { type: FrameType.STOP_SENDING, streamId: id, errorCode: 0x13 };
    case 'close':
      return { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: PEER_CLOSE_CODE, frameType: 0, reason: enc('peer done') };
  }
}

export function localOp(op: LocalOp, s: Setup): void {
  const now = s.pair.sim.now;
  if (op === 'resetStream') s.server.resetStream(s.id, 0x21);
  // The real client answers STOP_SENDING with RESET_STREAM carrying this code (§3.5); the forged
  // resets use the same one, as draft §5 requires of one stream's resets.
  else if (op === 'stopSending') s.server.stopSending(s.id, 0x11);
  else s.server.close(LOCAL_CLOSE_CODE, 'local done', now);
}

/** Checks the server's event log for consistency. */
export function checkEvents(events: ConnectionEvent[], id: number, what: string, forgedCodes = true): void {
  let closedAt = -1;
  let resets = 0;
  let closed = 0;
  events.forEach((e, i) => {
    if (e.type === 'closed') {
      closed++;
      closedAt = i;
    }
    if (e.type === 'stream-reset' && e.streamId === id) {
      resets++;
      if (forgedCodes) {
        assert.is(e.finalSize, UPLOAD, `${what}: reset final size`);
        assert.is(e.errorCode, 0x11, `${what}: reset code`);
      }
    }
    if (closedAt >= 0 && i > closedAt && e.type !== 'cid-route') assert.unreachable(`${what}: event ${e.type} after 'closed'`);
  });
  assert.ok(resets <= 1, `${what}: ${resets} stream-reset events`);
  assert.ok(closed <= 1, `${what}: ${closed} closed events`);
}

/** Ordered subsets (every order) of `items`. */
export function arrangements<T>(items: T[]): T[][] {
  const out: T[][] = [[]];
  const rec = (prefix: T[], rest: T[]) => {
    for (let i = 0; i < rest.length; i++) {
      const next = [...prefix, rest[i]!];
      out.push(next);
      rec(next, [...rest.slice(0, i), ...rest.slice(i + 1)]);
    }
  };
  rec([], items);
  return out;
}

export function runCase(seed: number, peer: PeerFrame[], locals: LocalOp[], peerAt: number, spacingMs: number): void {
  const what = `peer [${peer.join(',')}] at ${peerAt} of local [${locals.join(',')}] spaced ${spacingMs} ms`;
  const s = setup(seed);
  const steps: (() => void)[] = locals.map((op) => () => localOp(op, s));
  if (peer.length > 0) steps.splice(peerAt, 0, () => injectFrames(s.pair, 'client', peer.map((k) => peerFrame(k, s.id))));
  for (const step of steps) {
    step();
    // Idempotence: every local call again, right away, changes nothing and throws nothing.
    if (spacingMs > 0) s.pair.run(() => false, spacingMs);
  }
  for (const op of locals) localOp(op, s);
  const closing = peer.includes('close') || locals.includes('close');
  if (closing) {
    assert.ok(runUntilTerminated(s.pair, 20_000), `${what}: did not terminate`);
    const r = s.server.closeReason!;
    assert.is(r.kind, 'application', what);
    if (r.kind === 'application') {
      const peerFirst = r.remote;
      assert.is(r.code, peerFirst ? PEER_CLOSE_CODE : LOCAL_CLOSE_CODE, what);
      const c = s.pair.client.closeReason!;
      if (!peerFirst) {
        // The client hears our application close (0x1d) with its code and reason.
        assert.equal(c, { kind: 'application', code: LOCAL_CLOSE_CODE, reason: 'local done', remote: true }, what);
      } else {
        // The client did not really close (the frame was forged): the draining server is silent.
        assert.is(c.kind, 'idle-timeout', what);
      }
    }
  } else {
    // Both applications finish what the race left open: the client resets its send side the
    // way its forged frames said (same code and final size), the server ends its answer, both
    // read what arrives. Then both sides forget the stream and the connection still works.
    const readAll = (e: ConnectionEvent, conn: Connection) => {
      if (e.type === 'stream-readable') drain(conn, e.streamId);
    };
    s.pair.clientNode.onEvent = readAll;
    s.pair.serverNode.onEvent = readAll;
    s.pair.client.resetStream(s.id, 0x11);
    s.server.writeStream(s.id, new Uint8Array(0), true);
    drain(s.pair.client, s.id);
    drain(s.server, s.id);
    flushEvents(s.pair);
    const ok = s.pair.run(() => s.server.streams.size === 0 && s.pair.client.streams.size === 0, 1_500);
    assert.ok(ok, `${what}: streams not forgotten: server ${s.server.streams.size}, client ${s.pair.client.streams.size}`);
    assert.not.ok(s.server.isClosed, `${what}: server closed: ${JSON.stringify(s.server.closeReason)}`);
    const id2 = s.pair.client.openStream('bidi')!;
    s.pair.client.writeStream(id2, enc('after'), true);
    let got = '';
    s.pair.serverNode.onEvent = (e, conn) => {
      if (e.type === 'stream-readable' && e.streamId === id2) {
        const r = conn.readStream(id2);
        if (r) got += new TextDecoder().decode(r.data);
      }
    };
    assert.ok(s.pair.run(() => got === 'after', 5_000), `${what}: new stream after the race`);
  }
  checkEvents(s.pair.serverNode.events, s.id, what);
}


/** The client resets (RESET_STREAM_AT when `reliable`) and stops its own stream while the server resets, stops, and (variants 4-7) closes. */
export function clientRace(variant: number, reliable: boolean): void {
  const s = setup(SEED * 7 + variant);
  const c = s.pair.client;
  const now = () => s.pair.sim.now;
  const ops: (() => void)[] = [
    () => c.resetStream(s.id, 1, reliable ? 1500 : undefined),
    () => c.stopSending(s.id, 2),
    () => s.server.resetStream(s.id, 3),
    () => s.server.stopSending(s.id, 4),
  ];
  if (variant >= 4) ops.push(() => s.server.close(5, 'bye', now()));
  const readAll = (e: ConnectionEvent, conn: Connection) => {
    if (e.type === 'stream-readable') drain(conn, e.streamId);
  };
  s.pair.clientNode.onEvent = readAll;
  s.pair.serverNode.onEvent = readAll;
  // A rotation of the order per variant.
  for (let i = 0; i < ops.length; i++) {
    ops[(i + variant) % ops.length]!();
    flushEvents(s.pair);
    if (variant % 3 === 0) s.pair.run(() => false, 7);
  }
  const what = `variant ${variant}${reliable ? ' (RESET_STREAM_AT)' : ''}`;
  if (variant >= 4) {
    assert.ok(runUntilTerminated(s.pair, 20_000), `${what} terminates`);
    assert.equal(c.closeReason, { kind: 'application', code: 5, reason: 'bye', remote: true }, what);
  } else {
    drain(s.server, s.id);
    flushEvents(s.pair);
    const ok = s.pair.run(() => s.server.streams.size === 0 && c.streams.size === 0, 1_500);
    assert.ok(ok, `${what}: streams not forgotten: server ${s.server.streams.size}, client ${c.streams.size}`);
    assert.not.ok(c.isClosed || s.server.isClosed, `${what}: ${JSON.stringify(c.closeReason ?? s.server.closeReason)}`);
  }
  checkEvents(s.pair.serverNode.events, s.id, what, false);
}
