/**
 * Interop: OpenSSL's client (node:tls `tls.connect`) against OUR TLS 1.3 server (engine + test
 * record layer over TCP) on 127.0.0.1. Every cipher suite and group, HelloRetryRequest, ALPN
 * match and mismatch, client certificates, resumption with our tickets, and data both ways.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import type { TlsCipherSuite, TlsEngine } from '../../src/tls/engine-api.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { makeChain, makeCertificate, type TestCertificate, type TestKeyType, selfSigned } from './support/certificates.js';
import { ourServer, TEST_ALPN, type ServerOverrides } from './support/engines.js';
import { countHelloRetryRequests, parseClientHello, parseServerHello, splitHandshakeMessages } from './support/handshake-messages.js';
import {
  closeAll,
  connectNodeTls,
  echoOurs,
  rejectionOf,
  readNode,
  seededRandom,
  startOurTlsServer,
  withTimeout,
  type NodeTlsClient,
} from './support/harness.js';
import { providers } from './support/providers.js';
import type { TlsSocketConnection } from './support/tls-socket.js';
import type { ConnectionOptions } from 'node:tls';

const BOUND_MS = 10_000;
const SUITES: [string, TlsCipherSuite][] = [
  ['TLS_AES_128_GCM_SHA256', 0x1301],
  ['TLS_AES_256_GCM_SHA384', 0x1302],
  ['TLS_CHACHA20_POLY1305_SHA256', 0x1303],
];

let cert: TestCertificate;
/** A CA and leaf per key type, made once up front (RSA key generation is slow). */
const chains = new Map<TestKeyType, { ca: TestCertificate; leaf: TestCertificate }>();
test.before(async () => {
  // The production generator; OpenSSL checks its validity against the real clock.
  cert = await selfSigned(Date.now());
  for (const keyType of ['p384', 'rsa2048', 'ed25519'] as const) chains.set(keyType, await makeChain({ dnsNames: ['localhost', 'client.example'], keyType }));
});
test.after.each(closeAll);

interface Started {
  port: number;
  engines: TlsEngine[];
  next(): Promise<TlsSocketConnection>;
}

/** Our server; each accepted connection gets a fresh engine (kept in `engines`). */
async function ourTlsServer(overrides: ServerOverrides = {}, certificate?: TestCertificate): Promise<Started> {
  const engines: TlsEngine[] = [];
  const server = await startOurTlsServer(() => {
    const engine = ourServer(certificate ?? cert, overrides);
    engines.push(engine);
    return { engine, crypto: overrides.crypto ?? providers.auto };
  });
  return { port: server.port, engines, next: () => server.nextConnection() };
}

function nodeClient(port: number, options: ConnectionOptions = {}): NodeTlsClient {
  return connectNodeTls(port, { ca: [cert.pem], servername: 'localhost', ALPNProtocols: [TEST_ALPN], ...options });
}

/** The key exchange group OpenSSL's client used (only clients report it). */
function ephemeralName(socket: NodeTlsClient['socket']): string | undefined {
  return (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name;
}

function pattern(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 13 + 5) & 0xff);
}

/** Node writes, our server echoes, node reads it back. */
async function echoThroughOurs(server: Started, client: NodeTlsClient, payload: Uint8Array): Promise<Uint8Array> {
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  await withTimeout(ours.handshake, BOUND_MS, 'our handshake');
  echoOurs(ours);
  const reading = readNode(client.socket, payload.length);
  client.socket.write(payload);
  return withTimeout(reading, BOUND_MS, 'echo');
}

for (const [name, code] of SUITES) {
  test(`${name}: OpenSSL's client completes a handshake with our server, data echoed`, async () => {
    const server = await ourTlsServer();
    const client = nodeClient(server.port, { ciphers: name });
    await withTimeout(client.secure, BOUND_MS, 'node handshake');
    assert.is(client.socket.authorized, true, String(client.socket.authorizationError));
    assert.is(client.socket.getCipher().name, name);
    const payload = pattern(2000);
    assert.equal(await echoThroughOurs(server, client, payload), payload);
    assert.is(server.engines[0]!.cipherSuite, code);
  });
}

