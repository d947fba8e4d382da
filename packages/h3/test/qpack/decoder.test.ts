/**
 * The QPACK decoder: every encoder instruction and field line representation, their malformed
 * forms (RFC 9204 §2.2.3, §3.2.2, §4.3, §4.5, §6), Required Insert Count reconstruction
 * (§4.5.1.1) including wrap-around, blocking (§2.2.1, §2.1.2) and the decoder stream (§4.4).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FieldSectionTooLargeError, QpackDecoder, QpackError, QpackErrorCode } from '../../src/qpack/index.js';
import { ByteSink } from '../../src/qpack/primitives.js';
import { fromHex, toHex } from './helpers.js';

const { DECOMPRESSION_FAILED, ENCODER_STREAM_ERROR } = QpackErrorCode;
const isTooLarge = (e: unknown): boolean => e instanceof FieldSectionTooLargeError;

function decoder(maxTableCapacity = 220, maxBlockedStreams = 2, maxFieldSectionSize = 16384): QpackDecoder {
  return new QpackDecoder({ maxTableCapacity, maxBlockedStreams, maxFieldSectionSize });
}

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

/** Bytes built with the primitives: [kind, ...] items. */
function bytes(build: (s: ByteSink) => void): Uint8Array {
  const s = new ByteSink(16);
  build(s);
  return s.take() ?? new Uint8Array(0);
}

// Encoder-stream helpers (RFC 9204 §4.3).
const setCapacity = (c: number) => bytes((s) => s.int(0x20, 5, c));
const insertStatic = (i: number, value: string, huffman = false) =>
  bytes((s) => {
    s.int(0xc0, 6, i);
    s.string(0, 8, value, huffman);
  });
const insertDynamic = (rel: number, value: string) =>
  bytes((s) => {
    s.int(0x80, 6, rel);
    s.string(0, 8, value, false);
  });
const insertLiteral = (name: string, value: string, huffman = false) =>
  bytes((s) => {
    s.string(0x40, 6, name, huffman);
    s.string(0, 8, value, huffman);
  });
const duplicate = (rel: number) => bytes((s) => s.int(0x00, 5, rel));

/** A field section: prefix (encoded RIC, sign, delta) + raw line bytes. */
const section = (encodedRic: number, sign: 0 | 1, delta: number, lines: string) =>
  bytes((s) => {
    s.int(0, 8, encodedRic);
    s.int(sign ? 0x80 : 0, 7, delta);
    const l = fromHex(lines);
    for (const b of l) s.byte(b);
  });

// ---- encoder instructions ------------------------------------------------------------------------

test('encoder stream: every instruction applies; chunked byte by byte gives the same table', () => {
  const stream = new Uint8Array([
    ...setCapacity(1000),
    ...insertStatic(0, 'www.example.com'),
    ...insertLiteral('custom-key', 'custom-value', true),
    ...insertDynamic(0, 'other-value'),
    ...duplicate(2),
    ...insertStatic(1, '/p\u00e9', true),
  ]);
  for (const chunk of [stream.length, 1, 3]) {
    const d = decoder(1000);
    for (let p = 0; p < stream.length; p += chunk) d.handleEncoderStream(stream.subarray(p, p + chunk));
    assert.is(d.insertCount, 5, `chunk ${chunk}`);
    assert.equal(d.entry(0), { name: ':authority', value: 'www.example.com' });
    assert.equal(d.entry(1), { name: 'custom-key', value: 'custom-value' });
    assert.equal(d.entry(2), { name: 'custom-key', value: 'other-value' });
    assert.equal(d.entry(3), { name: ':authority', value: 'www.example.com' });
    assert.equal(d.entry(4), { name: ':path', value: '/p\u00e9' });
    assert.is(toHex(d.takeDecoderStreamData()), '05', 'one Insert Count Increment for all five');
    assert.is(d.takeDecoderStreamData(), undefined);
  }
});

