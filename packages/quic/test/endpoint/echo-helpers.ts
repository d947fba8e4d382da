/**
 * Shared by the endpoint's loopback tests: an echo server on loopback, a round trip of N bytes
 * on a new stream, a connect with a bound, and whole-stream read / write / hash helpers.
 */

import { createHash } from 'node:crypto';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export async function echoServer(): Promise<QuicEndpoint> {
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] });
  void (async () => {
    for await (const conn of server.incoming) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void echo(s).catch(() => {});
      })();
    }
  })();
  return server;
}

export async function echo(s: QuicStream): Promise<void> {
  const w = s.writable.getWriter();
  for await (const c of s.readable) await w.write(c);
  await w.close();
}

export async function roundTrip(conn: QuicConnection, bytes: number): Promise<number> {
  const s = await conn.openBidirectionalStream();
  const w = s.writable.getWriter();
  const reading = (async () => {
    let n = 0;
    for await (const c of s.readable) n += c.length;
    return n;
  })();
  await w.write(new Uint8Array(bytes).fill(7));
  await w.close();
  return reading;
}

export async function connect(client: QuicEndpoint, server: QuicEndpoint): Promise<QuicConnection> {
  return withTimeout(
    client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'none' } }),
    10_000,
    'connect',
  );
}

/** Reads a stream to its end; `onChunk` sees the running total. */
export async function readAll(stream: QuicStream, onChunk: (total: number) => void = () => {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of stream.readable) {
    chunks.push(c);
    total += c.length;
    onChunk(total);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Writes `data` in chunks, then FIN. */
export async function writeAll(stream: QuicStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  const w = stream.writable.getWriter();
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, i + chunk));
  await w.close();
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
