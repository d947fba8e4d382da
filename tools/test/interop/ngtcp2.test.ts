/**
 * QUIC + TLS handshakes with ngtcp2 0.12 (GnuTLS examples `gtlsserver` / `gtlsclient`), both
 * directions, once per TLS 1.3 cipher suite and once per key-exchange group, the ngtcp2 side
 * restricted to exactly that suite or group so that a completed handshake proves it was used.
 *
 * ngtcp2's examples speak only HTTP/3 and we have no HTTP/3 layer here: we negotiate ALPN `h3`,
 * assert the handshake (our `opened`, ngtcp2's own log), then close with H3_NO_ERROR; the
 * request ngtcp2 then makes is not answered, as expected. Skipped (reason printed) when the
 * Debian ngtcp2-client / ngtcp2-server packages are absent; CI installs them.
 */

import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection, type SelfSignedCertificate } from '@purequic/quic';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 interop tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

/** RFC 9114 §8.1: H3_NO_ERROR, the code an HTTP/3 endpoint closes with when all is well. */
const H3_NO_ERROR = 0x100;
/** Bound on every wait in this file (handshake, log line, process exit). */
const STEP_TIMEOUT_MS = 15_000;

/** ngtcp2 restricted to one cipher suite or group, as GnuTLS priority strings, and what it prints for it. */
interface Restriction {
  title: string;
  ciphers?: string;
  groups?: string;
  /** gtlsclient prints "Negotiated cipher suite is <this>". */
  gnutlsSuiteName?: string;
}

const TLS13 = 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL';
const RESTRICTIONS: Restriction[] = [
  { title: 'TLS_AES_128_GCM_SHA256', ciphers: `${TLS13}:+AES-128-GCM`, gnutlsSuiteName: 'AES-128-GCM' },
  { title: 'TLS_AES_256_GCM_SHA384', ciphers: `${TLS13}:+AES-256-GCM`, gnutlsSuiteName: 'AES-256-GCM' },
  { title: 'TLS_CHACHA20_POLY1305_SHA256', ciphers: `${TLS13}:+CHACHA20-POLY1305`, gnutlsSuiteName: 'CHACHA20-POLY1305' },
  { title: 'group x25519', groups: '-GROUP-ALL:+GROUP-X25519' },
  // Our client's first key share is X25519: a P-256-only server makes it answer a HelloRetryRequest.
  { title: 'group secp256r1', groups: '-GROUP-ALL:+GROUP-SECP256R1' },
];

function restrictionArgs(r: Restriction): string[] {
  return [...(r.ciphers ? [`--ciphers=${r.ciphers}`] : []), ...(r.groups ? [`--groups=${r.groups}`] : [])];
}

let directory = '';
let certificate: SelfSignedCertificate;

test.before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-'));
  mkdirSync(join(directory, 'www'));
  certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
});

test.after(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** A UDP port nobody uses right now (gtlsserver cannot report the port it picked). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function tail(log: string, lines = 30): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

for (const restriction of RESTRICTIONS) {
  it(`our client -> ngtcp2 server (${restriction.title} only): handshake completes, ALPN h3`, async () => {
    const peer = lookup.ok ? lookup.peer : undefined;
    if (!peer) return;
    const port = await freeUdpPort();
    const server = new SpawnedProcess(
      peer.server,
      [...restrictionArgs(restriction), '--no-quic-dump', '--no-http-dump', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')],
      {},
      directory,
    );
    const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    try {
      assert.ok(await server.waitFor(/Using document root/, STEP_TIMEOUT_MS), `gtlsserver did not start:\n${server.output}`);
      const connection = await withTimeout(
        client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }),
        'our connect()',
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n--- gtlsserver\n${tail(server.output)}`);
      });
      assert.is(connection.alpn, 'h3');
      // ngtcp2 confirms on its side: the server sends HANDSHAKE_DONE only once its handshake is complete.
      assert.ok(await server.waitFor(/frm tx \d+ 1RTT HANDSHAKE_DONE/, STEP_TIMEOUT_MS), `no HANDSHAKE_DONE from ngtcp2:\n${tail(server.output)}`);
      await connection.close(H3_NO_ERROR, 'no HTTP/3 layer in this test');
      assert.ok(
        await server.waitFor(/frm rx \d+ 1RTT CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\)/, STEP_TIMEOUT_MS),
        `ngtcp2 did not read our CONNECTION_CLOSE:\n${tail(server.output)}`,
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it(`ngtcp2 client (${restriction.title} only) -> our server: handshake completes, ALPN h3`, async () => {
    const peer = lookup.ok ? lookup.peer : undefined;
    if (!peer) return;
    const server = await QuicEndpoint.listen({
      host: '127.0.0.1',
      port: 0,
      certificatePem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      alpnProtocols: ['h3'],
    });
    const accepted = (async (): Promise<QuicConnection | undefined> => {
      for await (const connection of server.incoming) return connection;
      return undefined;
    })();
    const port = server.address.port;
    const client = new SpawnedProcess(
      peer.client,
      [...restrictionArgs(restriction), '--no-quic-dump', '--no-http-dump', '--timeout=10s', '--handshake-timeout=10s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`],
      {},
      directory,
    );
    try {
      const connection = await withTimeout(accepted, 'our server accepting').catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n--- gtlsclient\n${tail(client.output)}`);
      });
      assert.ok(connection, 'our server yields the connection once its handshake completed');
      await withTimeout(connection.opened, 'opened');
      assert.is(connection.alpn, 'h3');
      assert.ok(await client.waitFor(/QUIC handshake has completed/, STEP_TIMEOUT_MS), `gtlsclient did not complete:\n${tail(client.output)}`);
      assert.match(client.output, /Negotiated ALPN is h3/);
      if (restriction.gnutlsSuiteName) assert.match(client.output, new RegExp(`Negotiated cipher suite is ${restriction.gnutlsSuiteName}\\b`));
      await connection.close(H3_NO_ERROR, 'no HTTP/3 layer in this test');
      // gtlsclient exits on its own once it reads our CONNECTION_CLOSE (bounded by STEP_TIMEOUT_MS).
      const exited = await withTimeout(client.exited, 'gtlsclient exit').catch(() => 'still running');
      assert.ok(exited !== 'still running', `gtlsclient kept running after our CONNECTION_CLOSE:\n${tail(client.output)}`);
      assert.match(client.output, /frm rx \d+ 1RTT CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\)/);
    } finally {
      await client.stop();
      await server.close();
    }
  });
}

test.run();