test('encoder stream: capacity above our maximum, or integer too large -> ENCODER_STREAM_ERROR', () => {
  throwsCode(() => decoder(220).handleEncoderStream(setCapacity(221)), ENCODER_STREAM_ERROR, 'capacity 221 > 220');
  throwsCode(() => decoder(0).handleEncoderStream(setCapacity(1)), ENCODER_STREAM_ERROR, 'capacity with max 0');
  throwsCode(() => decoder().handleEncoderStream(fromHex('3f' + 'ff'.repeat(10) + '01')), ENCODER_STREAM_ERROR, 'overlong capacity');
  const d = decoder(0);
  d.handleEncoderStream(setCapacity(0)); // setting 0 under max 0 is fine
  assert.is(d.takeDecoderStreamData(), undefined);
});

test('encoder stream: Insert With Name Reference malformed forms -> ENCODER_STREAM_ERROR', () => {
  const withCap = () => {
    const d = decoder();
    d.handleEncoderStream(setCapacity(220));
    return d;
  };
  throwsCode(() => withCap().handleEncoderStream(insertStatic(99, 'x')), ENCODER_STREAM_ERROR, 'static index 99');
  throwsCode(() => withCap().handleEncoderStream(insertDynamic(0, 'x')), ENCODER_STREAM_ERROR, 'dynamic ref into empty table');
  throwsCode(() => decoder().handleEncoderStream(insertStatic(0, 'x')), ENCODER_STREAM_ERROR, 'insert with capacity 0');
  throwsCode(() => withCap().handleEncoderStream(insertStatic(0, 'x'.repeat(220 - 32 - 10 + 1))), ENCODER_STREAM_ERROR, 'entry larger than capacity');
  const fits = withCap();
  fits.handleEncoderStream(insertStatic(0, 'x'.repeat(220 - 32 - 10)));
  assert.is(fits.tableSize.size, 220, 'an entry of exactly the capacity fits');
  throwsCode(() => withCap().handleEncoderStream(fromHex('c0' + '81' + 'ff')), ENCODER_STREAM_ERROR, 'invalid Huffman value (padding)');
  throwsCode(() => withCap().handleEncoderStream(fromHex('c0' + 'ff' + 'ff'.repeat(10) + '01')), ENCODER_STREAM_ERROR, 'value length too large');
  throwsCode(() => withCap().handleEncoderStream(fromHex('ff' + 'ff'.repeat(10) + '01')), ENCODER_STREAM_ERROR, 'name index too large');
  // A dynamic reference to an evicted entry.
  const d = withCap();
  d.handleEncoderStream(insertStatic(0, 'a'.repeat(100)));
  d.handleEncoderStream(insertStatic(0, 'b'.repeat(100))); // evicts absolute 0
  assert.is(d.entry(0), undefined);
  throwsCode(() => d.handleEncoderStream(insertDynamic(1, 'x')), ENCODER_STREAM_ERROR, 'reference to an evicted entry');
});

test('encoder stream: an oversized string is rejected from its header, before its bytes arrive', () => {
  const d = decoder(4096);
  d.handleEncoderStream(setCapacity(4096));
  // Insert With Literal Name, name length 10,000 (raw): only the header is sent.
  throwsCode(() => d.handleEncoderStream(bytes((s) => s.int(0x40, 5, 10_000))), ENCODER_STREAM_ERROR, 'raw name too long');
  const h = decoder(4096);
  h.handleEncoderStream(setCapacity(4096));
  // Huffman value of 20,000 bytes decodes to at least 5,333 bytes > 4,096: rejected at once.
  throwsCode(() => h.handleEncoderStream(bytes((s) => { s.int(0xc0, 6, 0); s.int(0x80, 7, 20_000); })), ENCODER_STREAM_ERROR, 'Huffman value too long');
  // Below the bound the instruction just waits for more bytes (and stays bounded).
  const w = decoder(4096);
  w.handleEncoderStream(setCapacity(4096));
  w.handleEncoderStream(bytes((s) => { s.int(0xc0, 6, 0); s.int(0x00, 7, 1000); }));
  w.handleEncoderStream(new Uint8Array(999).fill(0x61));
  assert.is(w.insertCount, 0);
  w.handleEncoderStream(new Uint8Array([0x61]));
  assert.is(w.insertCount, 1);
});

