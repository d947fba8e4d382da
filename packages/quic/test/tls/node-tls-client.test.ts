/**
 * Interop: OUR TLS 1.3 client (engine + test record layer over TCP) against OpenSSL's server
 * (node:tls) on 127.0.0.1. Every cipher suite and group, HelloRetryRequest, ALPN, certificate
 * checks, client certificates, resumption with OpenSSL's tickets, and data both ways.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TLSSocket } from 'node:tls';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import type { SessionTicket, TlsCipherSuite } from '../../src/tls/engine-api.js';
import { TlsPeerAlertError } from './record-layer.js';
import { makeCertificate, makeChain, type TestCertificate, type TestKeyType, selfSigned, TEST_NOW_MS } from './support/certificates.js';
import { ourClient, TEST_ALPN, type ClientOverrides } from './support/engines.js';
import { countHelloRetryRequests, NamedGroup, serverHelloGroup } from './support/handshake-messages.js';
import { closeAll, echoNode, rejectionOf, startNodeTlsServer, waitFor, withTimeout, type NodeTlsServer } from './support/harness.js';
import { providers } from './support/providers.js';
import { connectTls, type TlsSocketConnection } from './support/tls-socket.js';

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

async function nodeServer(options: Parameters<typeof startNodeTlsServer>[0] = {}): Promise<NodeTlsServer> {
  const server = await startNodeTlsServer({ key: cert.keyPem, cert: cert.pem, ALPNProtocols: [TEST_ALPN], ...options });
  return server;
}

async function connect(port: number, overrides: ClientOverrides = {}): Promise<{ conn: TlsSocketConnection; engine: ReturnType<typeof ourClient> }> {
  const engine = ourClient(overrides);
  const crypto = overrides.crypto ?? providers.auto;
  const conn = await connectTls({ port, engine, crypto });
  return { conn, engine };
}

/** Writes `payload`, waits for the node side's echo, returns it. */
async function roundTrip(conn: TlsSocketConnection, payload: Uint8Array): Promise<Uint8Array> {
  const reading = conn.read(payload.length);
  conn.write(payload);
  return withTimeout(reading, BOUND_MS, 'echo');
}

function pattern(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 7 + 3) & 0xff);
}

for (const [name, code] of SUITES) {
  test(`${name}: our client completes a handshake with OpenSSL and data is echoed`, async () => {
    const server = await nodeServer({ ciphers: name });
    const accepted = server.nextConnection();
    const { conn, engine } = await connect(server.port);
    await withTimeout(conn.handshake, BOUND_MS, 'handshake');
    const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
    echoNode(peer);
    assert.is(peer.getCipher().name, name);
    assert.is(peer.getProtocol(), 'TLSv1.3');
    assert.is(engine.cipherSuite, code);
    assert.is(conn.layer.cipherSuite, code);
    const payload = pattern(1000);
    assert.equal(await roundTrip(conn, payload), payload);
    await withTimeout(conn.close(), BOUND_MS, 'close');
  });
}

for (const [curve, group, ours] of [
  ['X25519', NamedGroup.x25519, 'x25519'],
  ['P-256', NamedGroup.secp256r1, 'secp256r1'],
] as const) {
  test(`group ${curve}: key share accepted without HelloRetryRequest`, async () => {
    const server = await nodeServer({ ecdhCurve: curve });
    const { conn, engine } = await connect(server.port, { groups: [ours] });
    await withTimeout(conn.handshake, BOUND_MS, 'handshake');
    assert.is(engine.group, ours);
    assert.is(serverHelloGroup(conn.layer.plaintextMessagesReceived), group);
    assert.is(countHelloRetryRequests(conn.layer.plaintextMessagesReceived), 0);
    assert.is(engine.helloRetryRequested, false);
    await withTimeout(conn.close(), BOUND_MS, 'close');
  });
}

