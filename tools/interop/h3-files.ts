/**
 * File transfer over the minimal HTTP/3 of h3-minimal.ts, for the interop endpoint's `http3`
 * case and for cases run over HTTP/3 with h3-only peers (ngtcp2 0.12): a server answering each
 * GET with `:status 200` and the file in DATA frames (404 when absent), and a client fetching a
 * path into a file. Test scaffolding until packages/h3 serves the endpoint.
 */

import { open, writeFile, type FileHandle } from 'node:fs/promises';
import type { QuicConnection, QuicStream } from '@purequic/quic';
import { fileUnderRoot, readAll } from './hq.js';
import { decodeFieldSection, encodeFrame, encodeGetRequest, H3Frame, openControlStream, parseFrames, responseBody } from './h3-minimal.js';

/** ALPN of HTTP/3 (RFC 9114 §3.1). */
export const H3_ALPN = 'h3';

/** RFC 9114 §8.1 error codes we use on request streams. */
const H3Error = { GENERAL_PROTOCOL_ERROR: 0x101, INTERNAL_ERROR: 0x102, REQUEST_REJECTED: 0x10b, MESSAGE_ERROR: 0x10e } as const;

/** A request is HEADERS only; more than this is refused. */
const MAX_REQUEST_BYTES = 16 * 1024;
/** DATA frame payload per write. */
const DATA_CHUNK_BYTES = 64 * 1024;
/** A response body our client accepts at most (the largest runner file is 25 MiB). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** QPACK static index of `:status 404` (RFC 9204 Appendix A, 27), as an indexed field line. */
const STATUS_404_BLOCK = Uint8Array.from([0x00, 0x00, 0xc0 | 27]);
/** QPACK static index of `:status 200` (25). */
const STATUS_200_BLOCK = Uint8Array.from([0x00, 0x00, 0xc0 | 25]);

export interface H3ServeOptions {
  root: string;
  log?: (line: string) => void;
}

/** Opens our control stream and serves every request stream until the connection closes. Never rejects. */
export async function serveH3Connection(connection: QuicConnection, options: H3ServeOptions): Promise<void> {
  // RFC 9114 §6.2.1: each side opens a control stream and keeps it open.
  await openControlStream(connection).catch(() => undefined);
  const pending = new Set<Promise<void>>();
  for await (const stream of connection.incomingBidirectionalStreams) {
    const p = serveH3Stream(stream, options).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.allSettled(pending);
}

async function serveH3Stream(stream: QuicStream, options: H3ServeOptions): Promise<void> {
  let file: FileHandle | undefined;
  let path = '?';
  try {
    const request = await readAll(stream, MAX_REQUEST_BYTES);
    if (request === undefined) {
      stream.stopSending(H3Error.REQUEST_REJECTED);
      stream.reset(H3Error.REQUEST_REJECTED);
      return;
    }
    const headers = parseFrames(request).find((f) => f.type === H3Frame.HEADERS);
    if (!headers) throw new Error('request without HEADERS');
    const fields = decodeFieldSection(headers.payload);
    path = fields.find(([name]) => name === ':path')?.[1] ?? '?';
    const method = fields.find(([name]) => name === ':method')?.[1];
    const name = method === 'GET' ? fileUnderRoot(options.root, decodeURIComponent(path.split('?')[0]!)) : undefined;
    if (name !== undefined) file = await open(name, 'r').catch(() => undefined);
    const writer = stream.writable.getWriter();
    if (file === undefined || !(await file.stat()).isFile()) {
      options.log?.(`stream ${stream.id}: not found: ${method} ${path}`);
      await writer.write(encodeFrame(H3Frame.HEADERS, STATUS_404_BLOCK));
      await writer.close();
      return;
    }
    await writer.write(encodeFrame(H3Frame.HEADERS, STATUS_200_BLOCK));
    const { size } = await file.stat();
    // Bounded by the file size.
    for (let sent = 0; sent < size; ) {
      const chunk = new Uint8Array(Math.min(DATA_CHUNK_BYTES, size - sent));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, sent);
      if (bytesRead === 0) break;
      await writer.write(encodeFrame(H3Frame.DATA, chunk.subarray(0, bytesRead)));
      sent += bytesRead;
    }
    await writer.close();
  } catch (error) {
    options.log?.(`stream ${stream.id}: ${path}: ${(error as Error).message}`);
    stream.reset(H3Error.MESSAGE_ERROR); // idempotent
  } finally {
    await file?.close();
  }
}

/** Client: opens our control stream once per connection (RFC 9114 §6.2.1). */
const controlStreams = new WeakMap<QuicConnection, Promise<unknown>>();

/**
 * GETs `path` over a new request stream and writes the body to `destination`; rejects unless
 * the response is `:status 200`. Resolves with the body's byte count.
 */
export async function downloadH3(connection: QuicConnection, authority: string, path: string, destination: string): Promise<number> {
  if (!controlStreams.has(connection)) {
    const opening = openControlStream(connection);
    opening.catch(() => undefined);
    controlStreams.set(connection, opening);
  }
  const stream = await connection.openBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(encodeGetRequest(authority, path));
  await writer.close();
  const response = await readAll(stream, MAX_RESPONSE_BYTES + 1024 * 1024);
  if (response === undefined) throw new Error(`response for ${path} exceeds ${MAX_RESPONSE_BYTES} bytes`);
  // Frames of unknown (reserved, RFC 9114 §7.2.8) types are ignored.
  const frames = parseFrames(response).filter((f) => f.type === H3Frame.HEADERS || f.type === H3Frame.DATA);
  const status = frames[0]?.type === H3Frame.HEADERS ? decodeFieldSection(frames[0].payload).find(([name]) => name === ':status')?.[1] : undefined;
  if (status !== '200') throw new Error(`${path}: status ${status ?? 'missing'}`);
  const body = responseBody(frames);
  await writeFile(destination, body);
  return body.length;
}