test("§5 / D.4: OpenSSL's middlebox-compatibility change_cipher_spec is dropped, its session id echoed", async () => {
  const server = await ourTlsServer();
  const client = nodeClient(server.port);
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  await withTimeout(ours.handshake, BOUND_MS, 'our handshake');
  assert.is(ours.layer.changeCipherSpecDropped, 1);
  const clientHello = parseClientHello(splitHandshakeMessages(ours.layer.plaintextMessagesReceived[0]!)[0]!.body);
  const serverHello = parseServerHello(splitHandshakeMessages(ours.layer.plaintextMessagesSent[0]!)[0]!.body);
  assert.is(clientHello.sessionId.length, 32);
  assert.equal(serverHello.sessionId, clientHello.sessionId);
});

test('fragmentation: our server flight split over 64-byte records is reassembled by OpenSSL', async () => {
  const engines: TlsEngine[] = [];
  const server = await startOurTlsServer(() => {
    const engine = ourServer(cert);
    engines.push(engine);
    return { engine, crypto: providers.auto, maxFragment: 64 };
  });
  const client = nodeClient(server.port);
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  const started: Started = { port: server.port, engines, next: () => server.nextConnection() };
  assert.equal(await echoThroughOurs(started, client, pattern(100)), pattern(100));
});

test('our server honours its own cipher suite list when the client offers all three', async () => {
  const server = await ourTlsServer({ cipherSuites: [0x1303] });
  const client = nodeClient(server.port);
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  assert.is(client.socket.getCipher().name, 'TLS_CHACHA20_POLY1305_SHA256');
});

for (const [curve, ours, openssl] of [
  ['X25519', 'x25519', 'X25519'],
  ['P-256', 'secp256r1', 'prime256v1'],
] as const) {
  test(`group ${curve}: OpenSSL's key share accepted without HelloRetryRequest`, async () => {
    const server = await ourTlsServer({ groups: [ours] });
    const client = nodeClient(server.port, { ecdhCurve: curve });
    await withTimeout(client.secure, BOUND_MS, 'node handshake');
    assert.is(ephemeralName(client.socket), openssl);
    const ourConn = await withTimeout(server.next(), BOUND_MS, 'accept');
    await withTimeout(ourConn.handshake, BOUND_MS, 'our handshake');
    assert.is(server.engines[0]!.group, ours);
    assert.is(server.engines[0]!.helloRetryRequested, false);
    assert.is(countHelloRetryRequests(ourConn.layer.plaintextMessagesSent), 0);
  });
}

test('HelloRetryRequest: OpenSSL offers an X25519 share, our server only takes P-256', async () => {
  const server = await ourTlsServer({ groups: ['secp256r1'] });
  // OpenSSL sends a key share for the first group only.
  const client = nodeClient(server.port, { ecdhCurve: 'X25519:P-256' });
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  assert.is(ephemeralName(client.socket), 'prime256v1');
  const payload = pattern(100);
  assert.equal(await echoThroughOurs(server, client, payload), payload);
  const engine = server.engines[0]!;
  assert.is(engine.helloRetryRequested, true);
  assert.is(engine.group, 'secp256r1');
});

test('HelloRetryRequest is visible on the wire: one HRR, then the real ServerHello', async () => {
  const server = await ourTlsServer({ groups: ['secp256r1'] });
  const client = nodeClient(server.port, { ecdhCurve: 'X25519:P-256' });
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  await withTimeout(ours.handshake, BOUND_MS, 'our handshake');
  assert.is(countHelloRetryRequests(ours.layer.plaintextMessagesSent), 1);
  assert.is(ours.layer.plaintextMessagesReceived.length, 2, 'two ClientHellos');
});

