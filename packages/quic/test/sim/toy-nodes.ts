/** Small sans-IO nodes for the simulator tests. */

import type { SimNode, SimTransmit } from '../../src/sim/node.js';

function u32At(data: Uint8Array, at: number): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(at);
}

/** A datagram of `size` bytes (>= 4) that carries `seq` in its first four bytes. */
export function numbered(seq: number, size: number): Uint8Array {
  const d = new Uint8Array(Math.max(4, size));
  new DataView(d.buffer).setUint32(0, seq);
  return d;
}

export function seqOf(data: Uint8Array): number {
  return u32At(data, 0);
}

/** Sends `count` numbered datagrams of `size` bytes to `to`, one every `intervalMs` from `startMs`. */
export class PacedSender implements SimNode {
  sent = 0;
  private next: number;
  private pending: SimTransmit | undefined;

  constructor(
    private readonly to: string,
    private readonly count: number,
    private readonly intervalMs: number,
    private readonly size: number,
    startMs = 0,
  ) {
    this.next = startMs;
  }

  handleDatagram(): void {}

  pollTransmit(): SimTransmit | undefined {
    const tx = this.pending;
    this.pending = undefined;
    return tx;
  }

  nextTimeout(): number | undefined {
    return this.sent < this.count ? this.next : undefined;
  }

  handleTimeout(now: number): void {
    if (this.sent >= this.count || now < this.next) return;
    this.pending = { to: this.to, data: numbered(this.sent, this.size) };
    this.sent++;
    this.next += this.intervalMs;
  }
}

/** Sends `count` numbered datagrams to `to` all at once, at the first poll. */
export class BurstSender implements SimNode {
  private sent = 0;
  constructor(
    private readonly to: string,
    private readonly count: number,
    private readonly size: number,
  ) {}
  handleDatagram(): void {}
  pollTransmit(): SimTransmit | undefined {
    if (this.sent >= this.count) return undefined;
    return { to: this.to, data: numbered(this.sent++, this.size) };
  }
  nextTimeout(): number | undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

export interface Arrival {
  time: number;
  seq: number;
  from: string;
  size: number;
}

/** Records every datagram it receives. */
export class Recorder implements SimNode {
  readonly arrivals: Arrival[] = [];
  handleDatagram(data: Uint8Array, from: string, now: number): void {
    this.arrivals.push({ time: now, seq: seqOf(data), from, size: data.length });
  }
  pollTransmit(): SimTransmit | undefined {
    return undefined;
  }
  nextTimeout(): number | undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

/** Answers every datagram with the same bytes, back to the sender. Reuses one buffer. */
export class EchoServer implements SimNode {
  private readonly queue: SimTransmit[] = [];
  private readonly scratch = new Uint8Array(2048);
  handleDatagram(data: Uint8Array, from: string): void {
    this.queue.push({ to: from, data: data.slice() });
  }
  pollTransmit(): SimTransmit | undefined {
    const tx = this.queue.shift();
    if (tx === undefined) return undefined;
    // Hand out a reused buffer: the simulator must copy it.
    this.scratch.set(tx.data);
    return { to: tx.to, data: this.scratch.subarray(0, tx.data.length) };
  }
  nextTimeout(): number | undefined {
    return undefined;
  }
  handleTimeout(): void {}
}

/** Sends numbered pings every `intervalMs` and measures the round trip of each echo. */
export class PingClient implements SimNode {
  readonly sentAt = new Map<number, number>();
  readonly rtts = new Map<number, number>();
  private nextPing = 0;
  private seq = 0;
  private pending: SimTransmit | undefined;

  constructor(
    private readonly server: string,
    private readonly count: number,
    private readonly intervalMs: number,
  ) {}

  handleDatagram(data: Uint8Array, _from: string, now: number): void {
    const seq = seqOf(data);
    const sent = this.sentAt.get(seq);
    if (sent !== undefined && !this.rtts.has(seq)) this.rtts.set(seq, now - sent);
  }

  pollTransmit(): SimTransmit | undefined {
    const tx = this.pending;
    this.pending = undefined;
    return tx;
  }

  nextTimeout(): number | undefined {
    return this.seq < this.count ? this.nextPing : undefined;
  }

  handleTimeout(now: number): void {
    if (this.seq >= this.count || now < this.nextPing) return;
    this.sentAt.set(this.seq, now);
    this.pending = { to: this.server, data: numbered(this.seq, 64) };
    this.seq++;
    this.nextPing = now + this.intervalMs;
  }
}
