/**
 * The QPACK encoder's policy and its decoder-stream handling (RFC 9204 §2.1, §4.4, §7.1.3): when it
 * indexes, what it never indexes, the blocked-streams limit, eviction safety, Known Received Count,
 * and every decoder instruction's malformed forms.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type HeaderField,
  QpackDecoder,
  QpackEncoder,
  QpackError,
  QpackErrorCode,
  type QpackEvent,
} from '../../src/qpack/index.js';
import { fromHex, toHex } from './helpers.js';

const { DECODER_STREAM_ERROR } = QpackErrorCode;

function throwsCode(fn: () => unknown, code: number, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, QpackError, what);
    assert.is((e as QpackError).code, code, `${what}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: no error`);
}

/** An encoder/decoder pair with in-order, immediate delivery unless told otherwise. */
function pair(capacity = 4096, blocked = 16, encoderCapacity = 4096) {
  const events: QpackEvent[] = [];
  const enc = new QpackEncoder({ maxTableCapacity: encoderCapacity, observer: (e) => events.push(e) });
  const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked, maxFieldSectionSize: 1 << 20 });
  enc.applyPeerSettings(capacity, blocked);
  const pump = () => {
    const e = enc.takeEncoderStreamData();
    if (e) dec.handleEncoderStream(e);
  };
  const ack = () => {
    const d = dec.takeDecoderStreamData();
    if (d) enc.handleDecoderStream(d);
  };
  /** Encodes, delivers the encoder stream, decodes, checks the round trip, delivers acks. */
  const roundTrip = (stream: number, fields: HeaderField[]): Uint8Array => {
    const s = enc.encode(stream, fields);
    pump();
    const out = dec.decode(stream, s);
    if (out === 'blocked') throw new Error('blocked with in-order delivery');
    assert.equal(
      out.map((f) => ({ name: f.name, value: f.value })),
      fields.map((f) => ({ name: f.name.toLowerCase(), value: f.value })),
    );
    ack();
    return s;
  };
  return { enc, dec, pump, ack, roundTrip, events };
}

const request = (path: string): HeaderField[] => [
  { name: ':method', value: 'GET' },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: 'example.com' },
  { name: ':path', value: path },
  { name: 'user-agent', value: 'purequic-test/1.0 (a fairly long user agent string)' },
  { name: 'x-custom', value: 'same-every-time' },
];

test('before SETTINGS: static table and literals only, nothing on the encoder stream', () => {
  const enc = new QpackEncoder();
  const s1 = enc.encode(0, request('/a'));
  const s2 = enc.encode(4, request('/a'));
  assert.is(toHex(s1.subarray(0, 2)), '0000');
  assert.equal(s1, s2, 'nothing indexed');
  assert.is(enc.takeEncoderStreamData(), undefined);
  assert.equal(enc.stats, { inserts: 0, dynamicReferences: 0, blockedStreams: 0 });
  const dec = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0, maxFieldSectionSize: 1 << 16 });
  assert.equal(dec.decode(0, s1), request('/a'));
});

test('peer capacity 0: never any encoder-stream byte or dynamic reference', () => {
  const enc = new QpackEncoder();
  enc.applyPeerSettings(0, 100);
  for (let i = 0; i < 5; i++) enc.encode(i * 4, request('/same'));
  assert.is(enc.takeEncoderStreamData(), undefined);
  assert.is(enc.stats.dynamicReferences, 0);
  assert.throws(() => enc.applyPeerSettings(100, 1), /twice/);
});

test('static matches are indexed; :method GET is one byte 0xd1', () => {
  const enc = new QpackEncoder();
  enc.applyPeerSettings(4096, 10);
  assert.is(toHex(enc.encode(0, [{ name: ':method', value: 'GET' }, { name: ':path', value: '/' }])), '0000d1c1');
});

test('a line seen again is inserted, referenced, and later sections reference it; capacity uses min(ours, theirs)', () => {
  const { enc, dec, roundTrip, events } = pair(8192, 16, 1024);
  assert.equal(events[0], { type: 'capacity', capacity: 1024 });
  const first = roundTrip(0, request('/one'));
  assert.is(enc.stats.inserts, 0, 'first sight: literals');
  const second = roundTrip(4, request('/two'));
  // :authority, user-agent and x-custom repeat; :path changed.
  assert.is(enc.stats.inserts, 3);
  assert.ok(second.length < first.length, `second ${second.length} < first ${first.length}`);
  const third = roundTrip(8, request('/six'));
  assert.is(enc.stats.inserts, 3, 'nothing new to insert');
  assert.ok(third.length <= second.length);
  assert.is(enc.stats.dynamicReferences, 6);
  assert.equal(dec.tableSize.entries, 3);
  assert.is(enc.outstandingSections, 0, 'all acknowledged');
  assert.is(enc.knownReceivedCount, 3);
});

