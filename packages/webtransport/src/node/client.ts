/**
 * The W3C `WebTransport` client on Node: `new WebTransport(url, options)` opens (or, with
 * `allowPooling`, reuses) an HTTP/3 connection, waits for the server's SETTINGS, and sends the
 * Extended CONNECT of the newest generation the server offers: `webtransport-h3` (draft-07+)
 * when it sent WT_ENABLED or WT_MAX_SESSIONS, draft-02's `webtransport` otherwise.
 */

import { type H3NodeConnection, Http3Client } from '@purequic/h3';
import { WT_BIDI_SIGNAL, WT_UNI_STREAM_TYPE } from '../codes.js';
import { DEFAULT_LIMITS, type WtLimits, WtConnection, webTransportSettings } from '../connection-core.js';
import { WebTransportSessionBase } from './session.js';
import { WebTransportError } from './streams.js';

/** W3C WebTransportHash. */
export interface WebTransportHash {
  algorithm: string;
  value: ArrayBuffer | ArrayBufferView;
}

/** W3C WebTransportOptions, plus Node-only ones. */
export interface WebTransportOptions {
  allowPooling?: boolean;
  requireUnreliable?: boolean;
  serverCertificateHashes?: WebTransportHash[];
  congestionControl?: 'default' | 'throughput' | 'low-latency';
  /** Subprotocols offered (WT-Available-Protocols), most preferred first. */
  protocols?: string[];
  /** Node: the `Origin` header to send (browsers send their page's origin). */
  origin?: string;
  /** Node: trust anchors (PEM) when no certificate hashes are given, added to Node's roots. */
  ca?: string | string[];
  /** Node: skip certificate verification (tests only). */
  insecure?: boolean;
  /** Node: speak draft-02 (as Chromium and Firefox do) even when the server offers newer drafts. */
  draft02?: boolean;
  /** Node: WebTransport limits of the connection. */
  limits?: Partial<WtLimits>;
}

/** Client-side WebTransport state per HTTP/3 connection, created by the extension. */
class ClientExtension {
  readonly byConn = new WeakMap<H3NodeConnection, { wt: WtConnection; settled: Promise<void> }>();
  constructor(readonly limits: WtLimits) {}

  get extension() {
    return {
      settings: webTransportSettings(this.limits),
      streamTypes: { uni: [WT_UNI_STREAM_TYPE], bidi: [WT_BIDI_SIGNAL] },
      protocols: [],
      attach: (conn: H3NodeConnection) => {
        let wake!: () => void;
        const settled = new Promise<void>((r) => (wake = r));
        const wt = new WtConnection(conn.h3, { role: 'client', limits: this.limits, flush: () => conn.flush(), onClosed: () => wake() });
        this.byConn.set(conn, { wt, settled });
        return {
          onEvent: (e: Parameters<WtConnection['handleEvent']>[0]) => {
            const taken = wt.handleEvent(e);
            if (e.type === 'settings' || e.type === 'closed') wake();
            return taken;
          },
        };
      },
    };
  }
}

interface PooledClient {
  client: Http3Client;
  ext: ClientExtension;
  users: number;
}

const pools = new Map<string, PooledClient>();

function hashKey(options: WebTransportOptions): string {
  const hashes = (options.serverCertificateHashes ?? []).map((h) => `${h.algorithm}:${Buffer.from(toBytes(h.value)).toString('hex')}`);
  return JSON.stringify([hashes, options.ca ?? null, options.insecure ?? false]);
}

function toBytes(v: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

function makeClient(options: WebTransportOptions, ext: ClientExtension): Http3Client {
  const hashes = options.serverCertificateHashes;
  if (hashes && hashes.length > 0) {
    for (const h of hashes) if (h.algorithm.toLowerCase() !== 'sha-256') throw new TypeError(`unsupported certificate hash algorithm ${h.algorithm}`);
    return new Http3Client({ extensions: [ext.extension], serverCertificateHashes: hashes.map((h) => toBytes(h.value).slice()) });
  }
  return new Http3Client({ extensions: [ext.extension], ca: options.ca, insecure: options.insecure });
}

/** W3C `WebTransport`, on Node. */
export class WebTransport extends WebTransportSessionBase {
  readonly url: string;
  #pool: PooledClient | undefined;
  #own: Http3Client | undefined;
  #released = false;

  constructor(url: string | URL, options: WebTransportOptions = {}) {
    super(options.congestionControl ?? 'default');
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      throw new DOMException(`invalid URL ${String(url)}`, 'SyntaxError');
    }
    if (parsed.protocol !== 'https:') throw new DOMException(`WebTransport needs an https: URL, got ${parsed.protocol}`, 'SyntaxError');
    if (parsed.hash) throw new DOMException('WebTransport URLs have no fragment', 'SyntaxError');
    this.url = parsed.href;
    if (options.allowPooling && !(options.serverCertificateHashes && options.serverCertificateHashes.length > 0)) {
      const key = hashKey(options);
      let pool = pools.get(key);
      if (!pool) {
        const ext = new ClientExtension({ ...DEFAULT_LIMITS, ...options.limits });
        pool = { client: makeClient(options, ext), ext, users: 0 };
        pools.set(key, pool);
      }
      pool.users++;
      this.#pool = pool;
    } else {
      const ext = new ClientExtension({ ...DEFAULT_LIMITS, ...options.limits });
      this.#own = makeClient(options, ext);
      this.#pool = { client: this.#own, ext, users: 1 };
    }
    void this.#connect(parsed, options).catch((e: unknown) => {
      this.fail(e instanceof WebTransportError ? e : new WebTransportError(`opening handshake failed: ${(e as Error)?.message ?? e}`, { source: 'session' }));
      this.onEnded();
    });
  }

  async #connect(url: URL, options: WebTransportOptions): Promise<void> {
    const pool = this.#pool!;
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 443;
    const origin = await pool.client.connection(hostname, port);
    const entry = pool.ext.byConn.get(origin.conn);
    if (!entry) throw new Error('WebTransport extension missing on the connection');
    // draft-16 §3.1: no session before the server's SETTINGS.
    await entry.settled;
    const wt = entry.wt;
    if (wt.isClosed) throw new WebTransportError('the connection closed before the server settings arrived', { source: 'session' });
    if (!wt.peerVersion()) {
      throw new WebTransportError('the server does not support WebTransport (no WebTransport SETTINGS)', { source: 'session' });
    }
    // Bounded: each wait ends with QUIC stream credit or the connection's end.
    for (let i = 0; ; i++) {
      const core = wt.connect(url.host, `${url.pathname}${url.search}`, { protocols: options.protocols, origin: options.origin, version: options.draft02 ? 'draft02' : undefined });
      if (core) {
        this.bind(core, () => origin.conn.flush());
        origin.conn.flush();
        return;
      }
      if (wt.isClosed || origin.draining || i > 1000) throw new WebTransportError('no stream available for the CONNECT request', { source: 'session' });
      await origin.waitForStream();
    }
  }

  /** @internal the session ended: a connection of our own is closed; pooled ones are released. */
  protected override onEnded(): void {
    if (this.#released) return;
    this.#released = true;
    const pool = this.#pool;
    if (!pool) return;
    pool.users--;
    if (this.#own) {
      // Let the close capsule and FIN leave first (draft-16 §6): CONNECTION_CLOSE on the next turn.
      const own = this.#own;
      setTimeout(() => void own.close().catch(() => {}), 50).unref();
    } else if (pool.users === 0) {
      for (const [k, v] of pools) if (v === pool) pools.delete(k);
      setTimeout(() => void pool.client.close().catch(() => {}), 50).unref();
    }
  }
}
