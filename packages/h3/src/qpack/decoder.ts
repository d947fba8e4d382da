/**
 * The QPACK decoder (RFC 9204 §2.2), sans-IO: it takes the bytes of the peer's encoder stream and of
 * field sections, and gives back field lists and the bytes of our decoder stream.
 *
 * Bounds on what a peer can make us hold (RFC 9204 §7.3):
 * - the dynamic table: at most our SETTINGS_QPACK_MAX_TABLE_CAPACITY bytes of entries;
 * - a partial encoder-stream instruction: rejected as soon as its declared lengths show the entry
 *   cannot fit the current capacity (Huffman strings by their smallest possible decoded length);
 * - blocked field sections: at most maxBlockedStreams copies, each at most
 *   4 * maxFieldSectionSize + 64 bytes (an encoded section longer than that cannot decode to a
 *   section within the limit: a field line costs at least 32 decoded bytes for at most ~32 encoded
 *   bytes of integers, and a Huffman byte decodes to at least 8/30 bytes);
 * - a decoded section: its size (RFC 9114 §4.2.2) is added up line by line before each line's
 *   strings are built, so a small section that references a large entry many times (the "QPACK
 *   bomb") fails after a few lines, and references share the entry's strings anyway.
 */

import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { FieldSectionTooLargeError, QpackError, QpackErrorCode } from './errors.js';
import type { QpackEvent } from './events.js';
import { huffmanDecode, maxHuffmanDecodedLength, minHuffmanDecodedLength } from './huffman.js';
import { ByteSink, bytesToString, InstructionStream, NEED_MORE, Reader, TOO_LARGE } from './primitives.js';
import { STATIC_ENTRY_SIZES as STATIC_SIZES_IMPORT, STATIC_TABLE as STATIC_TABLE_IMPORT, STATIC_TABLE_SIZE } from './static-table.js';
import type { HeaderField } from './types.js';

// Local bindings for the hot path (an imported binding can cost an accessor call per read under
// some loaders).
const STATIC_TABLE = STATIC_TABLE_IMPORT;
const STATIC_ENTRY_SIZES = STATIC_SIZES_IMPORT;

/** Options of {@link QpackDecoder}; they mirror the SETTINGS we send. */
export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise (RFC 9204 §5). */
  maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we advertise (RFC 9204 §5). */
  maxBlockedStreams: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2): sum over lines of name + value + 32. */
  maxFieldSectionSize: number;
  /** Receives table and section events (qlog, tests). */
  observer?: (e: QpackEvent) => void;
}

/** One result of {@link QpackDecoder.takeUnblocked}. */
export type UnblockedSection =
  | { streamId: number; fields: HeaderField[] }
  | { streamId: number; error: FieldSectionTooLargeError };

interface BlockedSection {
  streamId: number;
  requiredInsertCount: number;
  base: number;
  /** Copy of the field lines after the prefix. */
  lines: Uint8Array;
}

/** A field section decoder bound to one connection. */
export class QpackDecoder {
  readonly #maxCapacity: number;
  /** MaxEntries of RFC 9204 §4.5.1.1. */
  readonly #maxEntries: number;
  readonly #maxBlocked: number;
  readonly #maxSectionSize: number;
  readonly #maxEncodedSection: number;
  readonly #observer: ((e: QpackEvent) => void) | undefined;
  readonly #table: DynamicTable;
  /** Cursor over the encoder stream. */
  readonly #reader = new Reader();
  /** Cursor over a field section (separate: decoding a section can run inside an instruction). */
  readonly #sectionReader = new Reader();
  readonly #out = new ByteSink(64);
  /** Blocked sections in arrival order; at most one per stream. */
  #blocked: BlockedSection[] = [];
  /** Smallest Required Insert Count among #blocked (Infinity when none). */
  #minBlockedRic = Infinity;
  #unblocked: UnblockedSection[] = [];
  /** Known Received Count as the encoder sees it: what our decoder stream has acknowledged. */
  #acknowledged = 0;
  /** Unparsed tail of the encoder stream (an incomplete instruction). */
  /** The encoder stream's bytes (RFC 9204 §4.3), parsed as they complete. */
  readonly #stream = new InstructionStream();
  readonly #parseInstruction = (buf: Uint8Array, pos: number, end: number): number => this.#instruction(buf, pos, end);
  /** Huffman output scratch. */
  #scratch = new Uint8Array(256);
  #failed: QpackError | undefined;

