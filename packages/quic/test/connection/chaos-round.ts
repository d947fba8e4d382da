/**
 * The chaos round shared by chaos.test.ts (plain resets) and chaos-reliable.test.ts (RESET_STREAM_AT too).
 *
 * Seeded chaos: two honest endpoints make random application calls (open, write, finish, read,
 * reset with and without a reliable size, stop sending, priorities, datagrams) on a lossy,
 * reordering, duplicating link. Whatever the order, nothing throws, the recovery invariants hold
 * after every event (harness), every byte read is the byte written at that offset, events are
 * consistent, neither side ever closes with a transport error (honest peers must not provoke
 * one), and the final close ends both sides.
 */

import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent, TransportSettings } from '../../src/connection/types.js';
import { SimRandom } from '../../src/sim/prng.js';
import { makePair, type Pair } from './harness.js';
import { establish, flushEvents, runUntilTerminated } from './scenario.js';

export const SEED = Number(process.env.SIM_SEED ?? 1);
/** CHAOS_TRACE=<seed> prints every call and event of that round (to diagnose a failure). */
const TRACE_SEED = process.env.CHAOS_TRACE === undefined ? -1 : Number(process.env.CHAOS_TRACE);
let tracing = false;
let traceNow = () => 0;
function trace(line: string): void {
  if (tracing) console.log(`${traceNow().toFixed(1)} ${line}`);
}

/** The byte written at `offset` of stream `id` by `side`: lets the reader check every byte. */
function byteAt(side: number, id: number, offset: number): number {
  return (id * 31 + offset * 7 + side * 101 + (offset >> 8)) & 0xff;
}

interface Side {
  name: 'client' | 'server';
  index: number;
  conn: Connection;
  /** Streams we can write on, with how much we wrote, and whether we finished or reset them. */
  sending: Map<number, { written: number; done: boolean }>;
  /** Streams we can read, with how much we read. */
  receiving: Map<number, { read: number; done: boolean }>;
  resetSeen: Set<number>;
  closedSeen: boolean;
  problems: string[];
}

function canSend(id: number, isServer: boolean): boolean {
  const uni = (id & 2) !== 0;
  const serverInitiated = (id & 1) !== 0;
  return !uni || serverInitiated === isServer;
}
function canReceive(id: number, isServer: boolean): boolean {
  const uni = (id & 2) !== 0;
  const serverInitiated = (id & 1) !== 0;
  return !uni || serverInitiated !== isServer;
}

function readSome(side: Side, id: number, max: number | undefined): void {
  const st = side.receiving.get(id);
  if (!st || st.done) return;
  for (let i = 0; i < 64; i++) {
    const r = side.conn.readStream(id, max);
    if (!r) return;
    for (let k = 0; k < r.data.length; k++) {
      if (r.data[k] !== byteAt(1 - side.index, id, st.read + k)) {
        side.problems.push(`${side.name}: stream ${id} byte ${st.read + k} differs`);
        return;
      }
    }
    st.read += r.data.length;
    if (r.fin) {
      st.done = true;
      return;
    }
    if (max !== undefined) return;
  }
}

function onEvent(side: Side, e: ConnectionEvent, rng: SimRandom): void {
  if (e.type !== 'cid-route' && e.type !== 'datagram' && e.type !== 'datagram-acked' && e.type !== 'datagram-lost') trace(`${side.name} event ${JSON.stringify(e)}`);
  if (side.closedSeen && e.type !== 'cid-route') side.problems.push(`${side.name}: ${e.type} after closed`);
  switch (e.type) {
    case 'stream-opened':
      if (canReceive(e.streamId, side.conn.role === 'server')) side.receiving.set(e.streamId, { read: 0, done: false });
      if (canSend(e.streamId, side.conn.role === 'server')) side.sending.set(e.streamId, { written: 0, done: false });
      return;
    case 'stream-readable':
      // A lazy application reads only sometimes; the rest is read by later random steps.
      if (rng.chance(0.6)) readSome(side, e.streamId, rng.chance(0.5) ? 1 + rng.int(4000) : undefined);
      return;
    case 'stream-reset': {
      if (side.resetSeen.has(e.streamId)) side.problems.push(`${side.name}: second stream-reset for ${e.streamId}`);
      side.resetSeen.add(e.streamId);
      const st = side.receiving.get(e.streamId);
      if (st) st.done = true;
      return;
    }
    case 'stream-stop-sending': {
      const st = side.sending.get(e.streamId);
      if (st) st.done = true;
      return;
    }
    case 'closed':
      side.closedSeen = true;
      return;
    default:
      return;
  }
}

