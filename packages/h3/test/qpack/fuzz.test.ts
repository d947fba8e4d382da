/**
 * Seeded fuzzing of everything QPACK reads from the peer: field sections (QpackDecoder.decode), the
 * encoder stream (QpackDecoder.handleEncoderStream, randomly chunked) and the decoder stream
 * (QpackEncoder.handleDecoderStream). Inputs: random bytes, and mutations of valid traffic produced
 * by our encoder (bit flips, byte overwrites, truncation, insertion, deletion, duplication,
 * splicing, and boundary-value prefixed integers spliced in).
 *
 * Property: a call returns or throws QpackError with the code of its context (or
 * FieldSectionTooLargeError for a section) and nothing else; decoded fields are strings; the
 * dynamic table stays within its capacity. Replay with QPACK_FUZZ_SEED=<n>.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FieldSectionTooLargeError,
  type HeaderField,
  QpackDecoder,
  QpackEncoder,
  QpackError,
  QpackErrorCode,
} from '../../src/qpack/index.js';
import { ByteSink } from '../../src/qpack/primitives.js';
import { chunks, Rng, seedFromEnv, toHex } from './helpers.js';

const SEED = seedFromEnv('QPACK_FUZZ_SEED', 0x0f9204);
console.log(`[qpack fuzz] QPACK_FUZZ_SEED=${SEED} (set it to replay this run)`);

const SECTION_INPUTS = 60_000;
const ENCODER_STREAM_INPUTS = 40_000;
const DECODER_STREAM_INPUTS = 20_000;
const CAPACITY = 4096;
const MAX_REPORTED = 5;

// ---- a corpus of valid traffic ---------------------------------------------------------------------

interface Corpus {
  /** Encoder-stream bytes that build the table the sections refer to. */
  encoderStream: Uint8Array;
  /** Valid instructions our policy does not emit (appended in the encoder-stream target). */
  extraInstructions: Uint8Array;
  sections: Uint8Array[];
  /** Decoder-stream bytes the peer's decoder produced. */
  decoderStream: Uint8Array;
}

function buildCorpus(rng: Rng): Corpus {
  const enc = new QpackEncoder({ maxTableCapacity: CAPACITY, huffman: true });
  const dec = new QpackDecoder({ maxTableCapacity: CAPACITY, maxBlockedStreams: 100, maxFieldSectionSize: 1 << 20 });
  enc.applyPeerSettings(CAPACITY, 100);
  const sections: Uint8Array[] = [];
  const encoderParts: Uint8Array[] = [];
  const decoderParts: Uint8Array[] = [];
  const names = [':path', ':authority', 'user-agent', 'x-a', 'x-b', 'cookie', 'content-type', 'X-Caps'];
  for (let i = 0; i < 60; i++) {
    const fields: HeaderField[] = [{ name: ':method', value: rng.pick(['GET', 'POST', 'DELETE']) }];
    const n = 1 + rng.int(6);
    for (let j = 0; j < n; j++) {
      const v = rng.chance(0.1) ? '\u00e9\u4e2d\u{1f600}' : rng.chance(0.2) ? 'z'.repeat(rng.int(100)) : `v${rng.int(4)}`;
      fields.push({ name: rng.pick(names), value: v, sensitive: rng.chance(0.05) });
    }
    const s = enc.encode(i * 4, fields);
    sections.push(s);
    const e = enc.takeEncoderStreamData();
    if (e) {
      encoderParts.push(e);
      dec.handleEncoderStream(e);
    }
    const out = dec.decode(i * 4, s);
    assert.ok(Array.isArray(out), 'corpus sections decode in order');
    const d = dec.takeDecoderStreamData();
    if (d) {
      decoderParts.push(d);
      enc.handleDecoderStream(d);
    }
  }
  // Hand-made instructions the policy never emits: duplicates, capacity changes, static and
  // post-base forms.
  const extra = new ByteSink(64);
  extra.int(0x00, 5, 0); // Duplicate newest
  extra.int(0x20, 5, CAPACITY / 2); // shrink
  extra.int(0x20, 5, CAPACITY); // restore
  extra.int(0xc0, 6, 95);
  extra.string(0, 8, 'fuzz-agent', true);
  return {
    encoderStream: concat(encoderParts),
    extraInstructions: extra.take()!,
    sections,
    decoderStream: concat(decoderParts),
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- mutations --------------------------------------------------------------------------------------

/** Prefixed-integer encodings at the edges: prefix limits, 2^32, 2^53, 2^62, over-long. */
function boundaryInteger(rng: Rng): Uint8Array {
  const prefix = 1 + rng.int(8);
  const flags = prefix === 8 ? 0 : rng.u32() & 0xff & ~((1 << prefix) - 1);
  const max = (1 << prefix) - 1;
  const choice = rng.int(12);
  if (choice === 11) return new Uint8Array([flags | max, ...new Array(9 + rng.int(4)).fill(0xff), 0x01]);
  // 98/99: around the static table's end; small values hit relative and post-base edges.
  const value = [0, max - 1, max, max + 1, 2 ** 32, 2 ** 53, 2 ** 62, CAPACITY + 1, 98, 99, rng.int(140)][choice]!;
  const s = new ByteSink(16);
  s.int(flags, prefix, value);
  return s.take()!;
}

function mutate(rng: Rng, input: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let b = Array.from(input);
  const rounds = rng.chance(0.6) ? 1 : 2 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(9)) {
      case 0:
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (b.length > 0) b[at] = rng.u32() & 0xff;
        break;
      case 2:
        b = b.slice(0, at);
        break;
      case 3:
        b.splice(at, 0, ...rng.bytes(1 + rng.int(8)));
        break;
      case 4:
        b.splice(at, 1 + rng.int(8));
        break;
      case 5: {
        const len = Math.min(b.length - at, 1 + rng.int(16));
        b.splice(at, 0, ...b.slice(at, at + len));
        break;
      }
      case 6: {
        const other = rng.pick(corpus);
        const from = rng.int(other.length + 1);
        b = [...b.slice(0, at), ...other.subarray(from, from + rng.int(64))];
        break;
      }
      case 7:
        b.splice(at, rng.int(3), ...boundaryInteger(rng));
        break;
      default:
        if (b.length > 0) b[at] = rng.pick([0x00, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff]);
    }
  }
  return new Uint8Array(b);
}

