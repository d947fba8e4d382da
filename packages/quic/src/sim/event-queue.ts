/**
 * A min-heap of timed events for the simulator's virtual clock. Events due at the same time
 * come out in insertion order (a sequence number breaks ties), so a run is a pure function of
 * its inputs and seed.
 */

interface Entry<T> {
  time: number;
  seq: number;
  item: T;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  isEmpty(): boolean {
    return this.heap.length === 0;
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  /** Adds `item` due at `time` (virtual ms). */
  push(time: number, item: T): void {
    const heap = this.heap;
    const entry: Entry<T> = { time, seq: this.seq++, item };
    let i = heap.length;
    heap.push(entry);
    // Sift up: at most log2(n) swaps.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry<T>;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes and returns the earliest event's item, or undefined when empty. */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Entry<T>;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      // Sift down: at most log2(n) swaps.
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let child = l;
        if (r < n && before(heap[r] as Entry<T>, heap[l] as Entry<T>)) child = r;
        const c = heap[child] as Entry<T>;
        if (!before(c, last)) break;
        heap[i] = c;
        i = child;
      }
      heap[i] = last;
    }
    return top.item;
  }

  clear(): void {
    this.heap.length = 0;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
