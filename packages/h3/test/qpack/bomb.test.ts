/**
 * The "QPACK bomb": a small field section that references one large dynamic table entry thousands
 * of times. SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2) must be enforced before the expanded
 * section exists: the decoder adds up the size line by line and stops at the limit, and references
 * share the entry's strings, so even an accepted section costs no copy of the value per line.
 * Heap growth is measured with a forced garbage collection before and after.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FieldSectionTooLargeError, QpackDecoder } from '../../src/qpack/index.js';
import { ByteSink } from '../../src/qpack/primitives.js';
import { toHex } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const ENTRY_VALUE = 4096;
const REFERENCES = 20_000;

/** Encoder stream: capacity 16 KiB, one entry 'x-bomb' with a 4 KiB value. */
function encoderStream(): Uint8Array {
  const s = new ByteSink(8192);
  s.int(0x20, 5, 16384);
  s.string(0x40, 6, 'x-bomb', false);
  s.string(0, 8, 'A'.repeat(ENTRY_VALUE), false);
  return s.take()!;
}

/** RIC 1 (encoded 2: MaxEntries 512), Base 1, then REFERENCES x Indexed Field Line relative 0. */
function bombSection(): Uint8Array {
  const s = new Uint8Array(2 + REFERENCES);
  s[0] = 0x02;
  s[1] = 0x00;
  s.fill(0x80, 2);
  return s;
}

test(`bomb: one 4 KiB entry referenced ${REFERENCES} times in a 20 KB section -> FieldSectionTooLargeError, heap growth far below the expanded size`, () => {
  const dec = new QpackDecoder({ maxTableCapacity: 16384, maxBlockedStreams: 0, maxFieldSectionSize: 64 * 1024 });
  dec.handleEncoderStream(encoderStream());
  dec.takeDecoderStreamData();
  const section = bombSection();
  const expanded = REFERENCES * (6 + ENTRY_VALUE + 32);
  assert.ok(expanded > 80e6, `expanded ${expanded}`);
  const before = heapUsed();
  let peak = 0;
  for (let i = 0; i < 50; i++) {
    try {
      dec.decode(i * 4, section);
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, FieldSectionTooLargeError);
      assert.is((e as FieldSectionTooLargeError).limit, 64 * 1024);
    }
    peak = Math.max(peak, process.memoryUsage().heapUsed - before);
  }
  const growth = heapUsed() - before;
  console.log(`[qpack bomb] 50 x ${section.length}-byte sections (expanding to ${expanded} bytes each): peak heap +${peak}, retained +${growth}`);
  assert.ok(peak < 4e6, `peak heap growth ${peak} bytes over 50 attempts (each would expand to ${expanded})`);
  assert.ok(growth < 1e6, `retained heap growth ${growth} bytes`);
  // Each too-large section is still acknowledged, so the peer's encoder can release the entry.
  const acks = dec.takeDecoderStreamData()!;
  assert.is(toHex(acks.subarray(0, 2)), '8084');
  // The connection goes on.
  assert.equal(dec.decode(1000, new Uint8Array([0x00, 0x00, 0xd1])), [{ name: ':method', value: 'GET' }]);
});

test('bomb: the same section blocked first, then unblocked: reported through takeUnblocked', () => {
  const dec = new QpackDecoder({ maxTableCapacity: 16384, maxBlockedStreams: 1, maxFieldSectionSize: 64 * 1024 });
  assert.is(dec.decode(0, bombSection()), 'blocked');
  dec.handleEncoderStream(encoderStream());
  const u = dec.takeUnblocked();
  assert.is(u.length, 1);
  assert.ok('error' in u[0]! && u[0].error instanceof FieldSectionTooLargeError);
});

test('bomb: an oversized encoded section is refused before it is copied or parsed', () => {
  const dec = new QpackDecoder({ maxTableCapacity: 16384, maxBlockedStreams: 4, maxFieldSectionSize: 1024 });
  // 4 * 1024 + 64 bytes is the most a section within the limit can take; RIC 1 means it would block.
  const big = new Uint8Array(4 * 1024 + 65).fill(0x80);
  big[0] = 0x02;
  big[1] = 0x00;
  assert.throws(() => dec.decode(0, big), (e: unknown) => e instanceof FieldSectionTooLargeError);
  assert.is(dec.blockedStreams, 0, 'no blocked copy kept');
  assert.is(toHex(dec.takeDecoderStreamData()), '40', 'Stream Cancellation: it needed entries not yet received');
});

test('bomb: with a huge limit the section decodes, and references share the entry strings (no per-line copy)', () => {
  const dec = new QpackDecoder({ maxTableCapacity: 16384, maxBlockedStreams: 0, maxFieldSectionSize: 2 ** 30 });
  dec.handleEncoderStream(encoderStream());
  const before = heapUsed();
  const fields = dec.decode(0, bombSection());
  const growth = heapUsed() - before;
  assert.ok(Array.isArray(fields) && fields.length === REFERENCES);
  console.log(`[qpack bomb] accepted with a 1 GiB limit: ${REFERENCES} lines, heap +${growth}`);
  assert.ok(growth < 8e6, `heap growth ${growth} bytes for ${REFERENCES} lines of ${ENTRY_VALUE + 6} bytes`);
  assert.is((fields as { value: string }[])[REFERENCES - 1]!.value.length, ENTRY_VALUE);
});

test.run();
