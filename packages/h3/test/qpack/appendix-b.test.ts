/**
 * RFC 9204 Appendix B, byte for byte, in both directions: our encoder, driven with the choices the
 * RFC's encoder made, emits exactly the example's encoder-stream bytes and field sections; our
 * decoder turns the example's bytes into the example's fields and emits exactly the example's
 * decoder-stream bytes. Vectors: test-vectors/rfc9204-b-examples.json.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type QpackEvent, QpackDecoder, QpackEncoder, type QpackFieldDecision, type QpackNameReference } from '../../src/qpack/index.js';
import { fromHex, loadVectors, toHex } from './helpers.js';

interface Step {
  section: string;
  stream: number | 'encoder' | 'decoder';
  hex: string;
  fields?: [string, string][];
  instructions?: QpackFieldDecision[];
  requiredInsertCount?: number;
  insert?: [string, string];
  nameRef?: QpackNameReference;
  duplicate?: number;
}
interface Vectors {
  source: string;
  capacity: number;
  steps: Step[];
  finalTable: { size: number; entries: [number, string, string][] };
}

const v = loadVectors<Vectors>('rfc9204-b-examples.json');
const step = (section: string, stream: Step['stream']): Step => {
  const s = v.steps.find((x) => x.section === section && x.stream === stream);
  if (!s) throw new Error(`no step ${section} ${stream}`);
  return s;
};
const fieldsOf = (s: Step) => s.fields!.map(([name, value]) => ({ name, value }));

test('B.1-B.5 encoder: driven with the RFC choices, reproduces every byte', () => {
  const events: QpackEvent[] = [];
  const enc = new QpackEncoder({ maxTableCapacity: v.capacity, huffman: false, observer: (e) => events.push(e) });
  // The decoder allows 220 bytes and (for B.4's in-flight reference) at least one blocked stream.
  enc.applyPeerSettings(v.capacity, 1);

  // B.1: a literal with a static name reference. The capacity instruction queued by
  // applyPeerSettings is still unsent: it opens B.2's encoder-stream bytes.
  const b1 = step('B.1', 0);
  assert.is(toHex(enc.encodeWithDecisions(0, fieldsOf(b1), b1.instructions!)), b1.hex, 'B.1 section');

  // B.2: set capacity, two inserts made while encoding the stream-4 section (Base 0, post-base).
  const b2 = step('B.2', 4);
  const b2Section = enc.encodeWithDecisions(4, fieldsOf(b2), b2.instructions!);
  assert.is(toHex(enc.takeEncoderStreamData()), step('B.2', 'encoder').hex, 'B.2 encoder stream');
  assert.is(toHex(b2Section), b2.hex, 'B.2 section');
  assert.is(enc.entry(0)!.refs, 1);
  assert.is(enc.entry(1)!.refs, 1);
  assert.is(enc.table.size, 106);
  enc.handleDecoderStream(fromHex(step('B.2', 'decoder').hex));
  assert.is(enc.knownReceivedCount, 2, 'Section Acknowledgment raised the Known Received Count');
  assert.is(enc.entry(0)!.refs, 0);

  // B.3: speculative insert with a literal name, then Insert Count Increment.
  const b3 = step('B.3', 'encoder');
  assert.is(enc.insert(b3.insert![0], b3.insert![1], b3.nameRef!), 2);
  assert.is(toHex(enc.takeEncoderStreamData()), b3.hex, 'B.3 encoder stream');
  assert.is(enc.table.size, 160);
  enc.handleDecoderStream(fromHex(step('B.3', 'decoder').hex));
  assert.is(enc.knownReceivedCount, 3);

  // B.4: Duplicate, then a section referencing the copy (unacknowledged) and entry 2.
  const b4e = step('B.4', 'encoder');
  assert.is(enc.duplicate(b4e.duplicate!), 3);
  assert.is(toHex(enc.takeEncoderStreamData()), b4e.hex, 'B.4 encoder stream');
  const b4 = step('B.4', 8);
  assert.is(toHex(enc.encodeWithDecisions(8, fieldsOf(b4), b4.instructions!)), b4.hex, 'B.4 section');
  assert.is(enc.table.size, 217);
  assert.is(enc.entry(2)!.refs, 1);
  assert.is(enc.entry(3)!.refs, 1);
  assert.is(enc.stats.blockedStreams, 1, 'stream 8 references an unacknowledged entry');
  enc.handleDecoderStream(fromHex(step('B.4', 'decoder').hex));
  assert.is(enc.entry(2)!.refs, 0, 'Stream Cancellation released the references');
  assert.is(enc.entry(3)!.refs, 0);
  assert.is(enc.knownReceivedCount, 3, 'a cancellation does not acknowledge insertions');
  assert.is(enc.stats.blockedStreams, 0);

  // B.5: insert with a dynamic name reference (relative 1 = absolute 2), evicting absolute 0.
  const b5 = step('B.5', 'encoder');
  assert.is(enc.insert(b5.insert![0], b5.insert![1], b5.nameRef!), 4);
  assert.is(toHex(enc.takeEncoderStreamData()), b5.hex, 'B.5 encoder stream');
  assert.is(enc.table.size, v.finalTable.size);
  assert.is(enc.table.dropped, 1);
  for (const [abs, name, value] of v.finalTable.entries) assert.equal({ ...enc.entry(abs)!, refs: 0 }, { name, value, refs: 0 });
  assert.ok(events.some((e) => e.type === 'evicted' && e.index === 0));
  const sections = events.filter((e) => e.type === 'section');
  assert.equal(
    sections.map((e) => (e.type === 'section' ? [e.streamId, e.requiredInsertCount, e.dynamicReferences] : [])),
    [
      [0, 0, 0],
      [4, 2, 2],
      [8, 4, 2],
    ],
  );
});

test('B.1-B.5 decoder: decodes every section and emits exactly the decoder-stream bytes', () => {
  const events: QpackEvent[] = [];
  const dec = new QpackDecoder({ maxTableCapacity: v.capacity, maxBlockedStreams: 1, maxFieldSectionSize: 16384, observer: (e) => events.push(e) });

  const b1 = step('B.1', 0);
  assert.equal(dec.decode(0, fromHex(b1.hex)), fieldsOf(b1));
  assert.is(dec.takeDecoderStreamData(), undefined, 'no acknowledgment for Required Insert Count 0');

  dec.handleEncoderStream(fromHex(step('B.2', 'encoder').hex));
  assert.equal(dec.tableSize, { size: 106, capacity: 220, entries: 2 });
  const b2 = step('B.2', 4);
  assert.equal(dec.decode(4, fromHex(b2.hex)), fieldsOf(b2));
  assert.is(toHex(dec.takeDecoderStreamData()), step('B.2', 'decoder').hex, 'B.2: the acknowledgment covers both inserts');

  dec.handleEncoderStream(fromHex(step('B.3', 'encoder').hex));
  assert.is(toHex(dec.takeDecoderStreamData()), step('B.3', 'decoder').hex, 'B.3: Insert Count Increment');

  // B.4: the Duplicate is delayed; the section blocks, then the stream is cancelled.
  const b4 = step('B.4', 8);
  assert.is(dec.decode(8, fromHex(b4.hex)), 'blocked');
  assert.is(dec.blockedStreams, 1);
  dec.cancelStream(8);
  assert.is(dec.blockedStreams, 0);
  assert.is(toHex(dec.takeDecoderStreamData()), step('B.4', 'decoder').hex, 'B.4: Stream Cancellation');
  dec.handleEncoderStream(fromHex(step('B.4', 'encoder').hex));
  assert.equal(dec.takeUnblocked(), [], 'the cancelled section is forgotten');

  dec.handleEncoderStream(fromHex(step('B.5', 'encoder').hex));
  assert.equal(dec.tableSize, { size: v.finalTable.size, capacity: 220, entries: 4 });
  assert.is(dec.entry(0), undefined, 'absolute 0 was evicted');
  for (const [abs, name, value] of v.finalTable.entries) assert.equal(dec.entry(abs), { name, value });
  assert.is(toHex(dec.takeDecoderStreamData()), '02', 'the Duplicate and the B.5 insert, in one increment');
  assert.equal(
    events.filter((e) => e.type === 'inserted').map((e) => (e.type === 'inserted' ? e.index : -1)),
    [0, 1, 2, 3, 4],
  );
});

test('B.4 decoder: the same section unblocks when the Duplicate arrives, and is acknowledged', () => {
  const dec = new QpackDecoder({ maxTableCapacity: v.capacity, maxBlockedStreams: 1, maxFieldSectionSize: 16384 });
  dec.handleEncoderStream(fromHex(step('B.2', 'encoder').hex));
  dec.handleEncoderStream(fromHex(step('B.3', 'encoder').hex));
  assert.is(toHex(dec.takeDecoderStreamData()), '03');
  const b4 = step('B.4', 8);
  assert.is(dec.decode(8, fromHex(b4.hex)), 'blocked');
  dec.handleEncoderStream(fromHex(step('B.4', 'encoder').hex));
  assert.equal(dec.takeUnblocked(), [{ streamId: 8, fields: fieldsOf(b4) }]);
  assert.is(toHex(dec.takeDecoderStreamData()), '88', 'Section Acknowledgment (stream 8) implies the insert');
});

test('B: our decoder accepts our encoder output for the same exchange (RFC bytes end to end)', () => {
  const enc = new QpackEncoder({ maxTableCapacity: v.capacity, huffman: false });
  enc.applyPeerSettings(v.capacity, 1);
  const dec = new QpackDecoder({ maxTableCapacity: v.capacity, maxBlockedStreams: 1, maxFieldSectionSize: 16384 });
  const b1 = step('B.1', 0);
  assert.equal(dec.decode(0, enc.encodeWithDecisions(0, fieldsOf(b1), b1.instructions!)), fieldsOf(b1));
  const b2 = step('B.2', 4);
  const s = enc.encodeWithDecisions(4, fieldsOf(b2), b2.instructions!);
  dec.handleEncoderStream(enc.takeEncoderStreamData()!);
  assert.equal(dec.decode(4, s), fieldsOf(b2));
  enc.handleDecoderStream(dec.takeDecoderStreamData()!);
  assert.is(enc.knownReceivedCount, 2);
});

test.run();
