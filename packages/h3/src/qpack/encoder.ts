/**
 * The QPACK encoder (RFC 9204 §2.1), sans-IO: field lists in, field sections and encoder-stream
 * bytes out; decoder-stream bytes in.
 *
 * Policy (RFC 9204 leaves it to the encoder):
 * - a field line that matches a static entry is indexed there;
 * - a (name, value) pair seen in an earlier section is inserted into the dynamic table, unless its
 *   entry would take more than a quarter of the table or it is sensitive (Authorization,
 *   Proxy-Authorization, and Cookie/Set-Cookie values shorter than 20 bytes, which are guessable:
 *   RFC 9204 §7.1.3), and then referenced; sensitive lines are sent as never-indexed literals;
 * - an entry that is not yet acknowledged is referenced only if the stream may block: it already
 *   risks blocking, or fewer streams than the peer's SETTINGS_QPACK_BLOCKED_STREAMS do (§2.1.2);
 * - an entry is evicted only when it is acknowledged (below the Known Received Count) and no
 *   unacknowledged section references it (§2.1.1); when an insertion would need more, the line is
 *   sent as a literal instead;
 * - the oldest entries (those that, with the unused space, make up a quarter of the capacity) are
 *   draining (§2.1.1.1): not referenced anew; a line that matches one is refreshed with a Duplicate
 *   and the copy referenced, so that busy entries do not pin the table;
 * - once 1024 sections are unacknowledged (a peer that never acknowledges), new sections stop
 *   referencing the dynamic table, which bounds the memory spent on tracking them.
 */

import { DynamicTable, ENTRY_OVERHEAD, type TableEntry } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import type { QpackEvent } from './events.js';
import { ByteSink, InstructionStream, NEED_MORE, Reader, TOO_LARGE, utf8Length } from './primitives.js';
import { staticFieldIndex, staticNameIndex } from './static-table.js';
import type { HeaderField } from './types.js';

/** Options of {@link QpackEncoder}. */
export interface QpackEncoderOptions {
  /** The largest dynamic table we are willing to keep, in bytes (default 4096). */
  maxTableCapacity?: number;
  /** Use Huffman coding for string literals when it is shorter (default true). */
  huffman?: boolean;
  /** Receives table and section events (qlog, tests). */
  observer?: (e: QpackEvent) => void;
}

/** How an inserted or literal line names its field. */
export type QpackNameReference = 'static' | 'dynamic' | 'literal';

/**
 * A forced representation for one field line (see {@link QpackEncoder.encodeWithDecisions}):
 * - `auto`: the encoder's own policy;
 * - `static`: Indexed Field Line into the static table (the line must match an entry);
 * - `dynamic`: Indexed Field Line referencing the newest dynamic entry that matches;
 * - `insert`: insert the line into the dynamic table, then reference it;
 * - `literal`: a literal, naming the field by static or dynamic reference or literally.
 */
export type QpackFieldDecision =
  | { kind: 'auto' }
  | { kind: 'static' }
  | { kind: 'dynamic' }
  | { kind: 'insert'; nameRef?: QpackNameReference }
  | { kind: 'literal'; nameRef?: QpackNameReference; neverIndex?: boolean };

/** Counters for tests and qlog. */
export interface QpackEncoderStats {
  /** Insertions and duplications sent on the encoder stream. */
  inserts: number;
  /** Field lines that referenced the dynamic table (full or name-only). */
  dynamicReferences: number;
  /** Streams that currently risk blocking at the decoder (unacknowledged section with RIC > KRC). */
  blockedStreams: number;
}

/** An encoded section with dynamic references, until the decoder acknowledges or cancels it. */
interface SectionRecord {
  requiredInsertCount: number;
  /** Absolute indices referenced (one per reference). */
  refs: number[];
  /** True once streamClosed() released its references. */
  released: boolean;
}

const DEFAULT_MAX_TABLE_CAPACITY = 4096;
/** Above this many unacknowledged sections, new sections use the static table and literals only. */
const MAX_OUTSTANDING_SECTIONS = 1024;
/** Locally closed streams whose sections may pin entries while the decoder has not answered. */
const MAX_CLOSED_STREAMS = 64;
/** Distinct (name, value) pairs remembered for the "seen before" indexing test. */
const SEEN_LIMIT = 512;
/** Cookie values shorter than this are guessable: never indexed (RFC 9204 §7.1.3). */
const COOKIE_MIN_INDEXED = 20;

