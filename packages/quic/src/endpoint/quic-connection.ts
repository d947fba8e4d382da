/**
 * `QuicConnection`: the promise / async-iterator face of one sans-IO connection.
 *
 * It turns connection events into promise resolutions and stream wake-ups, and asks its
 * endpoint to flush (send what became sendable, re-arm the timer) after every application call.
 * Streams the peer opens are queued until the application takes them — none is ever dropped.
 */

import type { ConnectionCloseReason, ConnectionEvent, PathAddress, SansIoConnection, StreamDirection } from '../connection/types.js';
import { QuicStream, QuicStreamError, type StreamHost } from './quic-stream.js';

/** Raised by `opened`, `openStream` and stream I/O once the connection is closed. */
export class ConnectionClosedError extends Error {
  constructor(readonly reason: ConnectionCloseReason) {
    super(describeClose(reason));
    this.name = 'ConnectionClosedError';
  }
}

/** A sentence saying why a connection ended (who closed it, the code and the reason). */
export function describeClose(reason: ConnectionCloseReason): string {
  switch (reason.kind) {
    case 'transport':
      return `connection closed by ${reason.remote ? 'peer' : 'us'}: transport error 0x${reason.code.toString(16)}${reason.reason ? ` (${reason.reason})` : ''}`;
    case 'application':
      return `connection closed by ${reason.remote ? 'peer' : 'us'}: application code ${reason.code}${reason.reason ? ` (${reason.reason})` : ''}`;
    case 'idle-timeout':
      return 'connection closed: idle timeout';
    case 'stateless-reset':
      return 'connection closed: stateless reset';
    case 'version-negotiation':
      return `connection closed: no common version (server offers ${reason.versions.map((v) => `0x${v.toString(16)}`).join(', ')})`;
  }
}

/** How the facade reaches its driver. */
export interface ConnectionDriver {
  /** Process now: drain events, send datagrams, re-arm the timer. Coalesced per event-loop turn. */
  flush(connection: QuicConnection): void;
  now(): number;
}

/**
 * What a protocol layer above QUIC (HTTP/3, WebTransport) gets when it takes over a connection's
 * events: the sans-IO connection to call, and a way to have the endpoint act on those calls.
 */
export interface ProtocolHost {
  readonly connection: SansIoConnection;
  /** Have the endpoint send what became sendable and re-arm its timer (once per event-loop turn). */
  flush(): void;
  /** The endpoint's clock (ms, monotonic). */
  now(): number;
}

/** A queue that async iterators consume; `end()` finishes every waiting consumer. */
class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((r: IteratorResult<T>) => void)[] = [];
  private ended = false;

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) w({ value: item, done: false });
    else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: async () => ({ value: undefined, done: true }) };
  }
}

/**
 * One QUIC connection: `opened` and `closed` promises, streams (`openBidirectionalStream`,
 * `incomingBidirectionalStreams`, ...), datagrams (`sendDatagram`, `datagrams`) and `close()`.
 */
export class QuicConnection {
  /** Resolves when the handshake completes; rejects if the connection closes first. */
  readonly opened: Promise<void>;
  /** Resolves with why the connection ended (never rejects). */
  readonly closed: Promise<ConnectionCloseReason>;

  /** @internal */
  readonly core: SansIoConnection;
  #driver: ConnectionDriver;
  #streams = new Map<number, QuicStream>();
  #incomingBidi = new AsyncQueue<QuicStream>();
  #incomingUni = new AsyncQueue<QuicStream>();
  #datagrams = new AsyncQueue<Uint8Array>();
  #openWaiters: { direction: StreamDirection; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #resolveOpened!: () => void;
  #rejectOpened!: (e: unknown) => void;
  #resolveClosed!: (r: ConnectionCloseReason) => void;
  /** What the streams call (made with the first stream; one object, no closures per connection). */
  #host: ConnectionStreamHost | undefined;
  #closeError: QuicStreamError | undefined;
  #closedReason: ConnectionCloseReason | undefined;
  #protocol: ((event: ConnectionEvent) => void) | undefined;

