/**
 * The worker's side of a cluster: a `DatagramSocket` whose datagrams arrive from, and leave
 * through, the front thread that owns the real UDP socket (see front.ts). Received batches are
 * handed in by `deliver`; datagrams the endpoint sends are copied into a batch that is posted
 * once the current task (the endpoint's flush of all its connections) is over.
 */

import type { DatagramSocket } from '../endpoint/endpoint.js';
import { BatchReader, BatchWriter, type DatagramBatch } from './batch.js';

type MessageListener = (msg: Buffer, rinfo: { address: string; port: number; family: string }) => void;

export class VirtualSocket implements DatagramSocket {
  readonly #local: { address: string; port: number; family: string };
  readonly #writer: BatchWriter;
  readonly #reader = new BatchReader();
  #onMessage: MessageListener | undefined;
  #flushQueued = false;
  #closed = false;
  #lastRinfo: { address: string; port: number; family: string } = { address: '', port: 0, family: 'IPv4' };
  /** Datagrams received and sent (diagnostics). */
  readonly stats = { received: 0, sent: 0 };
  readonly #flush = (): void => {
    this.#flushQueued = false;
    this.#writer.flush();
  };

  /** `post` carries a batch to the front (with its buffer in the transfer list). */
  constructor(local: { address: string; port: number; family: string }, post: (batch: DatagramBatch) => void) {
    this.#local = local;
    this.#writer = new BatchWriter(post);
  }

  on(event: 'message', listener: MessageListener): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'message' | 'error', listener: MessageListener | ((error: Error) => void)): this {
    // Nothing fails locally: send errors happen at the front, where they are per datagram.
    if (event === 'message') this.#onMessage = listener as MessageListener;
    return this;
  }

  send(data: Uint8Array, offset: number, length: number, port: number, address: string, callback?: (error: Error | null) => void): void {
    if (this.#closed) return;
    this.#writer.append(data, offset, length, port, address, address.includes(':') ? 'IPv6' : 'IPv4');
    this.stats.sent++;
    if (!this.#flushQueued) {
      // After this task: every connection the endpoint flushes in this turn shares one batch.
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    if (callback) queueMicrotask(() => callback(null));
  }

  address(): { address: string; port: number; family: string } {
    return this.#local;
  }

  /** Posts what is pending; later sends are dropped. The port itself is the owner's to close. */
  close(callback: () => void): void {
    this.#writer.flush();
    this.#closed = true;
    queueMicrotask(callback);
  }

  /** Feeds a batch the front forwarded to the endpoint, datagram by datagram. */
  deliver(batch: DatagramBatch): void {
    const listener = this.#onMessage;
    if (listener === undefined || this.#closed) return;
    this.#reader.read(batch, (data, port, address, family) => {
      this.stats.received++;
      // One address object per run of datagrams from one peer (the endpoint never mutates it).
      let rinfo = this.#lastRinfo;
      if (rinfo.port !== port || rinfo.address !== address || rinfo.family !== family) {
        rinfo = { address, port, family };
        this.#lastRinfo = rinfo;
      }
      listener(data, rinfo);
    });
  }
}