test('encoder stream: Insert With Literal Name and Duplicate malformed forms -> ENCODER_STREAM_ERROR', () => {
  const withCap = () => {
    const d = decoder();
    d.handleEncoderStream(setCapacity(220));
    return d;
  };
  throwsCode(() => withCap().handleEncoderStream(fromHex('61' + 'ff' + '00')), ENCODER_STREAM_ERROR, 'invalid Huffman name (8 bits of padding)');
  throwsCode(() => withCap().handleEncoderStream(fromHex('5f' + 'ff'.repeat(10) + '01')), ENCODER_STREAM_ERROR, 'name length too large');
  throwsCode(() => withCap().handleEncoderStream(insertLiteral('n'.repeat(100), 'v'.repeat(100))), ENCODER_STREAM_ERROR, 'literal entry too large');
  throwsCode(() => withCap().handleEncoderStream(duplicate(0)), ENCODER_STREAM_ERROR, 'duplicate in empty table');
  const d = withCap();
  d.handleEncoderStream(insertLiteral('a', 'b'));
  throwsCode(() => d.handleEncoderStream(duplicate(1)), ENCODER_STREAM_ERROR, 'duplicate past the oldest');
  throwsCode(() => withCap().handleEncoderStream(fromHex('1f' + 'ff'.repeat(10) + '01')), ENCODER_STREAM_ERROR, 'duplicate index too large');
});

test('encoder stream: a Duplicate of the entry it evicts, and an insert naming the entry it evicts', () => {
  const d = decoder(100);
  d.handleEncoderStream(setCapacity(100));
  d.handleEncoderStream(insertLiteral('name', 'v'.repeat(50))); // 86 bytes
  d.handleEncoderStream(duplicate(0)); // evicts absolute 0 to insert its copy
  assert.equal(d.entry(1), { name: 'name', value: 'v'.repeat(50) });
  assert.is(d.entry(0), undefined);
  d.handleEncoderStream(insertDynamic(0, 'w'.repeat(50))); // names absolute 1, which it evicts
  assert.equal(d.entry(2), { name: 'name', value: 'w'.repeat(50) });
  assert.equal(d.tableSize, { size: 86, capacity: 100, entries: 1 });
});

test('encoder stream: reducing the capacity evicts; capacity 0 empties the table', () => {
  const d = decoder();
  d.handleEncoderStream(setCapacity(220));
  d.handleEncoderStream(insertLiteral('a', '1'));
  d.handleEncoderStream(insertLiteral('b', '2'));
  d.handleEncoderStream(setCapacity(40));
  assert.equal(d.tableSize, { size: 34, capacity: 40, entries: 1 });
  assert.equal(d.entry(1), { name: 'b', value: '2' });
  d.handleEncoderStream(setCapacity(0));
  assert.equal(d.tableSize, { size: 0, capacity: 0, entries: 0 });
});

test('encoder stream: after an error every call rethrows it', () => {
  const d = decoder();
  throwsCode(() => d.handleEncoderStream(setCapacity(1000)), ENCODER_STREAM_ERROR, 'first');
  throwsCode(() => d.handleEncoderStream(setCapacity(10)), ENCODER_STREAM_ERROR, 'again');
  throwsCode(() => d.decode(0, fromHex('0000')), ENCODER_STREAM_ERROR, 'decode after failure');
});

// ---- field sections ------------------------------------------------------------------------------

function filled(): QpackDecoder {
  const d = decoder();
  d.handleEncoderStream(new Uint8Array([...setCapacity(220), ...insertLiteral('k0', 'v0'), ...insertLiteral('k1', 'v1'), ...insertLiteral('k2', 'v2')]));
  d.takeDecoderStreamData();
  return d; // 3 entries, MaxEntries 6, FullRange 12
}

