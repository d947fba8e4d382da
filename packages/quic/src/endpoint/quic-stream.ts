/**
 * `QuicStream`: one QUIC stream as WHATWG streams over the sans-IO connection.
 *
 * The readable side pulls from the connection when the consumer asks and waits for the
 * connection's `stream-readable` event otherwise; the writable side hands chunks to the
 * connection and waits for `stream-writable` when its send buffer is full (back-pressure).
 * Every reset/stop/close path is idempotent and never throws: resets race (RESET_STREAM,
 * STOP_SENDING and CONNECTION_CLOSE can arrive in one packet).
 */

import { Buffer } from 'node:buffer';
import type { StreamDirection } from '../connection/types.js';

/** Error a stream's readable/writable fail with when the peer resets, stops, or the connection closes. */
export class QuicStreamError extends Error {
  constructor(
    message: string,
    /** 'reset' (peer RESET_STREAM), 'stop-sending' (peer STOP_SENDING), 'connection' (closed), 'local' */
    readonly source: 'reset' | 'stop-sending' | 'connection' | 'local',
    readonly errorCode: number | undefined,
  ) {
    super(message);
    this.name = 'QuicStreamError';
  }
}

/** What a stream facade needs from its connection facade. */
export interface StreamHost {
  read(streamId: number, maxBytes?: number): { data: Uint8Array; fin: boolean } | undefined;
  write(streamId: number, data: Uint8Array, fin: boolean): number;
  reset(streamId: number, errorCode: number, reliableSize?: number): void;
  stopSending(streamId: number, errorCode: number): void;
  setPriority(streamId: number, urgency: number, incremental: boolean): void;
  /** The connection's close error, if it closed. */
  closedError(): QuicStreamError | undefined;
  /** The peer closed the connection, and data it sent on this stream before is still unread. */
  readableAfterClose(streamId: number): boolean;
  /**
   * Both directions are settled (read to the end or failed; FIN acknowledged, reset or
   * receive-only): the connection may forget this facade (issue 12 #5: a peer opening and
   * finishing streams must not grow our memory).
   */
  release(streamId: number, stream: QuicStream): void;
}

type Waiter = { resolve: () => void; reject: (e: unknown) => void };

/** Largest chunk a read hands over at once (readable segments are joined up to this). */
const MAX_COALESCED_CHUNK = 256 * 1024;

/** A QUIC stream as a WHATWG `readable` / `writable` pair, with its id, reset and stop-sending. */
export class QuicStream {
  readonly id: number;
  readonly direction: StreamDirection;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;

  #host: StreamHost;
  #readWaiter: Waiter | undefined;
  #writeWaiter: Waiter | undefined;
  #readError: QuicStreamError | undefined;
  #writeError: QuicStreamError | undefined;
  #readDone = false;
  #writeDone = false;
  #finishedWaiter: Waiter | undefined;
  #finished = false;
  #canWrite: boolean;
  #released = false;
  #readableController!: ReadableStreamDefaultController<Uint8Array>;
  #writableController!: WritableStreamDefaultController;

