/**
 * File transfer over HTTP/3 with @purequic/h3, for the interop endpoint's `http3` case and for
 * cases run over HTTP/3 with h3-only peers (ngtcp2 0.12): a server answering each GET with the
 * file (404 when absent), and a client fetching paths into files over one connection.
 */

import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import type { QuicConnection } from '@purequic/quic';
import { H3NodeConnection, IncomingBody, createServer, type H3Event, type Http3Server, type Http3ServerOptions } from '@purequic/h3';
import { fileUnderRoot } from './hq.js';

/** ALPN of HTTP/3 (RFC 9114 §3.1). */
export const H3_ALPN = 'h3';

/** A response body our client accepts at most (the largest runner file is 25 MiB). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface H3FileServerOptions {
  root: string;
  log?: (line: string) => void;
  /** Every QUIC connection as it is created (for the endpoint's handshake and close lines). */
  onConnection?: (connection: QuicConnection) => void;
}

/** An HTTP/3 server of the files under `root`. */
export function startH3FileServer(listen: Omit<Http3ServerOptions, 'onConnection'>, options: H3FileServerOptions): Promise<Http3Server> {
  return createServer({ ...listen, onConnection: options.onConnection }, async (req, res) => {
    void req.body.cancel().catch(() => {});
    const path = req.url;
    const name = req.method === 'GET' ? fileUnderRoot(options.root, decodeURIComponent(path.split('?')[0]!)) : undefined;
    const st = name === undefined ? undefined : await stat(name).catch(() => undefined);
    if (name === undefined || !st?.isFile()) {
      options.log?.(`not found: ${req.method} ${path}`);
      // A body, as other file servers send: Chromium turns an empty 404 navigation into
      // ERR_HTTP_RESPONSE_CODE_FAILURE, and the browser clients start from the server's origin.
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': st.size });
    await res.sendBody(Readable.toWeb(createReadStream(name)) as ReadableStream<Uint8Array>);
  });
}

/**
 * The HTTP/3 side of a client connection: attach it from `QuicEndpoint.connect`'s `protocol`
 * hook (before any event), then `download` files over it.
 */
export class H3FileClient {
  readonly conn: H3NodeConnection;
  readonly #waiting = new Map<number, { head: (status: number) => void; body: IncomingBody | undefined; fail: (e: Error) => void }>();

  constructor(quic: QuicConnection) {
    this.conn = new H3NodeConnection(quic, { role: 'client' });
    this.conn.setListener((e) => this.#onEvent(e));
  }

  #onEvent(e: H3Event): void {
    switch (e.type) {
      case 'response':
        this.#waiting.get(e.streamId)?.head(e.head.status);
        return;
      case 'body-readable':
        this.#waiting.get(e.streamId)?.body?.onReadable();
        return;
      case 'stream-reset':
      case 'stream-error':
        this.#waiting.get(e.streamId)?.fail(new Error(`stream ${e.streamId}: ${e.type} 0x${e.code.toString(16)}`));
        return;
      case 'closed':
        for (const w of this.#waiting.values()) w.fail(new Error('connection closed'));
        return;
      default:
        return;
    }
  }

  /** GETs `path` and writes the body to `destination`; rejects unless `:status` is 200. Resolves with the byte count. */
  async download(authority: string, path: string, destination: string): Promise<number> {
    const h3 = this.conn.h3;
    let id: number | undefined;
    // Bounded: a request stream opens once the server's MAX_STREAMS allows (it is retried on each event turn).
    for (let attempt = 0; attempt < 6_000 && id === undefined; attempt++) {
      if (h3.isClosed) throw new Error('connection closed');
      id = h3.sendRequest(
        [
          { name: ':method', value: 'GET' },
          { name: ':scheme', value: 'https' },
          { name: ':authority', value: authority },
          { name: ':path', value: path },
        ],
        true,
      );
      if (id === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    if (id === undefined) throw new Error('no request stream within 60 s');
    const streamId = id;
    this.conn.flush();
    const status = await new Promise<number>((resolve, reject) => this.#waiting.set(streamId, { head: resolve, body: undefined, fail: reject }));
    if (status !== 200) {
      this.#waiting.delete(streamId);
      throw new Error(`${path}: status ${status}`);
    }
    const w = this.#waiting.get(streamId)!;
    const body = new IncomingBody(this.conn, streamId, () => h3.cancel(streamId), { maxBytes: MAX_RESPONSE_BYTES });
    w.body = body;
    w.fail = (e) => body.fail(e);
    const out = createWriteStream(destination);
    let bytes = 0;
    try {
      for await (const chunk of body.stream as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      this.#waiting.delete(streamId);
      out.end();
      await once(out, 'close');
    }
    return bytes;
  }
}
