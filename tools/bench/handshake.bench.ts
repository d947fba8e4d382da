/**
 * TLS 1.3 handshakes per second: our client and server engines in one process, no network, the
 * engines' handshake outputs pumped straight into each other (X25519, ECDSA P-256 certificate,
 * the client checks the CertificateVerify signature but builds no chain). One row per crypto
 * provider (noble, node, auto), then two auto variants: P-256 key exchange, and X25519 with
 * X.509 chain verification to a test CA.
 *
 * Yardsticks in the same run: node:tls (OpenSSL) full handshakes one at a time over loopback TCP,
 * and our engines over loopback TCP through the test record layer (same sockets as node:tls).
 *
 * Each case warms up, then runs for BENCH_TIME_MS (default 2,000 ms) and reports handshakes/s and
 * the mean time per handshake.
 */

import { connect as tlsConnect, createServer as createTlsServerNode, type TLSSocket } from 'node:tls';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { CryptoProvider, CryptoProviderName, NamedGroupName } from '../../packages/quic/src/crypto/provider.js';
import { createTlsClient } from '../../packages/quic/src/tls/client.js';
import type { TlsEngine } from '../../packages/quic/src/tls/engine-api.js';
import { createTlsServer } from '../../packages/quic/src/tls/server.js';
import { makeChain, selfSigned, type TestCertificate } from '../../packages/quic/test/tls/support/certificates.js';
import { providers } from '../../packages/quic/test/tls/support/providers.js';
import { acceptTls, connectTls } from '../../packages/quic/test/tls/support/tls-socket.js';

const RUN_MS = Number(process.env.BENCH_TIME_MS ?? 2000);
const WARMUP_MS = Math.min(300, RUN_MS / 4);
const ALPN = 'bench';
/** Outputs moved per handshake before we call the pump stuck (a full handshake needs ~20). */
const MAX_PUMP_STEPS = 1000;

interface Variant {
  group: NamedGroupName;
  /** Trust anchor for X.509 chain verification; without it only the CertificateVerify is checked. */
  trustAnchor?: Uint8Array;
}

const X25519_NO_CHAIN: Variant = { group: 'x25519' };

function engines(
  crypto: CryptoProvider,
  cert: TestCertificate,
  key: ReturnType<CryptoProvider['importSigningKey']>,
  variant: Variant = X25519_NO_CHAIN,
): { client: TlsEngine; server: TlsEngine } {
  const now = Date.now;
  const random = (n: number): Uint8Array => crypto.randomBytes(n);
  const client = createTlsClient({
    crypto,
    random,
    now,
    alpnProtocols: [ALPN],
    groups: [variant.group],
    serverName: 'localhost',
    verification: variant.trustAnchor ? { mode: 'chain', trustAnchors: [variant.trustAnchor] } : { mode: 'none' },
  });
  const server = createTlsServer({
    crypto,
    random,
    now,
    alpnProtocols: [ALPN],
    groups: [variant.group],
    certificateChain: [cert.der],
    key,
  });
  return { client, server };
}

/** Moves every handshake-data output of `from` into `to`; returns how many moved. */
function forward(from: TlsEngine, to: TlsEngine): number {
  let moved = 0;
  for (let i = 0; i < MAX_PUMP_STEPS; i++) {
    const output = from.poll();
    if (output === undefined) return moved;
    if (output.kind === 'handshake-data') {
      to.receive(output.level, output.data);
      moved++;
    }
  }
  throw new Error('engine produced too many outputs');
}

/** One complete handshake in memory. */
function handshakeInMemory(
  crypto: CryptoProvider,
  cert: TestCertificate,
  key: ReturnType<CryptoProvider['importSigningKey']>,
  variant: Variant = X25519_NO_CHAIN,
): void {
  const { client, server } = engines(crypto, cert, key, variant);
  client.start();
  server.start();
  for (let step = 0; step < MAX_PUMP_STEPS; step++) {
    const moved = forward(client, server) + forward(server, client);
    if (client.handshakeComplete && server.handshakeComplete) return;
    if (moved === 0) throw new Error('handshake stalled');
  }
  throw new Error('handshake did not finish');
}

