/**
 * The HTTP/3 client: `fetch(url, init)` returning a standard `Response`, one connection per
 * origin reused for every request to it (many in parallel), a new connection after GOAWAY
 * (RFC 9114 §5.2), certificate verification on by default.
 */

import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { QuicEndpoint, type ConnectOptions, type EndpointOptions } from '@purequic/quic';
import type { H3Event } from '../connection.js';
import { H3ErrorCode, h3ErrorName } from '../errors.js';
import { type HeaderField, outgoingFields } from '../fields.js';
import { IncomingBody, OutgoingBody } from './body.js';
import { type H3Extension, H3NodeConnection } from './h3-node-connection.js';

export interface Http3ClientOptions {
  /** Extra trust anchors (PEM), in addition to Node's root certificates unless `ca` replaces them. */
  ca?: string | string[];
  /** Trust only these anchors (PEM) instead of Node's root certificates. */
  caOnly?: boolean;
  /** WebTransport-style pinning: SHA-256 of the server's certificate (DER); no chain is built. */
  serverCertificateHashes?: Uint8Array[];
  /** Skip certificate verification (tests only). The handshake signature is still checked. */
  insecure?: boolean;
  /** QUIC endpoint options for the client socket (crypto provider, qlog directory, ...). */
  quic?: EndpointOptions;
  /** Per-connection QUIC options (transport settings, versions, keylog file, ...). */
  connect?: Partial<Omit<ConnectOptions, 'host' | 'port' | 'alpnProtocols' | 'verification' | 'protocol'>>;
  /** HTTP Datagrams (RFC 9297); default true. */
  datagrams?: boolean;
  /** Extensions of HTTP/3 (WebTransport). */
  extensions?: H3Extension[];
  /** SETTINGS_MAX_FIELD_SECTION_SIZE we enforce on responses (default 64 KiB). */
  maxFieldSectionSize?: number;
}