test('ALPN: our server picks from the overlap in its own preference order', async () => {
  const server = await ourTlsServer({ alpnProtocols: ['h3', TEST_ALPN, 'h2'] });
  const client = nodeClient(server.port, { ALPNProtocols: ['h2', TEST_ALPN] });
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  assert.is(client.socket.alpnProtocol, TEST_ALPN);
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  await withTimeout(ours.handshake, BOUND_MS, 'our handshake');
  assert.is(server.engines[0]!.alpnProtocol, TEST_ALPN);
});

test('ALPN mismatch: our server sends no_application_protocol and OpenSSL reports it', async () => {
  const server = await ourTlsServer({ alpnProtocols: ['h3'] });
  const client = nodeClient(server.port, { ALPNProtocols: ['h2', 'http/1.1'] });
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  const error = await rejectionOf(ours.handshake, BOUND_MS, 'our handshake');
  assert.ok(TlsAlertError.isTlsAlert(error), String(error));
  assert.is((error as TlsAlertError).alert, TlsAlert.NO_APPLICATION_PROTOCOL);
  assert.is(ours.layer.sentAlert, TlsAlert.NO_APPLICATION_PROTOCOL);
  const nodeError = await rejectionOf(client.secure, BOUND_MS, 'node handshake');
  assert.match(nodeError.message, /no application protocol|alert number 120/i);
});

test('client certificate: OpenSSL presents one when we require it; we see its chain', async () => {
  const { ca, leaf } = await makeChain({ dnsNames: ['client.example'] });
  const server = await ourTlsServer({ clientAuthentication: 'require', clientTrustAnchors: [ca.der] });
  const client = nodeClient(server.port, { cert: leaf.pem, key: leaf.keyPem });
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  const payload = pattern(50);
  assert.equal(await echoThroughOurs(server, client, payload), payload);
  assert.equal([...server.engines[0]!.peerCertificates[0]!], [...leaf.der]);
});

test('client certificate: required but not sent ends with certificate_required on the wire', async () => {
  const { ca } = await makeChain();
  const server = await ourTlsServer({ clientAuthentication: 'require', clientTrustAnchors: [ca.der] });
  const client = nodeClient(server.port);
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  const error = await rejectionOf(ours.handshake, BOUND_MS, 'our handshake');
  assert.is((error as TlsAlertError).alert, TlsAlert.CERTIFICATE_REQUIRED);
  assert.is(ours.layer.sentAlert, TlsAlert.CERTIFICATE_REQUIRED);
  // The node client may finish its side first; the alert then arrives as a socket error.
  const nodeError = await withTimeout(
    new Promise<Error>((resolve) => client.socket.once('error', resolve)),
    BOUND_MS,
    'node error',
  );
  assert.match(nodeError.message, /certificate required|alert number 116/i);
});

test('client certificate: one from an untrusted CA is rejected with unknown_ca', async () => {
  const { ca } = await makeChain();
  const stranger = await makeCertificate({ dnsNames: ['client.example'] });
  const server = await ourTlsServer({ clientAuthentication: 'require', clientTrustAnchors: [ca.der] });
  const client = nodeClient(server.port, { cert: stranger.pem, key: stranger.keyPem });
  client.socket.on('error', () => undefined);
  const ours = await withTimeout(server.next(), BOUND_MS, 'accept');
  const error = await rejectionOf(ours.handshake, BOUND_MS, 'our handshake');
  assert.is((error as TlsAlertError).alert, TlsAlert.UNKNOWN_CA);
});

