/**
 * Our encoder against our decoder over many random header lists, with the three kinds of QPACK
 * traffic delivered the way QUIC may deliver them: the encoder and decoder streams in order but in
 * random chunks and at random times, field sections on their request streams in random order,
 * streams aborted by either side (the reset reaching the other side later). Properties: the decoder
 * never fails (no eviction of a needed entry, never more blocked streams than allowed), every
 * delivered section decodes to exactly what was encoded, and once everything is delivered the
 * encoder holds no references and both tables are identical.
 *
 * Seeded; replay a failure with QPACK_PAIR_SEED=<n>.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type HeaderField, QpackDecoder, QpackEncoder } from '../../src/qpack/index.js';
import { chunks, Rng, seedFromEnv } from './helpers.js';

const SEED = seedFromEnv('QPACK_PAIR_SEED', 0x9204);
console.log(`[qpack pair] QPACK_PAIR_SEED=${SEED}`);

interface Config {
  capacity: number;
  encoderCapacity: number;
  blocked: number;
  requests: number;
  /** Short lists of a few small fields that churn through a small table (RIC wrap-around). */
  small?: boolean;
}

interface InFlight {
  stream: number;
  section: Uint8Array;
  fields: HeaderField[];
}

const PATHS = Array.from({ length: 40 }, (_, i) => `/assets/${i % 7}/file-${i}.js`);
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) purequic-test', 'curl/8.5.0', 'purequic/0.1 \u00e9dition'];

function smallList(rng: Rng): HeaderField[] {
  const f: HeaderField[] = [];
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) f.push({ name: `k${rng.int(5)}`, value: `v${rng.int(3)}` });
  return f;
}

function headerList(rng: Rng, n: number): HeaderField[] {
  const f: HeaderField[] = [
    { name: ':method', value: rng.pick(['GET', 'GET', 'POST', 'PATCH']) },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: rng.pick(['example.com', 'cdn.example.com:4433']) },
    { name: ':path', value: rng.chance(0.8) ? rng.pick(PATHS) : `/unique/${n}/${rng.u32()}` },
  ];
  if (rng.chance(0.9)) f.push({ name: 'user-agent', value: rng.pick(AGENTS) });
  if (rng.chance(0.5)) f.push({ name: 'accept', value: rng.pick(['*/*', 'text/html,application/xhtml+xml', 'image/avif,image/webp']) });
  if (rng.chance(0.4)) f.push({ name: 'cookie', value: rng.pick(['a=1', `session=${'s'.repeat(30)}`, `prefs=${'p'.repeat(25)}; theme=dark`]) });
  if (rng.chance(0.1)) f.push({ name: 'authorization', value: `Bearer ${rng.u32().toString(16)}` });
  if (rng.chance(0.3)) f.push({ name: 'x-request-id', value: `${n}-${rng.u32()}` });
  if (rng.chance(0.05)) f.push({ name: 'x-large', value: 'L'.repeat(300 + rng.int(1500)) });
  const extra = rng.int(6);
  for (let i = 0; i < extra; i++) f.push({ name: `x-h${rng.int(20)}`, value: `value-${rng.int(8)}` });
  if (rng.chance(0.1)) f.push({ name: 'X-Upper-Case', value: 'kept' });
  return f;
}

function expected(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => ({ name: f.name.toLowerCase(), value: f.value }));
}

function plain(fields: HeaderField[]): HeaderField[] {
  return fields.map((f) => ({ name: f.name, value: f.value }));
}