/** Raised when a request fails below HTTP (reset, connection closed, GOAWAY). */
export class Http3RequestError extends Error {
  constructor(
    message: string,
    /** The HTTP/3 error code, when a stream reset or connection close carried one. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'Http3RequestError';
  }
}

/** A request as `fetch` sends it: what `new Request()` would give, without building one when simple. */
interface PreparedRequest {
  method: string;
  url: URL;
  headers: Iterable<[string, string]>;
  /** Bytes sent at once, a stream piped with back-pressure, or none. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  signal: AbortSignal | undefined;
}

/**
 * Normalises fetch's arguments. Strings, URLs, plain header records or arrays or `Headers`, and
 * string or byte bodies take a direct path (building a `Request` costs more than the rest of a
 * small request); anything else goes through `new Request()` for the exact fetch semantics.
 */
function prepare(input: string | URL | Request, init?: RequestInit): PreparedRequest {
  const rawBody = init?.body;
  const simpleBody = rawBody === undefined || rawBody === null || typeof rawBody === 'string' || rawBody instanceof Uint8Array || rawBody instanceof ArrayBuffer;
  if ((typeof input === 'string' || input instanceof URL) && simpleBody && init?.window === undefined) {
    const method = (init?.method ?? 'GET').toUpperCase();
    const url = input instanceof URL ? input : new URL(input);
    const h = init?.headers;
    const headers: [string, string][] = [];
    if (h instanceof Headers) h.forEach((v, k) => headers.push([k, v]));
    else if (Array.isArray(h)) for (const pair of h) headers.push([String(pair[0]), String(pair[1])]);
    else if (h) for (const k of Object.keys(h)) headers.push([k, String((h as Record<string, string>)[k])]);
    let body: Uint8Array | null = null;
    if (typeof rawBody === 'string') {
      body = new TextEncoder().encode(rawBody);
      if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['content-type', 'text/plain;charset=UTF-8']);
    } else if (rawBody instanceof Uint8Array) body = rawBody;
    else if (rawBody instanceof ArrayBuffer) body = new Uint8Array(rawBody);
    if (body !== null && (method === 'GET' || method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
    return { method, url, headers, body, signal: init?.signal ?? undefined };
  }
  const request = new Request(input, init);
  return { method: request.method, url: new URL(request.url), headers: request.headers, body: request.body, signal: request.signal };
}

/** One request in flight on a client connection. */
interface PendingRequest {
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
  body: IncomingBody | undefined;
  upload: OutgoingBody | undefined;
  settled: boolean;
}

/** A connection to one origin and its requests. */
class OriginConnection {
  readonly requests = new Map<number, PendingRequest>();
  /** GOAWAY received or closed: no new requests go here. */
  draining = false;
  #streamWaiters: (() => void)[] = [];

  constructor(readonly conn: H3NodeConnection) {
    conn.setListener((e) => this.#onEvent(e));
  }

  get closed(): boolean {
    return this.conn.h3.isClosed;
  }

  /** Resolves when a stream may be opened (MAX_STREAMS) or the connection ends. */
  waitForStream(): Promise<void> {
    return new Promise((resolve) => this.#streamWaiters.push(resolve));
  }

  #wakeStreamWaiters(): void {
    for (const w of this.#streamWaiters.splice(0)) w();
  }

  #fail(streamId: number, error: Error): void {
    const p = this.requests.get(streamId);
    if (!p) return;
    this.requests.delete(streamId);
    if (!p.settled) {
      p.settled = true;
      p.reject(error);
    }
    p.body?.fail(error);
    p.upload?.fail(error);
  }

  #onEvent(e: H3Event): void {
    switch (e.type) {
      case 'response': {
        const p = this.requests.get(e.streamId);
        if (!p || p.settled) return;
        p.settled = true;
        const body = new IncomingBody(
          this.conn,
          e.streamId,
          () => {
            this.conn.h3.cancel(e.streamId, H3ErrorCode.REQUEST_CANCELLED);
            this.requests.delete(e.streamId);
            this.conn.flush();
          },
          { onEnd: () => this.requests.delete(e.streamId) },
        );
        p.body = body;
        const headers = new Headers();
        for (const f of e.head.fields) {
          try {
            headers.append(f.name, f.value);
          } catch {
            // a field the Headers class refuses is left out
          }
        }
        const nullBody = e.head.status === 204 || e.head.status === 205 || e.head.status === 304;
        if (nullBody) {
          this.conn.h3.discardBody(e.streamId);
          this.requests.delete(e.streamId);
        }
        const stream = nullBody ? null : body.stream;
        p.resolve(new Response(stream, { status: e.head.status, headers }));
        return;
      }
      case 'body-readable':
        this.requests.get(e.streamId)?.body?.onReadable();
        return;
      case 'writable':
        this.requests.get(e.streamId)?.upload?.onWritable();
        return;
      case 'stream-reset':
        this.#fail(e.streamId, new Http3RequestError(`request reset by the server: ${h3ErrorName(e.code)}`, e.code));
        return;
      case 'stop-sending': {
        const p = this.requests.get(e.streamId);
        // RFC 9114 §4.1.1: H3_NO_ERROR means the server answered without needing the rest of the body.
        if (p && e.code !== H3ErrorCode.NO_ERROR) this.#fail(e.streamId, new Http3RequestError(`request refused by the server: ${h3ErrorName(e.code)}`, e.code));
        else p?.upload?.fail(new Http3RequestError('the server stopped reading the request body', e.code));
        return;
      }
      case 'stream-error':
        this.#fail(e.streamId, new Http3RequestError(e.message, e.code));
        return;
      case 'goaway':
        this.draining = true;
        return;
      case 'quic':
        if (e.event.type === 'streams-available') this.#wakeStreamWaiters();
        return;
      case 'closed': {
        this.draining = true;
        const reason = e.reason;
        const code = 'code' in reason ? reason.code : undefined;
        for (const id of [...this.requests.keys()]) this.#fail(id, new Http3RequestError(`connection closed (${reason.kind}${code !== undefined ? ` ${h3ErrorName(code)}` : ''})`, code));
        this.#wakeStreamWaiters();
        return;
      }
      default:
        return;
    }
  }
}

export class Http3Client {
  readonly #options: Http3ClientOptions;
  #endpoint: Promise<QuicEndpoint> | undefined;
  readonly #origins = new Map<string, Promise<OriginConnection>>();
  #closed = false;

  constructor(options: Http3ClientOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.#options = options;
  }

  #getEndpoint(): Promise<QuicEndpoint> {
    this.#endpoint ??= QuicEndpoint.bind(this.#options.quic ?? {});
    return this.#endpoint;
  }

  #verification(): ConnectOptions['verification'] {
    const o = this.#options;
    if (o.insecure) return { mode: 'none' };
    if (o.serverCertificateHashes) return { mode: 'certificate-hashes', hashes: o.serverCertificateHashes };
    const extra = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
    return { mode: 'chain', trustAnchors: o.caOnly ? extra : [...rootCertificates, ...extra] };
  }

  /** The connection for an origin: reused while it is open and not draining. */
  async connection(hostname: string, port: number): Promise<OriginConnection> {
    const key = `${hostname}:${port}`;
    const existing = this.#origins.get(key);
    if (existing) {
      const c = await existing.catch(() => undefined);
      if (c && !c.draining && !c.closed) return c;
      if (this.#origins.get(key) === existing) this.#origins.delete(key);
    }
    const created = this.#connect(hostname, port);
    this.#origins.set(key, created);
    created.catch(() => {
      if (this.#origins.get(key) === created) this.#origins.delete(key);
    });
    return created;
  }

  async #connect(hostname: string, port: number): Promise<OriginConnection> {
    if (this.#closed) throw new Error('client is closed');
    const endpoint = await this.#getEndpoint();
    let origin: OriginConnection | undefined;
    // connect() resolves a name and tries its addresses (IPv6 and IPv4, Happy Eyeballs).
    await endpoint.connect({
      ...this.#options.connect,
      host: hostname,
      port,
      serverName: isIP(hostname) ? undefined : hostname,
      alpnProtocols: ['h3'],
      verification: this.#verification(),
      transport: { ...(this.#options.datagrams === false ? {} : { maxDatagramFrameSize: 65_535 }), ...this.#options.connect?.transport },
      protocol: (quic) => {
        const conn = new H3NodeConnection(quic, { role: 'client', datagrams: this.#options.datagrams !== false, maxFieldSectionSize: this.#options.maxFieldSectionSize }, this.#options.extensions ?? []);
        origin = new OriginConnection(conn);
      },
    });
    return origin!;
  }

  /**
   * Sends a request like the global `fetch`, over HTTP/3: `https:` URLs only. The response body
   * streams; `init.signal` cancels the request (H3_REQUEST_CANCELLED).
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = prepare(input, init);
    const url = request.url;
    if (url.protocol !== 'https:') throw new TypeError(`HTTP/3 needs an https: URL, got ${url.protocol}`);
    const port = url.port ? Number(url.port) : 443;
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    // Without a streamed body the request can be retried on a new connection after a GOAWAY refusal.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(hostname, port, request);
      } catch (e) {
        const retryable = e instanceof Http3RequestError && e.code === H3ErrorCode.REQUEST_REJECTED && !(request.body instanceof ReadableStream) && attempt < 2;
        if (!retryable) throw e;
      }
    }
  }

  async #send(hostname: string, port: number, request: PreparedRequest): Promise<Response> {
    const { signal, url, body } = request;
    signal?.throwIfAborted();
    const origin = await this.connection(hostname, port);
    const fields: HeaderField[] = [
      { name: ':method', value: request.method },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: url.host },
      { name: ':path', value: `${url.pathname}${url.search}` },
      ...outgoingFields(request.headers),
    ];
    const h3 = origin.conn.h3;
    let streamId: number | undefined;
    // Bounded: each wait ends with MAX_STREAMS credit ('streams-available') or the connection's end.
    for (;;) {
      if (origin.closed || origin.draining) return this.#send(hostname, port, request);
      streamId = h3.sendRequest(fields, body === null);
      if (streamId !== undefined) break;
      await origin.waitForStream();
    }
    const id = streamId;
    if (body instanceof Uint8Array) h3.sendData(id, body, true);
    origin.conn.flush();
    return new Promise<Response>((resolve, reject) => {
      const pending: PendingRequest = { resolve, reject, body: undefined, upload: undefined, settled: false };
      origin.requests.set(id, pending);
      if (signal) {
        const onAbort = () => {
          const error = signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
          h3.cancel(id, H3ErrorCode.REQUEST_CANCELLED);
          origin.conn.flush();
          origin.requests.delete(id);
          pending.body?.fail(error);
          pending.upload?.fail(error);
          if (!pending.settled) {
            pending.settled = true;
            reject(error);
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      if (body instanceof ReadableStream) {
        pending.upload = new OutgoingBody(origin.conn, id);
        pending.upload.pipeFrom(body, true).catch(() => {});
      }
    });
  }

  /** Closes every connection (H3_NO_ERROR) and the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const origins = await Promise.all([...this.#origins.values()].map((p) => p.catch(() => undefined)));
    this.#origins.clear();
    for (const o of origins) {
      if (!o) continue;
      o.conn.h3.goaway();
      o.conn.h3.close(H3ErrorCode.NO_ERROR, '');
      o.conn.flush();
    }
    if (this.#endpoint) await (await this.#endpoint).close();
  }
}

let defaultClient: Http3Client | undefined;

/**
 * `fetch` over HTTP/3 with a shared client (Node's root certificates; one connection per origin).
 * Call `closeDefaultClient()` to let the process exit.
 */
export function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  defaultClient ??= new Http3Client();
  return defaultClient.fetch(input, init);
}

/** Closes the shared client `fetch` uses. */
export async function closeDefaultClient(): Promise<void> {
  const c = defaultClient;
  defaultClient = undefined;
  await c?.close();
}
