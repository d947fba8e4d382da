/**
 * WebTransport servers on Node: `webTransportExtension()` to put on an existing HTTP/3 server
 * (`createServer({ extensions: [ext] })`, the Extended CONNECT hook) and the standalone
 * `createWebTransportServer(options)`, whose sessions arrive as an async iterable (and a
 * ReadableStream). Each session is accepted (`accept({ protocol })`) or rejected (`reject(status)`).
 */

import { type H3Extension, type H3NodeConnection, type Http3Server, type Http3ServerOptions, type HeaderField, createServer, fieldsToRecord } from '@purequic/h3';
import { PROTOCOL_DRAFT02, PROTOCOL_H3, WT_BIDI_SIGNAL, WT_UNI_STREAM_TYPE } from '../codes.js';
import { type WtLimits, WtConnection, webTransportSettings, DEFAULT_LIMITS } from '../connection-core.js';
import type { WtSessionCore } from '../session-core.js';
import { WebTransportSessionBase } from './session.js';

/** A session request on the server: inspect it, then `accept()` or `reject()`. */
export class WebTransportSession extends WebTransportSessionBase {
  readonly #core: WtSessionCore;
  readonly #conn: H3NodeConnection;

  /** @internal */
  constructor(core: WtSessionCore, conn: H3NodeConnection) {
    super();
    this.#core = core;
    this.#conn = conn;
    this.bind(core, () => conn.flush());
  }

  /** The request's path and query (`:path`). */
  get path(): string {
    return this.#core.head?.path ?? '';
  }

  get authority(): string {
    return this.#core.head?.authority ?? '';
  }

  /** `https://authority/path`. */
  get url(): string {
    return `https://${this.authority}${this.path}`;
  }

  /** The request's header fields by name (origin, wt-available-protocols, ...). */
  get headers(): Record<string, string> {
    return fieldsToRecord(this.#core.head?.fields ?? []);
  }

  get rawHeaders(): readonly HeaderField[] {
    return this.#core.head?.fields ?? [];
  }

  /** The `Origin` header (browsers always send it; check it, draft-16 §3.2). */
  get origin(): string | undefined {
    return this.headers.origin;
  }

  /** Which generation the client speaks: 'draft02' (`:protocol webtransport`, browsers) or 'h3'. */
  get version(): 'draft02' | 'h3' {
    return this.#core.version;
  }

  /** The subprotocols the client offered, most preferred first. */
  get offeredProtocols(): readonly string[] {
    return this.#core.offeredProtocols;
  }

  get remoteAddress(): { address: string; port: number } {
    const r = this.#conn.quic.remoteAddress;
    return { address: r.address, port: r.port };
  }

  /**
   * Accepts the session (200); `protocol` (one of `offeredProtocols`) is sent as WT-Protocol.
   * Streams and datagrams that arrived before are delivered now.
   */
  accept(options: { protocol?: string; headers?: Record<string, string> } = {}): void {
    if (this.#core.accept({ protocol: options.protocol, headers: Object.entries(options.headers ?? {}) })) this.markReady();
    this.#conn.flush();
  }

  /** Refuses the session with an HTTP status (default 404). Idempotent. */
  reject(status = 404): void {
    this.#core.reject(status);
    this.#conn.flush();
  }
}

export interface WebTransportExtensionOptions {
  /** Called for every session request (otherwise take them from `sessions`). */
  onSession?: (session: WebTransportSession) => void;
  /** Per-connection limits (buffered streams, sessions, flow-control windows). */
  limits?: Partial<WtLimits>;
}

/** An HTTP/3 extension serving WebTransport, with the session requests it received. */
export interface WebTransportExtension extends H3Extension {
  /** Session requests, in arrival order (when no `onSession` was given). */
  readonly sessions: ReadableStream<WebTransportSession>;
  /** The WebTransport state of an HTTP/3 connection (tests, stats). */
  connectionOf(conn: H3NodeConnection): WtConnection | undefined;
  /** Ends `sessions` (the server is closing); later requests are refused with 503. Idempotent. */
  end(): void;
}

/** The Extended CONNECT hook: put it in `createServer({ extensions: [...] })`. */
export function webTransportExtension(options: WebTransportExtensionOptions = {}): WebTransportExtension {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const byConn = new WeakMap<H3NodeConnection, WtConnection>();
  let controller!: ReadableStreamDefaultController<WebTransportSession>;
  const sessions = new ReadableStream<WebTransportSession>({ start: (c) => void (controller = c) }, { highWaterMark: Infinity });
  let ended = false;
  return {
    end: () => {
      if (ended) return;
      ended = true;
      try {
        controller.close();
      } catch {
        // cancelled by its reader
      }
    },
    settings: webTransportSettings(limits),
    streamTypes: { uni: [WT_UNI_STREAM_TYPE], bidi: [WT_BIDI_SIGNAL] },
    protocols: [PROTOCOL_DRAFT02, PROTOCOL_H3],
    sessions,
    connectionOf: (conn) => byConn.get(conn),
    attach(conn: H3NodeConnection) {
      const wt = new WtConnection(conn.h3, {
        role: 'server',
        limits,
        flush: () => conn.flush(),
        onSessionRequest: (core) => {
          const session = new WebTransportSession(core, conn);
          if (options.onSession) {
            try {
              options.onSession(session);
            } catch (e) {
              session.reject(500);
              process.emitWarning(`purequic webtransport: onSession threw: ${(e as Error)?.stack ?? e}`);
            }
          } else {
            try {
              controller.enqueue(session);
            } catch {
              session.reject(503);
            }
          }
        },
      });
      byConn.set(conn, wt);
      return { onEvent: (e) => wt.handleEvent(e) };
    },
  };
}

export interface WebTransportServerOptions extends Omit<Http3ServerOptions, 'extensions' | 'onConnect'> {
  limits?: Partial<WtLimits>;
  /** Plain HTTP/3 requests (not WebTransport); default: 404. */
  requestListener?: Parameters<typeof createServer>[1];
}

/** A standalone WebTransport server: `for await (const session of server) { session.accept(); ... }`. */
export class WebTransportServer implements AsyncIterable<WebTransportSession> {
  /** @internal */
  constructor(
    readonly http3: Http3Server,
    readonly extension: WebTransportExtension,
  ) {}

  get port(): number {
    return this.http3.port;
  }

  get address(): { address: string; port: number; family: string } {
    return this.http3.address;
  }

  /** Session requests as a ReadableStream. */
  get sessions(): ReadableStream<WebTransportSession> {
    return this.extension.sessions;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WebTransportSession> {
    const reader = this.extension.sessions.getReader();
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

  /** Ends the session iteration, closes every connection (GOAWAY first) and the socket. Idempotent. */
  close(): Promise<void> {
    this.extension.end();
    return this.http3.close();
  }
}

/** Starts an HTTP/3 server that serves WebTransport sessions (every draft browsers and peers speak). */
export async function createWebTransportServer(options: WebTransportServerOptions): Promise<WebTransportServer> {
  const extension = webTransportExtension({ limits: options.limits });
  const listener =
    options.requestListener ??
    ((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
  const http3 = await createServer({ ...options, closeTimeoutMs: options.closeTimeoutMs ?? 1000, extensions: [extension] }, listener);
  return new WebTransportServer(http3, extension);
}