// ---- the property -----------------------------------------------------------------------------------

interface Failure {
  target: string;
  input: string;
  error: string;
}

function checkFields(out: HeaderField[] | 'blocked'): void {
  if (out === 'blocked') return;
  for (const f of out) {
    if (typeof f.name !== 'string' || typeof f.value !== 'string') throw new Error('non-string field');
  }
}

/** Runs `fn`; returns a failure description unless it returned or threw an allowed error. */
function guard(fn: () => void, allowedCodes: readonly number[], allowTooLarge: boolean): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof QpackError && allowedCodes.includes(e.code)) return null;
    if (allowTooLarge && e instanceof FieldSectionTooLargeError) return null;
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
}

test(`fuzz: ${SECTION_INPUTS + ENCODER_STREAM_INPUTS + DECODER_STREAM_INPUTS} inputs; only QpackError (right code) or FieldSectionTooLargeError`, () => {
  const rng = new Rng(SEED);
  const corpus = buildCorpus(rng);
  const allSections = corpus.sections;
  const failures: Failure[] = [];
  let failureCount = 0;
  const record = (target: string, input: Uint8Array, error: string | null) => {
    if (error === null) return;
    failureCount++;
    if (failures.length < MAX_REPORTED) failures.push({ target, input: toHex(input), error });
  };
  const freshDecoder = (withTable: boolean, maxFieldSectionSize = rng.chance(0.1) ? 200 : 1 << 16) => {
    const d = new QpackDecoder({ maxTableCapacity: CAPACITY, maxBlockedStreams: rng.int(3), maxFieldSectionSize });
    if (withTable) d.handleEncoderStream(corpus.encoderStream);
    return d;
  };
  // The corpus sections that still decode against the full table (the others reference evicted
  // entries): the mutation bases that reach deepest.
  const probe = freshDecoder(true, 1 << 20);
  const liveSections = allSections.filter((sec, i) => {
    try {
      return Array.isArray(probe.decode(100_000 + i * 4, sec));
    } catch {
      return false;
    }
  });
  assert.ok(liveSections.length >= 10, `live corpus sections: ${liveSections.length}`);
  let sectionDecoder = freshDecoder(true, 1 << 16);
  let stream = 0;
  let decoded = 0;
  let blocked = 0;

  // Field sections, against a populated table; a fresh decoder after each connection error.
  for (let i = 0; i < SECTION_INPUTS; i++) {
    const input = rng.chance(0.15) ? rng.bytes(rng.int(40)) : mutate(rng, rng.pick(rng.chance(0.8) ? liveSections : allSections), allSections);
    if (rng.chance(0.3)) sectionDecoder = freshDecoder(rng.chance(0.9));
    const d = sectionDecoder;
    let failed = false;
    const err = guard(
      () => {
        try {
          const out = d.decode((stream += 4), input);
          checkFields(out);
          if (out === 'blocked') blocked++;
          else decoded++;
        } catch (e) {
          failed = e instanceof QpackError;
          throw e;
        }
      },
      [QpackErrorCode.DECOMPRESSION_FAILED],
      true,
    );
    if (err !== null || d.tableSize.size > d.tableSize.capacity) record('section', input, err ?? 'table over capacity');
    // A connection error leaves the decoder failed (it rethrows): start over.
    if (failed) sectionDecoder = freshDecoder(true);
  }

  // Encoder-stream bytes in random chunks, with blocked sections waiting on them.
  for (let i = 0; i < ENCODER_STREAM_INPUTS; i++) {
    const full = concat([corpus.encoderStream, corpus.extraInstructions]);
    const base = rng.chance(0.1) ? rng.bytes(rng.int(64)) : mutate(rng, full.subarray(0, rng.int(full.length + 1)), [full]);
    const d = freshDecoder(false);
    let s = 0;
    const err = guard(
      () => {
        // Sections that block until the table fills (some malformed once unblocked).
        for (let k = 0; k < 2; k++) {
          const sec = rng.chance(0.5) ? rng.pick(allSections) : mutate(rng, rng.pick(allSections), allSections);
          try {
            d.decode((s += 4), sec);
          } catch (e) {
            if (!(e instanceof FieldSectionTooLargeError) && !(e instanceof QpackError && e.code === QpackErrorCode.DECOMPRESSION_FAILED)) throw e;
            return; // the decoder failed on the section: not this target's subject
          }
        }
        for (const c of chunks(rng, base, 1 + rng.int(40))) {
          d.handleEncoderStream(c);
          for (const u of d.takeUnblocked()) if ('fields' in u) checkFields(u.fields);
        }
        d.takeDecoderStreamData();
      },
      [QpackErrorCode.ENCODER_STREAM_ERROR, QpackErrorCode.DECOMPRESSION_FAILED],
      false,
    );
    if (err !== null || d.tableSize.size > d.tableSize.capacity) record('encoder stream', base, err ?? 'table over capacity');
  }

  // Decoder-stream bytes at an encoder with outstanding sections.
  for (let i = 0; i < DECODER_STREAM_INPUTS; i++) {
    const input = rng.chance(0.2) ? rng.bytes(rng.int(24)) : mutate(rng, corpus.decoderStream.subarray(0, rng.int(corpus.decoderStream.length + 1)), [corpus.decoderStream]);
    const enc = new QpackEncoder({ maxTableCapacity: CAPACITY });
    enc.applyPeerSettings(CAPACITY, 100);
    const err = guard(
      () => {
        for (let k = 0; k < 3; k++) {
          enc.encode(k * 4, [{ name: 'x-a', value: 'v1' }, { name: 'x-b', value: `v${k}` }]);
          enc.encode(k * 4 + 100, [{ name: 'x-a', value: 'v1' }, { name: 'x-b', value: `v${k}` }]);
        }
        for (const c of chunks(rng, input, 1 + rng.int(8))) enc.handleDecoderStream(c);
        enc.encode(1000, [{ name: 'x-a', value: 'v1' }]);
      },
      [QpackErrorCode.DECODER_STREAM_ERROR],
      false,
    );
    record('decoder stream', input, err);
  }

  console.log(`[qpack fuzz] sections decoded ${decoded}, blocked ${blocked}; failures ${failureCount}`);
  assert.ok(decoded > 1000, 'mutations still reach deep into the decoder');
  assert.ok(blocked > 100, 'blocking paths reached');
  assert.equal(failures, [], `${failureCount} failures (first ${MAX_REPORTED} shown); replay with QPACK_FUZZ_SEED=${SEED}`);
});

test.run();