  /**
   * @param canRead false for a unidirectional stream we opened
   * @param canWrite false for a unidirectional stream the peer opened
   */
  constructor(host: StreamHost, id: number, direction: StreamDirection, canRead: boolean, canWrite: boolean) {
    this.#host = host;
    this.#canWrite = canWrite;
    this.id = id;
    this.direction = direction;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#readableController = c;
          if (!canRead) {
            this.#readDone = true;
            c.close();
          }
        },
        pull: (c) => this.#pull(c),
        cancel: (reason) => {
          this.#readDone = true;
          this.#host.stopSending(this.id, errorCodeOf(reason));
          this.#maybeRelease();
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (c) => {
          this.#writableController = c;
          if (!canWrite) {
            this.#writeDone = true;
            c.error(new QuicStreamError('stream is receive-only', 'local', undefined));
          }
        },
        write: (chunk) => this.#write(chunk),
        close: () => this.#write(new Uint8Array(0), true),
        abort: (reason) => {
          this.#writeDone = true;
          this.#host.reset(this.id, errorCodeOf(reason));
          this.#failWrite(new QuicStreamError('stream aborted locally', 'local', errorCodeOf(reason)));
        },
      },
      { highWaterMark: 1 },
    );
  }

  /** RESET_STREAM: abandon sending. Idempotent. */
  reset(errorCode: number): void {
    this.resetAt(errorCode, undefined);
  }

  /** RESET_STREAM_AT: deliver the first `reliableSize` bytes, then reset. Idempotent. */
  resetAt(errorCode: number, reliableSize: number | undefined): void {
    if (this.#writeDone) return;
    this.#writeDone = true;
    this.#host.reset(this.id, errorCode, reliableSize);
    const err = new QuicStreamError(`stream reset locally with code ${errorCode}`, 'local', errorCode);
    this.#failWrite(err);
  }

  /** STOP_SENDING: ask the peer to stop. Idempotent. */
  stopSending(errorCode: number): void {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#host.stopSending(this.id, errorCode);
    this.#failRead(new QuicStreamError(`stop sending requested with code ${errorCode}`, 'local', errorCode));
  }

  /** RFC 9218-style priority: lower urgency first; incremental streams share round-robin. */
  setPriority(urgency: number, incremental = false): void {
    this.#host.setPriority(this.id, urgency, incremental);
  }

  /** Resolves when everything written (with FIN) was acknowledged by the peer. */
  finished(): Promise<void> {
    if (this.#finished) return Promise.resolve();
    if (this.#writeError) return Promise.reject(this.#writeError);
    return new Promise((resolve, reject) => {
      this.#finishedWaiter = { resolve, reject };
    });
  }

  // ---- called by the connection facade on events ----

  /** @internal */
  onReadable(): void {
    const w = this.#readWaiter;
    this.#readWaiter = undefined;
    w?.resolve();
  }

  /** @internal */
  onWritable(): void {
    const w = this.#writeWaiter;
    this.#writeWaiter = undefined;
    w?.resolve();
  }

  /** @internal */
  onFinished(): void {
    this.#finished = true;
    const w = this.#finishedWaiter;
    this.#finishedWaiter = undefined;
    w?.resolve();
    this.#maybeRelease();
  }

  /** @internal the peer reset its sending side */
  onReset(errorCode: number): void {
    this.#readDone = true;
    this.#failRead(new QuicStreamError(`stream reset by peer with code ${errorCode}`, 'reset', errorCode));
  }

  /** @internal the peer asked us to stop sending (the connection answers with RESET_STREAM) */
  onStopSending(errorCode: number): void {
    this.#writeDone = true;
    this.#failWrite(new QuicStreamError(`peer sent STOP_SENDING with code ${errorCode}`, 'stop-sending', errorCode));
  }

  /** @internal the connection closed */
  onConnectionClosed(err: QuicStreamError): void {
    if (!this.#readDone) {
      if (this.#host.readableAfterClose(this.id)) {
        // What the peer sent before closing is read first; the read fails (or ends) after it.
        this.onReadable();
      } else {
        this.#readDone = true;
        this.#failRead(err);
      }
    }
    if (!this.#writeDone || !this.#finished) {
      this.#writeDone = true;
      this.#failWrite(err);
    }
  }

  // ---- internals ----

  /** Tells the connection once both directions are settled, so it drops this facade. */
  #maybeRelease(): void {
    if (this.#released || !this.#readDone) return;
    if (this.#canWrite && !this.#finished && this.#writeError === undefined) return;
    this.#released = true;
    this.#host.release(this.id, this);
  }

  #failRead(err: QuicStreamError): void {
    if (this.#readError) return;
    this.#readError = err;
    try {
      this.#readableController.error(err);
    } catch {
      // already closed or errored: nothing to tell
    }
    const w = this.#readWaiter;
    this.#readWaiter = undefined;
    w?.reject(err);
    this.#maybeRelease();
  }

  #failWrite(err: QuicStreamError): void {
    if (this.#writeError) return;
    this.#writeError = err;
    try {
      this.#writableController.error(err);
    } catch {
      // already closed or errored
    }
    const w = this.#writeWaiter;
    this.#writeWaiter = undefined;
    w?.reject(err);
    const f = this.#finishedWaiter;
    this.#finishedWaiter = undefined;
    if (!this.#finished) f?.reject(err);
    this.#maybeRelease();
  }

  async #pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    // Bounded: each turn either delivers, ends, fails, or waits for an event.
    for (;;) {
      if (this.#readError) throw this.#readError;
      const closed = this.#host.closedError();
      // Hand over everything readable now as ONE chunk (a read returns one packet's segment):
      // a promise round trip per ~1 KB chunk would make the reader, not the network, set the
      // pace; one copy into a larger chunk is far cheaper. Bounded by the buffered bytes.
      let fin = false;
      for (let chunk = this.#host.read(this.id); chunk !== undefined; chunk = this.#host.read(this.id)) {
        if (chunk.data.length > 0) {
          this.#gather.push(chunk.data);
          this.#gathered += chunk.data.length;
        }
        if (chunk.fin) {
          fin = true;
          break;
        }
        if (this.#gathered >= MAX_COALESCED_CHUNK) break;
      }
      const delivered = this.#gathered > 0;
      if (delivered) c.enqueue(this.#takeGathered());
      if (fin) {
        this.#readDone = true;
        c.close();
        this.#maybeRelease();
        return;
      }
      if (delivered) return;
      if (closed) throw closed;
      await new Promise<void>((resolve, reject) => {
        this.#readWaiter = { resolve, reject };
      });
    }
  }

  readonly #gather: Uint8Array[] = [];
  #gathered = 0;

  #takeGathered(): Uint8Array {
    const parts = this.#gather;
    let out: Uint8Array;
    if (parts.length === 1) out = parts[0]!;
    else {
      // Every byte is written below: no zero-filling first (allocUnsafeSlow: never a slice of
      // node's shared pool, so the chunk's ArrayBuffer holds this stream's bytes only).
      const raw = Buffer.allocUnsafeSlow(this.#gathered);
      out = new Uint8Array(raw.buffer, raw.byteOffset, this.#gathered);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
    }
    parts.length = 0;
    this.#gathered = 0;
    return out;
  }

  async #write(chunk: Uint8Array, fin = false): Promise<void> {
    let offset = 0;
    for (;;) {
      if (this.#writeError) throw this.#writeError;
      const closed = this.#host.closedError();
      if (closed) throw closed;
      const rest = offset === 0 ? chunk : chunk.subarray(offset);
      const accepted = this.#host.write(this.id, rest, fin);
      offset += accepted;
      if (offset >= chunk.length && (accepted === rest.length)) {
        if (fin) this.#writeDone = true;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        this.#writeWaiter = { resolve, reject };
      });
    }
  }
}

/** An application error code from an abort/cancel reason: a number, or an object with `code`/`errorCode`/`streamErrorCode`. */
export function errorCodeOf(reason: unknown): number {
  if (typeof reason === 'number' && Number.isSafeInteger(reason) && reason >= 0) return reason;
  if (typeof reason === 'object' && reason !== null) {
    for (const key of ['streamErrorCode', 'errorCode', 'code'] as const) {
      const v = (reason as Record<string, unknown>)[key];
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    }
  }
  return 0;
}
