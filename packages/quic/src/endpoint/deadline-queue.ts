/**
 * Earliest-deadline queue for the endpoint's single timer: every connection has at most one
 * deadline (its `nextTimeout()`); the endpoint arms one real timer for the earliest of them.
 * A binary min-heap with positions tracked per key, so updating a deadline is O(log n) and
 * no stale entries pile up.
 */
export class DeadlineQueue<K> {
  private readonly keys: K[] = [];
  private readonly times: number[] = [];
  private readonly index = new Map<K, number>();

  get size(): number {
    return this.keys.length;
  }

  /** Earliest deadline, or undefined when empty. */
  peekTime(): number | undefined {
    return this.times[0];
  }

  /** Sets (or with `undefined` removes) the deadline of `key`. */
  set(key: K, time: number | undefined): void {
    const at = this.index.get(key);
    if (time === undefined) {
      if (at !== undefined) this.removeAt(at);
      return;
    }
    if (at === undefined) {
      this.keys.push(key);
      this.times.push(time);
      this.index.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
      return;
    }
    const old = this.times[at]!;
    this.times[at] = time;
    if (time < old) this.up(at);
    else this.down(at);
  }

  delete(key: K): void {
    this.set(key, undefined);
  }

  /** Removes and returns every key whose deadline is <= now (earliest first). */
  popDue(now: number, out: K[] = []): K[] {
    while (this.keys.length > 0 && this.times[0]! <= now) {
      out.push(this.keys[0]!);
      this.removeAt(0);
    }
    return out;
  }

  private removeAt(i: number): void {
    const last = this.keys.length - 1;
    this.index.delete(this.keys[i]!);
    if (i !== last) {
      this.keys[i] = this.keys[last]!;
      this.times[i] = this.times[last]!;
      this.index.set(this.keys[i]!, i);
    }
    this.keys.pop();
    this.times.pop();
    if (i < this.keys.length) {
      this.up(i);
      this.down(i);
    }
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= this.times[i]!) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.times[l]! < this.times[m]!) m = l;
      if (r < n && this.times[r]! < this.times[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const k = this.keys[a]!;
    this.keys[a] = this.keys[b]!;
    this.keys[b] = k;
    const t = this.times[a]!;
    this.times[a] = this.times[b]!;
    this.times[b] = t;
    this.index.set(this.keys[a]!, a);
    this.index.set(this.keys[b]!, b);
  }
}