function run(seed: number, cfg: Config): { blockedSeen: number; inserts: number; refs: number; cancelled: number; wraps: number } {
  const rng = new Rng(seed);
  const enc = new QpackEncoder({ maxTableCapacity: cfg.encoderCapacity });
  const dec = new QpackDecoder({ maxTableCapacity: cfg.capacity, maxBlockedStreams: cfg.blocked, maxFieldSectionSize: 1 << 20 });
  enc.applyPeerSettings(cfg.capacity, cfg.blocked);
  const toDecoder: Uint8Array[] = []; // encoder stream, in order
  const toEncoder: Uint8Array[] = []; // decoder stream, in order
  let pending: InFlight[] = []; // sections on request streams, any order
  const blocked = new Map<number, HeaderField[]>();
  const resets: number[] = []; // our aborts, reaching the decoder's side later
  let issued = 0;
  let nextStream = 0;
  let blockedSeen = 0;
  let cancelled = 0;
  const where = (what: string) => `seed ${seed} cfg ${JSON.stringify(cfg)}: ${what}`;

  const takeUnblocked = () => {
    for (const u of dec.takeUnblocked()) {
      const want = blocked.get(u.streamId);
      assert.ok(want, where(`unblocked unknown stream ${u.streamId}`));
      assert.ok('fields' in u, where('too large'));
      if ('fields' in u) assert.equal(plain(u.fields), expected(want!), where(`stream ${u.streamId} after unblocking`));
      blocked.delete(u.streamId);
    }
  };
  const deliverEncoderStream = (all: boolean) => {
    let n = all ? toDecoder.length : 1 + rng.int(4);
    while (n-- > 0 && toDecoder.length > 0) dec.handleEncoderStream(toDecoder.shift()!);
    takeUnblocked();
  };
  const deliverSection = (i: number) => {
    const s = pending[i]!;
    pending.splice(i, 1);
    const out = dec.decode(s.stream, s.section);
    if (out === 'blocked') {
      blocked.set(s.stream, s.fields);
      blockedSeen++;
      assert.ok(dec.blockedStreams <= cfg.blocked, where('blocked limit'));
    } else {
      assert.equal(plain(out), expected(s.fields), where(`stream ${s.stream}`));
    }
  };
  const flushDecoderStream = () => {
    const d = dec.takeDecoderStreamData();
    if (d) toEncoder.push(...chunks(rng, d, 4));
  };
  const deliverDecoderStream = (all: boolean) => {
    let n = all ? toEncoder.length : 1 + rng.int(4);
    while (n-- > 0 && toEncoder.length > 0) enc.handleDecoderStream(toEncoder.shift()!);
  };
  /** The decoder side abandons a stream (reset received, or it stops reading). */
  const decoderCancels = (stream: number) => {
    pending = pending.filter((p) => p.stream !== stream);
    blocked.delete(stream);
    dec.cancelStream(stream);
    cancelled++;
  };

  for (let step = 0; issued < cfg.requests || step % 50 !== 0; step++) {
    const r = rng.int(1000);
    if (r < 150 && issued < cfg.requests) {
      const fields = cfg.small ? smallList(rng) : headerList(rng, issued);
      const stream = nextStream;
      nextStream += 4;
      issued++;
      const section = enc.encode(stream, fields);
      const e = enc.takeEncoderStreamData();
      if (e) toDecoder.push(...chunks(rng, e, 64));
      pending.push({ stream, section: section.slice(), fields });
      // Occasionally a second section (trailers) on the same stream, sent right after.
      if (rng.chance(0.05)) {
        const trailers = [{ name: 'x-trailer', value: `t${rng.int(3)}` }];
        const t = enc.encode(stream, trailers);
        const e2 = enc.takeEncoderStreamData();
        if (e2) toDecoder.push(...chunks(rng, e2, 64));
        // Delivered after the headers: model it as a later section on the same stream.
        pending.push({ stream, section: t, fields: trailers });
      }
    } else if (r < 350) {
      if (toDecoder.length > 0) deliverEncoderStream(false);
    } else if (r < 650) {
      // A random section whose stream has no earlier section still pending or blocked.
      const candidates = pending
        .map((p, i) => ({ p, i }))
        .filter(({ p, i }) => !blocked.has(p.stream) && pending.findIndex((q) => q.stream === p.stream) === i);
      if (candidates.length > 0) deliverSection(rng.pick(candidates).i);
    } else if (r < 750) {
      flushDecoderStream();
    } else if (r < 940) {
      deliverDecoderStream(false);
    } else if (r < 950) {
      // We abort a stream: the encoder is told now, the decoder side later.
      const victim = pending.length > 0 ? rng.pick(pending).stream : -1;
      if (victim >= 0) {
        enc.streamClosed(victim);
        resets.push(victim);
      }
    } else if (r < 975) {
      if (resets.length > 0) decoderCancels(resets.splice(rng.int(resets.length), 1)[0]!);
    } else if (r < 980) {
      // The decoder side abandons a blocked stream on its own.
      const b = [...blocked.keys()];
      if (b.length > 0) decoderCancels(rng.pick(b));
    }
    if (step > 200_000) assert.unreachable(where('did not finish'));
  }

  // Drain: resets, the encoder stream, every section (in stream order), then the decoder stream.
  while (resets.length > 0) decoderCancels(resets.pop()!);
  deliverEncoderStream(true);
  while (pending.length > 0) deliverSection(0);
  takeUnblocked();
  assert.is(blocked.size, 0, where('sections left blocked'));
  flushDecoderStream();
  deliverDecoderStream(true);

  assert.is(enc.outstandingSections, 0, where('unacknowledged sections left'));
  const t = enc.table;
  assert.is(dec.insertCount, t.insertCount, where('insert counts'));
  assert.is(enc.knownReceivedCount, t.insertCount, where('Known Received Count'));
  assert.equal(dec.tableSize, { size: t.size, capacity: t.capacity, entries: t.insertCount - t.dropped }, where('table sizes'));
  for (let abs = t.dropped; abs < t.insertCount; abs++) {
    const e = enc.entry(abs)!;
    assert.is(e.refs, 0, where(`entry ${abs} still referenced`));
    assert.equal(dec.entry(abs), { name: e.name, value: e.value }, where(`entry ${abs}`));
  }
  const wraps = Math.floor(t.insertCount / (2 * Math.floor(cfg.capacity / 32)));
  return { blockedSeen, inserts: enc.stats.inserts, refs: enc.stats.dynamicReferences, cancelled, wraps };
}