  /** @internal created by QuicEndpoint */
  constructor(core: SansIoConnection, driver: ConnectionDriver) {
    this.core = core;
    this.#driver = driver;
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.opened.catch(() => {}); // observed through `closed` as well
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get alpn(): string | undefined {
    return this.core.negotiatedAlpn;
  }

  /** True when the handshake resumed a session with a ticket (no certificate was sent). */
  get resumed(): boolean {
    return this.core.resumed;
  }

  /** True when the server accepted our 0-RTT data (or, at a server, we accepted the client's). */
  get earlyDataAccepted(): boolean {
    return this.core.earlyDataAccepted;
  }

  /** Starts a 1-RTT key update now, or as soon as RFC 9001 §6.1 allows; true if it started now. */
  updateKeys(): boolean {
    const started = this.core.updateKeys();
    this.#driver.flush(this);
    return started;
  }

  /** The negotiated TLS cipher suite (RFC 8446 §B.4 code point) and key exchange group. */
  get cipherSuite(): number | undefined {
    return this.core.cipherSuite;
  }

  get group(): string | undefined {
    return this.core.group;
  }

  get remoteAddress(): PathAddress {
    return this.core.remoteAddress;
  }

  /** The largest datagram payload the peer accepts now; 0 when datagrams are not negotiated. */
  get maxDatagramSize(): number {
    return this.core.maxDatagramPayload;
  }

  /** Opens a bidirectional stream, waiting for MAX_STREAMS credit if needed. */
  openBidirectionalStream(): Promise<QuicStream> {
    return this.#open('bidi');
  }

  /** Opens a unidirectional (send-only) stream, waiting for MAX_STREAMS credit if needed. */
  openUnidirectionalStream(): Promise<QuicStream> {
    return this.#open('uni');
  }

  /** Bidirectional streams the peer opens, in order. Ends when the connection closes. */
  get incomingBidirectionalStreams(): AsyncIterable<QuicStream> {
    return this.#incomingBidi;
  }

  /** Unidirectional streams the peer opens, in order. Ends when the connection closes. */
  get incomingUnidirectionalStreams(): AsyncIterable<QuicStream> {
    return this.#incomingUni;
  }

  /** DATAGRAM payloads received (RFC 9221). Ends when the connection closes. */
  get datagrams(): AsyncIterable<Uint8Array> {
    return this.#datagrams;
  }

  /** Sends an unreliable DATAGRAM; false when too large or not negotiated. */
  sendDatagram(data: Uint8Array): boolean {
    if (this.#closedReason) return false;
    const id = this.core.sendDatagram(data);
    this.#driver.flush(this);
    return id !== undefined;
  }

  /** Closes with an application error code (CONNECTION_CLOSE 0x1d). Idempotent; resolves when closed. */
  close(code = 0, reason = ''): Promise<ConnectionCloseReason> {
    if (!this.#closedReason) {
      this.core.close(code, reason, this.#driver.now());
      this.#driver.flush(this);
    }
    return this.closed;
  }

  /**
   * Hands every event of this connection to a protocol layer (HTTP/3) instead of this facade's
   * streams and datagrams; `opened`, `closed` and `close()` keep working. Call it from the
   * endpoint's `protocol` hook, before any event is dispatched. Once per connection.
   */
  takeEvents(handler: (event: ConnectionEvent) => void): ProtocolHost {
    if (this.#protocol) throw new Error('a protocol layer already took this connection\'s events');
    this.#protocol = handler;
    return { connection: this.core, flush: () => this.#driver.flush(this), now: () => this.#driver.now() };
  }

  /** True once a protocol layer took this connection's events (`takeEvents`). */
  get eventsTaken(): boolean {
    return this.#protocol !== undefined;
  }

  // ---- driver side ----

  /** @internal dispatches one core event */
  onEvent(event: ConnectionEvent): void {
    if (this.#protocol) {
      this.#protocol(event);
      if (event.type === 'handshake-complete') this.#resolveOpened();
      else if (event.type === 'closed') this.#onClosed(event.reason);
      return;
    }
    switch (event.type) {
      case 'handshake-complete':
        this.#resolveOpened();
        break;
      case 'stream-opened': {
        const stream = this.#stream(event.streamId, event.direction, true, event.direction === 'bidi');
        (event.direction === 'bidi' ? this.#incomingBidi : this.#incomingUni).push(stream);
        break;
      }
      case 'stream-readable':
        this.#streams.get(event.streamId)?.onReadable();
        break;
      case 'stream-writable':
        this.#streams.get(event.streamId)?.onWritable();
        break;
      case 'stream-finished':
        this.#streams.get(event.streamId)?.onFinished();
        break;
      case 'stream-reset':
        this.#streams.get(event.streamId)?.onReset(event.errorCode);
        break;
      case 'stream-stop-sending':
        this.#streams.get(event.streamId)?.onStopSending(event.errorCode);
        break;
      case 'streams-available':
        this.#retryOpens();
        break;
      case 'datagram':
        this.#datagrams.push(event.data);
        break;
      case 'early-data':
        if (event.streamsReset) {
          // RFC 9001 §4.6.2: 0-RTT was rejected and the server's limits changed: streams opened
          // in 0-RTT are gone; fail them so the application can start over.
          const err = new QuicStreamError('0-RTT rejected: stream discarded, open a new one', 'connection', undefined);
          for (const s of this.#streams.values()) s.onConnectionClosed(err);
          this.#streams.clear();
        }
        break;
      case 'closed':
        this.#onClosed(event.reason);
        break;
      default:
        break;
    }
  }

  #onClosed(reason: ConnectionCloseReason): void {
    if (this.#closedReason) return;
    this.#closedReason = reason;
    const err = new ConnectionClosedError(reason);
    const closeError = (this.#closeError = new QuicStreamError(err.message, 'connection', 'code' in reason ? reason.code : undefined));
    if (this.#host) this.#host.closeError = closeError;
    this.#rejectOpened(err);
    for (const s of this.#streams.values()) s.onConnectionClosed(closeError);
    for (const w of this.#openWaiters.splice(0)) w.reject(err);
    this.#incomingBidi.end();
    this.#incomingUni.end();
    this.#datagrams.end();
    this.#resolveClosed(reason);
  }

  #stream(id: number, direction: StreamDirection, remote: boolean, canWrite: boolean): QuicStream {
    let s = this.#streams.get(id);
    if (!s) {
      const canRead = direction === 'bidi' || remote;
      this.#host ??= new ConnectionStreamHost(this, this.#driver, this.#streams, this.#closeError);
      s = new QuicStream(this.#host, id, direction, canRead, canWrite);
      this.#streams.set(id, s);
    }
    return s;
  }

  async #open(direction: StreamDirection): Promise<QuicStream> {
    // Bounded by MAX_STREAMS updates: each wake-up is a 'streams-available' event or a close.
    for (;;) {
      if (this.#closedReason) throw new ConnectionClosedError(this.#closedReason);
      const id = this.core.openStream(direction);
      if (id !== undefined) {
        const s = this.#stream(id, direction, false, true);
        this.#driver.flush(this);
        return s;
      }
      await new Promise<void>((resolve, reject) => this.#openWaiters.push({ direction, resolve, reject }));
    }
  }

  #retryOpens(): void {
    for (const w of this.#openWaiters.splice(0)) w.resolve();
  }
}

/**
 * The streams' way back to their connection: a class rather than an object of arrow functions,
 * so an idle connection holds one small object instead of seven closures (issue 11).
 */
class ConnectionStreamHost implements StreamHost {
  closeError: QuicStreamError | undefined;

  constructor(
    readonly connection: QuicConnection,
    readonly driver: ConnectionDriver,
    readonly streams: Map<number, QuicStream>,
    closeError: QuicStreamError | undefined,
  ) {
    this.closeError = closeError;
  }

  read(id: number, max?: number): { data: Uint8Array; fin: boolean } | undefined {
    const r = this.connection.core.readStream(id, max);
    // Reading may open flow-control credit (MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS once the
    // stream is done) or raise events: only then is there anything for a flush to do. An
    // unconditional flush cost one more pass over the connection (events, pollTransmit,
    // deadline) per read.
    if (r && (r.fin || this.connection.core.hasWorkAfterRead)) this.driver.flush(this.connection);
    return r;
  }

  write(id: number, data: Uint8Array, fin: boolean): number {
    const n = this.connection.core.writeStream(id, data, fin);
    this.driver.flush(this.connection);
    return n;
  }

  reset(id: number, code: number, reliableSize?: number): void {
    this.connection.core.resetStream(id, code, reliableSize);
    this.driver.flush(this.connection);
  }

  stopSending(id: number, code: number): void {
    this.connection.core.stopSending(id, code);
    this.driver.flush(this.connection);
  }

  setPriority(id: number, urgency: number, incremental: boolean): void {
    this.connection.core.setStreamPriority(id, urgency, incremental);
  }

  closedError(): QuicStreamError | undefined {
    return this.closeError;
  }

  readableAfterClose(id: number): boolean {
    return this.connection.core.hasReadableAfterClose(id);
  }

  release(id: number, stream: QuicStream): void {
    if (this.streams.get(id) === stream) this.streams.delete(id);
  }
}
