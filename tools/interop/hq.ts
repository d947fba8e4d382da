/**
 * HTTP/0.9 over QUIC ("hq-interop"), the file-transfer protocol of the QUIC interop runner.
 *
 * One client-initiated bidirectional stream per file: the client writes `GET /path\r\n` and
 * FIN; the server answers with the file's bytes and FIN. Nothing else: no headers, no status.
 * Since an error could otherwise be mistaken for file content, this server resets the stream
 * (RESET_STREAM with an `HqErrorCode`) for a malformed request or a missing file, and our client
 * treats a reset as a failed download. (quic-go's own interop server instead writes net/http's
 * "404 page not found" text as the body and FINs: it cannot signal the error.)
 */

import { open, type FileHandle } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { QuicConnection, QuicStream } from '@purequic/quic';

/** The ALPN token interop endpoints use for HTTP/0.9 over QUIC. */
export const HQ_ALPN = 'hq-interop';

/** Application error codes this server resets streams with (HTTP/0.9 defines none). */
export const HqErrorCode = {
  /** The request was not `GET /path` or was too long. */
  BAD_REQUEST: 0x10,
  /** No such file under the served directory. */
  NOT_FOUND: 0x11,
  /** Reading the file failed midway. */
  INTERNAL_ERROR: 0x12,
  /** The client gave up on the response (its STOP_SENDING). */
  CANCELLED: 0x13,
} as const;

/** A request line longer than this is refused (paths in the interop runner are < 300 bytes). */
export const MAX_REQUEST_BYTES = 8 * 1024;
/** File read size when serving: large enough to amortize the per-write cost of the stream. */
const SERVE_CHUNK_BYTES = 64 * 1024;

/** Thrown by `parseHqRequest` for anything but `GET /path`. */
export class HqRequestError extends Error {
  override name = 'HqRequestError';
}

/**
 * Parses a whole request (everything the client sent before FIN) into its path: `/`, then no
 * query or fragment. Accepts `GET /path`, with or without the trailing CRLF / LF / spaces.
 */