/** Name an insertion of the encoder's own choosing: a static name, else a dynamic one, else literal. */
type NameChoice = QpackNameReference | 'auto';

/** A field section encoder bound to one connection. */
export class QpackEncoder {
  readonly #ourMax: number;
  readonly #huffman: boolean;
  readonly #observer: ((e: QpackEvent) => void) | undefined;
  readonly #table: DynamicTable;
  /** name -> value -> newest absolute index with that exact line. */
  readonly #fieldIndex = new Map<string, Map<string, number>>();
  /** name -> newest absolute index with that name. */
  readonly #nameIndex = new Map<string, number>();
  #settingsApplied = false;
  /** MaxEntries of RFC 9204 §4.5.1.1, from the peer's maximum capacity. */
  #maxEntries = 0;
  #maxBlocked = 0;
  /** Known Received Count (§2.1.4). */
  #krc = 0;
  /** Unacknowledged sections with dynamic references, per stream, oldest first. */
  readonly #streams = new Map<number, SectionRecord[]>();
  #outstanding = 0;
  /** Locally closed streams still pinning entries, oldest first (a Map used as an ordered set). */
  readonly #closed = new Map<number, true>();
  readonly #encoderStream = new ByteSink(256);
  readonly #lines = new ByteSink(512);
  readonly #prefix = new ByteSink(32);
  readonly #seen = new Map<string, Set<string>>();
  #seenCount = 0;
  readonly #reader = new Reader();
  /** The decoder stream's bytes (RFC 9204 §4.4), parsed as they complete. */
  readonly #decoderStream = new InstructionStream();
  readonly #parseInstruction = (buf: Uint8Array, pos: number, end: number): number => this.#decoderInstruction(buf, pos, end);
  #failed: QpackError | undefined;
  #inserts = 0;
  #dynamicReferences = 0;
  /** Cached #drainingIndex(), -1 when stale (reset on every insertion and eviction). */
  #drainCache = -1;

  // Per-section state, reset by #beginSection (kept on the instance: no closure per section).
  #stream = 0;
  #base = 0;
  #ric = 0;
  #refs: number[] | null = null;
  #sectionDynamicRefs = 0;
  /** -1: not decided yet; 0: must not block; 1: may block. */
  #mayBlock = -1;
  #useDynamic = false;

  constructor(options: QpackEncoderOptions = {}) {
    this.#ourMax = Math.max(0, Math.floor(options.maxTableCapacity ?? DEFAULT_MAX_TABLE_CAPACITY));
    this.#huffman = options.huffman ?? true;
    this.#observer = options.observer;
    this.#table = new DynamicTable(options.observer, (abs, entry) => this.#forget(abs, entry));
  }