test('field lines: each representation decodes (static, relative, post-base, name references, literal names, N bit)', () => {
  const d = filled();
  // RIC 3 (encoded 4), Base 1 (sign 1, delta 1).
  const s = section(4, 1, 1, [
    'd1', // indexed static 17 (:method GET)
    '80', // indexed relative 0 -> abs 0
    '10', // post-base 0 -> abs 1
    '11', // post-base 1 -> abs 2
    '5f0003616263', // literal, static name 15+0 (:method), value "abc"
    '7f0003616263', // same with N
    '4003787878', // literal, dynamic name relative 0 (abs 0) "xxx"
    '0103797979', // literal, post-base name 1 (abs 2) "yyy"
    '0903797979', // same with N
    '23616263' + '0378797a', // literal name "abc" value "xyz"
    '33616263' + '0378797a', // same with N
  ].join(''));
  assert.equal(d.decode(4, s), [
    { name: ':method', value: 'GET' },
    { name: 'k0', value: 'v0' },
    { name: 'k1', value: 'v1' },
    { name: 'k2', value: 'v2' },
    { name: ':method', value: 'abc' },
    { name: ':method', value: 'abc', sensitive: true },
    { name: 'k0', value: 'xxx' },
    { name: 'k2', value: 'yyy' },
    { name: 'k2', value: 'yyy', sensitive: true },
    { name: 'abc', value: 'xyz' },
    { name: 'abc', value: 'xyz', sensitive: true },
  ]);
  assert.is(toHex(d.takeDecoderStreamData()), '84', 'Section Acknowledgment');
  // Huffman name and value (RFC 7541 C.4.3 strings).
  const h = section(0, 0, 0, '2f01' + '25a849e95ba97d7f' + '89' + '25a849e95bb8e8b4bf');
  assert.equal(d.decode(8, h), [{ name: 'custom-key', value: 'custom-value' }]);
  assert.is(d.takeDecoderStreamData(), undefined, 'no acknowledgment for Required Insert Count 0');
});

test('Required Insert Count: RFC 9204 §4.5.1.1 example (capacity 100, 10 inserts, encoded 4 -> 9)', () => {
  const d = decoder(100, 0);
  d.handleEncoderStream(setCapacity(100));
  for (let i = 0; i < 10; i++) d.handleEncoderStream(insertLiteral('', ''));
  // MaxEntries 3, FullRange 6. Encoded 4 -> 9; Base 9 (delta 0); relative 0 = absolute 8.
  assert.equal(d.decode(0, section(4, 0, 0, '80')), [{ name: '', value: '' }]);
  assert.is(toHex(d.takeDecoderStreamData()), '80' + '01', 'ack (RIC 9), then increment to 10');
  // Encoded 5 -> 10 (RIC 10, relative 0 at Base 10 = absolute 9).
  assert.equal(d.decode(4, section(5, 0, 0, '80')), [{ name: '', value: '' }]);
  // Encoded 6 -> 11 > 10 inserts: blocked? No: maxBlocked 0 -> a connection error.
  throwsCode(() => d.decode(8, section(6, 0, 0, '80')), DECOMPRESSION_FAILED, 'blocked beyond a limit of 0');
});