const CONFIGS: Config[] = [
  { capacity: 4096, encoderCapacity: 4096, blocked: 16, requests: 400 },
  { capacity: 4096, encoderCapacity: 4096, blocked: 1, requests: 300 },
  { capacity: 4096, encoderCapacity: 4096, blocked: 0, requests: 300 },
  { capacity: 600, encoderCapacity: 4096, blocked: 8, requests: 400 }, // heavy eviction
  { capacity: 256, encoderCapacity: 256, blocked: 4, requests: 300 },
  { capacity: 256, encoderCapacity: 256, blocked: 4, requests: 400, small: true }, // MaxEntries 8: RIC wraps (FullRange 16)
  { capacity: 65536, encoderCapacity: 1024, blocked: 100, requests: 300 }, // our capacity below theirs
];

for (const [ci, cfg] of CONFIGS.entries()) {
  test(`pair: ${JSON.stringify(cfg)}, 8 seeds, random chunking and delivery order`, () => {
    let totals = { blockedSeen: 0, inserts: 0, refs: 0, cancelled: 0, wraps: 0 };
    for (let i = 0; i < 8; i++) {
      const r = run((SEED + ci * 1000 + i) >>> 0, cfg);
      totals = {
        blockedSeen: totals.blockedSeen + r.blockedSeen,
        inserts: totals.inserts + r.inserts,
        refs: totals.refs + r.refs,
        cancelled: totals.cancelled + r.cancelled,
        wraps: totals.wraps + r.wraps,
      };
    }
    console.log(`[qpack pair] ${JSON.stringify(cfg)}: ${JSON.stringify(totals)}`);
    assert.ok(totals.inserts > 0, "the dynamic table is used");
    assert.ok(totals.refs > 0, 'and referenced');
    assert.ok(totals.cancelled > 0, 'cancellations exercised');
    if (cfg.small) assert.ok(totals.wraps >= 16, 'the Required Insert Count wrapped around in every run');
    if (cfg.blocked > 0) assert.ok(totals.blockedSeen > 0, 'blocked streams exercised');
    else assert.is(totals.blockedSeen, 0, 'never blocked with a limit of 0');
  });
}

test.run();
