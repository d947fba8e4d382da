/**
 * Shared by the endpoint's hostile-peer and churn tests: an echo server on loopback, a round
 * trip of N bytes on a new stream, a connect with a bound.
 */

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