test('Required Insert Count: every encoded value at every insert count matches a brute-force reconstruction', () => {
  for (const cap of [32, 64, 100, 220]) {
    const maxEntries = Math.floor(cap / 32);
    const fullRange = 2 * maxEntries;
    const d = decoder(cap, 1000, 1 << 20);
    d.handleEncoderStream(setCapacity(cap));
    for (let inserts = 0; inserts <= 3 * fullRange + 2; inserts++) {
      for (let encoded = 1; encoded <= fullRange + 1; encoded++) {
        // The conformant RIC values are those in (inserts - maxEntries, inserts + maxEntries] with
        // RIC mod fullRange == encoded - 1 and RIC > 0; at most one exists.
        let expected = -1;
        for (let ric = Math.max(1, inserts - maxEntries + 1); ric <= inserts + maxEntries; ric++) {
          if (ric % fullRange === encoded - 1) expected = ric;
        }
        const probe = new QpackDecoder({ maxTableCapacity: cap, maxBlockedStreams: 1, maxFieldSectionSize: 1 << 20 });
        probe.handleEncoderStream(setCapacity(cap));
        for (let i = 0; i < inserts; i++) probe.handleEncoderStream(insertLiteral('', ''));
        // Sign 1, delta 0: Base = RIC - 1; no lines. Decodable if RIC <= inserts, else blocked.
        const s = section(encoded, 1, 0, '');
        if (expected < 0) {
          throwsCode(() => probe.decode(0, s), DECOMPRESSION_FAILED, `cap ${cap} inserts ${inserts} encoded ${encoded}`);
          continue;
        }
        const r = probe.decode(0, s);
        if (expected > inserts) assert.is(r, 'blocked', `cap ${cap} inserts ${inserts} encoded ${encoded}`);
        else {
          assert.equal(r, [], `cap ${cap} inserts ${inserts} encoded ${encoded}`);
          assert.is(toHex(probe.takeDecoderStreamData()).slice(0, 2), '80');
        }
      }
      d.handleEncoderStream(insertLiteral('', ''));
    }
  }
});

test('field section prefix: malformed forms -> DECOMPRESSION_FAILED', () => {
  throwsCode(() => filled().decode(0, new Uint8Array(0)), DECOMPRESSION_FAILED, 'empty section');
  throwsCode(() => filled().decode(0, fromHex('00')), DECOMPRESSION_FAILED, 'no Delta Base');
  throwsCode(() => filled().decode(0, fromHex('ff')), DECOMPRESSION_FAILED, 'truncated RIC');
  throwsCode(() => filled().decode(0, fromHex('ff' + 'ff'.repeat(10) + '0100')), DECOMPRESSION_FAILED, 'RIC integer too large');
  throwsCode(() => filled().decode(0, section(13, 0, 0, '')), DECOMPRESSION_FAILED, 'encoded RIC > FullRange');
  throwsCode(() => decoder(0).decode(0, section(1, 0, 0, '')), DECOMPRESSION_FAILED, 'RIC with max capacity 0');
  throwsCode(() => filled().decode(0, section(4, 1, 3, '')), DECOMPRESSION_FAILED, 'sign 1 with delta = RIC (negative Base)');
  throwsCode(() => filled().decode(0, section(4, 1, 5, '')), DECOMPRESSION_FAILED, 'sign 1 with delta > RIC');
  throwsCode(() => filled().decode(0, fromHex('047f' + 'ff'.repeat(9) + '7f')), DECOMPRESSION_FAILED, 'Delta Base integer too large');
  throwsCode(() => filled().decode(0, bytes((s) => { s.int(0, 8, 4); s.int(0, 7, 2 ** 53); })), DECOMPRESSION_FAILED, 'Base past 2^53');
});

