/**
 * The QPACK dynamic table (RFC 9204 §3.2): a FIFO of entries addressed by absolute index, sized in
 * bytes as name + value + 32 (§3.2.1, lengths of the unencoded bytes), capacity-bounded with
 * eviction from the oldest end (§3.2.2). Used by the decoder as is and by the encoder, which also
 * counts references per entry.
 */

import type { QpackEvent } from './events.js';

/** One dynamic table entry. */
export class TableEntry {
  /** Outstanding references from unacknowledged field sections (encoder side only). */
  refs = 0;
  constructor(
    readonly name: string,
    readonly value: string,
    /** Byte length of the name. */
    readonly nameLength: number,
    /** name + value + 32 bytes (RFC 9204 §3.2.1). */
    readonly size: number,
  ) {}
}

/** Entry overhead in bytes (RFC 9204 §3.2.1). */
export const ENTRY_OVERHEAD = 32;

export class DynamicTable {
  /** Live entries, oldest first, from array index `head`. */
  #entries: TableEntry[] = [];
  #head = 0;
  /** Absolute index of #entries[0]. */
  #firstAbs = 0;
  /** Total number of insertions (RFC 9204 §3.2.4: the next absolute index). */
  insertCount = 0;
  /** Sum of the live entries' sizes. */
  size = 0;
  /** Current capacity (Set Dynamic Table Capacity). */
  capacity = 0;

  constructor(
    private readonly observer?: (e: QpackEvent) => void,
    private readonly onEvict?: (abs: number, entry: TableEntry) => void,
  ) {}

  /** Absolute index of the oldest live entry (equals insertCount when empty). */
  get dropped(): number {
    return this.#firstAbs + this.#head;
  }

  /** Number of live entries. */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** The live entry at absolute index `abs`, or undefined if evicted or not inserted yet. */
  get(abs: number): TableEntry | undefined {
    if (abs < this.dropped || abs >= this.insertCount) return undefined;
    return this.#entries[abs - this.#firstAbs];
  }

  /** Sets the capacity and evicts down to it (RFC 9204 §3.2.2). */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    this.evictUntil(capacity);
    this.observer?.({ type: 'capacity', capacity });
  }

  /** Evicts the oldest entries until size <= `limit`. */
  evictUntil(limit: number): void {
    while (this.size > limit) {
      const abs = this.dropped;
      const entry = this.#entries[this.#head]!;
      this.#entries[this.#head] = undefined as unknown as TableEntry;
      this.#head++;
      this.size -= entry.size;
      this.onEvict?.(abs, entry);
      this.observer?.({ type: 'evicted', index: abs });
    }
    // Compact once the dead prefix dominates, so memory follows the live entries (amortised O(1)).
    if (this.#head > 32 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#firstAbs += this.#head;
      this.#head = 0;
    }
  }

  /**
   * Evicts to make room, then appends; returns the new absolute index. The caller has checked
   * size <= capacity and, on the encoder, that every entry evicted here is evictable.
   */
  insert(name: string, value: string, nameLength: number, size: number): number {
    this.evictUntil(this.capacity - size);
    const abs = this.insertCount++;
    this.#entries.push(new TableEntry(name, value, nameLength, size));
    this.size += size;
    this.observer?.({ type: 'inserted', index: abs, name, value });
    return abs;
  }
}
