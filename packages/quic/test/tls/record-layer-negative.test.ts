/**
 * Misbehaving peers a real TLS stack cannot be made to imitate: our client and our server joined
 * in memory through the record layer, with handshake messages tampered on the way out. Each
 * case must end with the RFC 8446 §6.2 alert in the engine's error AND as a record on the wire
 * that the other side decrypts and reports.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import type { SessionTicket, TlsClientOptions, TlsEngine, TlsServerOptions } from '../../src/tls/engine-api.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { seededRandom } from './support/harness.js';
import { fromHex } from '../../src/codec/hex.js';
import { TlsPeerAlertError } from './record-layer.js';
import { makeCertificate, makeChain, selfSigned, TEST_NOW_MS, type TestCertificate } from './support/certificates.js';
import { ourClient, ourServer } from './support/engines.js';
import {
  countHelloRetryRequests,
  encodeClientHello,
  encodeHandshakeMessages,
  encodeServerHello,
  ExtensionType,
  flipLastByte,
  HandshakeType,
  isHelloRetryRequest,
  NamedGroup,
  parseClientHello,
  parseServerHello,
  rewriteHandshake,
  splitHandshakeMessages,
  type ClientHello,
  type HandshakeMessage,
} from './support/handshake-messages.js';
import { memoryPair, type MemoryPair } from './support/memory-pair.js';
import { providers } from './support/providers.js';

const crypto = providers.auto;

let chain: { ca: TestCertificate; leaf: TestCertificate };
test.before(async () => {
  chain = await makeChain({ dnsNames: ['localhost'] });
});

type Tamper = (message: HandshakeMessage) => Uint8Array;

/** Runs a handshake in memory; `tamperServer` / `tamperClient` edit messages that side sends. */
function run(options: {
  client?: Partial<TlsClientOptions>;
  server?: Partial<TlsServerOptions>;
  certificate?: TestCertificate;
  tamperServer?: Tamper;
  tamperClient?: Tamper;
}): MemoryPair & { clientEngine: TlsEngine; serverEngine: TlsEngine } {
  const edit = (tamper: Tamper | undefined) =>
    tamper === undefined ? undefined : (_level: EncryptionLevel, data: Uint8Array) => rewriteHandshake(data, tamper);
  const clientEngine = ourClient({ crypto, serverName: 'localhost', verification: { mode: 'chain', trustAnchors: [chain.ca.der] }, ...options.client });
  const serverEngine = ourServer(options.certificate ?? chain.leaf, { crypto, ...options.server });
  const pair = memoryPair(
    { engine: clientEngine, crypto, options: { tamperOutgoingHandshake: edit(options.tamperClient) } },
    { engine: serverEngine, crypto, options: { tamperOutgoingHandshake: edit(options.tamperServer) } },
  );
  pair.pump();
  return Object.assign(pair, { clientEngine, serverEngine });
}

/** `failing` raised `alert` and sent it; the other side received and decoded exactly it. */
function assertAlert(pair: MemoryPair, failing: 'client' | 'server', alert: number): void {
  const local = pair[failing];
  const remote = pair[failing === 'client' ? 'server' : 'client'];
  assert.ok(local.ended, `${failing} ended`);
  assert.ok(TlsAlertError.isTlsAlert(local.error), `${failing} error: ${String(local.error)}`);
  assert.is((local.error as TlsAlertError).alert, alert, String(local.error));
  assert.is(local.layer.sentAlert, alert);
  assert.instance(remote.error, TlsPeerAlertError, `peer error: ${String(remote.error)}`);
  assert.is((remote.error as TlsPeerAlertError).alert, alert);
  assert.is(remote.layer.receivedAlert, alert);
}

const NO_CHAIN = { verification: { mode: 'none' } } as const;

test('control: the untampered in-memory handshake completes and carries data', () => {
  const pair = run({ client: NO_CHAIN });
  assert.ok(pair.client.complete && pair.server.complete);
  pair.client.layer.writeApplicationData(fromHex('68656c6c6f'));
  pair.pump();
  assert.equal(pair.server.received, [fromHex('68656c6c6f')]);
});

