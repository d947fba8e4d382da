/**
 * A set of half-open integer ranges `[start, end)`, kept sorted, disjoint and with adjacent
 * ranges merged. Used for stream byte ranges (acknowledged, lost) where the number of ranges is
 * small and an ordered flat array beats a tree in JavaScript.
 *
 * Stored flat as `[s0, e0, s1, e1, ...]` so the set costs one array and no per-range objects.
 */
export class RangeSet {
  /** Flat `[start, end)` pairs, ascending; `bounds[2i] < bounds[2i+1] < bounds[2i+2]`. */
  private bounds: number[] = [];

  /** Number of disjoint ranges. */
  get rangeCount(): number {
    return this.bounds.length >> 1;
  }

  isEmpty(): boolean {
    return this.bounds.length === 0;
  }

  /** Sum of the lengths of all ranges. */
  get totalLength(): number {
    let sum = 0;
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) sum += (b[i + 1] as number) - (b[i] as number);
    return sum;
  }

  /** Start of the lowest range, or undefined when empty. */
  get firstStart(): number | undefined {
    return this.bounds[0];
  }

  /** End of the lowest range, or undefined when empty. */
  get firstEnd(): number | undefined {
    return this.bounds[1];
  }

  /** End of the highest range, or undefined when empty. */
  get lastEnd(): number | undefined {
    return this.bounds[this.bounds.length - 1];
  }

  /** Start of range `i` (0-based, ascending). */
  startAt(i: number): number {
    return this.bounds[2 * i] as number;
  }

  /** End of range `i` (0-based, ascending). */
  endAt(i: number): number {
    return this.bounds[2 * i + 1] as number;
  }

  /** Index of the first range whose end is >= `value` (a range touching `value` from below counts). */
  private lowerIndex(value: number): number {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((b[2 * mid + 1] as number) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** True if every integer in `[start, end)` is in the set (an empty range is always contained). */
  containsRange(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.lowerIndex(start + 1);
    if (i >= this.rangeCount) return false;
    return this.startAt(i) <= start && this.endAt(i) >= end;
  }

  /** True if `value` is in the set. */
  has(value: number): boolean {
    return this.containsRange(value, value + 1);
  }

  /** Adds `[start, end)`, merging with overlapping or adjacent ranges. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const b = this.bounds;
    const i = this.lowerIndex(start);
    let j = i;
    let newStart = start;
    let newEnd = end;
    // Merge every range that overlaps or touches [start, end).
    while (2 * j < b.length && (b[2 * j] as number) <= end) {
      newStart = Math.min(newStart, b[2 * j] as number);
      newEnd = Math.max(newEnd, b[2 * j + 1] as number);
      j++;
    }
    if (j === i) b.splice(2 * i, 0, newStart, newEnd);
    else if (j === i + 1) {
      b[2 * i] = newStart;
      b[2 * i + 1] = newEnd;
    } else b.splice(2 * i, 2 * (j - i), newStart, newEnd);
  }

  /** Removes `[start, end)` from the set, splitting a range if needed. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const b = this.bounds;
    const i = this.lowerIndex(start + 1);
    let j = i;
    while (2 * j < b.length && (b[2 * j] as number) < end) j++;
    if (j === i) return;
    // Only the first and last overlapped ranges can stick out of [start, end).
    const headStart = b[2 * i] as number;
    const tailEnd = b[2 * j - 1] as number;
    if (headStart < start && tailEnd > end) b.splice(2 * i, 2 * (j - i), headStart, start, end, tailEnd);
    else if (headStart < start) b.splice(2 * i, 2 * (j - i), headStart, start);
    else if (tailEnd > end) b.splice(2 * i, 2 * (j - i), end, tailEnd);
    else b.splice(2 * i, 2 * (j - i));
  }

  /** Removes everything below `offset`. */
  removeBelow(offset: number): void {
    const first = this.bounds[0];
    if (first === undefined || first >= offset) return;
    this.remove(first, offset);
  }

  /** Removes everything at or above `offset`. */
  removeFrom(offset: number): void {
    const last = this.lastEnd;
    if (last === undefined || last <= offset) return;
    this.remove(offset, last);
  }

  /**
   * Removes and returns the start of the lowest range, taking at most `maxLength` from it;
   * `takenLength` holds how much was taken. Returns -1 when the set is empty.
   */
  takeFirst(maxLength: number): number {
    const b = this.bounds;
    const s = b[0];
    if (s === undefined || maxLength <= 0) {
      this.takenLength = 0;
      return -1;
    }
    const e = b[1] as number;
    const n = Math.min(maxLength, e - s);
    this.takenLength = n;
    if (n === e - s) b.splice(0, 2);
    else b[0] = s + n;
    return s;
  }

  /** Length taken by the last `takeFirst` call. */
  takenLength = 0;

  clear(): void {
    this.bounds.length = 0;
  }

  /** The ranges as `[start, end]` pairs (for tests and debugging; allocates). */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) out.push([b[i] as number, b[i + 1] as number]);
    return out;
  }
}
