/**
 * Chooses which stream's data goes into the next STREAM frame, following the RFC 9218 §4
 * priority model: urgency 0 (highest) to 7 (lowest) first; within one urgency, non-incremental
 * streams one at a time in stream ID order (§10: "in order of their stream ID"; a stream with
 * lost data to resend thus keeps its turn), then incremental streams in round-robin, where a
 * stream with lost data goes to the front (RFC 9000 §13.3).
 *
 * Sixteen intrusive doubly linked lists (urgency x incremental) and a bit mask of the non-empty
 * ones make every operation but the ordered insert O(1): `peek` finds the lowest non-empty list with one `clz32`.
 * Usage by the packet builder: `id = peek()`, write a frame from it, then `onSent(id, stillHasData)`.
 */

/** RFC 9218 §4.1: default urgency 3. */
export const DEFAULT_URGENCY = 3;
/** RFC 9218 §4.1: urgency ranges over 0..7. */
export const MAX_URGENCY = 7;

interface ScheduledStream {
  id: number;
  urgency: number;
  incremental: boolean;
  queued: boolean;
  prev: ScheduledStream | undefined;
  next: ScheduledStream | undefined;
}

const LIST_COUNT = (MAX_URGENCY + 1) * 2;

export class StreamScheduler {
  private readonly streams = new Map<number, ScheduledStream>();
  private readonly heads: (ScheduledStream | undefined)[] = new Array<ScheduledStream | undefined>(LIST_COUNT).fill(undefined);
  private readonly tails: (ScheduledStream | undefined)[] = new Array<ScheduledStream | undefined>(LIST_COUNT).fill(undefined);
  /** Bit i set when list i is not empty. */
  private nonEmpty = 0;
  private queuedCount = 0;

  /** Number of streams waiting to send. */
  get size(): number {
    return this.queuedCount;
  }

  /** True if `id` is waiting to send. */
  isScheduled(id: number): boolean {
    return this.streams.get(id)?.queued === true;
  }

  /**
   * Sets a stream's priority (RFC 9218 §4: urgency clamped to 0..7). A waiting stream moves to
   * the back of its new class, like a newly ready one. Streams without a set priority use
   * urgency 3, non-incremental.
   */
  setPriority(id: number, urgency: number, incremental: boolean): void {
    const u = Math.min(MAX_URGENCY, Math.max(0, Math.trunc(urgency)));
    const s = this.streams.get(id);
    if (s === undefined) {
      this.streams.set(id, { id, urgency: u, incremental, queued: false, prev: undefined, next: undefined });
      return;
    }
    if (s.urgency === u && s.incremental === incremental) return;
    const wasQueued = s.queued;
    if (wasQueued) this.unlink(s);
    s.urgency = u;
    s.incremental = incremental;
    if (wasQueued) this.append(s);
  }

  /**
   * Marks `id` as having data to send; a stream already waiting keeps its place. `front` puts
   * it at the head of its class (RFC 9000 §13.3: retransmissions before new data), or moves it
   * there if it was waiting.
   */
  schedule(id: number, front = false): void {
    let s = this.streams.get(id);
    if (s === undefined) {
      s = { id, urgency: DEFAULT_URGENCY, incremental: false, queued: false, prev: undefined, next: undefined };
      this.streams.set(id, s);
    }
    if (!s.incremental) {
      // RFC 9218 §4, §10: non-incremental streams one at a time, in stream ID order (lost data
      // of an earlier stream thus goes before new data of later ones, RFC 9000 §13.3).
      if (!s.queued) this.insertByStreamId(s);
    } else if (front) {
      if (s.queued) this.unlink(s);
      this.prepend(s);
    } else if (!s.queued) this.append(s);
  }

  /** `id` has nothing to send for now (blocked, or drained); its priority is kept. */
  unschedule(id: number): void {
    const s = this.streams.get(id);
    if (s !== undefined && s.queued) this.unlink(s);
  }

  /** Forgets `id` entirely (stream closed). */
  remove(id: number): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    if (s.queued) this.unlink(s);
    this.streams.delete(id);
  }

  /** The stream to send from next, or undefined if none waits. */
  peek(): number | undefined {
    const mask = this.nonEmpty;
    if (mask === 0) return undefined;
    const list = 31 - Math.clz32(mask & -mask);
    return (this.heads[list] as ScheduledStream).id;
  }

  /**
   * Data from `id` was just written. If it has more (`stillHasData`), an incremental stream
   * goes to the back of its round-robin, a non-incremental one keeps the head; otherwise it
   * stops waiting.
   */
  onSent(id: number, stillHasData: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || !s.queued) return;
    if (!stillHasData) {
      this.unlink(s);
      return;
    }
    if (s.incremental && s.next !== undefined) {
      this.unlink(s);
      this.append(s);
    }
  }

  private listOf(s: ScheduledStream): number {
    return s.urgency * 2 + (s.incremental ? 1 : 0);
  }

  private append(s: ScheduledStream): void {
    const list = this.listOf(s);
    const tail = this.tails[list];
    s.prev = tail;
    s.next = undefined;
    if (tail === undefined) {
      this.heads[list] = s;
      this.nonEmpty |= 1 << list;
    } else tail.next = s;
    this.tails[list] = s;
    s.queued = true;
    this.queuedCount++;
  }

  /** Inserts before the first waiting stream with a larger ID (lists are short: a walk suffices). */
  private insertByStreamId(s: ScheduledStream): void {
    const list = this.listOf(s);
    let after = this.tails[list];
    // Bounded by the list length.
    while (after !== undefined && after.id > s.id) after = after.prev;
    if (after === undefined) {
      this.prepend(s);
      return;
    }
    s.prev = after;
    s.next = after.next;
    if (after.next === undefined) this.tails[list] = s;
    else after.next.prev = s;
    after.next = s;
    s.queued = true;
    this.queuedCount++;
  }

  private prepend(s: ScheduledStream): void {
    const list = this.listOf(s);
    const head = this.heads[list];
    s.prev = undefined;
    s.next = head;
    if (head === undefined) {
      this.tails[list] = s;
      this.nonEmpty |= 1 << list;
    } else head.prev = s;
    this.heads[list] = s;
    s.queued = true;
    this.queuedCount++;
  }

  private unlink(s: ScheduledStream): void {
    const list = this.listOf(s);
    if (s.prev === undefined) this.heads[list] = s.next;
    else s.prev.next = s.next;
    if (s.next === undefined) this.tails[list] = s.prev;
    else s.next.prev = s.prev;
    if (this.heads[list] === undefined) this.nonEmpty &= ~(1 << list);
    s.prev = undefined;
    s.next = undefined;
    s.queued = false;
    this.queuedCount--;
  }
}
