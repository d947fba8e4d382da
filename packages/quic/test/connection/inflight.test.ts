/**
 * Bytes in flight released exactly once (RFC 9002 §A.5-§A.10, §6.4): the harness asserts the
 * recovery invariants after every event; these scenarios stress the release paths: streams
 * reset while their packets are lost (their data must not be sent again, RFC 9000 §3.3/§19.4, yet
 * the packets count until acknowledged or declared lost), Initial/Handshake discard with packets
 * in flight, PTO probes through a blackout, persistent congestion (RFC 9002 §7.6). At the end of
 * each scenario, with everything acknowledged, bytes in flight are exactly zero.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TransportSettings } from '../../src/connection/types.js';
import { type Frame, FrameType } from '../../src/frame/types.js';
import type { LinkConfig } from '../../src/sim/link.js';
import { CLIENT, makePair, type Pair, payload, sameBytes } from './harness.js';
import { establish, peekFrames } from './scenario.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

/** A pair whose client->server frames are recorded with their send time. */
function spied(seed: number, link: LinkConfig): { pair: Pair; frames: { at: number; f: Frame }[] } {
  const frames: { at: number; f: Frame }[] = [];
  let ref: Pair | undefined;
  const upstreamHook = link.hook;
  const pair = makePair({
    seed,
    link: {
      ...link,
      hook: (d, info) => {
        if (info.from === CLIENT) for (const f of peekFrames(ref?.serverNode.conn, d)) frames.push({ at: info.now, f });
        return upstreamHook ? upstreamHook(d, info) : d;
      },
    },
    back: link,
  });
  ref = pair;
  return { pair, frames };
}

function quiesce(pair: Pair): void {
  // Everything acknowledged: nothing is left in flight on either side.
  const ok = pair.run(() => pair.client.bytesInFlight === 0 && pair.server().bytesInFlight === 0, 10_000);
  assert.ok(ok, `bytes in flight at rest: client ${pair.client.bytesInFlight}, server ${pair.server().bytesInFlight}`);
}

function readEverything(pair: Pair): void {
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') for (let i = 0; i < 1000 && conn.readStream(e.streamId); i++);
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') for (let i = 0; i < 1000 && conn.readStream(e.streamId); i++);
  };
}

test('streams reset while their packets are lost: their data is never sent again, the packets still settle', () => {
  for (let round = 0; round < 4; round++) {
    const { pair, frames } = spied(SEED * 10 + round, { delayMs: 10, lossRate: 0.1, bandwidthBps: 20e6 });
    establish(pair, 20_000);
    readEverything(pair);
    const c = pair.client;
    const ids = [0, 1, 2, 3].map(() => c.openStream('uni')!);
    for (const id of ids) c.writeStream(id, payload(150_000, id), false);
    pair.run(() => false, 40 + round * 10);
    const resetAt = pair.sim.now;
    for (const id of ids.slice(0, 2)) c.resetStream(id, 0x1);
    for (const id of ids.slice(2)) c.writeStream(id, new Uint8Array(0), true);
    const settled = pair.run(() => c.streams.size === 0, 30_000);
    assert.ok(settled, `round ${round}: client still holds ${c.streams.size} streams`);
    const after = frames.filter((x) => x.at > resetAt && x.f.type === FrameType.STREAM && ids.slice(0, 2).includes(x.f.streamId));
    assert.is(after.length, 0, `round ${round}: ${after.length} STREAM frames for reset streams after the reset`);
    const resets = frames.filter((x) => x.f.type === FrameType.RESET_STREAM);
    assert.ok(resets.length >= 2, 'the resets were sent');
    quiesce(pair);
  }
});

test('RESET_STREAM_AT: data below the reliable size is still delivered and retransmitted, nothing above it is sent again', () => {
  const { pair, frames } = spied(SEED + 5, { delayMs: 10, lossRate: 0.1, bandwidthBps: 20e6 });
  establish(pair, 20_000);
  const c = pair.client;
  const got: number[] = [];
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable') {
      for (let i = 0; i < 1000; i++) {
        const r = conn.readStream(e.streamId);
        if (!r) break;
        for (const b of r.data) got.push(b);
      }
    }
  };
  const id = c.openStream('uni')!;
  c.writeStream(id, payload(200_000, 9), false);
  const sentSoFar = () =>
    frames.reduce((m, x) => (x.f.type === FrameType.STREAM && x.f.streamId === id ? Math.max(m, x.f.offset + x.f.data.length) : m), 0);
  assert.ok(pair.run(() => sentSoFar() > 40_000, 10_000), 'data on the wire');
  const reliable = 30_000;
  const resetAt = pair.sim.now;
  c.resetStream(id, 0x2, reliable);
  assert.ok(pair.run(() => pair.serverNode.events.some((e) => e.type === 'stream-reset'), 20_000), 'the reset arrives');
  assert.ok(got.length >= reliable, `at least the reliable part arrived (${got.length})`);
  assert.ok(sameBytes(new Uint8Array(got.slice(0, reliable)), payload(200_000, 9).subarray(0, reliable)));
  const sentBefore = frames.filter((x) => x.at <= resetAt && x.f.type === FrameType.STREAM && x.f.streamId === id).reduce((m, x) => Math.max(m, x.f.type === FrameType.STREAM ? x.f.offset + x.f.data.length : 0), 0);
  assert.ok(sentBefore > reliable, `more than the reliable size was sent before the reset (${sentBefore})`);
  const above = frames.filter((x) => x.at > resetAt && x.f.type === FrameType.STREAM && x.f.streamId === id && x.f.offset + x.f.data.length > reliable);
  assert.is(above.length, 0, `${above.length} STREAM frames above the reliable size after the reset`);
  quiesce(pair);
});

