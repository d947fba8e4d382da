/**
 * The W3C WebTransport session surface on Node, shared by the client (`WebTransport`) and the
 * server's sessions: `ready`, `closed`, `draining`, `close()`, `datagrams`, stream creation and
 * the incoming stream readables, `getStats()`, `protocol`. Bound to a sans-IO `WtSessionCore`.
 */

import type { WtCloseInfo, WtSessionCore, WtSessionListener } from '../session-core.js';
import type { WtStreamCore } from '../stream-core.js';
import { type Flush, WebTransportError, type WebTransportBidirectionalStream, type WebTransportReceiveStream, type WebTransportSendStream, wrapStream } from './streams.js';

/** W3C WebTransportCloseInfo. */
export interface WebTransportCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** W3C WebTransportStats (the fields we know). */
export interface WebTransportStats {
  bytesSent: number;
  bytesReceived: number;
  datagrams: WebTransportDatagramStats;
  minRtt?: number;
}

export interface WebTransportDatagramStats {
  /** Incoming datagrams dropped because the readable's queue was full. */
  droppedIncoming: number;
  /** Outgoing datagrams that could not be sent (too large, closed, queue full). */
  droppedOutgoing: number;
  /** W3C: outgoing datagrams that expired before sending (no expiry here: always 0). */
  expiredOutgoing: number;
  lostOutgoing: number;
  sent: number;
  received: number;
}

