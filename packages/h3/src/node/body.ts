/**
 * WHATWG streams over an `H3Connection`'s request streams: a body to read (pulled from QUIC as
 * the consumer asks, so flow-control credit follows consumption) and a body sink that respects
 * the stream's back-pressure.
 */

import type { H3Connection } from '../connection.js';

/** How a body stream reaches its connection's driver. */
export interface BodyHost {
  readonly h3: H3Connection;
  /** Have the endpoint act on what the H3 layer queued. */
  flush(): void;
}

export interface IncomingBodyOptions {
  /** Most body bytes accepted; past it `onLimit` runs and the stream errors. */
  maxBytes?: number;
  onLimit?: () => void;
  /** The body was read to its end. */
  onEnd?: () => void;
}

/**
 * The incoming body of one request stream, as a WHATWG stream made only when first asked for (a
 * handler that never looks at a GET's body costs no stream objects). `onReadable` is called on
 * 'body-readable'; `fail` on reset or connection close.
 */
export class IncomingBody {
  #stream: ReadableStream<Uint8Array> | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wake: (() => void) | undefined;
  #done = false;
  #error: Error | undefined;
  #received = 0;

  constructor(
    private readonly host: BodyHost,
    private readonly streamId: number,
    private readonly onCancel: (reason: unknown) => void,
    private readonly options: IncomingBodyOptions = {},
  ) {}

  get stream(): ReadableStream<Uint8Array> {
    this.#stream ??= new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          if (this.#error) controller.error(this.#error);
        },
        pull: (controller) => this.#pull(controller),
        cancel: (reason) => {
          this.#done = true;
          this.onCancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return this.#stream;
  }

  /** True once the application asked for the body stream. */
  get opened(): boolean {
    return this.#stream !== undefined;
  }

  get finished(): boolean {
    return this.#done;
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    // Bounded: every wait ends with a 'body-readable' event, a failure or the end.
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#done) return;
      const r = this.host.h3.readBody(this.streamId);
      if (r) {
        this.host.flush(); // reading may return flow-control credit
        if (r.data.length > 0) {
          this.#received += r.data.length;
          if (this.options.maxBytes !== undefined && this.#received > this.options.maxBytes) {
            this.options.onLimit?.();
            this.fail(new Error(`body exceeds ${this.options.maxBytes} bytes`));
            throw this.#error;
          }
          controller.enqueue(r.data);
        }
        if (r.fin) {
          this.#done = true;
          controller.close();
          this.options.onEnd?.();
        }
        if (r.data.length > 0 || r.fin) return;
        continue;
      }
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  onReadable(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The body ends in an error (reset, malformed, connection closed). Idempotent. */
  fail(error: Error): void {
    if (this.#done || this.#error) return;
    this.#error = error;
    try {
      this.#controller?.error(error);
    } catch {
      // already closed or errored
    }
    this.onReadable();
  }
}

/**
 * Writes body chunks as DATA frames with back-pressure: `write` resolves once the stream took
 * the bytes or has room again ('writable').
 */
export class OutgoingBody {
  #wake: (() => void) | undefined;
  #error: Error | undefined;

  constructor(
    private readonly host: BodyHost,
    private readonly streamId: number,
  ) {}

  get error(): Error | undefined {
    return this.#error;
  }

  /** Queues a chunk; resolves when more may be written. Rejects once the stream failed. */
  async write(chunk: Uint8Array, end = false): Promise<void> {
    if (this.#error) throw this.#error;
    if (!this.host.h3.canWrite(this.streamId)) throw (this.#error = new Error('the stream is closed for writing'));
    const ok = this.host.h3.sendData(this.streamId, chunk, end);
    this.host.flush();
    if (ok || end) return;
    // The wait ends with 'writable' or a failure (reset, STOP_SENDING, connection close).
    await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#error) throw this.#error;
  }

  onWritable(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    this.onWritable();
  }

  /** Sends a whole WHATWG body stream, then ends the HTTP/3 stream (or sends trailers after). */
  async pipeFrom(body: ReadableStream<Uint8Array> | null, endAfter: boolean): Promise<void> {
    if (!body) {
      if (endAfter) await this.write(new Uint8Array(0), true);
      return;
    }
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // The H3 layer keeps the view until QUIC sent it: hand it a chunk nobody else will modify.
        if (value.length > 0) await this.write(value);
      }
      if (endAfter) await this.write(new Uint8Array(0), true);
    } catch (e) {
      await reader.cancel(e).catch(() => {});
      throw e;
    } finally {
      reader.releaseLock();
    }
  }
}

/** Converts a body chunk of any BufferSource-ish type to a Uint8Array view. */
export function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('body chunks must be strings, ArrayBuffers or ArrayBuffer views');
}