test('control: handshake messages cut into 1-byte records both ways are reassembled (§5.1)', () => {
  const pair = memoryPair(
    { engine: ourClient({ crypto }), crypto, options: { maxFragment: 1 } },
    { engine: ourServer(chain.leaf, { crypto }), crypto, options: { maxFragment: 1 } },
  );
  pair.pump();
  assert.ok(pair.client.complete && pair.server.complete, String(pair.client.error ?? pair.server.error));
  assert.ok(pair.client.wire.length > 100, 'many records');
});

test('control: with chain verification against the test CA the handshake completes', () => {
  const pair = run({});
  assert.ok(pair.client.complete && pair.server.complete, String(pair.client.error ?? pair.server.error));
});

test("§4.4.4: a wrong server Finished is decrypt_error, sent by the client under handshake keys", () => {
  const pair = run({ client: NO_CHAIN, tamperServer: (m) => (m.type === HandshakeType.FINISHED ? flipLastByte(m.body) : m.body) });
  assertAlert(pair, 'client', TlsAlert.DECRYPT_ERROR);
  assert.is(pair.client.complete, false);
});

test('§4.4.4: a wrong client Finished is decrypt_error, sent by the server', () => {
  const pair = run({ client: NO_CHAIN, tamperClient: (m) => (m.type === HandshakeType.FINISHED ? flipLastByte(m.body) : m.body) });
  assertAlert(pair, 'server', TlsAlert.DECRYPT_ERROR);
  assert.is(pair.server.complete, false);
});

test('§4.4.3: a CertificateVerify signature that does not verify is decrypt_error', () => {
  // The signature is the last field; flipping its last byte keeps the DER well-formed.
  const pair = run({ client: NO_CHAIN, tamperServer: (m) => (m.type === HandshakeType.CERTIFICATE_VERIFY ? flipLastByte(m.body) : m.body) });
  assertAlert(pair, 'client', TlsAlert.DECRYPT_ERROR);
});

test('§6.2: an expired server certificate is certificate_expired', async () => {
  const expired = await makeCertificate({
    issuer: chain.ca,
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2025-01-01T00:00:00Z'),
  });
  const pair = run({ certificate: expired });
  assertAlert(pair, 'client', TlsAlert.CERTIFICATE_EXPIRED);
});

test('§6.2: a certificate not valid yet is also refused (certificate_expired or bad_certificate)', async () => {
  const future = await makeCertificate({
    issuer: chain.ca,
    notBefore: new Date('2030-01-01T00:00:00Z'),
    notAfter: new Date('2031-01-01T00:00:00Z'),
  });
  const pair = run({ certificate: future });
  const alert = (pair.client.error as TlsAlertError | undefined)?.alert;
  assert.ok(alert === TlsAlert.CERTIFICATE_EXPIRED || alert === TlsAlert.BAD_CERTIFICATE, `alert ${alert}`);
  assertAlert(pair, 'client', alert!);
});

test('§6.2: a certificate for another host name is refused (bad_certificate or certificate_unknown)', () => {
  const pair = run({ client: { serverName: 'wrong.example' } });
  const alert = (pair.client.error as TlsAlertError | undefined)?.alert;
  assert.ok(alert === TlsAlert.BAD_CERTIFICATE || alert === TlsAlert.CERTIFICATE_UNKNOWN, `alert ${alert}`);
  assertAlert(pair, 'client', alert!);
});

test('§6.2: a chain to a CA we do not trust is unknown_ca', async () => {
  const other = await makeChain({ dnsNames: ['localhost'] });
  const pair = run({ certificate: other.leaf });
  assertAlert(pair, 'client', TlsAlert.UNKNOWN_CA);
});

test('certificate hashes (WebTransport): only a listed SHA-256 of a short-lived leaf is accepted', async () => {
  // W3C WebTransport: serverCertificateHashes certificates are valid for at most two weeks,
  // which is what the production generator makes.
  const shortLived = await selfSigned(TEST_NOW_MS);
  const good = run({
    certificate: shortLived,
    client: { verification: { mode: 'certificate-hashes', hashes: [crypto.hash('sha256', shortLived.der)] } },
  });
  assert.ok(good.client.complete, String(good.client.error));
  const bad = run({ certificate: shortLived, client: { verification: { mode: 'certificate-hashes', hashes: [new Uint8Array(32)] } } });
  assert.ok(TlsAlertError.isTlsAlert(bad.client.error), String(bad.client.error));
  assertAlert(bad, 'client', (bad.client.error as TlsAlertError).alert);
});