/** W3C `WebTransportDatagramDuplexStream`. */
export class WebTransportDatagramDuplexStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Incoming datagrams queued before the oldest is dropped (W3C incomingHighWaterMark). */
  incomingHighWaterMark = 64;
  /** W3C outgoingHighWaterMark: datagrams go out at once here; kept for the API shape. */
  outgoingHighWaterMark = 64;
  incomingMaxAge: number | null = null;
  outgoingMaxAge: number | null = null;
  droppedIncoming = 0;
  #queue: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #ended = false;

  /** @internal */
  constructor(private readonly host: { send(d: Uint8Array): void; maxDatagramSize(): number }) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#controller = c;
        },
        pull: (c) =>
          new Promise<void>((resolve) => {
            const attempt = () => {
              const d = this.#queue.shift();
              if (d) {
                c.enqueue(d);
                return resolve();
              }
              if (this.#ended) return resolve();
              this.#waiter = attempt;
            };
            attempt();
          }),
        cancel: () => {
          this.#ended = true;
          this.#queue = [];
        },
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>({ write: (chunk) => this.host.send(chunk) });
  }

  /** The largest datagram payload that can be sent now. */
  get maxDatagramSize(): number {
    return this.host.maxDatagramSize();
  }

  /** @internal */
  push(d: Uint8Array): void {
    if (this.#ended) return;
    this.#queue.push(d);
    if (this.#queue.length > this.incomingHighWaterMark) {
      this.#queue.shift();
      this.droppedIncoming++;
    }
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** @internal the session ended. */
  end(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      if (error) this.#controller.error(error);
      else this.#controller.close();
    } catch {
      // already closed
    }
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A queue surfaced as a ReadableStream (incoming streams). */
class IncomingQueue<T> {
  readonly stream: ReadableStream<T>;
  #controller!: ReadableStreamDefaultController<T>;
  #done = false;
  constructor() {
    this.stream = new ReadableStream<T>({ start: (c) => void (this.#controller = c) }, { highWaterMark: Infinity });
  }
  push(v: T): void {
    if (!this.#done) this.#controller.enqueue(v);
  }
  end(error: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    try {
      if (error) this.#controller.error(error);
      else this.#controller.close();
    } catch {
      // already closed
    }
  }
}

/** The W3C session surface; subclassed by `WebTransport` (client) and `WebTransportSession` (server). */
export class WebTransportSessionBase {
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly draining: Promise<void>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<WebTransportReceiveStream>;
  /** W3C reliability / congestionControl (informational). */
  readonly reliability = 'supports-unreliable';
  readonly congestionControl: 'default' | 'throughput' | 'low-latency';

  #core: WtSessionCore | undefined;
  #flush: Flush = () => {};
  readonly #ready = deferred<void>();
  readonly #closed = deferred<WebTransportCloseInfo>();
  readonly #draining = deferred<void>();
  readonly #incomingBidi = new IncomingQueue<WebTransportBidirectionalStream>();
  readonly #incomingUni = new IncomingQueue<WebTransportReceiveStream>();
  #creditWaiters: (() => void)[] = [];
  #settled = false;
  #isReady = false;
  /** A close() before the session was bound. */
  #earlyClose: WebTransportCloseInfo | undefined;
  #lastStats: WebTransportStats | undefined;

  /** @internal */
  constructor(congestionControl: 'default' | 'throughput' | 'low-latency' = 'default') {
    this.congestionControl = congestionControl;
    this.ready = this.#ready.promise;
    this.closed = this.#closed.promise;
    this.draining = this.#draining.promise;
    this.datagrams = new WebTransportDatagramDuplexStream({
      send: (d) => this.#sendDatagram(d),
      maxDatagramSize: () => this.#core?.maxDatagramSize ?? 0,
    });
    this.incomingBidirectionalStreams = this.#incomingBidi.stream;
    this.incomingUnidirectionalStreams = this.#incomingUni.stream;
  }

  /** The subprotocol the server chose (WT-Protocol), or ''. */
  get protocol(): string {
    return this.#core?.protocol ?? '';
  }

  /** @internal binds the sans-IO session. */
  protected bind(core: WtSessionCore, flush: Flush): void {
    this.#core = core;
    this.#flush = flush;
    const listener: WtSessionListener = {
      onReady: () => this.markReady(),
      onClosed: (info) => this.#onClosed(info),
      onDraining: () => this.#draining.resolve(),
      onStream: (s) => this.#onStream(s),
      onDatagram: (d) => this.datagrams.push(d.slice()),
      onCredit: () => {
        for (const w of this.#creditWaiters.splice(0)) w();
      },
    };
    core.listener = listener;
    if (this.#earlyClose && core.state !== 'closed') {
      const c = this.#earlyClose;
      core.close(c.closeCode ?? 0, c.reason ?? '');
      flush();
    }
  }

  /** @internal */
  protected markReady(): void {
    if (this.#isReady || this.#settled) return;
    this.#isReady = true;
    this.#ready.resolve();
  }

  /** @internal fails the session before it was bound (connect errors). */
  protected fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#ready.reject(error);
    this.#closed.reject(error);
    this.#end(error);
  }

  #onClosed(info: WtCloseInfo): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#lastStats = this.#stats();
    if (info.kind === 'closed') {
      if (!this.#isReady) this.#ready.reject(new WebTransportError('the session was closed before it was established', { source: 'session' }));
      this.#closed.resolve({ closeCode: info.code, reason: info.reason });
      this.#end(undefined);
    } else {
      const e = new WebTransportError(info.message, { source: 'session' });
      if (!this.#isReady) this.#ready.reject(e);
      this.#closed.reject(e);
      this.#end(e);
    }
    this.onEnded();
  }

  /** @internal hook for subclasses (client: close its own connection). */
  protected onEnded(): void {}

  #end(error: Error | undefined): void {
    this.#incomingBidi.end(error);
    this.#incomingUni.end(error);
    this.datagrams.end(error);
    for (const w of this.#creditWaiters.splice(0)) w();
  }

  #onStream(core: WtStreamCore): void {
    const s = wrapStream(core, this.#flush);
    if (core.bidi) this.#incomingBidi.push({ readable: s.readable!, writable: s.writable! });
    else this.#incomingUni.push(s.readable!);
  }

  #sendDatagram(d: Uint8Array): void {
    if (!(d instanceof Uint8Array)) throw new TypeError('datagrams are Uint8Array');
    const core = this.#core;
    if (!core) return;
    // W3C: a datagram larger than maxDatagramSize is dropped (counted here).
    core.sendDatagram(d);
    this.#flush();
  }

  async #open(bidi: boolean): Promise<WtStreamCore> {
    await this.ready;
    // Bounded: each wait ends with stream credit or the session's end.
    for (;;) {
      const core = this.#core;
      if (!core || core.state !== 'open') throw new WebTransportError('the session is closed', { source: 'session' });
      const s = core.openStream(bidi);
      this.#flush();
      if (s) return s;
      await new Promise<void>((r) => this.#creditWaiters.push(r));
    }
  }

  /** Opens a bidirectional stream (W3C createBidirectionalStream). */
  async createBidirectionalStream(options: { sendOrder?: number } = {}): Promise<WebTransportBidirectionalStream> {
    const s = wrapStream(await this.#open(true), this.#flush);
    if (options.sendOrder !== undefined) s.writable!.sendOrder = options.sendOrder;
    return { readable: s.readable!, writable: s.writable! };
  }

  /** Opens a unidirectional stream (W3C createUnidirectionalStream). */
  async createUnidirectionalStream(options: { sendOrder?: number } = {}): Promise<WebTransportSendStream> {
    const s = wrapStream(await this.#open(false), this.#flush);
    if (options.sendOrder !== undefined) s.writable!.sendOrder = options.sendOrder;
    return s.writable!;
  }

  /**
   * Closes the session with a code and reason (W3C close(); WT_CLOSE_SESSION, draft-16 §6).
   * Idempotent, never throws.
   */
  close(info: WebTransportCloseInfo = {}): void {
    const code = Number.isInteger(info.closeCode) && info.closeCode! >= 0 && info.closeCode! <= 0xffffffff ? info.closeCode! : 0;
    const reason = typeof info.reason === 'string' ? info.reason : '';
    const core = this.#core;
    if (!core) {
      this.#earlyClose = { closeCode: code, reason };
      return;
    }
    core.close(code, reason);
    this.#flush();
  }

  /** Sends WT_DRAIN_SESSION: asks the peer to wind the session down (draft-16 §4.6). */
  drain(): void {
    this.#core?.drain();
    this.#flush();
  }

  #stats(): WebTransportStats {
    const s = this.#core?.stats;
    return {
      bytesSent: s?.bytesSent ?? 0,
      bytesReceived: s?.bytesReceived ?? 0,
      datagrams: {
        droppedIncoming: this.datagrams.droppedIncoming,
        droppedOutgoing: s?.datagramsDroppedOutgoing ?? 0,
        expiredOutgoing: 0,
        lostOutgoing: 0,
        sent: s?.datagramsSent ?? 0,
        received: s?.datagramsReceived ?? 0,
      },
    };
  }

  /** W3C getStats(). */
  async getStats(): Promise<WebTransportStats> {
    return this.#lastStats ?? this.#stats();
  }

  /** @internal the sans-IO session (tests). */
  get core(): WtSessionCore | undefined {
    return this.#core;
  }
}