  /**
   * Applies the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY (0x01) and SETTINGS_QPACK_BLOCKED_STREAMS
   * (0x07). Call once. Before it, encode() uses the static table and literals only (§3.2.3).
   * With a non-zero capacity, queues Set Dynamic Table Capacity (§4.3.1) for min(ours, theirs).
   */
  applyPeerSettings(maxTableCapacity: number, maxBlockedStreams: number): void {
    if (this.#settingsApplied) throw new Error('qpack: applyPeerSettings called twice');
    this.#settingsApplied = true;
    this.#maxEntries = Math.floor(maxTableCapacity / 32);
    this.#maxBlocked = maxBlockedStreams;
    const capacity = Math.min(this.#ourMax, maxTableCapacity);
    if (capacity > 0) {
      this.#encoderStream.int(0x20, 5, capacity);
      this.#table.setCapacity(capacity);
    }
  }

  /** Counters; `blockedStreams` is computed now. */
  get stats(): QpackEncoderStats {
    return { inserts: this.#inserts, dynamicReferences: this.#dynamicReferences, blockedStreams: this.#blockingStreams(-1) };
  }

  /** Known Received Count (§2.1.4). */
  get knownReceivedCount(): number {
    return this.#krc;
  }

  /** Dynamic table state (tests, diagnostics). */
  get table(): { insertCount: number; dropped: number; size: number; capacity: number } {
    const t = this.#table;
    return { insertCount: t.insertCount, dropped: t.dropped, size: t.size, capacity: t.capacity };
  }

  /** The live entry at absolute index `abs` and its outstanding reference count. */
  entry(abs: number): { name: string; value: string; refs: number } | undefined {
    const e = this.#table.get(abs);
    return e === undefined ? undefined : { name: e.name, value: e.value, refs: e.refs };
  }

  /** Number of sections with dynamic references not yet acknowledged or cancelled. */
  get outstandingSections(): number {
    return this.#outstanding;
  }

  // ---- encoding ---------------------------------------------------------------------------------

  /**
   * Encodes a field section (the HEADERS frame payload) for `streamId`; may queue encoder-stream
   * instructions, which must be sent (takeEncoderStreamData) along with it.
   */
  encode(streamId: number, fields: readonly HeaderField[]): Uint8Array {
    return this.#encode(streamId, fields, undefined);
  }

  /**
   * Encodes with a forced representation per field line (tests reproducing RFC 9204 Appendix B,
   * experiments). Throws a plain Error when a decision is impossible (no such entry, no room
   * without evicting a referenced or unacknowledged entry, the blocked-streams limit).
   */
  encodeWithDecisions(streamId: number, fields: readonly HeaderField[], decisions: readonly QpackFieldDecision[]): Uint8Array {
    if (decisions.length !== fields.length) throw new Error('qpack: one decision per field line');
    return this.#encode(streamId, fields, decisions);
  }

  #encode(streamId: number, fields: readonly HeaderField[], decisions: readonly QpackFieldDecision[] | undefined): Uint8Array {
    if (this.#failed) throw this.#failed;
    this.#stream = streamId;
    this.#base = this.#table.insertCount;
    this.#ric = 0;
    this.#refs = null;
    this.#sectionDynamicRefs = 0;
    this.#mayBlock = -1;
    this.#useDynamic = this.#table.capacity > 0 && this.#outstanding < MAX_OUTSTANDING_SECTIONS;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const decision = decisions?.[i];
      if (decision === undefined || decision.kind === 'auto') this.#autoLine(lowerName(field.name), field.value, field.sensitive === true);
      else this.#forcedLine(lowerName(field.name), field.value, decision);
    }
    const ric = this.#ric;
    const prefix = this.#prefix;
    if (ric === 0) {
      prefix.byte(0);
      prefix.byte(0);
    } else {
      // §4.5.1.1 and §4.5.1.2.
      prefix.int(0, 8, (ric % (2 * this.#maxEntries)) + 1);
      if (this.#base >= ric) prefix.int(0x00, 7, this.#base - ric);
      else prefix.int(0x80, 7, ric - this.#base - 1);
      let records = this.#streams.get(streamId);
      if (records === undefined) this.#streams.set(streamId, (records = []));
      records.push({ requiredInsertCount: ric, refs: this.#refs!, released: false });
      this.#outstanding++;
    }
    const out = new Uint8Array(prefix.len + this.#lines.len);
    out.set(prefix.buf.subarray(0, prefix.len), 0);
    out.set(this.#lines.buf.subarray(0, this.#lines.len), prefix.len);
    prefix.len = 0;
    this.#lines.len = 0;
    this.#refs = null;
    this.#observer?.({ type: 'section', streamId, requiredInsertCount: ric, dynamicReferences: this.#sectionDynamicRefs });
    return out;
  }

  /** The encoder's own choice for one line (see the file comment). */
  #autoLine(name: string, value: string, markedSensitive: boolean): void {
    const staticIndex = staticFieldIndex(name, value);
    if (staticIndex >= 0) {
      this.#lines.int(0xc0, 6, staticIndex); // §4.5.2, T=1
      return;
    }
    const sensitive = markedSensitive || isSensitive(name, value);
    if (!sensitive && this.#useDynamic) {
      let abs = this.#fieldIndex.get(name)?.get(value) ?? -1;
      if (abs >= 0) {
        // §2.1.1.1: an entry in the draining zone is refreshed by a Duplicate rather than
        // referenced, so that it can become evictable; the old one is used if that fails.
        if (abs < this.#drainingIndex()) {
          const copy = this.#duplicateEntry(abs);
          if (copy >= 0 && this.#canReference(copy)) {
            this.#indexed(copy);
            return;
          }
        }
        if (this.#canReference(abs)) {
          this.#indexed(abs);
          return;
        }
      } else {
        const nameLength = utf8Length(name);
        const size = nameLength + utf8Length(value) + ENTRY_OVERHEAD;
        if (size <= this.#table.capacity / 4 && this.#seenBefore(name, value)) {
          abs = this.#insertEntry(name, value, nameLength, size, 'auto');
          if (abs >= 0 && this.#canReference(abs)) {
            this.#indexed(abs);
            return;
          }
        }
      }
    }
    const staticName = staticNameIndex(name);
    if (staticName >= 0) {
      this.#literalStaticName(staticName, value, sensitive);
      return;
    }
    if (!sensitive && this.#useDynamic) {
      const abs = this.#nameIndex.get(name);
      if (abs !== undefined && abs >= this.#drainingIndex() && this.#canReference(abs)) {
        this.#literalDynamicName(abs, value, false);
        return;
      }
    }
    this.#literalName(name, value, sensitive);
  }

  #forcedLine(name: string, value: string, d: Exclude<QpackFieldDecision, { kind: 'auto' }>): void {
    switch (d.kind) {
      case 'static': {
        const index = staticFieldIndex(name, value);
        if (index < 0) throw new Error(`qpack: ${name}: ${value} is not in the static table`);
        this.#lines.int(0xc0, 6, index);
        return;
      }
      case 'dynamic': {
        const abs = this.#fieldIndex.get(name)?.get(value);
        if (abs === undefined) throw new Error(`qpack: ${name}: ${value} is not in the dynamic table`);
        if (!this.#canReference(abs)) throw new Error('qpack: referencing it would exceed the blocked-streams limit');
        this.#indexed(abs);
        return;
      }
      case 'insert': {
        const nameLength = utf8Length(name);
        const size = nameLength + utf8Length(value) + ENTRY_OVERHEAD;
        const abs = this.#insertEntry(name, value, nameLength, size, d.nameRef ?? 'auto');
        if (abs < 0) throw new Error(`qpack: no room to insert ${name}`);
        if (!this.#canReference(abs)) throw new Error('qpack: referencing it would exceed the blocked-streams limit');
        this.#indexed(abs);
        return;
      }
      case 'literal': {
        const never = d.neverIndex === true;
        const ref = d.nameRef ?? 'literal';
        if (ref === 'static') {
          const index = staticNameIndex(name);
          if (index < 0) throw new Error(`qpack: no static name ${name}`);
          this.#literalStaticName(index, value, never);
        } else if (ref === 'dynamic') {
          const abs = this.#nameIndex.get(name);
          if (abs === undefined) throw new Error(`qpack: no dynamic name ${name}`);
          if (!this.#canReference(abs)) throw new Error('qpack: referencing it would exceed the blocked-streams limit');
          this.#literalDynamicName(abs, value, never);
        } else {
          this.#literalName(name, value, never);
        }
        return;
      }
    }
  }

  /**
   * Whether this section may reference the live entry `abs`: acknowledged entries always;
   * others only if the stream may become blocked (§2.1.2).
   */
  #canReference(abs: number): boolean {
    if (abs < this.#krc) return true;
    if (this.#mayBlock === -1) {
      const others = this.#blockingStreams(this.#stream);
      this.#mayBlock = others < 0 || others < this.#maxBlocked ? 1 : 0;
    }
    return this.#mayBlock === 1;
  }

  /**
   * Streams with an unacknowledged section whose Required Insert Count exceeds the Known Received
   * Count (they could be blocked at the decoder). Returns -1 if `streamId` is one of them.
   */
  #blockingStreams(streamId: number): number {
    let count = 0;
    for (const [id, records] of this.#streams) {
      for (const rec of records) {
        if (rec.requiredInsertCount > this.#krc) {
          if (id === streamId) return -1;
          count++;
          break;
        }
      }
    }
    return count;
  }

  /** Records a reference from the current section to `abs`. */
  #reference(abs: number): void {
    this.#table.get(abs)!.refs++;
    (this.#refs ??= []).push(abs);
    if (abs + 1 > this.#ric) this.#ric = abs + 1;
    this.#sectionDynamicRefs++;
    this.#dynamicReferences++;
  }

  /** Indexed Field Line (§4.5.2) or with Post-Base Index (§4.5.3). */
  #indexed(abs: number): void {
    this.#reference(abs);
    if (abs < this.#base) this.#lines.int(0x80, 6, this.#base - 1 - abs);
    else this.#lines.int(0x10, 4, abs - this.#base);
  }

  /** Literal Field Line with static Name Reference (§4.5.4, T=1). */
  #literalStaticName(index: number, value: string, never: boolean): void {
    this.#lines.int(never ? 0x70 : 0x50, 4, index);
    this.#lines.string(0, 8, value, this.#huffman);
  }

  /** Literal Field Line with dynamic Name Reference (§4.5.4) or Post-Base Name Reference (§4.5.5). */
  #literalDynamicName(abs: number, value: string, never: boolean): void {
    this.#reference(abs);
    if (abs < this.#base) this.#lines.int(never ? 0x60 : 0x40, 4, this.#base - 1 - abs);
    else this.#lines.int(never ? 0x08 : 0x00, 3, abs - this.#base);
    this.#lines.string(0, 8, value, this.#huffman);
  }

  /** Literal Field Line with Literal Name (§4.5.6). */
  #literalName(name: string, value: string, never: boolean): void {
    this.#lines.string(never ? 0x30 : 0x20, 4, name, this.#huffman);
    this.#lines.string(0, 8, value, this.#huffman);
  }

  /** True if (name, value) was offered before; remembers it otherwise (bounded: cleared when full). */
  #seenBefore(name: string, value: string): boolean {
    let values = this.#seen.get(name);
    if (values?.has(value)) return true;
    if (this.#seenCount >= SEEN_LIMIT) {
      this.#seen.clear();
      this.#seenCount = 0;
      values = undefined;
    }
    if (values === undefined) this.#seen.set(name, (values = new Set()));
    values.add(value);
    this.#seenCount++;
    return false;
  }

  // ---- dynamic table ----------------------------------------------------------------------------

  /**
   * The absolute index of the oldest entry that survives making room for `size` bytes, or -1 if
   * that needs evicting an entry that is not evictable: unacknowledged (at or above the Known
   * Received Count) or referenced by an unacknowledged section (§2.1.1).
   */
  #evictionPoint(size: number): number {
    const table = this.#table;
    if (size > table.capacity) return -1;
    let free = table.capacity - table.size;
    let abs = table.dropped;
    while (free < size) {
      const entry = table.get(abs)!;
      if (abs >= this.#krc || entry.refs > 0) return -1;
      free += entry.size;
      abs++;
    }
    return abs;
  }

  /** Inserts (name, value) if it fits without unsafe eviction; returns its absolute index or -1. */
  #insertEntry(name: string, value: string, nameLength: number, size: number, nameRef: NameChoice): number {
    const survivor = this.#evictionPoint(size);
    if (survivor < 0) return -1;
    const out = this.#encoderStream;
    let staticName = -1;
    if (nameRef === 'static' || nameRef === 'auto') {
      staticName = staticNameIndex(name);
      if (staticName < 0 && nameRef === 'static') throw new Error(`qpack: no static name ${name}`);
    }
    let dynamicName = -1;
    if (staticName < 0 && (nameRef === 'dynamic' || nameRef === 'auto')) {
      // An encoder-stream reference needs no acknowledgment (§2.1.1), only a live entry; one that
      // this insertion evicts is legal (§3.2.2) but avoided, for decoders that mishandle it.
      const abs = this.#nameIndex.get(name);
      if (abs !== undefined && abs >= survivor) dynamicName = abs;
      else if (nameRef === 'dynamic') throw new Error(`qpack: no usable dynamic name ${name}`);
    }
    if (staticName >= 0) {
      out.int(0xc0, 6, staticName); // §4.3.2, T=1
    } else if (dynamicName >= 0) {
      out.int(0x80, 6, this.#table.insertCount - 1 - dynamicName); // §4.3.2, T=0, relative
    } else {
      out.string(0x40, 6, name, this.#huffman); // §4.3.3
    }
    out.string(0, 8, value, this.#huffman);
    return this.#added(this.#table.insert(name, value, nameLength, size));
  }

  /**
   * The draining index (§2.1.1.1): the oldest entries, up to where unused space plus their sizes
   * reach a quarter of the capacity (the largest entry we insert), are not referenced anew, so
   * that in-flight references to them run out and they become evictable.
   */
  #drainingIndex(): number {
    if (this.#drainCache >= 0) return this.#drainCache;
    const t = this.#table;
    const target = t.capacity / 4;
    let free = t.capacity - t.size;
    let abs = t.dropped;
    while (free < target && abs < t.insertCount) free += t.get(abs++)!.size;
    return (this.#drainCache = abs);
  }

  /** Duplicates the live entry `abs` if there is room without evicting it; returns the copy or -1. */
  #duplicateEntry(abs: number): number {
    const entry = this.#table.get(abs)!;
    const survivor = this.#evictionPoint(entry.size);
    if (survivor < 0 || survivor > abs) return -1;
    this.#encoderStream.int(0x00, 5, this.#table.insertCount - 1 - abs); // §4.3.4
    return this.#added(this.#table.insert(entry.name, entry.value, entry.nameLength, entry.size));
  }

  #added(abs: number): number {
    this.#drainCache = -1;
    const entry = this.#table.get(abs)!;
    let values = this.#fieldIndex.get(entry.name);
    if (values === undefined) this.#fieldIndex.set(entry.name, (values = new Map()));
    values.set(entry.value, abs);
    this.#nameIndex.set(entry.name, abs);
    this.#inserts++;
    return abs;
  }

  /** Eviction hook: drop lookups that point at the evicted entry. */
  #forget(abs: number, entry: TableEntry): void {
    this.#drainCache = -1;
    const values = this.#fieldIndex.get(entry.name);
    if (values !== undefined && values.get(entry.value) === abs) {
      values.delete(entry.value);
      if (values.size === 0) this.#fieldIndex.delete(entry.name);
    }
    if (this.#nameIndex.get(entry.name) === abs) this.#nameIndex.delete(entry.name);
  }

  /**
   * Inserts (name, value) into the dynamic table now, without a field section referencing it (a
   * "speculative insert", RFC 9204 Appendix B.3). `nameRef` picks the name's representation
   * (default: static name, else dynamic, else literal). Returns the absolute index; throws a
   * plain Error if the table has no room without an unsafe eviction.
   */
  insert(name: string, value: string, nameRef: QpackNameReference | 'auto' = 'auto'): number {
    if (this.#failed) throw this.#failed;
    const lower = lowerName(name);
    const nameLength = utf8Length(lower);
    const abs = this.#insertEntry(lower, value, nameLength, nameLength + utf8Length(value) + ENTRY_OVERHEAD, nameRef);
    if (abs < 0) throw new Error(`qpack: no room to insert ${lower}`);
    return abs;
  }

  /**
   * Duplicates the live entry `abs` (§4.3.4): the copy is newer, so referencing it instead keeps
   * the old one evictable. Returns the copy's absolute index; throws a plain Error if impossible.
   */
  duplicate(abs: number): number {
    if (this.#failed) throw this.#failed;
    const entry = this.#table.get(abs);
    if (entry === undefined) throw new Error(`qpack: no entry ${abs}`);
    if (this.#evictionPoint(entry.size) < 0) throw new Error('qpack: no room to duplicate');
    this.#encoderStream.int(0x00, 5, this.#table.insertCount - 1 - abs);
    return this.#added(this.#table.insert(entry.name, entry.value, entry.nameLength, entry.size));
  }

  /** Encoder-stream bytes to send (without the 0x02 stream type); undefined if none. */
  takeEncoderStreamData(): Uint8Array | undefined {
    return this.#encoderStream.take();
  }

  // ---- decoder stream ---------------------------------------------------------------------------

  /**
   * Applies bytes received on the peer's decoder stream (any chunking). Throws
   * QpackError(DECODER_STREAM_ERROR) on bad input (§4.4): an acknowledgment for a stream with no
   * unacknowledged section, an Insert Count Increment of 0 or past our insertions. After a
   * QpackError the encoder is unusable (the connection is closing) and rethrows it.
   */
  handleDecoderStream(data: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#decoderStream.feed(data, this.#parseInstruction);
    } catch (e) {
      if (e instanceof QpackError) this.#failed = e;
      throw e;
    }
  }

  #decoderInstruction(buf: Uint8Array, pos: number, end: number): number {
    const r = this.#reader;
    r.reset(buf, pos, end);
    const first = buf[pos]!;
    if (first & 0x80) {
      // Section Acknowledgment (§4.4.1): 1 stream(7+).
      const id = r.int(7);
      if (id === NEED_MORE) return -1;
      if (id === TOO_LARGE) throw decoderError('stream ID too large');
      this.#acknowledged(id);
    } else if (first & 0x40) {
      // Stream Cancellation (§4.4.2): 01 stream(6+).
      const id = r.int(6);
      if (id === NEED_MORE) return -1;
      if (id === TOO_LARGE) throw decoderError('stream ID too large');
      this.#dropStream(id);
    } else {
      // Insert Count Increment (§4.4.3): 00 increment(6+).
      const increment = r.int(6);
      if (increment === NEED_MORE) return -1;
      if (increment === TOO_LARGE || increment === 0 || this.#krc + increment > this.#table.insertCount) {
        throw decoderError(`Insert Count Increment ${increment} (known ${this.#krc}, inserted ${this.#table.insertCount})`);
      }
      this.#krc += increment;
    }
    return r.pos;
  }

  /** Section Acknowledgment: the stream's oldest unacknowledged section (§2.2.2.1, §2.1.4). */
  #acknowledged(streamId: number): void {
    const records = this.#streams.get(streamId);
    if (records === undefined || records.length === 0) {
      throw decoderError(`Section Acknowledgment for stream ${streamId}, which has no unacknowledged section`);
    }
    const rec = records.shift()!;
    this.#outstanding--;
    if (!rec.released) this.#release(rec);
    if (rec.requiredInsertCount > this.#krc) this.#krc = rec.requiredInsertCount;
    if (records.length === 0) {
      this.#streams.delete(streamId);
      this.#closed.delete(streamId);
    }
  }

  /** Stream Cancellation or local bound: all of the stream's sections stop pinning entries. */
  #dropStream(streamId: number): void {
    const records = this.#streams.get(streamId);
    if (records === undefined) return; // nothing outstanding (or already released): not an error
    for (const rec of records) if (!rec.released) this.#release(rec);
    this.#outstanding -= records.length;
    this.#streams.delete(streamId);
    this.#closed.delete(streamId);
  }

  #release(rec: SectionRecord): void {
    rec.released = true;
    for (const abs of rec.refs) {
      const entry = this.#table.get(abs);
      if (entry !== undefined) entry.refs--;
    }
  }

  /**
   * The stream was reset or abandoned locally. Its unacknowledged sections keep their references
   * until the decoder answers with a Section Acknowledgment or a Stream Cancellation, which a
   * conformant decoder sends for a reset stream (§2.2.2.2): releasing them at once would let us
   * evict entries that the peer may still need, for a HEADERS frame already in flight or a section
   * it holds blocked, and fail its whole connection with QPACK_DECOMPRESSION_FAILED. Against a
   * decoder that never answers, once more than 64 closed streams wait for an answer, the oldest
   * one's references are released (by then its data has long arrived or been discarded); its
   * records stay, so a late answer is still accepted. Idempotent.
   */
  streamClosed(streamId: number): void {
    if (!this.#streams.has(streamId) || this.#closed.has(streamId)) return;
    this.#closed.set(streamId, true);
    if (this.#closed.size > MAX_CLOSED_STREAMS) {
      const oldest = this.#closed.keys().next().value as number;
      this.#closed.delete(oldest);
      for (const rec of this.#streams.get(oldest) ?? []) if (!rec.released) this.#release(rec);
    }
  }
}

/** HTTP/3 field names are lowercase (RFC 9114 §4.2); lowercase only when needed. */
function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

/** Fields never put in the dynamic table and sent with the N bit (RFC 9204 §7.1.3). */
function isSensitive(name: string, value: string): boolean {
  switch (name) {
    case 'authorization':
    case 'proxy-authorization':
      return true;
    case 'cookie':
    case 'set-cookie':
      return value.length < COOKIE_MIN_INDEXED;
    default:
      return false;
  }
}

function decoderError(message: string): QpackError {
  return new QpackError(QpackErrorCode.DECODER_STREAM_ERROR, `QPACK decoder stream: ${message}`);
}