test('field lines: invalid references, truncation, bad Huffman -> DECOMPRESSION_FAILED', () => {
  const cases: [string, Uint8Array][] = [
    ['static index 99', section(0, 0, 0, 'ff24')],
    ['literal static name index 99', section(0, 0, 0, '5f5400')],
    ['relative index at Base with RIC 0', section(0, 0, 0, '80')],
    ['relative index at or past RIC (Base > RIC)', section(2, 0, 1, '80')], // RIC 1, Base 2: rel 0 -> abs 1 >= RIC
    ['relative index before the table', section(4, 0, 0, '83')], // Base 3: abs -1
    ['post-base index at RIC', section(4, 1, 0, '10')], // RIC 3, Base 2: post-base 0 = abs 2 ok; use 1:
    ['post-base index past RIC', section(4, 1, 0, '11')],
    ['post-base name at RIC', section(4, 1, 0, '0100')],
    ['dynamic name relative past RIC', section(2, 0, 1, '4000')],
    ['truncated indexed integer', section(0, 0, 0, 'ff')],
    ['truncated value', section(0, 0, 0, '5f000561')],
    ['truncated literal name', section(0, 0, 0, '2561')],
    ['truncated value length', section(0, 0, 0, '5f007f')],
    ['value length too large', section(0, 0, 0, '5f007f' + 'ff'.repeat(10) + '01')],
    ['invalid Huffman value (EOS)', section(0, 0, 0, '5f0084ffffffff')],
    ['invalid Huffman name (padding)', section(0, 0, 0, '29ff00')],
  ];
  for (const [what, s] of cases) {
    if (what === 'post-base index at RIC') {
      assert.equal(filled().decode(0, s), [{ name: 'k2', value: 'v2' }], 'control: post-base 0 below RIC is valid');
      continue;
    }
    throwsCode(() => filled().decode(0, s), DECOMPRESSION_FAILED, what);
  }
  // A reference to an evicted entry.
  const d = decoder(100);
  d.handleEncoderStream(new Uint8Array([...setCapacity(100), ...insertLiteral('a', 'x'.repeat(40)), ...insertLiteral('b', 'y'.repeat(40))]));
  assert.is(d.entry(0), undefined);
  // MaxEntries 3: RIC 2 -> encoded 3; Base 2; relative 1 = absolute 0 (evicted).
  throwsCode(() => d.decode(0, section(3, 0, 0, '81')), DECOMPRESSION_FAILED, 'evicted entry');
});

test('blocking: sections wait for the Insert Count, unblock in order, beyond the limit -> DECOMPRESSION_FAILED', () => {
  const d = decoder(220, 2);
  d.handleEncoderStream(setCapacity(220));
  // Stream 0 needs 2 inserts, stream 4 needs 1 (both with Base 0 and post-base references).
  assert.is(d.decode(0, section(3, 1, 1, '1011')), 'blocked');
  assert.is(d.decode(4, section(2, 1, 0, '10')), 'blocked');
  assert.is(d.blockedStreams, 2);
  throwsCode(() => decoder(220, 0).decode(8, section(2, 1, 0, '10')), DECOMPRESSION_FAILED, 'limit 0');
  const third = () => d.decode(8, section(2, 1, 0, '10'));
  try {
    third();
    assert.unreachable('third blocked stream');
  } catch (e) {
    assert.is((e as QpackError).code, DECOMPRESSION_FAILED);
  }
});

test('blocking: unblocked sections come back in arrival order with acknowledgments; Stream Cancellation forgets one', () => {
  const d = decoder(220, 3);
  d.handleEncoderStream(setCapacity(220));
  assert.is(d.decode(0, section(3, 1, 1, '1011')), 'blocked'); // needs 2
  assert.is(d.decode(4, section(2, 1, 0, '10')), 'blocked'); // needs 1
  assert.is(d.decode(8, section(2, 1, 0, '10')), 'blocked'); // needs 1
  assert.throws(() => d.decode(8, section(2, 1, 0, '10')), /already has a blocked/);
  d.cancelStream(8);
  d.handleEncoderStream(insertLiteral('a', '1'));
  assert.equal(d.takeUnblocked(), [{ streamId: 4, fields: [{ name: 'a', value: '1' }] }]);
  d.handleEncoderStream(insertLiteral('b', '2'));
  assert.equal(d.takeUnblocked(), [{ streamId: 0, fields: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }]);
  assert.equal(d.takeUnblocked(), []);
  // Cancellation of 8, acks of 4 then 0; the acks cover both inserts: no increment.
  assert.is(toHex(d.takeDecoderStreamData()), '48' + '84' + '80');
});

