/**
 * The demo: a QUIC server with a freshly generated certificate, serving a small site over
 * HTTP/0.9 on QUIC (ALPN hq-interop, as the QUIC interop runner uses it), and our own client
 * fetching from it. HTTP/3 and WebTransport replace this once those packages exist.
 */

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection } from '@purequic/quic';
import { fetchHq, HQ_ALPN, serveHqConnection } from '../interop/hq.js';

export interface DemoServer {
  endpoint: QuicEndpoint;
  host: string;
  port: number;
  /** Where the generated certificate (PEM) and the served files are (a temporary folder). */
  certificatePath: string;
  root: string;
  /** Closes the endpoint and removes the temporary folder. Idempotent. */
  close(): Promise<void>;
}

/** Starts the demo server on host:port (port 0 = any free port). */
export async function startDemoServer(options: { host?: string; port?: number } = {}): Promise<DemoServer> {
  const host = options.host ?? '::';
  const dir = mkdtempSync(join(tmpdir(), `purequic-demo-${process.pid}-`));
  const root = join(dir, 'www');
  mkdirSync(root, { recursive: true });
  const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1', '::1'] });
  const certificatePath = join(dir, 'cert.pem');
  writeFileSync(certificatePath, cert.certificatePem);
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>purequic</title><p>Hello over QUIC, from TypeScript.</p>\n');
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  writeFileSync(join(root, '1mb.bin'), big);

  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  let endpoint: QuicEndpoint;
  try {
    endpoint = await QuicEndpoint.listen({ host, port: options.port ?? 4433, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, alpnProtocols: [HQ_ALPN] });
  } catch (e) {
    removeDir();
    throw e;
  }
  const connections = new Set<QuicConnection>();
  void (async () => {
    for await (const conn of endpoint.incoming) {
      connections.add(conn);
      void serveHqConnection(conn, { root }).finally(() => connections.delete(conn));
    }
  })();
  return {
    endpoint,
    host,
    port: endpoint.address.port,
    certificatePath,
    root,
    close: () => endpoint.close().finally(removeDir),
  };
}

/** Fetches `path` from an hq-interop server with our client; resolves with the body. */
export async function fetchOnce(options: { host: string; port: number; path: string; trustAnchorPem?: string; serverName?: string }): Promise<{ body: Uint8Array; connection: QuicConnection }> {
  const client = await QuicEndpoint.bind(); // '::', dual-stack: any address `host` resolves to
  try {
    const connection = await client.connect({
      host: options.host,
      port: options.port,
      serverName: options.serverName ?? (options.host.includes(':') ? undefined : options.host),
      alpnProtocols: [HQ_ALPN],
      verification: options.trustAnchorPem ? { mode: 'chain', trustAnchors: [options.trustAnchorPem] } : { mode: 'none' },
    });
    const chunks: Uint8Array[] = [];
    await fetchHq(connection, options.path, (c) => {
      chunks.push(c.slice());
    });
    await connection.close(0, 'done');
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.length;
    }
    return { body, connection };
  } finally {
    await client.close();
  }
}