  constructor(options: QpackDecoderOptions) {
    this.#maxCapacity = Math.max(0, Math.floor(options.maxTableCapacity));
    this.#maxEntries = Math.floor(this.#maxCapacity / 32);
    this.#maxBlocked = Math.max(0, Math.floor(options.maxBlockedStreams));
    this.#maxSectionSize = options.maxFieldSectionSize;
    this.#maxEncodedSection = 4 * options.maxFieldSectionSize + 64;
    this.#observer = options.observer;
    this.#table = new DynamicTable(options.observer);
  }

  /** Current number of dynamic table insertions (the decoder's Insert Count). */
  get insertCount(): number {
    return this.#table.insertCount;
  }

  /** Current dynamic table size in bytes and capacity. */
  get tableSize(): { size: number; capacity: number; entries: number } {
    return { size: this.#table.size, capacity: this.#table.capacity, entries: this.#table.length };
  }

  /** Number of streams whose field section waits for encoder-stream data. */
  get blockedStreams(): number {
    return this.#blocked.length;
  }

  /** The entry at absolute index `abs`, if live (tests and diagnostics). */
  entry(abs: number): HeaderField | undefined {
    const e = this.#table.get(abs);
    return e === undefined ? undefined : { name: e.name, value: e.value };
  }

  // ---- encoder stream ---------------------------------------------------------------------------

  /**
   * Applies bytes received on the peer's encoder stream (any chunking). Throws
   * QpackError(ENCODER_STREAM_ERROR) on a bad instruction, or QpackError(DECOMPRESSION_FAILED) if a
   * section it unblocks is malformed. Unblocked sections are then available from takeUnblocked().
   * After a QpackError the decoder is unusable (the connection is closing) and rethrows it.
   */
  handleEncoderStream(data: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#stream.feed(data, this.#parseInstruction);
    } catch (e) {
      const error = e instanceof HuffmanError ? encoderError('invalid Huffman string') : e;
      if (error instanceof QpackError) this.#failed = error;
      throw error;
    }
  }