test('names are emitted lowercase', () => {
  const { dec, enc } = pair();
  const s = enc.encode(0, [{ name: 'X-Mixed-Case', value: 'v' }, { name: 'Content-Type', value: 'text/css' }]);
  assert.equal(dec.decode(0, s), [{ name: 'x-mixed-case', value: 'v' }, { name: 'content-type', value: 'text/css' }]);
});

test('sensitive fields: never indexed, sent with the N bit (§7.1.3); long cookies may be indexed', () => {
  const { enc, dec, pump, ack } = pair();
  const fields: HeaderField[] = [
    { name: 'authorization', value: 'Bearer abcdef0123456789abcdef' },
    { name: 'proxy-authorization', value: 'Basic Zm9vOmJhcg==' },
    { name: 'cookie', value: 'sid=12345' },
    { name: 'x-secret', value: 'marked by the caller', sensitive: true },
    { name: 'cookie', value: 'long-cookie=0123456789abcdef0123456789' },
  ];
  for (let i = 0; i < 3; i++) {
    const s = enc.encode(i * 4, fields);
    pump();
    const out = dec.decode(i * 4, s) as HeaderField[];
    assert.equal(out.slice(0, 4).map((f) => f.sensitive), [true, true, true, true]);
    assert.is(out[4]!.sensitive, undefined);
    assert.is(out[4]!.value, fields[4]!.value);
    ack();
  }
  assert.is(enc.stats.inserts, 1, 'only the long cookie');
  assert.equal(enc.entry(0), { name: 'cookie', value: fields[4]!.value, refs: 0 });
  // authorization: literal with static name reference 84, N=1: 0x7f 0x45.
  const s = enc.encode(100, [fields[0]!]);
  assert.is(toHex(s.subarray(2, 4)), '7f45');
});

test('huge values (entry > capacity/4) are never indexed', () => {
  const { enc, roundTrip } = pair(4096);
  const big: HeaderField[] = [{ name: 'x-big', value: 'v'.repeat(1100) }];
  for (let i = 0; i < 3; i++) roundTrip(i * 4, big);
  assert.is(enc.stats.inserts, 0);
  const ok: HeaderField[] = [{ name: 'x-big', value: 'v'.repeat(900) }];
  for (let i = 0; i < 3; i++) roundTrip(100 + i * 4, ok);
  assert.is(enc.stats.inserts, 1);
});

test('blocked streams limit 0: unacknowledged entries are never referenced', () => {
  const { enc, dec, pump, ack } = pair(4096, 0);
  const f = request('/x');
  dec.decode(0, enc.encode(0, f));
  pump();
  ack();
  const s = enc.encode(4, f); // inserts now, but may not reference them (not acknowledged)
  assert.is(enc.stats.inserts, 4);
  assert.is(enc.stats.dynamicReferences, 0);
  assert.is(toHex(s.subarray(0, 2)), '0000');
  // Decodable before the inserts arrive: it never blocks.
  assert.equal(dec.decode(4, s), f);
  pump();
  ack(); // Insert Count Increment 4
  assert.is(enc.knownReceivedCount, 4);
  const s2 = enc.encode(8, f);
  assert.is(enc.stats.dynamicReferences, 4);
  assert.equal(dec.decode(8, s2), f);
});

test('blocked streams limit 1: a second stream does not risk blocking while the first does', () => {
  const { enc, dec, pump, ack } = pair(4096, 1);
  const f = request('/x');
  dec.decode(0, enc.encode(0, f));
  ack();
  const s4 = enc.encode(4, f); // inserts + references them: may block
  assert.is(enc.stats.blockedStreams, 1);
  const s8 = enc.encode(8, f); // must not reference the unacknowledged entries
  assert.is(enc.stats.blockedStreams, 1);
  assert.equal(dec.decode(8, s8), f, 'stream 8 decodes without the inserts');
  assert.is(dec.decode(4, s4), 'blocked', 'stream 4 needs them');
  // A later section on the stream that already risks blocking may reference them too.
  const s4b = enc.encode(4, f);
  assert.is.not(s4b[0], 0, 'non-zero Required Insert Count');
  pump();
  assert.equal(dec.takeUnblocked(), [{ streamId: 4, fields: f }]);
  assert.equal(dec.decode(4, s4b), f);
  ack();
  assert.is(enc.stats.blockedStreams, 0);
  assert.is(enc.outstandingSections, 0);
});

