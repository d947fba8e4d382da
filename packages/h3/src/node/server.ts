/**
 * The HTTP/3 server on node:dgram: `createServer(options, (req, res) => ...)` in the spirit of
 * `node:http`, and `serve(options, (request: Request) => Response)` on the WHATWG classes.
 * Extended CONNECT requests (RFC 9220) go to the extensions that claim their `:protocol`
 * (WebTransport) or to `onConnect`.
 */

import { EventEmitter } from 'node:events';
import { QuicEndpoint, type ListenOptions, type QuicConnection } from '@purequic/quic';
import type { H3Event } from '../connection.js';
import { H3ErrorCode, h3ErrorName } from '../errors.js';
import { type HeaderField, type RequestHead, outgoingFields } from '../fields.js';
import { IncomingBody, OutgoingBody, toBytes } from './body.js';
import { type H3Extension, H3NodeConnection } from './h3-node-connection.js';

export interface Http3ServerOptions {
  /** Address to listen on (default '::', dual-stack). */
  host?: string;
  /** UDP port (0 picks a free one; see `server.port`). */
  port: number;
  /** PEM: the leaf first, then intermediates. */
  certificatePem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE we enforce (RFC 9114 §4.2.2); default 64 KiB. */
  maxFieldSectionSize?: number;
  /** Concurrent requests per connection (the QUIC bidirectional stream limit); default 100. */
  maxConcurrentRequests?: number;
  /** Largest request body accepted; a larger one gets 413 or H3_EXCESSIVE_LOAD. Default 64 MiB. */
  maxRequestBodySize?: number;
  /** A request's header section must arrive within this many ms (default 10 s). */
  requestHeadersTimeoutMs?: number;
  /** `close()` waits this long for requests in flight after GOAWAY (default 5 s). */
  closeTimeoutMs?: number;
  /** Accept Extended CONNECT (RFC 9220); on by default when `onConnect` or an extension is given. */
  enableConnectProtocol?: boolean;
  /** HTTP Datagrams (RFC 9297); default true. */
  datagrams?: boolean;
  /** Extended CONNECT requests no extension claims. Without it they are answered 501. */
  onConnect?: (request: ExtendedConnectRequest) => void;
  /** Extensions of HTTP/3 (WebTransport). */
  extensions?: H3Extension[];
  /**
   * Called for each new QUIC connection as it is created (before its handshake): for logging and
   * metrics, e.g. `connection.opened` and `connection.closed`.
   */
  onConnection?: (connection: QuicConnection) => void;
  /** More QUIC endpoint options (crypto provider, qlog directory, Retry policy, transport settings). */
  quic?: Partial<Omit<ListenOptions, 'host' | 'port' | 'certificatePem' | 'privateKeyPem' | 'alpnProtocols'>>;
}

/** A request as the `createServer` handler sees it. */
export class Http3IncomingRequest {
  /** Aborted when the client cancels the request or the connection goes away. */
  readonly signal: AbortSignal;
  readonly #abort = new AbortController();
  /** Trailers, once the body has been read to its end (if the client sent any). */
  trailers: Record<string, string> = {};

  readonly #body: IncomingBody;

  /** @internal */
  constructor(
    readonly head: RequestHead,
    body: IncomingBody,
    readonly remoteAddress: { address: string; port: number },
  ) {
    this.#body = body;
    this.signal = this.#abort.signal;
  }

  /** The request body (empty for GET) as a WHATWG stream. Read it, or cancel it. */
  get body(): ReadableStream<Uint8Array> {
    return this.#body.stream;
  }

  get method(): string {
    return this.head.method;
  }

  /** The path and query (`:path`). */
  get url(): string {
    return this.head.path ?? '';
  }

  get authority(): string | undefined {
    return this.head.authority;
  }

  get scheme(): string | undefined {
    return this.head.scheme;
  }

  /** Header fields by lowercase name; repeated fields joined with ', ' (cookie with '; '). */
  get headers(): Record<string, string> {
    return fieldsToRecord(this.head.fields);
  }

  /** Header fields as received, in order. */
  get rawHeaders(): readonly HeaderField[] {
    return this.head.fields;
  }

  /** The body as chunks. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const reader = this.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** @internal */
  abort(reason: Error): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason);
  }
}

/** The response side of a `createServer` handler, in the spirit of `node:http`'s. */
export class Http3ServerResponse extends EventEmitter {
  statusCode = 200;
  readonly #headers = new Map<string, string>();
  #headersSent = false;
  #ended = false;
  #trailers: [string, string][] = [];
  readonly #body: OutgoingBody;
  #needDrain = false;