  /** Parses and applies one instruction at `pos`; returns the next position or -1 if incomplete. */
  #instruction(buf: Uint8Array, pos: number, end: number): number {
    const r = this.#reader;
    r.reset(buf, pos, end);
    const table = this.#table;
    const first = buf[pos]!;
    if (first & 0x80) {
      // Insert with Name Reference (RFC 9204 §4.3.2): 1 T index(6+), value (8+ string).
      const index = r.int(6);
      if (index === NEED_MORE) return -1;
      let name: string;
      let nameLength: number;
      if (index === TOO_LARGE) throw encoderError('name index too large');
      if (first & 0x40) {
        if (index >= STATIC_TABLE_SIZE) throw encoderError(`invalid static index ${index}`);
        name = STATIC_TABLE[index]![0];
        nameLength = name.length;
      } else {
        // §3.2.5: relative to the most recent insertion; §2.2.3: evicted -> ENCODER_STREAM_ERROR.
        const entry = table.get(table.insertCount - 1 - index);
        if (entry === undefined) throw encoderError(`invalid relative index ${index}`);
        name = entry.name;
        nameLength = entry.nameLength;
      }
      const st = r.stringHeader(8);
      if (st === NEED_MORE) return -1;
      if (st === TOO_LARGE) throw encoderError('value length too large');
      const huffman = r.huffman;
      const length = r.length;
      this.#checkFits(nameLength + (huffman ? minHuffmanDecodedLength(length) : length));
      if (r.end - r.pos < length) return -1;
      const value = this.#string(buf, r.pos, length, huffman);
      const next = r.pos + length;
      this.#insert(name, value, nameLength, this.#lastLength);
      return next;
    }
    if (first & 0x40) {
      // Insert with Literal Name (§4.3.3): 01 H name(5+), value (8+ string).
      let st = r.stringHeader(6);
      if (st === NEED_MORE) return -1;
      if (st === TOO_LARGE) throw encoderError('name length too large');
      const nameHuffman = r.huffman;
      const nameLen = r.length;
      const nameMin = nameHuffman ? minHuffmanDecodedLength(nameLen) : nameLen;
      this.#checkFits(nameMin);
      if (r.end - r.pos < nameLen) return -1;
      const nameStart = r.pos;
      r.pos += nameLen;
      st = r.stringHeader(8);
      if (st === NEED_MORE) return -1;
      if (st === TOO_LARGE) throw encoderError('value length too large');
      const valueHuffman = r.huffman;
      const valueLen = r.length;
      this.#checkFits(nameMin + (valueHuffman ? minHuffmanDecodedLength(valueLen) : valueLen));
      if (r.end - r.pos < valueLen) return -1;
      const name = this.#string(buf, nameStart, nameLen, nameHuffman);
      const nameLength = this.#lastLength;
      const value = this.#string(buf, r.pos, valueLen, valueHuffman);
      const next = r.pos + valueLen;
      this.#insert(name, value, nameLength, this.#lastLength);
      return next;
    }
    if (first & 0x20) {
      // Set Dynamic Table Capacity (§4.3.1): 001 capacity(5+).
      const capacity = r.int(5);
      if (capacity === NEED_MORE) return -1;
      if (capacity === TOO_LARGE || capacity > this.#maxCapacity) {
        throw encoderError(`capacity ${capacity} exceeds the maximum ${this.#maxCapacity}`);
      }
      table.setCapacity(capacity);
      return r.pos;
    }
    // Duplicate (§4.3.4): 000 index(5+).
    const index = r.int(5);
    if (index === NEED_MORE) return -1;
    if (index === TOO_LARGE) throw encoderError('duplicate index too large');
    const entry = table.get(table.insertCount - 1 - index);
    if (entry === undefined) throw encoderError(`invalid relative index ${index}`);
    // The entry may be evicted by its own duplication; its strings are held here (§3.2.2).
    const next = r.pos;
    this.#insert(entry.name, entry.value, entry.nameLength, entry.size - entry.nameLength - ENTRY_OVERHEAD);
    return next;
  }

  /** Throws when an entry with at least `bytes` of name + value cannot fit (§3.2.2). */
  #checkFits(bytes: number): void {
    if (bytes + ENTRY_OVERHEAD > this.#table.capacity) {
      throw encoderError(`entry of at least ${bytes + ENTRY_OVERHEAD} bytes exceeds the capacity ${this.#table.capacity}`);
    }
  }

  #insert(name: string, value: string, nameLength: number, valueLength: number): void {
    const size = nameLength + valueLength + ENTRY_OVERHEAD;
    // §3.2.2: adding an entry larger than the capacity is an encoder stream error.
    if (size > this.#table.capacity) throw encoderError(`entry of ${size} bytes exceeds the capacity ${this.#table.capacity}`);
    this.#table.insert(name, value, nameLength, size);
    if (this.#table.insertCount >= this.#minBlockedRic) this.#unblock();
  }

  /** Decodes the blocked sections whose Required Insert Count has been reached, in arrival order. */
  #unblock(): void {
    const insertCount = this.#table.insertCount;
    const still: BlockedSection[] = [];
    let min = Infinity;
    for (const b of this.#blocked) {
      if (b.requiredInsertCount > insertCount) {
        still.push(b);
        if (b.requiredInsertCount < min) min = b.requiredInsertCount;
        continue;
      }
      try {
        const fields = this.#decodeLines(b.streamId, b.lines, 0, b.requiredInsertCount, b.base);
        this.#unblocked.push({ streamId: b.streamId, fields });
      } catch (e) {
        if (!(e instanceof FieldSectionTooLargeError)) throw e;
        this.#unblocked.push({ streamId: b.streamId, error: e });
      }
    }
    this.#blocked = still;
    this.#minBlockedRic = min;
  }

  // ---- field sections ---------------------------------------------------------------------------

  /**
   * Decodes a field section received on `streamId`. Returns the fields, or 'blocked' when its
   * Required Insert Count is not reached yet (the section is copied and comes back from
   * takeUnblocked(); do not pass another section for this stream until then). Throws
   * QpackError(DECOMPRESSION_FAILED) for a malformed section or one more blocked stream than
   * maxBlockedStreams (§2.1.2), and FieldSectionTooLargeError (a stream-level condition) when the
   * decoded size would exceed maxFieldSectionSize.
   */
  decode(streamId: number, section: Uint8Array): HeaderField[] | 'blocked' {
    if (this.#failed) throw this.#failed;
    try {
      return this.#decodeSection(streamId, section);
    } catch (e) {
      if (e instanceof QpackError) this.#failed = e;
      throw e;
    }
  }

  /** Parses the prefix; blocks, or decodes the lines. */
  #decodeSection(streamId: number, section: Uint8Array): HeaderField[] | 'blocked' {
    const r = this.#sectionReader;
    r.reset(section, 0, section.length);
    // §4.5.1: Required Insert Count (8+), then S and Delta Base (7+).
    const encodedRic = r.int(8);
    if (encodedRic < 0) throw sectionError(encodedRic === NEED_MORE ? 'truncated prefix' : 'Required Insert Count too large');
    const ric = this.#requiredInsertCount(encodedRic);
    if (r.pos >= r.end) throw sectionError('truncated prefix');
    const negative = (section[r.pos]! & 0x80) !== 0;
    const delta = r.int(7);
    if (delta < 0) throw sectionError(delta === NEED_MORE ? 'truncated prefix' : 'Delta Base too large');
    let base: number;
    if (negative) {
      // §4.5.1.2: a Sign of 1 with Delta Base >= Required Insert Count would make Base negative.
      if (delta >= ric) throw sectionError(`Delta Base ${delta} with sign 1 and Required Insert Count ${ric}`);
      base = ric - delta - 1;
    } else {
      base = ric + delta;
      if (base > Number.MAX_SAFE_INTEGER) throw sectionError('Base too large');
    }
    if (section.length > this.#maxEncodedSection) this.#tooLarge(streamId, ric);
    // §2.2.1: blocked until the Insert Count reaches the Required Insert Count. The prefix is
    // decoded now, against the Insert Count it was received with (§4.5.1.1).
    if (ric > this.#table.insertCount) return this.#block(streamId, ric, base, section.subarray(r.pos));
    return this.#decodeLines(streamId, section, r.pos, ric, base);
  }

  /** RFC 9204 §4.5.1.1, including its error cases. */
  #requiredInsertCount(encoded: number): number {
    if (encoded === 0) return 0;
    const maxEntries = this.#maxEntries;
    const fullRange = 2 * maxEntries;
    if (encoded > fullRange) throw sectionError(`encoded Required Insert Count ${encoded} exceeds ${fullRange}`);
    const maxValue = this.#table.insertCount + maxEntries;
    const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
    let ric = maxWrapped + encoded - 1;
    if (ric > maxValue) {
      if (ric <= fullRange) throw sectionError(`invalid encoded Required Insert Count ${encoded}`);
      ric -= fullRange;
    }
    if (ric === 0) throw sectionError('Required Insert Count 0 encoded as non-zero');
    return ric;
  }

  #block(streamId: number, ric: number, base: number, lines: Uint8Array): 'blocked' {
    for (const b of this.#blocked) {
      if (b.streamId === streamId) throw new Error(`qpack: stream ${streamId} already has a blocked field section`);
    }
    // §2.1.2: more blocked streams than we allowed is a connection error.
    if (this.#blocked.length >= this.#maxBlocked) {
      throw sectionError(`stream ${streamId} would be blocked stream ${this.#blocked.length + 1}, limit ${this.#maxBlocked}`);
    }
    this.#blocked.push({ streamId, requiredInsertCount: ric, base, lines: lines.slice() });
    if (ric < this.#minBlockedRic) this.#minBlockedRic = ric;
    return 'blocked';
  }

  /**
   * The section is too large. Its dynamic references must still be released at the encoder: a
   * Section Acknowledgment when every entry it needs has arrived (nothing wrong is implied: the
   * table state it requires is here), a Stream Cancellation otherwise (§4.4.1, §4.4.2).
   */
  #tooLarge(streamId: number, ric: number): never {
    if (ric > 0) {
      if (ric <= this.#table.insertCount) this.#acknowledge(streamId, ric);
      else this.#out.int(0x40, 6, streamId);
    }
    throw new FieldSectionTooLargeError(this.#maxSectionSize);
  }

  #acknowledge(streamId: number, ric: number): void {
    this.#out.int(0x80, 7, streamId); // Section Acknowledgment (§4.4.1)
    if (ric > this.#acknowledged) this.#acknowledged = ric; // §2.1.4
  }

  /** Byte length of the string last produced by #string. */
  #lastLength = 0;

  /** Builds the string at buf[start, start + length); sets #lastLength to its byte length. */
  #string(buf: Uint8Array, start: number, length: number, huffman: boolean): string {
    if (!huffman) {
      this.#lastLength = length;
      return bytesToString(buf, start, start + length);
    }
    const n = this.#huffman(buf, start, length);
    this.#lastLength = n;
    return bytesToString(this.#scratch, 0, n);
  }

  /** Huffman-decodes into #scratch; returns the length; throws a decoding error (context chooses). */
  #huffman(buf: Uint8Array, start: number, length: number): number {
    const max = maxHuffmanDecodedLength(length);
    if (max > this.#scratch.length) this.#scratch = new Uint8Array(Math.max(max, this.#scratch.length * 2));
    const n = huffmanDecode(buf, start, start + length, this.#scratch, 0);
    if (n < 0) throw new HuffmanError();
    return n;
  }

  #decodeLines(streamId: number, section: Uint8Array, pos: number, ric: number, base: number): HeaderField[] {
    const r = this.#sectionReader;
    r.reset(section, pos, section.length);
    const table = this.#table;
    const dropped = table.dropped;
    const limit = this.#maxSectionSize;
    const fields: HeaderField[] = [];
    let total = 0;
    let dynamicReferences = 0;
    try {
      while (r.pos < r.end) {
        const first = section[r.pos]!;
        if (first & 0x80) {
          // Indexed Field Line (§4.5.2): 1 T index(6+).
          const index = r.int(6);
          if (index < 0) throw truncatedOrLarge(index);
          if (first & 0x40) {
            if (index >= STATIC_TABLE_SIZE) throw sectionError(`invalid static index ${index}`);
            total += STATIC_ENTRY_SIZES[index]!;
            if (total > limit) this.#tooLarge(streamId, ric);
            const entry = STATIC_TABLE[index]!;
            fields.push({ name: entry[0], value: entry[1] });
          } else {
            const abs = base - 1 - index;
            // §2.2.3: evicted, or at or past the Required Insert Count.
            if (abs < dropped || abs >= ric) throw sectionError(`invalid relative index ${index} (base ${base})`);
            const entry = table.get(abs)!;
            total += entry.size;
            if (total > limit) this.#tooLarge(streamId, ric);
            dynamicReferences++;
            fields.push({ name: entry.name, value: entry.value });
          }
        } else if (first & 0x40) {
          // Literal Field Line with Name Reference (§4.5.4): 01 N T index(4+), value.
          const index = r.int(4);
          if (index < 0) throw truncatedOrLarge(index);
          let name: string;
          let nameLength: number;
          if (first & 0x10) {
            if (index >= STATIC_TABLE_SIZE) throw sectionError(`invalid static index ${index}`);
            name = STATIC_TABLE[index]![0];
            nameLength = name.length;
          } else {
            const abs = base - 1 - index;
            if (abs < dropped || abs >= ric) throw sectionError(`invalid relative index ${index} (base ${base})`);
            const entry = table.get(abs)!;
            name = entry.name;
            nameLength = entry.nameLength;
            dynamicReferences++;
          }
          total = this.#literalValue(r, fields, name, total + nameLength + ENTRY_OVERHEAD, streamId, ric, (first & 0x20) !== 0);
        } else if (first & 0x20) {
          // Literal Field Line with Literal Name (§4.5.6): 001 N H namelen(3+), name, value.
          const st = r.stringHeader(4);
          if (st < 0) throw truncatedOrLarge(st);
          const length = r.length;
          if (r.end - r.pos < length) throw sectionError('truncated name');
          let name: string;
          let nameLength: number;
          if (r.huffman) {
            nameLength = this.#huffman(section, r.pos, length);
            total += nameLength + ENTRY_OVERHEAD;
            if (total > limit) this.#tooLarge(streamId, ric);
            name = bytesToString(this.#scratch, 0, nameLength);
          } else {
            nameLength = length;
            total += nameLength + ENTRY_OVERHEAD;
            if (total > limit) this.#tooLarge(streamId, ric);
            name = bytesToString(section, r.pos, r.pos + length);
          }
          r.pos += length;
          total = this.#literalValue(r, fields, name, total, streamId, ric, (first & 0x10) !== 0);
        } else if (first & 0x10) {
          // Indexed Field Line with Post-Base Index (§4.5.3): 0001 index(4+).
          const index = r.int(4);
          if (index < 0) throw truncatedOrLarge(index);
          const abs = base + index;
          if (abs < dropped || abs >= ric) throw sectionError(`invalid post-base index ${index} (base ${base})`);
          const entry = table.get(abs)!;
          total += entry.size;
          if (total > limit) this.#tooLarge(streamId, ric);
          dynamicReferences++;
          fields.push({ name: entry.name, value: entry.value });
        } else {
          // Literal Field Line with Post-Base Name Reference (§4.5.5): 0000 N index(3+), value.
          const index = r.int(3);
          if (index < 0) throw truncatedOrLarge(index);
          const abs = base + index;
          if (abs < dropped || abs >= ric) throw sectionError(`invalid post-base index ${index} (base ${base})`);
          const entry = table.get(abs)!;
          dynamicReferences++;
          total = this.#literalValue(r, fields, entry.name, total + entry.nameLength + ENTRY_OVERHEAD, streamId, ric, (first & 0x08) !== 0);
        }
      }
    } catch (e) {
      if (e instanceof HuffmanError) throw sectionError('invalid Huffman string');
      throw e;
    }
    // §4.4.1: acknowledge sections with a non-zero Required Insert Count.
    if (ric > 0) this.#acknowledge(streamId, ric);
    this.#observer?.({ type: 'section', streamId, requiredInsertCount: ric, dynamicReferences });
    return fields;
  }

  /**
   * Reads an 8-bit prefix value string and pushes the field; `total` already counts the name and
   * the 32-byte overhead. Checks the limit before building the value string. Returns the new total.
   */
  #literalValue(r: Reader, fields: HeaderField[], name: string, total: number, streamId: number, ric: number, never: boolean): number {
    if (total > this.#maxSectionSize) this.#tooLarge(streamId, ric);
    const st = r.stringHeader(8);
    if (st < 0) throw truncatedOrLarge(st);
    const length = r.length;
    if (r.end - r.pos < length) throw sectionError('truncated value');
    let value: string;
    if (r.huffman) {
      const n = this.#huffman(r.buf, r.pos, length);
      total += n;
      if (total > this.#maxSectionSize) this.#tooLarge(streamId, ric);
      value = bytesToString(this.#scratch, 0, n);
    } else {
      total += length;
      if (total > this.#maxSectionSize) this.#tooLarge(streamId, ric);
      value = bytesToString(r.buf, r.pos, r.pos + length);
    }
    r.pos += length;
    // §4.5.4: the N bit; surfaced so an intermediary can keep the field a literal.
    fields.push(never ? { name, value, sensitive: true } : { name, value });
    return total;
  }

  /** Sections unblocked by encoder-stream input since the last call, in the order they blocked. */
  takeUnblocked(): UnblockedSection[] {
    if (this.#unblocked.length === 0) return [];
    const out = this.#unblocked;
    this.#unblocked = [];
    return out;
  }

  /**
   * The request stream was reset or abandoned before its field sections were decoded: forget its
   * blocked section and send a Stream Cancellation (§4.4.2), which releases the encoder's
   * references. Sent whenever our table capacity is non-zero: a section we never received may have
   * referenced the table (with a zero capacity it cannot have, and §4.4.2 lets us omit it).
   */
  cancelStream(streamId: number): void {
    const i = this.#blocked.findIndex((b) => b.streamId === streamId);
    if (i >= 0) {
      this.#blocked.splice(i, 1);
      let min = Infinity;
      for (const b of this.#blocked) if (b.requiredInsertCount < min) min = b.requiredInsertCount;
      this.#minBlockedRic = min;
    }
    this.#unblocked = this.#unblocked.filter((u) => u.streamId !== streamId);
    if (this.#maxCapacity > 0) this.#out.int(0x40, 6, streamId);
  }

  /**
   * Decoder-stream bytes to send: Section Acknowledgments and Stream Cancellations in the order they
   * arose, then one Insert Count Increment (§4.4.3) for insertions not yet acknowledged.
   * Undefined if there is nothing to send.
   */
  takeDecoderStreamData(): Uint8Array | undefined {
    const insertCount = this.#table.insertCount;
    if (insertCount > this.#acknowledged) {
      this.#out.int(0x00, 6, insertCount - this.#acknowledged);
      this.#acknowledged = insertCount;
    }
    return this.#out.take();
  }
}

/** Internal signal: a Huffman string failed to decode (mapped to the context's error code). */
class HuffmanError extends Error {}

function encoderError(message: string): QpackError {
  return new QpackError(QpackErrorCode.ENCODER_STREAM_ERROR, `QPACK encoder stream: ${message}`);
}

function sectionError(message: string): QpackError {
  return new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, `QPACK field section: ${message}`);
}

function truncatedOrLarge(status: number): QpackError {
  return sectionError(status === NEED_MORE ? 'truncated' : 'integer too large');
}