test('HelloRetryRequest: our X25519 share, OpenSSL only takes P-256, we retry with P-256', async () => {
  const server = await nodeServer({ ecdhCurve: 'P-256' });
  const accepted = server.nextConnection();
  const { conn, engine } = await connect(server.port, { groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  echoNode(await withTimeout(accepted, BOUND_MS, 'node accepts'));
  assert.is(countHelloRetryRequests(conn.layer.plaintextMessagesReceived), 1);
  assert.is(engine.helloRetryRequested, true);
  assert.is(engine.group, 'secp256r1');
  assert.is(serverHelloGroup(conn.layer.plaintextMessagesReceived), NamedGroup.secp256r1);
  // Two ClientHellos went out in plaintext: the first and the retry.
  assert.is(conn.layer.plaintextMessagesSent.length, 2);
  const payload = pattern(64);
  assert.equal(await roundTrip(conn, payload), payload);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('ALPN: OpenSSL selects our protocol from the overlap', async () => {
  const server = await nodeServer({ ALPNProtocols: ['h2', TEST_ALPN] });
  const accepted = server.nextConnection();
  const { conn, engine } = await connect(server.port, { alpnProtocols: ['other', TEST_ALPN] });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
  assert.is(peer.alpnProtocol, TEST_ALPN);
  assert.is(engine.alpnProtocol, TEST_ALPN);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('plain TLS needs no ALPN: neither side offers one', async () => {
  const server = await startNodeTlsServer({ key: cert.keyPem, cert: cert.pem });
  const accepted = server.nextConnection();
  const { conn, engine } = await connect(server.port, { alpnProtocols: [] });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
  assert.is(peer.alpnProtocol, false);
  assert.is(engine.alpnProtocol, undefined);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('ALPN mismatch: OpenSSL refuses our only protocol with no_application_protocol', async () => {
  const server = await nodeServer({ ALPNProtocols: ['h2'] });
  const { conn } = await connect(server.port, { alpnProtocols: ['h3'] });
  const error = await rejectionOf(conn.handshake, BOUND_MS, 'handshake');
  assert.instance(error, TlsPeerAlertError);
  assert.is((error as TlsPeerAlertError).alert, TlsAlert.NO_APPLICATION_PROTOCOL);
});

test('fragmentation: our handshake messages split over 40-byte records are reassembled by OpenSSL', async () => {
  const server = await nodeServer({ requestCert: true, rejectUnauthorized: false });
  const accepted = server.nextConnection();
  const crypto = providers.auto;
  const engine = ourClient({ clientCertificate: { chain: [cert.der], key: crypto.importSigningKey(cert.keyPkcs8) } });
  const conn = await connectTls({ port: server.port, engine, crypto, maxFragment: 40 });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
  echoNode(peer);
  assert.equal(new Uint8Array(peer.getPeerCertificate().raw), cert.der);
  const payload = pattern(100);
  assert.equal(await roundTrip(conn, payload), payload);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('certificate: a self-signed server certificate outside our trust anchors fails with unknown_ca', async () => {
  // Valid on our virtual clock, so only the missing trust anchor is wrong with it.
  const untrusted = await selfSigned(TEST_NOW_MS);
  const server = await nodeServer({ key: untrusted.keyPem, cert: untrusted.pem });
  const otherCa = await makeCertificate({ ca: true });
  const { conn } = await connect(server.port, { serverName: 'localhost', verification: { mode: 'chain', trustAnchors: [otherCa.der] } });
  const error = await rejectionOf(conn.handshake, BOUND_MS, 'handshake');
  assert.ok(TlsAlertError.isTlsAlert(error), String(error));
  assert.is((error as TlsAlertError).alert, TlsAlert.UNKNOWN_CA);
  assert.is(conn.layer.sentAlert, TlsAlert.UNKNOWN_CA);
  // OpenSSL received our alert on the wire.
  await withTimeout(conn.ended, BOUND_MS, 'connection end');
  await waitFor(() => server.clientErrors.length > 0, 'node server error');
  assert.match(server.clientErrors[0]!.message, /unknown ca|alert number 48/i);
});

test('certificate: the same chain verifies when trusted, and fails for the wrong host name', async () => {
  const { ca, leaf } = await makeChain({ dnsNames: ['localhost'] });
  const server = await nodeServer({ key: leaf.keyPem, cert: leaf.pem });
  const good = await connect(server.port, { serverName: 'localhost', verification: { mode: 'chain', trustAnchors: [ca.der] } });
  await withTimeout(good.conn.handshake, BOUND_MS, 'trusted handshake');
  assert.equal([...good.engine.peerCertificates[0]!], [...leaf.der]);
  await withTimeout(good.conn.close(), BOUND_MS, 'close');

  const bad = await connect(server.port, { serverName: 'wrong.example', verification: { mode: 'chain', trustAnchors: [ca.der] } });
  const error = await rejectionOf(bad.conn.handshake, BOUND_MS, 'wrong-name handshake');
  assert.ok(TlsAlertError.isTlsAlert(error), String(error));
  // RFC 8446 §6.2 names no alert for a name mismatch: bad_certificate or certificate_unknown.
  const alert = (error as TlsAlertError).alert;
  assert.ok(alert === TlsAlert.BAD_CERTIFICATE || alert === TlsAlert.CERTIFICATE_UNKNOWN, `alert ${alert}`);
  assert.is(bad.conn.layer.sentAlert, alert);
  await waitFor(() => server.clientErrors.length > 0, 'node server error');
  assert.match(server.clientErrors[0]!.message, new RegExp(`alert number ${alert}|bad certificate|certificate unknown`, 'i'));
});

test('client certificate: OpenSSL requests one, ours chains to its CA and is accepted', async () => {
  const { ca, leaf } = await makeChain({ dnsNames: ['client.example'] });
  const server = await nodeServer({ requestCert: true, rejectUnauthorized: true, ca: [ca.pem] });
  const accepted = server.nextConnection();
  const crypto = providers.auto;
  const { conn } = await connect(server.port, {
    clientCertificate: { chain: [leaf.der], key: crypto.importSigningKey(leaf.keyPkcs8) },
  });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  const peer: TLSSocket = await withTimeout(accepted, BOUND_MS, 'node accepts');
  assert.is(peer.authorized, true);
  assert.equal(new Uint8Array(peer.getPeerCertificate().raw), leaf.der);
  echoNode(peer);
  const payload = pattern(300);
  assert.equal(await roundTrip(conn, payload), payload);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('client certificate: without one, OpenSSL ends the connection with certificate_required', async () => {
  const { ca } = await makeChain();
  const server = await nodeServer({ requestCert: true, rejectUnauthorized: true, ca: [ca.pem] });
  const { conn } = await connect(server.port);
  // TLS 1.3: the client finishes first; the server's verdict comes after our Finished.
  const ended = await withTimeout(conn.ended, BOUND_MS, 'connection end');
  assert.instance(ended, TlsPeerAlertError);
  assert.is((ended as TlsPeerAlertError).alert, TlsAlert.CERTIFICATE_REQUIRED);
});

test('resumption: a ticket OpenSSL issued resumes the session (PSK-DHE)', async () => {
  const server = await nodeServer();
  const first = server.nextConnection();
  const one = await connect(server.port);
  await withTimeout(one.conn.handshake, BOUND_MS, 'first handshake');
  echoNode(await withTimeout(first, BOUND_MS, 'node accepts'));
  // OpenSSL sends its tickets right after our Finished; the echo comes after them.
  await roundTrip(one.conn, pattern(16));
  const tickets = one.conn.outputs.filter((o) => o.kind === 'session-ticket').map((o) => (o as { ticket: SessionTicket }).ticket);
  assert.ok(tickets.length >= 1, `tickets: ${tickets.length}`);
  assert.is(one.engine.resumed, false);
  await withTimeout(one.conn.close(), BOUND_MS, 'close');

  const second = server.nextConnection();
  const two = await connect(server.port, { sessionTicket: tickets[0]! });
  await withTimeout(two.conn.handshake, BOUND_MS, 'resumed handshake');
  const peer = await withTimeout(second, BOUND_MS, 'node accepts resumed');
  assert.is(peer.isSessionReused(), true);
  assert.is(two.engine.resumed, true);
  echoNode(peer);
  const payload = pattern(200);
  assert.equal(await roundTrip(two.conn, payload), payload);
  await withTimeout(two.conn.close(), BOUND_MS, 'close');
});

for (const keyType of ['p384', 'rsa2048', 'ed25519'] as const) {
  test(`server certificate ${keyType}: OpenSSL signs CertificateVerify, we verify it and the chain`, async () => {
    const { ca, leaf } = chains.get(keyType)!;
    const server = await nodeServer({ key: leaf.keyPem, cert: leaf.pem });
    const accepted = server.nextConnection();
    const { conn, engine } = await connect(server.port, { serverName: 'localhost', verification: { mode: 'chain', trustAnchors: [ca.der] } });
    await withTimeout(conn.handshake, BOUND_MS, 'handshake');
    echoNode(await withTimeout(accepted, BOUND_MS, 'node accepts'));
    assert.equal([...engine.peerCertificates[0]!], [...leaf.der]);
    assert.equal(await roundTrip(conn, pattern(64)), pattern(64));
    await withTimeout(conn.close(), BOUND_MS, 'close');
  });

  test(`client certificate ${keyType}: we sign CertificateVerify, OpenSSL verifies it`, async () => {
    const { ca, leaf } = chains.get(keyType)!;
    const server = await nodeServer({ requestCert: true, rejectUnauthorized: true, ca: [ca.pem] });
    const accepted = server.nextConnection();
    const crypto = providers.auto;
    const { conn } = await connect(server.port, { clientCertificate: { chain: [leaf.der], key: crypto.importSigningKey(leaf.keyPkcs8) } });
    await withTimeout(conn.handshake, BOUND_MS, 'handshake');
    const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
    assert.is(peer.authorized, true);
  });
}

test('resumption after HelloRetryRequest: PSK binders recomputed over the retried transcript', async () => {
  const server = await nodeServer({ ecdhCurve: 'P-256' });
  const first = server.nextConnection();
  const one = await connect(server.port, { groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] });
  await withTimeout(one.conn.handshake, BOUND_MS, 'first handshake');
  echoNode(await withTimeout(first, BOUND_MS, 'node accepts'));
  await roundTrip(one.conn, pattern(8));
  const ticket = one.conn.outputs.find((o) => o.kind === 'session-ticket') as { ticket: SessionTicket } | undefined;
  assert.ok(ticket, 'ticket');
  await withTimeout(one.conn.close(), BOUND_MS, 'close');

  const second = server.nextConnection();
  const two = await connect(server.port, { groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'], sessionTicket: ticket.ticket });
  await withTimeout(two.conn.handshake, BOUND_MS, 'resumed handshake');
  const peer = await withTimeout(second, BOUND_MS, 'node accepts resumed');
  assert.is(two.engine.helloRetryRequested, true);
  assert.is(peer.isSessionReused(), true);
  assert.is(two.engine.resumed, true);
});

test('every provider (noble, node, auto) runs our client against OpenSSL', async () => {
  for (const name of ['noble', 'node', 'auto'] as const) {
    const server = await nodeServer();
    const accepted = server.nextConnection();
    const { conn } = await connect(server.port, { crypto: providers[name] });
    await withTimeout(conn.handshake, BOUND_MS, `${name} handshake`);
    echoNode(await withTimeout(accepted, BOUND_MS, 'node accepts'));
    assert.equal(await roundTrip(conn, pattern(300)), pattern(300), name);
    await withTimeout(conn.close(), BOUND_MS, 'close');
  }
});

test("§6.1: OpenSSL's close_notify ends our connection cleanly and we answer with ours", async () => {
  const server = await nodeServer();
  const accepted = server.nextConnection();
  const { conn } = await connect(server.port);
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  const peer = await withTimeout(accepted, BOUND_MS, 'node accepts');
  const peerEnded = new Promise<void>((resolve) => peer.once('end', () => resolve()));
  peer.write('bye');
  assert.equal(await withTimeout(conn.read(3), BOUND_MS, 'last data'), new TextEncoder().encode('bye'));
  // Node 20 skips close_notify when end() directly follows a write (FIN only), so end after it arrived.
  peer.end();
  const endedWith = await withTimeout(conn.ended, BOUND_MS, 'end');
  assert.is(endedWith, undefined, String(endedWith));
  assert.is(conn.layer.receivedAlert, TlsAlert.CLOSE_NOTIFY);
  assert.is(conn.layer.sentAlert, TlsAlert.CLOSE_NOTIFY);
  await withTimeout(peerEnded, BOUND_MS, 'node sees our close');
});

test('data: 100 kB each way crosses many records intact, then close_notify', async () => {
  const server = await nodeServer();
  const accepted = server.nextConnection();
  const { conn } = await connect(server.port);
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  echoNode(await withTimeout(accepted, BOUND_MS, 'node accepts'));
  const payload = pattern(100_000);
  assert.equal(await roundTrip(conn, payload), payload);
  await withTimeout(conn.close(), BOUND_MS, 'close');
  assert.is(conn.layer.sentAlert, TlsAlert.CLOSE_NOTIFY);
});

test.run();