test('resumption: OpenSSL resumes with a ticket our server issued', async () => {
  const crypto = providers.auto;
  const sessionTicketKeys = new SessionTicketKeys({ crypto, random: seededRandom(99), rotationIntervalMs: 3_600_000 });
  const server = await ourTlsServer({ sessionTicketKeys });
  const first = nodeClient(server.port);
  const session = new Promise<Buffer>((resolve) => first.socket.once('session', resolve));
  await withTimeout(first.secure, BOUND_MS, 'first handshake');
  assert.equal(await echoThroughOurs(server, first, pattern(10)), pattern(10));
  const ticket = await withTimeout(session, BOUND_MS, 'session ticket');
  assert.is(first.socket.isSessionReused(), false);
  first.socket.end();

  const second = nodeClient(server.port, { session: ticket });
  await withTimeout(second.secure, BOUND_MS, 'resumed handshake');
  assert.is(second.socket.isSessionReused(), true);
  assert.equal(await echoThroughOurs(server, second, pattern(20)), pattern(20));
  assert.is(server.engines[1]!.resumed, true);
});

for (const keyType of ['p384', 'rsa2048', 'ed25519'] as const) {
  test(`server certificate ${keyType}: our server signs, OpenSSL verifies the chain and CertificateVerify`, async () => {
    const { ca, leaf } = chains.get(keyType)!;
    const server = await ourTlsServer({}, leaf);
    const client = nodeClient(server.port, { ca: [ca.pem] });
    await withTimeout(client.secure, BOUND_MS, 'node handshake');
    assert.is(client.socket.authorized, true, String(client.socket.authorizationError));
    assert.equal(await echoThroughOurs(server, client, pattern(64)), pattern(64));
  });

  test(`client certificate ${keyType}: OpenSSL signs, our server verifies`, async () => {
    const { ca, leaf } = chains.get(keyType)!;
    const server = await ourTlsServer({ clientAuthentication: 'require', clientTrustAnchors: [ca.der] });
    const client = nodeClient(server.port, { cert: leaf.pem, key: leaf.keyPem });
    await withTimeout(client.secure, BOUND_MS, 'node handshake');
    assert.equal(await echoThroughOurs(server, client, pattern(32)), pattern(32));
    assert.equal([...server.engines[0]!.peerCertificates[0]!], [...leaf.der]);
  });
}

test('resumption after HelloRetryRequest: OpenSSL resumes with our ticket through an HRR', async () => {
  const crypto = providers.auto;
  const sessionTicketKeys = new SessionTicketKeys({ crypto, random: seededRandom(7), rotationIntervalMs: 3_600_000 });
  const server = await ourTlsServer({ sessionTicketKeys, groups: ['secp256r1'] });
  const first = nodeClient(server.port, { ecdhCurve: 'X25519:P-256' });
  const session = new Promise<Buffer>((resolve) => first.socket.once('session', resolve));
  await withTimeout(first.secure, BOUND_MS, 'first handshake');
  assert.equal(await echoThroughOurs(server, first, pattern(10)), pattern(10));
  const ticket = await withTimeout(session, BOUND_MS, 'session ticket');
  first.socket.end();

  const second = nodeClient(server.port, { session: ticket, ecdhCurve: 'X25519:P-256' });
  await withTimeout(second.secure, BOUND_MS, 'resumed handshake');
  assert.is(second.socket.isSessionReused(), true);
  assert.equal(await echoThroughOurs(server, second, pattern(20)), pattern(20));
  assert.is(server.engines[1]!.helloRetryRequested, true);
  assert.is(server.engines[1]!.resumed, true);
});

test('data: 100 kB each way through our server', async () => {
  const server = await ourTlsServer();
  const client = nodeClient(server.port);
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  const payload = pattern(100_000);
  assert.equal(await echoThroughOurs(server, client, payload), payload);
});

test('every provider (noble, node, auto) serves OpenSSL', async () => {
  for (const name of ['noble', 'node', 'auto'] as const) {
    const server = await ourTlsServer({ crypto: providers[name] });
    const client = nodeClient(server.port);
    await withTimeout(client.secure, BOUND_MS, `${name} handshake`);
    assert.equal(await echoThroughOurs(server, client, pattern(500)), pattern(500), name);
  }
});

test.run();