test('Initial and Handshake spaces discarded with packets in flight under 25% loss: the invariants hold, everything settles', () => {
  for (let i = 0; i < 10; i++) {
    const pair = makePair({ seed: SEED * 20 + i, link: { delayMs: 10, lossRate: 0.25 } });
    establish(pair, 60_000);
    assert.ok(pair.client.spaces[0].discarded && pair.client.spaces[1].discarded, 'client dropped Initial and Handshake');
    assert.ok(pair.server().spaces[0].discarded && pair.server().spaces[1].discarded, 'server dropped Initial and Handshake');
    pair.sim.link(CLIENT, 'server')!.config.lossRate = 0;
    pair.sim.link('server', CLIENT)!.config.lossRate = 0;
    quiesce(pair);
  }
});

function blackoutScenario(congestionControl: TransportSettings['congestionControl']): void {
  let blackout = false;
  const drop = (d: Uint8Array) => (blackout ? null : d);
  // 1200-byte datagrams throughout (no DPLPMTUD), so the minimum window below is 2 x 1200.
  const pair = makePair({
    seed: SEED + 7,
    link: { delayMs: 10, bandwidthBps: 50e6, hook: drop },
    clientTransport: { congestionControl, pmtud: false },
    serverTransport: { congestionControl, pmtud: false },
  });
  establish(pair);
  const c = pair.client;
  const data = payload(3 << 20, 4);
  const id = c.openStream('uni')!;
  let written = c.writeStream(id, data, true);
  const got: Uint8Array[] = [];
  let fin = false;
  // Observe the controller being told (RFC 9002 §7.6.2) and its window right then.
  const persistent: number[] = [];
  const onPersistent = c.congestion.onPersistentCongestion.bind(c.congestion);
  c.congestion.onPersistentCongestion = (now: number) => {
    onPersistent(now);
    persistent.push(c.congestion.congestionWindow);
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'stream-writable' && written < data.length) written += conn.writeStream(id, data.subarray(written), true);
  };
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type !== 'stream-readable') return;
    for (let i = 0; i < 1000; i++) {
      const r = conn.readStream(e.streamId);
      if (!r) break;
      got.push(r.data.slice());
      if (r.fin) fin = true;
    }
  };
  pair.run(() => false, 150);
  const ptoBefore = c.stats.ptoCount;
  blackout = true;
  pair.run(() => false, 4_000);
  assert.ok(c.stats.ptoCount - ptoBefore >= 3, `PTOs during the blackout: ${c.stats.ptoCount - ptoBefore}`);
  assert.ok(c.bytesInFlight > 0, 'probes and lost packets still count while unacknowledged');
  blackout = false;
  assert.ok(pair.run(() => fin, 60_000), 'transfer completes after the blackout');
  const all = new Uint8Array(got.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const g of got) {
    all.set(g, at);
    at += g.length;
  }
  assert.ok(sameBytes(all, data), 'data intact');
  // RFC 9002 §7.6.2: persistent congestion sets the window to the minimum (2 x 1200 bytes).
  assert.ok(persistent.length >= 1, `${congestionControl}: persistent congestion established`);
  // RFC 9002 §7.6.2: the window collapses to kMinimumWindow (2 x 1200 bytes); BBR keeps its own
  // floor of a few packets.
  if (congestionControl === 'bbr') assert.ok(persistent[0]! <= 4 * 1200, `bbr: window ${persistent[0]} after persistent congestion`);
  else assert.is(persistent[0], 2 * 1200, `${congestionControl}: kMinimumWindow`);
  quiesce(pair);
}

for (const cc of ['cubic', 'newreno', 'bbr'] as const) {
  test(`${cc}: a 4 s blackout mid-transfer: PTO probes with backoff, then the transfer completes intact; persistent congestion collapses the window`, () => {
    blackoutScenario(cc);
  });
}

test.run();