test('blocking: a Duplicate that unblocks a section mid-chunk; the rest of the chunk still applies', () => {
  const d = decoder(220, 1);
  d.handleEncoderStream(new Uint8Array([...setCapacity(220), ...insertLiteral('a', '1')]));
  // RIC 2 (encoded 3), Base 1: relative 0 = absolute 0, post-base 0 = absolute 1 (the copy).
  assert.is(d.decode(0, section(3, 1, 0, '8010')), 'blocked');
  d.handleEncoderStream(new Uint8Array([...duplicate(0), ...insertLiteral('b', '2'), ...insertLiteral('c', '3')]));
  assert.equal(d.takeUnblocked(), [{ streamId: 0, fields: [{ name: 'a', value: '1' }, { name: 'a', value: '1' }] }]);
  assert.is(d.insertCount, 4);
  assert.equal(d.entry(3), { name: 'c', value: '3' });
});

test('blocking: the caller may pass a reused buffer; the decoder keeps its own copy', () => {
  const d = decoder(220, 1);
  d.handleEncoderStream(setCapacity(220));
  const buf = section(2, 1, 0, '10');
  assert.is(d.decode(0, buf), 'blocked');
  buf.fill(0xff);
  d.handleEncoderStream(insertLiteral('a', '1'));
  assert.equal(d.takeUnblocked(), [{ streamId: 0, fields: [{ name: 'a', value: '1' }] }]);
});

test('blocking: a malformed section fails when it unblocks (DECOMPRESSION_FAILED from handleEncoderStream)', () => {
  const d = decoder(220, 1);
  d.handleEncoderStream(setCapacity(220));
  assert.is(d.decode(0, section(2, 1, 0, '10' + 'ff')), 'blocked');
  throwsCode(() => d.handleEncoderStream(insertLiteral('a', '1')), DECOMPRESSION_FAILED, 'truncated line after unblocking');
});

test('Stream Cancellation: sent when our capacity is non-zero, omitted at capacity 0 (§4.4.2)', () => {
  const d = decoder(220);
  d.cancelStream(12);
  assert.is(toHex(d.takeDecoderStreamData()), '4c');
  const z = decoder(0);
  z.cancelStream(12);
  assert.is(z.takeDecoderStreamData(), undefined);
});

test('field section size: FieldSectionTooLargeError at the limit + 1, the limit itself passes', () => {
  // One line ':method: abc' = 7 + 3 + 32 = 42 bytes.
  const s = section(0, 0, 0, '5f0003616263');
  assert.equal(decoder(0, 0, 42).decode(0, s), [{ name: ':method', value: 'abc' }]);
  assert.throws(() => decoder(0, 0, 41).decode(0, s), (e: unknown) => e instanceof FieldSectionTooLargeError && e.limit === 41);
  // The decoder survives a too-large section.
  const d = decoder(0, 0, 41);
  assert.throws(() => d.decode(0, s), isTooLarge);
  assert.equal(d.decode(4, section(0, 0, 0, 'c1')), [{ name: ':path', value: '/' }]);
});

test('field section size: a too-large section with dynamic references is still acknowledged or cancelled', () => {
  const d = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1, maxFieldSectionSize: 60 });
  d.handleEncoderStream(new Uint8Array([...setCapacity(220), ...insertLiteral('k', 'v'.repeat(20))])); // 54 bytes
  d.takeDecoderStreamData();
  assert.throws(() => d.decode(4, section(2, 0, 0, '8080')), isTooLarge);
  assert.is(toHex(d.takeDecoderStreamData()), '84', 'acknowledged: the encoder may release its references');
  // Blocked, then too large once unblocked: reported by takeUnblocked.
  assert.is(d.decode(8, section(3, 0, 0, '8080')), 'blocked');
  d.handleEncoderStream(insertLiteral('k', 'w'.repeat(20)));
  const u = d.takeUnblocked();
  assert.is(u.length, 1);
  assert.ok('error' in u[0]! && u[0].error instanceof FieldSectionTooLargeError);
  assert.is(toHex(d.takeDecoderStreamData()), '88');
});

test.run();
