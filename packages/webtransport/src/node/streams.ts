/**
 * The W3C WebTransport stream objects on Node's WHATWG streams: `WebTransportReceiveStream`
 * (a ReadableStream), `WebTransportSendStream` (a WritableStream) and
 * `WebTransportBidirectionalStream`, over a sans-IO `WtStreamCore`. Errors are
 * `WebTransportError`s carrying the peer's application error code (draft-16 §4.4).
 */

import { WtErrorCode, http3CodeToWebTransport, webTransportCodeToHttp3 } from '../codes.js';
import type { WtStreamCore, WtStreamListener } from '../stream-core.js';

/** W3C WebTransportErrorOptions. */
export interface WebTransportErrorOptions {
  source?: 'stream' | 'session';
  streamErrorCode?: number | null;
}

/** W3C `WebTransportError`: a DOMException with where it came from and the stream error code. */
export class WebTransportError extends DOMException {
  readonly source: 'stream' | 'session';
  readonly streamErrorCode: number | null;
  constructor(message = '', options: WebTransportErrorOptions = {}) {
    super(message, 'WebTransportError');
    this.source = options.source ?? 'stream';
    this.streamErrorCode = options.streamErrorCode ?? null;
  }
}

/** Sends what the connection queued (the Node driver's flush). */
export type Flush = () => void;

/** The application code an abort/cancel reason carries (W3C: a WebTransportError's streamErrorCode, else 0). */
function reasonCode(reason: unknown): number {
  const code = (reason as { streamErrorCode?: unknown } | undefined)?.streamErrorCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 0xffffffff ? code : 0;
}

function streamError(h3Code: number, what: string): WebTransportError {
  const code = http3CodeToWebTransport(h3Code);
  return new WebTransportError(`${what}${code === null ? ` (HTTP/3 code 0x${h3Code.toString(16)})` : ` with code ${code}`}`, { source: 'stream', streamErrorCode: code });
}

const sessionGone = () => new WebTransportError('the session ended', { source: 'session' });

/** Per-stream counters (W3C WebTransportSendStreamStats / ReceiveStreamStats, simplified). */
export interface WebTransportStreamStats {
  bytesWritten?: number;
  bytesRead?: number;
}

/**
 * Routes a core stream's signals to the readable and writable halves. One per stream.
 * @internal
 */
class StreamBinding implements WtStreamListener {
  readable?: ReadableState;
  writable?: WritableState;
  constructor(readonly core: WtStreamCore) {
    core.listener = this;
  }
  onReadable(): void {
    this.readable?.wake();
  }
  onWritable(): void {
    this.writable?.wake();
  }
  onReset(h3Code: number): void {
    // WT_SESSION_GONE: the peer's session ended (draft-16 §6), not its application.
    this.readable?.fail(h3Code === WtErrorCode.SESSION_GONE ? sessionGone() : streamError(h3Code, 'the peer reset the stream'));
  }
  onStopSending(h3Code: number): void {
    this.writable?.fail(h3Code === WtErrorCode.SESSION_GONE ? sessionGone() : streamError(h3Code, 'the peer stopped reading the stream'));
  }
  onSessionGone(): void {
    const e = sessionGone();
    this.readable?.fail(e);
    this.writable?.fail(e);
  }
}

class ReadableState {
  controller!: ReadableStreamDefaultController<Uint8Array>;
  #waiter: (() => void) | undefined;
  done = false;
  constructor(
    readonly core: WtStreamCore,
    readonly flush: Flush,
  ) {}

  pull(): Promise<void> {
    return new Promise<void>((resolve) => {
      const attempt = () => {
        if (this.done) return resolve();
        const r = this.core.read();
        if (!r) {
          this.#waiter = attempt;
          return;
        }
        if (r.data.length > 0) this.controller.enqueue(r.data);
        if (r.fin) {
          this.done = true;
          this.controller.close();
        }
        this.flush(); // reading returns flow-control credit
        resolve();
      };
      attempt();
    });
  }

  wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  fail(e: Error): void {
    if (this.done) return;
    this.done = true;
    try {
      this.controller.error(e);
    } catch {
      // already closed
    }
    this.wake();
  }
}