function randomStep(side: Side, rng: SimRandom, reliableResets: boolean): void {
  const c = side.conn;
  const pick = <T>(m: Map<number, T>): [number, T] | undefined => {
    if (m.size === 0) return undefined;
    const keys = [...m.keys()];
    const k = keys[rng.int(keys.length)]!;
    return [k, m.get(k)!];
  };
  const op = rng.int(100);
  if (op < 15) {
    const id = c.openStream(rng.chance(0.5) ? 'bidi' : 'uni');
    if (id === undefined) return;
    side.sending.set(id, { written: 0, done: false });
    if ((id & 2) === 0) side.receiving.set(id, { read: 0, done: false });
    trace(`${side.name} open ${id}`);
  } else if (op < 45) {
    const s = pick(side.sending);
    if (!s || s[1].done) return;
    const [id, st] = s;
    const n = rng.int(20_000);
    const data = new Uint8Array(n);
    for (let k = 0; k < n; k++) data[k] = byteAt(side.index, id, st.written + k);
    const fin = rng.chance(0.3);
    const accepted = c.writeStream(id, data, fin);
    trace(`${side.name} write ${id} @${st.written} +${n} fin=${fin} -> ${accepted}`);
    st.written += accepted;
    if (fin && accepted === n) st.done = true;
  } else if (op < 65) {
    const s = pick(side.receiving);
    if (s) readSome(side, s[0], rng.chance(0.5) ? 1 + rng.int(8000) : undefined);
  } else if (op < 72) {
    const s = pick(side.sending);
    if (!s) return;
    const reliable = reliableResets && rng.chance(0.5) ? rng.int(s[1].written + 1) : undefined;
    c.resetStream(s[0], 0x100 + side.index, reliable);
    trace(`${side.name} resetStream ${s[0]} reliable=${reliable} (written ${s[1].written})`);
    s[1].done = true;
  } else if (op < 78) {
    const s = pick(side.receiving);
    if (!s) return;
    c.stopSending(s[0], 0x200 + side.index);
    trace(`${side.name} stopSending ${s[0]}`);
    s[1].done = true;
  } else if (op < 83) {
    const s = pick(side.sending);
    if (s) c.setStreamPriority(s[0], rng.int(8), rng.chance(0.5));
  } else if (op < 95) {
    const max = c.maxDatagramPayload;
    if (max > 0) c.sendDatagram(new Uint8Array(1 + rng.int(max)));
  } else {
    // Idempotence spot check: repeat a reset or stop on something already done.
    const s = pick(side.sending);
    if (s && s[1].done) {
      c.resetStream(s[0], 0x100 + side.index);
      trace(`${side.name} resetStream again ${s[0]}`);
    }
    const r = pick(side.receiving);
    if (r && r[1].done) {
      c.stopSending(r[0], 0x200 + side.index);
      trace(`${side.name} stopSending again ${r[0]}`);
    }
  }
}