export function parseHqRequest(request: Uint8Array): string {
  if (request.length > MAX_REQUEST_BYTES) throw new HqRequestError(`request longer than ${MAX_REQUEST_BYTES} bytes`);
  const line = new TextDecoder('utf-8', { fatal: false }).decode(request).replace(/[\r\n ]+$/, '');
  if (!line.startsWith('GET /')) throw new HqRequestError(`not a GET request: ${JSON.stringify(line.slice(0, 40))}`);
  let target = line.slice(4);
  if (/[\s\0]/.test(target)) throw new HqRequestError('request path holds whitespace or NUL');
  const cut = target.search(/[?#]/);
  if (cut >= 0) target = target.slice(0, cut);
  try {
    return decodeURIComponent(target);
  } catch {
    throw new HqRequestError('request path is not valid percent-encoding');
  }
}

/**
 * The file a request path names under `root`, or undefined when the path would leave `root`
 * (`..` segments): the server never opens anything outside the directory it serves.
 */
export function fileUnderRoot(root: string, requestPath: string): string | undefined {
  const base = resolve(root);
  const file = resolve(base, `.${requestPath.startsWith('/') ? '' : '/'}${requestPath}`);
  return file.startsWith(base + sep) ? file : undefined;
}

/** The request line our client sends for a path. */
export function formatHqRequest(path: string): Uint8Array {
  return new TextEncoder().encode(`GET ${path}\r\n`);
}

export interface HqServeOptions {
  /** Directory whose files are served (the runner's /www). */
  root: string;
  /** One line per failed request; silent when absent. */
  log?: (line: string) => void;
}

/** Serves every bidirectional stream of a connection until it closes. Never rejects. */
export async function serveHqConnection(connection: QuicConnection, options: HqServeOptions): Promise<void> {
  const pending = new Set<Promise<void>>();
  // Ends when the connection closes (the iterator finishes).
  for await (const stream of connection.incomingBidirectionalStreams) {
    const p = serveHqStream(stream, options).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.allSettled(pending);
}

/** Answers one request stream: the file then FIN, or a reset. Never rejects. */
export async function serveHqStream(stream: QuicStream, options: HqServeOptions): Promise<void> {
  let file: FileHandle | undefined;
  let path = '?';
  try {
    const request = await readAll(stream, MAX_REQUEST_BYTES);
    if (request === undefined) {
      stream.stopSending(HqErrorCode.BAD_REQUEST);
      stream.reset(HqErrorCode.BAD_REQUEST);
      options.log?.(`stream ${stream.id}: request longer than ${MAX_REQUEST_BYTES} bytes`);
      return;
    }
    path = parseHqRequest(request);
    const name = fileUnderRoot(options.root, path);
    if (name !== undefined) file = await open(name, 'r').catch(() => undefined);
    if (file === undefined || !(await file.stat()).isFile()) {
      options.log?.(`stream ${stream.id}: not found: ${path}`);
      stream.reset(HqErrorCode.NOT_FOUND);
      return;
    }
    await sendFile(stream, file);
  } catch (error) {
    const code = error instanceof HqRequestError ? HqErrorCode.BAD_REQUEST : HqErrorCode.INTERNAL_ERROR;
    options.log?.(`stream ${stream.id}: ${path}: ${(error as Error).message}`);
    stream.reset(code); // idempotent: harmless if the connection or the peer ended it already
  } finally {
    await file?.close();
  }
}

async function sendFile(stream: QuicStream, file: FileHandle): Promise<void> {
  const writer = stream.writable.getWriter();
  const { size } = await file.stat();
  let sent = 0;
  // Bounded by the file size: every turn sends at least one byte or stops.
  while (sent < size) {
    // A fresh buffer per chunk: the stream may keep a reference to what we hand it.
    const chunk = new Uint8Array(Math.min(SERVE_CHUNK_BYTES, size - sent));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, sent);
    if (bytesRead === 0) break; // the file shrank under us: send what there was
    await writer.write(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    sent += bytesRead;
  }
  await writer.close();
}

/**
 * Reads a stream to its FIN; undefined if it holds more than `limit` bytes (then the caller
 * decides what to tell the peer). Rejects with the stream's error on reset or connection close.
 */
export async function readAll(stream: QuicStream, limit: number): Promise<Uint8Array | undefined> {
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    // Bounded by `limit`: each chunk carries at least one byte until `done`.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) return undefined;
      parts.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Where a fetched response goes: each chunk in order (may be awaited for back-pressure). */
export type HqSink = (chunk: Uint8Array) => void | Promise<void>;

/**
 * Fetches one path on a new bidirectional stream: sends the request with FIN, hands every
 * response chunk to `sink`, resolves with the byte count at the server's FIN. Rejects with a
 * `QuicStreamError` when the server resets the stream or the connection closes, and with an
 * Error when the response exceeds `maxBytes`.
 */
export async function fetchHq(connection: QuicConnection, path: string, sink: HqSink, maxBytes = Number.MAX_SAFE_INTEGER): Promise<number> {
  const stream = await connection.openBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(formatHqRequest(path));
  await writer.close();
  const reader = stream.readable.getReader();
  let total = 0;
  try {
    // Bounded by `maxBytes`: every chunk carries at least one byte until `done`.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return total;
      total += value.length;
      if (total > maxBytes) {
        stream.stopSending(HqErrorCode.CANCELLED);
        throw new Error(`response for ${path} exceeds ${maxBytes} bytes`);
      }
      await sink(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Bytes a download gathers before one `writev`: fewer, larger file writes than one per chunk. */
const DOWNLOAD_FLUSH_BYTES = 256 * 1024;

/** Fetches one path into a file (created or truncated); resolves with the byte count. */
export async function downloadHq(connection: QuicConnection, path: string, destination: string): Promise<number> {
  // The request leaves before the file is open (an fs open is a thread-pool round trip): with
  // 0-RTT, every request should go in the client's first flight, not after the handshake.
  const opening = open(destination, 'w');
  opening.catch(() => undefined); // awaited below; a failure surfaces there
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const parts = pending;
    pending = [];
    pendingBytes = 0;
    await (await opening).writev(parts);
  };
  try {
    const total = await fetchHq(connection, path, async (chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= DOWNLOAD_FLUSH_BYTES) await flush();
    });
    await flush();
    return total;
  } finally {
    // Also creates the file of an empty response; rethrows an open failure.
    await (await opening).close();
  }
}
