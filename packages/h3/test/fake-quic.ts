/**
 * A minimal in-memory stand-in for the QUIC side of an \`H3Connection\`: it hands over bytes the
 * test puts on streams and records what HTTP/3 writes. For the fuzz test (100,000 inputs in
 * seconds) and for orderings the simulator does not easily produce.
 */

import type { StreamRead } from '@purequic/quic/sans-io';

/** Records the close and serves each stream's pending bytes. */
export class FakeQuic {
  closedWith: number | undefined;
  readonly inbound = new Map<number, { chunks: Uint8Array[]; fin: boolean }>();
  #next = { bidi: 0, uni: 2 };
  readonly role: 'client' | 'server';

  constructor(role: 'client' | 'server') {
    this.role = role;
    if (role === 'server') this.#next = { bidi: 1, uni: 3 };
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }
  readonly isHandshakeComplete = true;
  readonly maxDatagramPayload = 1200;
  openStream(direction: 'bidi' | 'uni'): number {
    const id = this.#next[direction];
    this.#next[direction] += 4;
    return id;
  }
  /** Everything HTTP/3 wrote, per stream. */
  readonly written = new Map<number, number[]>();
  writeStream(id: number, data: Uint8Array): number {
    const w = this.written.get(id) ?? [];
    w.push(...data);
    this.written.set(id, w);
    return data.length;
  }
  readStream(id: number, maxBytes = Infinity): StreamRead | undefined {
    const s = this.inbound.get(id);
    if (!s) return undefined;
    const chunk = s.chunks.shift();
    if (!chunk) {
      if (s.fin) {
        this.inbound.delete(id);
        return { data: new Uint8Array(0), fin: true };
      }
      return undefined;
    }
    if (chunk.length > maxBytes) {
      s.chunks.unshift(chunk.subarray(maxBytes));
      return { data: chunk.subarray(0, maxBytes), fin: false };
    }
    const fin = s.fin && s.chunks.length === 0;
    if (fin) this.inbound.delete(id);
    return { data: chunk, fin };
  }
  resetStream(): void {}
  stopSending(id: number): void {
    this.inbound.delete(id);
  }
  setStreamPriority(): void {}
  sendDatagram(): number {
    return 0;
  }
  close(code: number): void {
    this.closedWith ??= code;
  }
}