interface Row {
  name: string;
  perSecond: number;
  meanMs: number;
  count: number;
}

async function measure(name: string, once: () => void | Promise<void>): Promise<Row> {
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) await once();
  let count = 0;
  const start = performance.now();
  const end = start + RUN_MS;
  while (performance.now() < end) {
    await once();
    count++;
  }
  const elapsed = performance.now() - start;
  return { name, perSecond: (count * 1000) / elapsed, meanMs: elapsed / count, count };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/** node:tls client and server, serial full handshakes over loopback. */
async function nodeTlsLoopback(cert: TestCertificate): Promise<Row> {
  const sockets = new Set<Socket>();
  const server = createTlsServerNode({
    key: cert.keyPem,
    cert: cert.pem,
    minVersion: 'TLSv1.3',
    ecdhCurve: 'X25519',
    ALPNProtocols: [ALPN],
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  const row = await measure('node:tls (OpenSSL), loopback TCP, serial', () =>
    new Promise<void>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', ecdhCurve: 'X25519', ALPNProtocols: [ALPN], rejectUnauthorized: false });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    }),
  );
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return row;
}

/** Our engines at both ends over loopback TCP through the test record layer, serial. */
async function oursLoopback(crypto: CryptoProvider, providerName: string, cert: TestCertificate): Promise<Row> {
  const key = crypto.importSigningKey(cert.keyPkcs8);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    acceptTls(socket, { engine: engines(crypto, cert, key).server, crypto });
  });
  const port = await listen(server);
  const row = await measure(`ours (${providerName}), loopback TCP via the test record layer, serial`, async () => {
    const conn = await connectTls({ port, engine: engines(crypto, cert, key).client, crypto });
    await conn.handshake;
    conn.destroy();
  });
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return row;
}

function print(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(width)}  handshakes/s  ms/handshake  (n)`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(width)}  ${r.perSecond.toFixed(0).padStart(12)}  ${r.meanMs.toFixed(3).padStart(12)}  (${r.count})`);
  }
}

export default async function run(filter?: string): Promise<void> {
  const cert = await selfSigned(Date.now());
  const rows: Row[] = [];
  const want = (name: string): boolean => filter === undefined || filter.split(' ').every((w) => name.includes(w));
  for (const name of ['noble', 'node', 'auto'] as CryptoProviderName[]) {
    const label = `ours (${name}), in memory, X25519 + ECDSA P-256`;
    if (!want(label)) continue;
    const crypto = providers[name];
    const key = crypto.importSigningKey(cert.keyPkcs8);
    rows.push(await measure(label, () => handshakeInMemory(crypto, cert, key)));
  }
  // Variants with the auto provider: P-256 key exchange, and full X.509 chain verification.
  const { ca, leaf } = await makeChain({ dnsNames: ['localhost'] });
  const auto = providers.auto;
  const leafKey = auto.importSigningKey(leaf.keyPkcs8);
  const variants: [string, Variant][] = [
    ['ours (auto), in memory, P-256 + ECDSA P-256', { group: 'secp256r1' }],
    ['ours (auto), in memory, X25519 + ECDSA P-256 + chain verification', { group: 'x25519', trustAnchor: ca.der }],
  ];
  for (const [label, variant] of variants) {
    if (want(label)) rows.push(await measure(label, () => handshakeInMemory(auto, leaf, leafKey, variant)));
  }
  if (want('node:tls (OpenSSL), loopback TCP, serial')) rows.push(await nodeTlsLoopback(cert));
  if (want('ours (auto), loopback TCP via the test record layer, serial')) rows.push(await oursLoopback(providers.auto, 'auto', cert));
  print(rows);
}