/** Removes supported_versions from the ServerHello (a TLS 1.2 answer), optionally with the sentinel. */
function downgradeServerHello(sentinel: boolean): Tamper {
  return (m) => {
    if (m.type !== HandshakeType.SERVER_HELLO) return m.body;
    const hello = parseServerHello(m.body);
    hello.extensions = hello.extensions.filter((e) => e.type !== ExtensionType.SUPPORTED_VERSIONS);
    // §4.1.3: a TLS 1.3 server negotiating TLS 1.2 ends its random with "DOWNGRD" 01.
    if (sentinel) hello.random.set(fromHex('444f574e47524401'), 24);
    return encodeServerHello(hello);
  };
}

test('§4.2.1 downgrade: a ServerHello without supported_versions (TLS 1.2) is protocol_version', () => {
  const pair = run({ tamperServer: downgradeServerHello(false) });
  // The client fails on the ServerHello, before it has handshake keys: its alert is plaintext.
  assertAlert(pair, 'client', TlsAlert.PROTOCOL_VERSION);
});

test('§4.1.3 downgrade: a TLS 1.2 ServerHello with the DOWNGRD sentinel is illegal_parameter', () => {
  const pair = run({ tamperServer: downgradeServerHello(true) });
  assertAlert(pair, 'client', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.1.3: a ServerHello choosing a cipher suite we did not offer is illegal_parameter', () => {
  const pair = run({
    client: { cipherSuites: [0x1301] },
    tamperServer: (m) => {
      if (m.type !== HandshakeType.SERVER_HELLO) return m.body;
      const hello = parseServerHello(m.body);
      hello.cipherSuite = 0x1303;
      return encodeServerHello(hello);
    },
  });
  assertAlert(pair, 'client', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.2.1: a ClientHello without supported_versions (TLS 1.2 only) is protocol_version at our server', () => {
  const pair = run({
    tamperClient: (m) => {
      if (m.type !== HandshakeType.CLIENT_HELLO) return m.body;
      const hello = parseClientHello(m.body);
      hello.extensions = hello.extensions.filter((e) => e.type !== ExtensionType.SUPPORTED_VERSIONS);
      return encodeClientHello(hello);
    },
  });
  assertAlert(pair, 'server', TlsAlert.PROTOCOL_VERSION);
});

test('§4.2.10 / §4.6: a client without a certificate when the server requires one: certificate_required', () => {
  const pair = run({ client: NO_CHAIN, server: { clientAuthentication: 'require', clientTrustAnchors: [chain.ca.der] } });
  assertAlert(pair, 'server', TlsAlert.CERTIFICATE_REQUIRED);
});

test('§9.2: a ClientHello without key_share or supported_groups is missing_extension', () => {
  const pair = run({
    tamperClient: (m) => {
      if (m.type !== HandshakeType.CLIENT_HELLO) return m.body;
      const hello = parseClientHello(m.body);
      hello.extensions = hello.extensions.filter((e) => e.type !== ExtensionType.KEY_SHARE && e.type !== ExtensionType.SUPPORTED_GROUPS);
      return encodeClientHello(hello);
    },
  });
  assertAlert(pair, 'server', TlsAlert.MISSING_EXTENSION);
});

/** Rewrites the HelloRetryRequest's selected_group (§4.2.8: key_share in an HRR is one NamedGroup). */
function hrrSelecting(group: number): Tamper {
  return (m) => {
    if (!isHelloRetryRequest(m)) return m.body;
    const hello = parseServerHello(m.body);
    hello.extensions = hello.extensions.map((e) => (e.type === ExtensionType.KEY_SHARE ? { type: e.type, data: new Uint8Array([group >> 8, group & 0xff]) } : e));
    return encodeServerHello(hello);
  };
}

test('control: the HelloRetryRequest setup below completes untampered', () => {
  // Our client offers both groups with an X25519 share; our server only takes P-256.
  const pair = run({ client: { ...NO_CHAIN, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] }, server: { groups: ['secp256r1'] } });
  assert.ok(pair.client.complete && pair.server.complete, String(pair.client.error ?? pair.server.error));
  assert.is(countHelloRetryRequests(pair.client.layer.plaintextMessagesReceived), 1);
});

test('§4.1.4: a second HelloRetryRequest is unexpected_message', () => {
  const pair = memoryPair(
    { engine: ourClient({ crypto, verification: { mode: 'none' }, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] }), crypto },
    {
      engine: ourServer(chain.leaf, { crypto, groups: ['secp256r1'] }),
      crypto,
      options: {
        tamperOutgoingHandshake: (_level, data) =>
          splitHandshakeMessages(data).some(isHelloRetryRequest) ? encodeHandshakeMessages([...splitHandshakeMessages(data), ...splitHandshakeMessages(data)]) : data,
      },
    },
  );
  pair.pump();
  assertAlert(pair, 'client', TlsAlert.UNEXPECTED_MESSAGE);
});