test('eviction safety: entries referenced by unacknowledged sections are never evicted; literals instead', () => {
  // Capacity 300: each entry is 32 + 1 + 40 = 73 bytes (under a quarter), four fit.
  const { enc, dec, pump, ack } = pair(300, 10);
  const line = (n: number): HeaderField[] => [{ name: 'x', value: `${n}`.padStart(40, '0') }];
  // Seen once each (literals).
  for (let n = 0; n < 5; n++) dec.decode(100 + n * 4, enc.encode(100 + n * 4, line(n)));
  // Entry 0 is inserted and referenced by section 4, which the decoder holds back.
  const s4 = enc.encode(4, line(0));
  // Entries 1..3 are inserted, referenced, decoded and acknowledged.
  const others = [1, 2, 3].map((n) => enc.encode(4 + n * 4, line(n)));
  pump();
  others.forEach((s, i) => assert.equal(dec.decode(8 + i * 4, s), line(i + 1)));
  ack(); // acknowledgments imply all four insertions (Known Received Count 4); section 4 is not
  assert.is(enc.knownReceivedCount, 4);
  assert.is(enc.stats.inserts, 4);
  assert.is(enc.entry(0)!.refs, 1);
  const s20 = enc.encode(20, line(4)); // needs to evict entry 0, which section 4 references
  assert.is(enc.stats.inserts, 4, 'no insertion');
  assert.is(enc.table.dropped, 0);
  assert.equal(dec.decode(20, s20), line(4));
  // Once section 4 is acknowledged, entry 0 is evictable and the insertion goes through.
  assert.equal(dec.decode(4, s4), line(0));
  ack();
  assert.is(enc.entry(0)!.refs, 0);
  const s24 = enc.encode(24, line(4));
  assert.is(enc.stats.inserts, 5);
  assert.is(enc.table.dropped, 1);
  pump();
  assert.equal(dec.decode(24, s24), line(4));
  ack();
  assert.is(enc.outstandingSections, 0);
});

test('eviction safety: an unacknowledged insertion is never evicted even without references', () => {
  const enc = new QpackEncoder({ maxTableCapacity: 100 });
  enc.applyPeerSettings(100, 10);
  enc.insert('a', 'x'.repeat(40)); // 73 bytes, unacknowledged
  assert.throws(() => enc.insert('b', 'y'.repeat(40)), /no room/);
  enc.handleDecoderStream(fromHex('01')); // Insert Count Increment
  enc.insert('b', 'y'.repeat(40));
  assert.is(enc.table.dropped, 1);
});

test('RIC wrap-around: a small table over many insertions stays decodable (§4.5.1.1)', () => {
  const { enc, roundTrip } = pair(160, 4, 160); // MaxEntries 5, FullRange 10; 4 entries of 35 bytes fit
  for (let i = 0; i < 60; i++) {
    const v = `v${i % 7}`;
    roundTrip(i * 4, [{ name: 'k', value: v }]);
    roundTrip(i * 4 + 1000, [{ name: 'k', value: v }]);
  }
  assert.ok(enc.stats.inserts > 20, `inserts ${enc.stats.inserts}`);
  assert.ok(enc.table.insertCount > 30, 'wrapped around FullRange several times');
});

test('decoder stream: Section Acknowledgment for a stream with nothing unacknowledged -> DECODER_STREAM_ERROR', () => {
  const { enc, dec, pump } = pair();
  throwsCode(() => enc.handleDecoderStream(fromHex('84')), DECODER_STREAM_ERROR, 'unknown stream');
  const p = pair();
  p.roundTrip(0, request('/a'));
  const s = p.enc.encode(4, request('/a'));
  p.pump();
  p.dec.decode(4, s);
  const acks = p.dec.takeDecoderStreamData()!;
  assert.is(toHex(acks), '84');
  p.enc.handleDecoderStream(acks);
  throwsCode(() => p.enc.handleDecoderStream(acks), DECODER_STREAM_ERROR, 'second ack of one section');
  void dec;
  void pump;
});