  /** @internal */
  constructor(
    private readonly conn: H3NodeConnection,
    readonly streamId: number,
  ) {
    super();
    this.#body = new OutgoingBody(conn, streamId);
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** True once `end()` was called. */
  get writableEnded(): boolean {
    return this.#ended;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  /** Sends the status line and headers now. */
  writeHead(statusCode: number, headers?: Record<string, string | number | readonly string[]>): this {
    if (this.#headersSent) throw new Error('headers already sent');
    this.statusCode = statusCode;
    for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
    this.#sendHead(false);
    return this;
  }

  /** An interim response (e.g. 103 Early Hints, RFC 9114 §4.1). */
  writeInformational(statusCode: number, headers: Record<string, string> = {}): void {
    if (this.#headersSent || statusCode < 100 || statusCode > 199 || statusCode === 101) throw new RangeError('interim responses are 1xx other than 101, before the final one');
    this.conn.h3.sendHeaders(this.streamId, [{ name: ':status', value: String(statusCode) }, ...outgoingFields(Object.entries(headers))], false);
    this.conn.flush();
  }

  /** Trailers to send after the body (RFC 9114 §4.1). */
  addTrailers(trailers: Record<string, string>): void {
    this.#trailers.push(...outgoingFields(Object.entries(trailers)).map((f) => [f.name, f.value] as [string, string]));
  }

  #sendHead(end: boolean): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    const fields: HeaderField[] = [{ name: ':status', value: String(this.statusCode) }, ...outgoingFields(this.#headers)];
    this.conn.h3.sendHeaders(this.streamId, fields, end);
    this.conn.flush();
  }

  /** Writes a body chunk; false when buffered past the high-water mark ('drain' follows). */
  write(chunk: string | Uint8Array): boolean {
    if (this.#ended) throw new Error('write after end');
    this.#sendHead(false);
    const bytes = toBytes(chunk);
    if (bytes.length === 0) return true;
    if (!this.conn.h3.canWrite(this.streamId)) {
      this.#fail(new Error('the response stream is closed'));
      return false;
    }
    const ok = this.conn.h3.sendData(this.streamId, bytes, false);
    this.conn.flush();
    if (!ok) this.#needDrain = true;
    return ok;
  }

  /** Ends the response (with a last chunk). Idempotent. */
  end(chunk?: string | Uint8Array): this {
    if (this.#ended) return this;
    if (chunk !== undefined && !this.#headersSent && !this.#headers.has('content-length')) {
      this.setHeader('content-length', toBytes(chunk).length);
    }
    if (!this.#headersSent && chunk === undefined && this.#trailers.length === 0) {
      this.#ended = true;
      this.#sendHead(true);
      this.emit('finish');
      return this;
    }
    if (chunk !== undefined) this.write(chunk);
    this.#ended = true;
    this.#sendHead(false);
    if (this.#trailers.length > 0) {
      this.conn.h3.sendHeaders(this.streamId, this.#trailers.map(([name, value]) => ({ name, value })), true);
    } else {
      this.conn.h3.end(this.streamId);
    }
    this.conn.flush();
    this.emit('finish');
    return this;
  }

  /** Sends a WHATWG body with back-pressure, then ends the response. */
  async sendBody(body: ReadableStream<Uint8Array> | null): Promise<void> {
    this.#sendHead(false);
    await this.#body.pipeFrom(body, false);
    this.end();
  }

  /** Abandons the response with an HTTP/3 error code (default H3_INTERNAL_ERROR). Idempotent. */
  destroy(code: number = H3ErrorCode.INTERNAL_ERROR): void {
    this.#ended = true;
    this.conn.h3.resetStream(this.streamId, code);
    this.conn.flush();
  }

  /** @internal */
  onWritable(): void {
    this.#body.onWritable();
    if (this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
  }

  /** @internal */
  fail(error: Error): void {
    this.#body.fail(error);
    this.#fail(error);
  }

  #fail(error: Error): void {
    this.#ended = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.emit('close');
  }
}

/** An Extended CONNECT request (RFC 9220) for `onConnect`. */
export interface ExtendedConnectRequest {
  readonly streamId: number;
  readonly head: RequestHead;
  readonly connection: H3NodeConnection;
}

type RequestListener = (req: Http3IncomingRequest, res: Http3ServerResponse) => void | Promise<void>;

export interface Http3ServerStats {
  connections: number;
  requests: number;
  /** Entries our QPACK encoder inserted into peers' dynamic tables, and references to them. */
  qpackInsertsSent: number;
  qpackDynamicReferencesSent: number;
  /** Entries peers inserted into our decoder's dynamic tables. */
  qpackInsertsReceived: number;
}

/** Per-connection bookkeeping of the requests in flight. */
interface Exchange {
  req: Http3IncomingRequest;
  res: Http3ServerResponse;
  body: IncomingBody;
}

export class Http3Server {
  readonly #endpoint: QuicEndpoint;
  readonly #connections = new Set<H3NodeConnection>();
  readonly #options: Http3ServerOptions;
  #closing: Promise<void> | undefined;

  /** @internal use createServer / serve */
  constructor(endpoint: QuicEndpoint, options: Http3ServerOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
  }

  /** The UDP port the server listens on. */
  get port(): number {
    return this.#endpoint.address.port;
  }

  get address(): { address: string; port: number; family: string } {
    return this.#endpoint.address;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** @internal */
  track(conn: H3NodeConnection): void {
    this.#connections.add(conn);
    this.#totals.connections++;
    void conn.quic.closed.then(() => {
      this.#connections.delete(conn);
      this.#addQpack(this.#totals, conn);
    });
  }

  readonly #totals = { connections: 0, requests: 0, qpackInsertsSent: 0, qpackDynamicReferencesSent: 0, qpackInsertsReceived: 0 };

  #addQpack(into: Http3ServerStats, conn: H3NodeConnection): void {
    into.qpackInsertsSent += conn.h3.encoder.stats.inserts;
    into.qpackDynamicReferencesSent += conn.h3.encoder.stats.dynamicReferences;
    into.qpackInsertsReceived += conn.h3.decoder.insertCount;
  }

  /** @internal */
  countRequest(): void {
    this.#totals.requests++;
  }

  /** Connections and requests served so far, and how much the QPACK dynamic tables were used. */
  get stats(): Http3ServerStats {
    const out = { ...this.#totals };
    for (const c of this.#connections) this.#addQpack(out, c);
    return out;
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2): GOAWAY on every connection, requests in flight finish
   * (up to `closeTimeoutMs`), then the connections and the socket close. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      for (const c of this.#connections) {
        c.h3.goaway();
        c.flush();
      }
      const deadline = performance.now() + (this.#options.closeTimeoutMs ?? 5_000);
      // Bounded by the deadline: poll until no request is in flight.
      while (performance.now() < deadline && [...this.#connections].some((c) => c.h3.openRequestCount > 0)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const c of this.#connections) {
        c.h3.close(H3ErrorCode.NO_ERROR, 'server closing');
        c.flush();
      }
      await this.#endpoint.close();
    })();
    return this.#closing;
  }
}

/** Starts an HTTP/3 server whose handler gets `node:http`-style request and response objects. */
export async function createServer(options: Http3ServerOptions, listener: RequestListener): Promise<Http3Server> {
  if (typeof listener !== 'function') throw new TypeError('createServer: the request listener must be a function');
  checkServerOptions(options);
  let server!: Http3Server;
  const extensions = options.extensions ?? [];
  const connectProtocol = options.enableConnectProtocol ?? (options.onConnect !== undefined || extensions.length > 0);
  const maxBody = options.maxRequestBodySize ?? 64 * 1024 * 1024;
  const quicOptions = options.quic ?? {};
  const endpoint = await QuicEndpoint.listen({
    ...quicOptions,
    host: options.host,
    port: options.port,
    certificatePem: options.certificatePem,
    privateKeyPem: options.privateKeyPem,
    alpnProtocols: ['h3'],
    transport: {
      ...(options.datagrams === false ? {} : { maxDatagramFrameSize: 65_535 }),
      ...quicOptions.transport,
      ...(options.maxConcurrentRequests !== undefined ? { initialMaxStreamsBidi: options.maxConcurrentRequests } : {}),
    },
    protocol: (quic: QuicConnection) => {
      const conn = new H3NodeConnection(
        quic,
        {
          role: 'server',
          maxFieldSectionSize: options.maxFieldSectionSize,
          requestHeadersTimeoutMs: options.requestHeadersTimeoutMs,
          enableConnectProtocol: connectProtocol,
          datagrams: options.datagrams !== false,
        },
        extensions,
      );
      server.track(conn);
      options.onConnection?.(quic);
      serveConnection(conn, listener, options, maxBody, () => server.countRequest());
    },
  });
  server = new Http3Server(endpoint, options);
  return server;
}

function checkServerOptions(options: Http3ServerOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.port !== 'number') throw new TypeError('options.port must be a number (0 for any free port)');
  if (typeof options.certificatePem !== 'string') throw new TypeError('options.certificatePem must be a PEM string');
  if (typeof options.privateKeyPem !== 'string') throw new TypeError('options.privateKeyPem must be a PEM string');
}

/** Dispatches one connection's HTTP/3 events to request/response objects. */
function serveConnection(conn: H3NodeConnection, listener: RequestListener, options: Http3ServerOptions, maxBody: number, countRequest: () => void): void {
  const exchanges = new Map<number, Exchange>();
  const fail = (streamId: number, error: Error) => {
    const x = exchanges.get(streamId);
    if (!x) return;
    exchanges.delete(streamId);
    x.body.fail(error);
    x.res.fail(error);
    x.req.abort(error);
  };
  conn.setListener((event: H3Event) => {
    switch (event.type) {
      case 'request': {
        const { streamId, head } = event;
        countRequest();
        if (head.method === 'CONNECT') {
          if (options.onConnect && head.protocol !== undefined) options.onConnect({ streamId, head, connection: conn });
          else {
            conn.h3.sendHeaders(streamId, [{ name: ':status', value: head.protocol === undefined ? '405' : '501' }], true);
            conn.h3.discardBody(streamId);
          }
          return;
        }
        if (head.contentLength !== undefined && head.contentLength > maxBody) {
          // RFC 9110 §15.5.14 413; RFC 9114 §4.1.1: stop the upload without error.
          conn.h3.sendHeaders(streamId, [{ name: ':status', value: '413' }, { name: 'content-length', value: '0' }], true);
          conn.h3.discardBody(streamId);
          return;
        }
        const body = new IncomingBody(conn, streamId, () => conn.h3.discardBody(streamId), {
          maxBytes: maxBody,
          onLimit: () => {
            conn.h3.cancel(streamId, H3ErrorCode.EXCESSIVE_LOAD);
            conn.flush();
          },
        });
        const remote = conn.quic.remoteAddress;
        const req = new Http3IncomingRequest(head, body, { address: remote.address, port: remote.port });
        const res = new Http3ServerResponse(conn, streamId);
        exchanges.set(streamId, { req, res, body });
        res.on('finish', () => {
          // The exchange stays until the request body is done too; a finished response with an
          // unread body asks the client to stop sending (RFC 9114 §4.1.1).
          if (!body.finished) conn.h3.discardBody(streamId);
          exchanges.delete(streamId);
          conn.flush();
        });
        void (async () => {
          try {
            await listener(req, res);
          } catch (e) {
            if (!res.headersSent) {
              res.statusCode = 500;
              res.end();
            } else res.destroy(H3ErrorCode.INTERNAL_ERROR);
            if (!(e instanceof Error && e.name === 'AbortError')) process.emitWarning(`purequic h3: request handler threw: ${(e as Error)?.stack ?? e}`);
          }
        })();
        return;
      }
      case 'body-readable':
        exchanges.get(event.streamId)?.body.onReadable();
        return;
      case 'trailers': {
        const x = exchanges.get(event.streamId);
        if (x) x.req.trailers = fieldsToRecord(event.fields);
        return;
      }
      case 'writable':
        exchanges.get(event.streamId)?.res.onWritable();
        return;
      case 'stream-reset':
        fail(event.streamId, new Error(`request reset by the client: ${h3ErrorName(event.code)}`));
        return;
      case 'stop-sending':
        fail(event.streamId, new Error(`response refused by the client: ${h3ErrorName(event.code)}`));
        return;
      case 'stream-error':
        fail(event.streamId, new Error(event.message));
        return;
      case 'closed':
        for (const id of [...exchanges.keys()]) fail(id, new Error('connection closed'));
        return;
      default:
        return;
    }
  });
}

/**
 * Starts an HTTP/3 server with a fetch-style handler: it gets a WHATWG `Request` and returns a
 * `Response` (or a promise of one).
 */
export async function serve(options: Http3ServerOptions, handler: (request: Request) => Response | Promise<Response>): Promise<Http3Server> {
  if (typeof handler !== 'function') throw new TypeError('serve: the handler must be a function');
  return createServer(options, async (req, res) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const headers = new Headers();
    for (const f of req.rawHeaders) {
      try {
        headers.append(f.name, f.value);
      } catch {
        // a field the Headers class refuses is left out
      }
    }
    const request = new Request(`${req.scheme ?? 'https'}://${req.authority ?? 'localhost'}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? req.body : undefined,
      signal: req.signal,
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
    const response = await handler(request);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    if (req.method === 'HEAD' || response.body === null) {
      res.end();
      return;
    }
    await res.sendBody(response.body);
  });
}

/** Header fields as a record: repeated names joined (RFC 9110 §5.3; cookie with '; ', RFC 9114 §4.2.1). */
export function fieldsToRecord(fields: readonly HeaderField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const prev = out[f.name];
    out[f.name] = prev === undefined ? f.value : `${prev}${f.name === 'cookie' ? '; ' : ', '}${f.value}`;
  }
  return out;
}