class WritableState {
  controller!: WritableStreamDefaultController;
  #waiter: (() => void) | undefined;
  error: Error | undefined;
  constructor(
    readonly core: WtStreamCore,
    readonly flush: Flush,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('WebTransport streams take Uint8Array chunks');
    let rest = chunk;
    // Bounded by the chunk: every turn writes bytes or waits for credit (or fails).
    while (rest.length > 0) {
      if (this.error) throw this.error;
      if (!this.core.canWrite) throw sessionGone();
      const n = this.core.write(rest, false);
      this.flush();
      rest = rest.subarray(n);
      if (rest.length > 0) await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  close(): void {
    if (this.error) throw this.error;
    this.core.write(new Uint8Array(0), true);
    this.flush();
  }

  abort(reason: unknown): void {
    this.core.reset(webTransportCodeToHttp3(reasonCode(reason)));
    this.flush();
  }

  wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  fail(e: Error): void {
    if (this.error) return;
    this.error = e;
    try {
      this.controller.error(e);
    } catch {
      // already closed
    }
    this.wake();
  }
}

/** W3C `WebTransportReceiveStream`: the incoming bytes of a stream. `cancel(reason)` sends STOP_SENDING. */
export class WebTransportReceiveStream extends ReadableStream<Uint8Array> {
  readonly #state: ReadableState;
  /** @internal */
  constructor(state: ReadableState, highWaterMark: number) {
    super(
      {
        start: (c) => {
          state.controller = c;
        },
        pull: () => state.pull(),
        cancel: (reason) => {
          state.done = true;
          state.core.stopSending(webTransportCodeToHttp3(reasonCode(reason)));
          state.flush();
        },
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
    this.#state = state;
  }

  /** The QUIC stream id. */
  get streamId(): number {
    return this.#state.core.id;
  }

  async getStats(): Promise<WebTransportStreamStats> {
    return { bytesRead: this.#state.core.bytesRead };
  }
}

/** W3C `WebTransportSendStream`: a WritableStream of bytes; `abort(reason)` resets the stream. */
export class WebTransportSendStream extends WritableStream<Uint8Array> {
  readonly #state: WritableState;
  /** W3C sendOrder (kept; every stream has the same priority here). */
  sendOrder = 0;
  /** @internal */
  constructor(state: WritableState, highWaterMark: number) {
    super(
      {
        start: (c) => {
          state.controller = c;
        },
        write: (chunk) => state.write(chunk),
        close: () => state.close(),
        abort: (reason) => state.abort(reason),
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
    this.#state = state;
  }

  get streamId(): number {
    return this.#state.core.id;
  }

  /**
   * Resets the stream with an application error code now (whatever the writer holds is
   * dropped): RESET_STREAM_AT keeping the stream header and the first `reliableSize` body bytes
   * (those already written) when the peer supports it, RESET_STREAM otherwise. Idempotent.
   */
  resetStream(code: number, options: { reliableSize?: number } = {}): void {
    const h3 = webTransportCodeToHttp3(code);
    this.#state.core.reset(h3, options.reliableSize);
    this.#state.flush();
    this.#state.fail(new WebTransportError(`stream reset with code ${code}`, { source: 'stream', streamErrorCode: code }));
  }

  async getStats(): Promise<WebTransportStreamStats> {
    return { bytesWritten: this.#state.core.bytesWritten };
  }
}

/** W3C `WebTransportBidirectionalStream`. */
export interface WebTransportBidirectionalStream {
  readonly readable: WebTransportReceiveStream;
  readonly writable: WebTransportSendStream;
}

export interface StreamWrapOptions {
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

/** @internal wraps a core stream as the W3C objects. */
export function wrapStream(core: WtStreamCore, flush: Flush, options: StreamWrapOptions = {}): { readable?: WebTransportReceiveStream; writable?: WebTransportSendStream } {
  const binding = new StreamBinding(core);
  const out: { readable?: WebTransportReceiveStream; writable?: WebTransportSendStream } = {};
  if (core.canRead) {
    binding.readable = new ReadableState(core, flush);
    // High-water mark 0 by default: bytes are pulled when the application reads, so session
    // credit (WT_MAX_DATA) follows the application, not a queue nobody reads.
    out.readable = new WebTransportReceiveStream(binding.readable, options.readableHighWaterMark ?? 0);
  }
  if (core.canWrite) {
    binding.writable = new WritableState(core, flush);
    out.writable = new WebTransportSendStream(binding.writable, options.writableHighWaterMark ?? 64 * 1024);
  }
  return out;
}
