/**
 * QUIC + TLS handshakes with ngtcp2 0.12 (GnuTLS examples `gtlsserver` / `gtlsclient`), both
 * directions, once per TLS 1.3 cipher suite and once per key-exchange group, with first the
 * ngtcp2 side and then our side restricted to exactly that suite or group: both sides must
 * report it (our `cipherSuite`/`group`, gtlsclient's "Negotiated cipher suite").
 *
 * ngtcp2's examples speak only HTTP/3 and we have no HTTP/3 layer here: we negotiate ALPN `h3`,
 * assert the handshake (our `opened`, ngtcp2's own log), then close with H3_NO_ERROR; the
 * request ngtcp2 then makes is not answered, as expected. Skipped (reason printed) when the
 * Debian ngtcp2-client / ngtcp2-server packages are absent; CI installs them.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QuicEndpoint, TlsCipherSuite, type NamedGroupName, type QuicConnection, type SelfSignedCertificate } from '@purequic/quic';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';
import { freeUdpPort, withStepTimeout } from './ngtcp2-helpers.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 interop tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

/** RFC 9114 §8.1: H3_NO_ERROR, the code an HTTP/3 endpoint closes with when all is well. */
const H3_NO_ERROR = 0x100;
/** Bound on every wait in this file (handshake, log line, process exit). */
const STEP_TIMEOUT_MS = 15_000;

/**
 * One handshake case: what ngtcp2 is restricted to (GnuTLS priority strings), what our side is
 * restricted to (endpoint options), and what must come out on both sides.
 */
interface HandshakeCase {
  title: string;
  ngtcp2: { ciphers?: string; groups?: string };
  ours: { cipherSuites?: TlsCipherSuite[]; groups?: NamedGroupName[] };
  /** Our connection's `cipherSuite` / `group` after the handshake. */
  suite?: TlsCipherSuite;
  group?: NamedGroupName;
  /** gtlsclient prints "Negotiated cipher suite is <this>". */
  gnutlsSuiteName?: string;
}

const TLS13 = 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL';
const SUITES = [
  { code: TlsCipherSuite.TLS_AES_128_GCM_SHA256, name: 'TLS_AES_128_GCM_SHA256', gnutls: 'AES-128-GCM' },
  { code: TlsCipherSuite.TLS_AES_256_GCM_SHA384, name: 'TLS_AES_256_GCM_SHA384', gnutls: 'AES-256-GCM' },
  { code: TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, name: 'TLS_CHACHA20_POLY1305_SHA256', gnutls: 'CHACHA20-POLY1305' },
] as const;
const GROUPS = [
  { name: 'x25519', gnutls: '-GROUP-ALL:+GROUP-X25519' },
  // Our client's first key share is X25519: a P-256-only ngtcp2 server makes it answer a HelloRetryRequest.
  { name: 'secp256r1', gnutls: '-GROUP-ALL:+GROUP-SECP256R1' },
] as const;

const CASES: HandshakeCase[] = [
  ...SUITES.map((s) => ({ title: `ngtcp2 allows only ${s.name}`, ngtcp2: { ciphers: `${TLS13}:+${s.gnutls}` }, ours: {}, suite: s.code, gnutlsSuiteName: s.gnutls })),
  ...SUITES.map((s) => ({ title: `we allow only ${s.name}`, ngtcp2: {}, ours: { cipherSuites: [s.code] }, suite: s.code, gnutlsSuiteName: s.gnutls })),
  ...GROUPS.map((g) => ({ title: `ngtcp2 allows only ${g.name}`, ngtcp2: { groups: g.gnutls }, ours: {}, group: g.name })),
  ...GROUPS.map((g) => ({ title: `we allow only ${g.name}`, ngtcp2: {}, ours: { groups: [g.name] }, group: g.name })),
];

function ngtcp2Args(c: HandshakeCase): string[] {
  return [...(c.ngtcp2.ciphers ? [`--ciphers=${c.ngtcp2.ciphers}`] : []), ...(c.ngtcp2.groups ? [`--groups=${c.ngtcp2.groups}`] : [])];
}

/** Our side's view of the handshake matches the case. */
function checkOurSide(connection: QuicConnection, c: HandshakeCase): void {
  assert.is(connection.alpn, 'h3');
  if (c.suite !== undefined) assert.is(connection.cipherSuite, c.suite, 'negotiated cipher suite');
  if (c.group !== undefined) assert.is(connection.group, c.group, 'negotiated group');
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

const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> => withStepTimeout(promise, what, STEP_TIMEOUT_MS);

function tail(log: string, lines = 30): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

for (const c of CASES) {
  it(`our client -> ngtcp2 server, ${c.title}: handshake completes with it, ALPN h3`, async () => {
    const peer = lookup.ok ? lookup.peer : undefined;
    if (!peer) return;
    const port = await freeUdpPort();
    const server = new SpawnedProcess(
      peer.server,
      [...ngtcp2Args(c), '--no-quic-dump', '--no-http-dump', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')],
      {},
      directory,
    );
    const client = await QuicEndpoint.bind({ host: '127.0.0.1', ...c.ours });
    try {
      assert.ok(await server.waitFor(/Using document root/, STEP_TIMEOUT_MS), `gtlsserver did not start:\n${server.output}`);
      const connection = await withTimeout(
        client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }),
        'our connect()',
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n--- gtlsserver\n${tail(server.output)}`);
      });
      checkOurSide(connection, c);
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

  it(`ngtcp2 client -> our server, ${c.title}: handshake completes with it, ALPN h3`, async () => {
    const peer = lookup.ok ? lookup.peer : undefined;
    if (!peer) return;
    const server = await QuicEndpoint.listen({
      host: '127.0.0.1',
      port: 0,
      certificatePem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      alpnProtocols: ['h3'],
      ...c.ours,
    });
    const accepted = (async (): Promise<QuicConnection | undefined> => {
      for await (const connection of server.incoming) return connection;
      return undefined;
    })();
    const port = server.address.port;
    const client = new SpawnedProcess(
      peer.client,
      [...ngtcp2Args(c), '--no-quic-dump', '--no-http-dump', '--timeout=10s', '--handshake-timeout=10s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`],
      {},
      directory,
    );
    try {
      const connection = await withTimeout(accepted, 'our server accepting').catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n--- gtlsclient\n${tail(client.output)}`);
      });
      assert.ok(connection, 'our server yields the connection once its handshake completed');
      await withTimeout(connection.opened, 'opened');
      checkOurSide(connection, c);
      assert.ok(await client.waitFor(/QUIC handshake has completed/, STEP_TIMEOUT_MS), `gtlsclient did not complete:\n${tail(client.output)}`);
      assert.match(client.output, /Negotiated ALPN is h3/);
      if (c.gnutlsSuiteName) assert.match(client.output, new RegExp(`Negotiated cipher suite is ${c.gnutlsSuiteName}\\b`));
      await connection.close(H3_NO_ERROR, 'no HTTP/3 layer in this test');
      // gtlsclient exits on its own once it reads our CONNECTION_CLOSE (bounded by STEP_TIMEOUT_MS).
      const exited = await withTimeout(client.exited, 'gtlsclient exit').catch(() => 'still running');
      assert.ok(exited !== 'still running', `gtlsclient kept running after our CONNECTION_CLOSE:\n${tail(client.output)}`);
      assert.ok(/frm rx \d+ 1RTT CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\)/.test(client.output), `gtlsclient did not log our CONNECTION_CLOSE:\n${tail(client.output, 60)}`);
    } finally {
      await client.stop();
      await server.close();
    }
  });
}

test.run();