/** One seeded round of `steps` random calls; returns how many streams and bytes it exercised. */
export function chaosRound(
  seed: number,
  steps: number,
  reliableResets: boolean,
  congestionControl: TransportSettings['congestionControl'] = 'cubic',
  keyUpdates: { intervalPackets?: number; randomCalls?: boolean } = {},
): { streams: number; bytes: number; keyUpdates: number } {
  const rng = new SimRandom(seed * 7 + 1);
  const link = { delayMs: 5 + (seed % 20), lossRate: 0.05, reorderRate: 0.05, reorderDelayMs: 8, duplicateRate: 0.02, bandwidthBps: 30e6 };
  const pair: Pair = makePair({ seed, link, clientTransport: { initialMaxStreamsBidi: 8, initialMaxStreamsUni: 8, congestionControl, keyUpdateIntervalPackets: keyUpdates.intervalPackets }, serverTransport: { initialMaxStreamsBidi: 8, initialMaxStreamsUni: 8, congestionControl, keyUpdateIntervalPackets: keyUpdates.intervalPackets } });
  establish(pair, 30_000);
  tracing = seed === TRACE_SEED;
  traceNow = () => pair.sim.now;
  const mk = (name: 'client' | 'server', index: number, conn: Connection): Side => ({
    name,
    index,
    conn,
    sending: new Map(),
    receiving: new Map(),
    resetSeen: new Set(),
    closedSeen: false,
    problems: [],
  });
  const sides = [mk('client', 0, pair.client), mk('server', 1, pair.server())];
  pair.clientNode.onEvent = (e) => onEvent(sides[0]!, e, rng);
  pair.serverNode.onEvent = (e) => onEvent(sides[1]!, e, rng);
  for (let i = 0; i < steps; i++) {
    const side = sides[rng.int(2)]!;
    if (keyUpdates.randomCalls && rng.chance(0.1)) {
      const started = side.conn.updateKeys();
      trace(`${side.name} updateKeys -> ${started}`);
    }
    randomStep(side, rng, reliableResets);
    flushEvents(pair);
    pair.run(() => false, rng.int(25));
    for (const s of sides) {
      const r = s.conn.closeReason;
      if (r) assert.unreachable(`seed ${seed} step ${i}: ${s.name} closed: ${JSON.stringify(r)}`);
    }
  }
  // Finish: read everything still readable for a while, then close.
  pair.clientNode.onEvent = (e) => {
    onEvent(sides[0]!, e, rng);
    if (e.type === 'stream-readable') readSome(sides[0]!, e.streamId, undefined);
  };
  pair.serverNode.onEvent = (e) => {
    onEvent(sides[1]!, e, rng);
    if (e.type === 'stream-readable') readSome(sides[1]!, e.streamId, undefined);
  };
  for (const s of sides) for (const id of s.receiving.keys()) readSome(s, id, undefined);
  pair.run(() => false, 500);
  for (const s of sides) assert.not.ok(s.conn.isClosed, `seed ${seed}: ${s.name} closed: ${JSON.stringify(s.conn.closeReason)}`);
  const closer = sides[rng.int(2)]!;
  closer.conn.close(0x42, 'chaos over', pair.sim.now);
  assert.ok(runUntilTerminated(pair, 60_000), `seed ${seed}: both terminate`);
  const other = sides[1 - closer.index]!;
  assert.equal(closer.conn.closeReason, { kind: 'application', code: 0x42, reason: 'chaos over', remote: false });
  const r = other.conn.closeReason!;
  assert.ok(
    (r.kind === 'application' && r.code === 0x42 && r.remote) || r.kind === 'idle-timeout',
    `seed ${seed}: ${other.name} ended with ${JSON.stringify(r)}`,
  );
  for (const s of sides) assert.equal(s.problems, [], `seed ${seed}`);
  let bytes = 0;
  let streams = 0;
  const updates = pair.client.keyPhases.updates + pair.server().keyPhases.updates;
  for (const s of sides) {
    for (const st of s.receiving.values()) bytes += st.read;
    streams += s.sending.size;
  }
  return { streams, bytes, keyUpdates: updates };
}