test('§4.1.4: an HRR that would not change the ClientHello (group already shared) is illegal_parameter', () => {
  const pair = run({
    client: { ...NO_CHAIN, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] },
    server: { groups: ['secp256r1'] },
    tamperServer: hrrSelecting(NamedGroup.x25519),
  });
  assertAlert(pair, 'client', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.2.8: an HRR selecting a group we did not offer is illegal_parameter', () => {
  const pair = run({
    client: { ...NO_CHAIN, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] },
    server: { groups: ['secp256r1'] },
    tamperServer: hrrSelecting(0x0018),
  });
  assertAlert(pair, 'client', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.1.3: a ServerHello that does not echo our legacy_session_id is illegal_parameter', () => {
  const pair = run({
    client: NO_CHAIN,
    tamperServer: (m) => {
      if (m.type !== HandshakeType.SERVER_HELLO) return m.body;
      const hello = parseServerHello(m.body);
      hello.sessionId = new Uint8Array(32).fill(7);
      return encodeServerHello(hello);
    },
  });
  assertAlert(pair, 'client', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.4.2.4: an empty server Certificate message is decode_error', () => {
  const pair = run({
    client: NO_CHAIN,
    // certificate_request_context<0> and an empty certificate_list<0>.
    tamperServer: (m) => (m.type === HandshakeType.CERTIFICATE ? new Uint8Array([0, 0, 0, 0]) : m.body),
  });
  assertAlert(pair, 'client', TlsAlert.DECODE_ERROR);
});

test('§4.4.3: a client CertificateVerify that does not verify is decrypt_error at our server', () => {
  const pair = run({
    client: { ...NO_CHAIN, clientCertificate: { chain: [chain.leaf.der], key: crypto.importSigningKey(chain.leaf.keyPkcs8) } },
    server: { clientAuthentication: 'require', clientTrustAnchors: [chain.ca.der] },
    tamperClient: (m) => (m.type === HandshakeType.CERTIFICATE_VERIFY ? flipLastByte(m.body) : m.body),
  });
  assertAlert(pair, 'server', TlsAlert.DECRYPT_ERROR);
});

/** A ticket from a first, untampered handshake with a server using `keys`. */
function ticketFrom(keys: SessionTicketKeys): SessionTicket {
  const pair = run({ client: NO_CHAIN, server: { sessionTicketKeys: keys } });
  const output = pair.client.outputs.find((o) => o.kind === 'session-ticket');
  assert.ok(output, 'a ticket was issued');
  return (output as { ticket: SessionTicket }).ticket;
}

function editClientHello(edit: (hello: ClientHello) => void): Tamper {
  return (m) => {
    if (m.type !== HandshakeType.CLIENT_HELLO) return m.body;
    const hello = parseClientHello(m.body);
    edit(hello);
    return encodeClientHello(hello);
  };
}

test('control: resumption in memory with our own ticket', () => {
  const keys = new SessionTicketKeys({ crypto, random: seededRandom(1) });
  const ticket = ticketFrom(keys);
  const pair = run({ client: { ...NO_CHAIN, sessionTicket: ticket }, server: { sessionTicketKeys: keys } });
  assert.ok(pair.client.complete && pair.server.complete);
  assert.is(pair.serverEngine.resumed, true);
  assert.is(pair.clientEngine.resumed, true);
});

test('§4.2.11.2: a PSK binder that does not verify aborts the handshake (decrypt_error)', () => {
  const keys = new SessionTicketKeys({ crypto, random: seededRandom(2) });
  const ticket = ticketFrom(keys);
  // The binders are the last bytes of the ClientHello: flip the final one.
  const pair = run({
    client: { ...NO_CHAIN, sessionTicket: ticket },
    server: { sessionTicketKeys: keys },
    tamperClient: (m) => (m.type === HandshakeType.CLIENT_HELLO ? flipLastByte(m.body) : m.body),
  });
  assertAlert(pair, 'server', TlsAlert.DECRYPT_ERROR);
});

test('§4.2.11: pre_shared_key not the last extension is illegal_parameter', () => {
  const keys = new SessionTicketKeys({ crypto, random: seededRandom(3) });
  const ticket = ticketFrom(keys);
  const pair = run({
    client: { ...NO_CHAIN, sessionTicket: ticket },
    server: { sessionTicketKeys: keys },
    tamperClient: editClientHello((hello) => {
      const psk = hello.extensions.find((e) => e.type === ExtensionType.PRE_SHARED_KEY)!;
      hello.extensions = [psk, ...hello.extensions.filter((e) => e !== psk)];
    }),
  });
  assertAlert(pair, 'server', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.2.8: a key share for a group missing from supported_groups is illegal_parameter', () => {
  const pair = run({
    client: { ...NO_CHAIN, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] },
    tamperClient: editClientHello((hello) => {
      // supported_groups: only secp256r1 now, while the share stays X25519.
      hello.extensions = hello.extensions.map((e) => (e.type === ExtensionType.SUPPORTED_GROUPS ? { type: e.type, data: fromHex('00020017') } : e));
    }),
  });
  assertAlert(pair, 'server', TlsAlert.ILLEGAL_PARAMETER);
});

test('§4.2: the same extension twice in a ClientHello is refused (illegal_parameter or decode_error)', () => {
  const pair = run({
    client: NO_CHAIN,
    tamperClient: editClientHello((hello) => {
      const alpn = hello.extensions.find((e) => e.type === ExtensionType.ALPN)!;
      hello.extensions = [alpn, ...hello.extensions];
    }),
  });
  const alert = (pair.server.error as TlsAlertError | undefined)?.alert;
  assert.ok(alert === TlsAlert.ILLEGAL_PARAMETER || alert === TlsAlert.DECODE_ERROR, `alert ${alert}`);
  assertAlert(pair, 'server', alert!);
});

const TRANSPORT_PARAMETERS = fromHex('01024064');

test('RFC 9001 §8.2: transport parameters are exchanged when both sides run under QUIC', () => {
  const pair = run({ client: { ...NO_CHAIN, transportParameters: TRANSPORT_PARAMETERS }, server: { transportParameters: TRANSPORT_PARAMETERS } });
  assert.ok(pair.client.complete && pair.server.complete);
  const seen = (outputs: typeof pair.client.outputs) => outputs.filter((o) => o.kind === 'peer-transport-parameters');
  assert.equal(seen(pair.client.outputs), [{ kind: 'peer-transport-parameters', data: TRANSPORT_PARAMETERS }]);
  assert.equal(seen(pair.server.outputs), [{ kind: 'peer-transport-parameters', data: TRANSPORT_PARAMETERS }]);
});

test('RFC 9001 §8.1: under QUIC a ClientHello without ALPN is no_application_protocol', () => {
  const pair = run({
    client: { ...NO_CHAIN, transportParameters: TRANSPORT_PARAMETERS, alpnProtocols: [] },
    server: { transportParameters: TRANSPORT_PARAMETERS },
  });
  assertAlert(pair, 'server', TlsAlert.NO_APPLICATION_PROTOCOL);
});

test('RFC 9001 §8.2: a QUIC server refuses a ClientHello without quic_transport_parameters (missing_extension)', () => {
  const pair = run({ client: NO_CHAIN, server: { transportParameters: TRANSPORT_PARAMETERS } });
  assertAlert(pair, 'server', TlsAlert.MISSING_EXTENSION);
});

test('RFC 9001 §8.2: a QUIC client refuses a server without quic_transport_parameters (missing_extension)', () => {
  const pair = run({ client: { ...NO_CHAIN, transportParameters: TRANSPORT_PARAMETERS } });
  assertAlert(pair, 'client', TlsAlert.MISSING_EXTENSION);
});

test.run();