test('decoder stream: Insert Count Increment of 0 or past our insertions -> DECODER_STREAM_ERROR', () => {
  const enc = new QpackEncoder();
  enc.applyPeerSettings(4096, 10);
  throwsCode(() => enc.handleDecoderStream(fromHex('00')), DECODER_STREAM_ERROR, 'increment 0');
  const e2 = new QpackEncoder();
  e2.applyPeerSettings(4096, 10);
  throwsCode(() => e2.handleDecoderStream(fromHex('01')), DECODER_STREAM_ERROR, 'increment with no insertion');
  const e3 = new QpackEncoder();
  e3.applyPeerSettings(4096, 10);
  e3.insert('a', 'b');
  e3.handleDecoderStream(fromHex('01'));
  throwsCode(() => e3.handleDecoderStream(fromHex('01')), DECODER_STREAM_ERROR, 'increment past insertions');
  throwsCode(() => e3.handleDecoderStream(fromHex('00')), DECODER_STREAM_ERROR, 'failed encoder rethrows');
  const e4 = new QpackEncoder();
  throwsCode(() => e4.handleDecoderStream(fromHex('3f' + 'ff'.repeat(10) + '01')), DECODER_STREAM_ERROR, 'increment too large');
  const e5 = new QpackEncoder();
  throwsCode(() => e5.handleDecoderStream(fromHex('ff' + 'ff'.repeat(10) + '01')), DECODER_STREAM_ERROR, 'stream ID too large (ack)');
  const e6 = new QpackEncoder();
  throwsCode(() => e6.handleDecoderStream(fromHex('7f' + 'ff'.repeat(10) + '01')), DECODER_STREAM_ERROR, 'stream ID too large (cancel)');
});

test('decoder stream: Stream Cancellation for an unknown stream is harmless; chunking byte by byte works', () => {
  const { enc, dec, pump } = pair();
  enc.handleDecoderStream(fromHex('48'));
  dec.decode(0, enc.encode(0, request('/a')));
  pump();
  const s = enc.encode(200, request('/a')); // stream 200: ack is 0xff 0x49 (7-bit prefix)
  pump();
  dec.decode(200, s);
  const d = dec.takeDecoderStreamData()!;
  assert.is(toHex(d), 'ff49');
  for (const b of d) enc.handleDecoderStream(new Uint8Array([b]));
  assert.is(enc.outstandingSections, 0);
  assert.is(enc.knownReceivedCount, 4);
});

test('streamClosed: references stay until the decoder answers (ack or cancellation); idempotent', () => {
  const { enc, dec, pump } = pair(4096, 10);
  dec.decode(0, enc.encode(0, request('/a')));
  const s4 = enc.encode(4, request('/a'));
  pump();
  assert.is(enc.entry(0)!.refs, 1);
  enc.streamClosed(4);
  enc.streamClosed(4);
  assert.is(enc.entry(0)!.refs, 1, 'a HEADERS frame in flight may still be decoded');
  assert.equal(dec.decode(4, s4), request('/a'));
  enc.handleDecoderStream(dec.takeDecoderStreamData()!); // the ack releases it
  assert.is(enc.entry(0)!.refs, 0);
  assert.is(enc.outstandingSections, 0);
  enc.encode(8, request('/a'));
  enc.streamClosed(8);
  assert.is(enc.entry(0)!.refs, 1);
  dec.cancelStream(8); // the peer's H3 layer saw the reset
  enc.handleDecoderStream(dec.takeDecoderStreamData()!);
  assert.is(enc.entry(0)!.refs, 0);
  assert.is(enc.outstandingSections, 0);
  enc.streamClosed(12); // a stream with nothing outstanding: no-op
});

test('streamClosed: against a decoder that never answers, the oldest closed streams are released after 64', () => {
  const { enc, dec, pump, ack } = pair(4096, 1000);
  dec.decode(0, enc.encode(0, request('/a')));
  enc.encode(4, request('/a')); // inserts
  pump();
  ack(); // the decoder never got section 4: the increment only acknowledges the inserts
  for (let i = 0; i < 70; i++) {
    enc.encode(100 + i * 4, request('/a'));
    enc.streamClosed(100 + i * 4);
  }
  // 71 sections reference entry 0; sections 4 and the first 6 closed ones: 6 released.
  assert.is(enc.entry(0)!.refs, 71 - 6);
  assert.is(enc.outstandingSections, 71, 'records stay for late answers');
  enc.handleDecoderStream(fromHex('e4')); // Section Acknowledgment for stream 100: accepted
  assert.is(enc.outstandingSections, 70);
  assert.is(enc.entry(0)!.refs, 65, 'already released: not released twice');
});

test('observer: inserted / evicted / capacity / section events', () => {
  const { enc, roundTrip, events } = pair(300, 4, 300);
  const line = (v: string): HeaderField[] => [{ name: 'k', value: v.padStart(40, '-') }];
  let stream = 0;
  for (const v of ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'e', 'e']) roundTrip((stream += 4), line(v));
  const kinds = events.map((e) => e.type);
  assert.is(kinds[0], 'capacity');
  assert.is(kinds.filter((k) => k === 'inserted').length, 5);
  assert.is(kinds.filter((k) => k === 'evicted').length, 1);
  assert.is(kinds.filter((k) => k === 'section').length, 10);
  assert.is(enc.stats.inserts, 5);
  assert.equal(events.find((e) => e.type === 'evicted'), { type: 'evicted', index: 0 });
});

test.run();
