import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import { TlsAlert } from '../../src/tls/alert.js';
import { TlsCipherSuite } from '../../src/tls/engine-api.js';
import { toHex } from '../helpers/vectors.js';
import {
  ALPN,
  CLIENT_TP,
  Clock,
  clientCert,
  clientOptions,
  expectAlert,
  findSecret,
  PROVIDERS,
  runPair,
  SERVER_TP,
  serverCert,
  serverOptions,
} from './engine-pair.js';
import { makeCertificate, makeChain } from './support/certificates.js';

let chainPromise: ReturnType<typeof makeChain> | undefined;
function chain(): ReturnType<typeof makeChain> {
  chainPromise ??= makeChain({ dnsNames: ['example.test'] });
  return chainPromise;
}

const SUITES = [
  TlsCipherSuite.TLS_AES_128_GCM_SHA256,
  TlsCipherSuite.TLS_AES_256_GCM_SHA384,
  TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;

/** Both sides agree on every secret: one side's write is the other's read. */
function assertMirroredSecrets(r: ReturnType<typeof runPair>): void {
  for (const level of [EncryptionLevel.HANDSHAKE, EncryptionLevel.APPLICATION]) {
    const cw = findSecret(r.clientOutputs, level, 'write');
    const sr = findSecret(r.serverOutputs, level, 'read');
    const sw = findSecret(r.serverOutputs, level, 'write');
    const cr = findSecret(r.clientOutputs, level, 'read');
    assert.ok(cw && sr && sw && cr, `secrets at level ${level}`);
    assert.is(toHex(cw), toHex(sr));
    assert.is(toHex(sw), toHex(cr));
    assert.is.not(toHex(cw), toHex(sw));
  }
}

for (const [name, crypto] of PROVIDERS) {
  for (const suite of SUITES) {
    test(`${name}: full handshake with suite 0x${suite.toString(16)} (RFC 8446 §2), secrets mirrored, transport parameters exchanged`, async () => {
      const clock = new Clock();
      const cert = await serverCert();
      const r = runPair(clientOptions(crypto, clock, { cipherSuites: [suite] }), serverOptions(crypto, clock, cert));
      assert.is(r.error, undefined, String(r.error?.error));
      assert.ok(r.client.handshakeComplete && r.server.handshakeComplete);
      assert.is(r.client.cipherSuite, suite);
      assert.is(r.server.cipherSuite, suite);
      assert.is(r.client.alpnProtocol, ALPN);
      assert.is(r.server.alpnProtocol, ALPN);
      assert.is(r.client.group, 'x25519');
      assert.is(r.server.serverName, 'example.test');
      assert.is(r.client.peerCertificates.length, 1);
      assert.is(toHex(r.client.peerCertificates[0]!), toHex(cert.der));
      assert.is(r.client.resumed, false);
      assertMirroredSecrets(r);
      for (const s of r.clientOutputs.filter((o) => o.kind === 'secret')) assert.is(s.cipherSuite, suite);
      const ctp = r.serverOutputs.find((o) => o.kind === 'peer-transport-parameters');
      const stp = r.clientOutputs.find((o) => o.kind === 'peer-transport-parameters');
      assert.is(ctp?.kind === 'peer-transport-parameters' && toHex(ctp.data), toHex(CLIENT_TP));
      assert.is(stp?.kind === 'peer-transport-parameters' && toHex(stp.data), toHex(SERVER_TP));
      // RFC 9001 §4.1.2 levels: ClientHello/ServerHello at Initial, the rest at Handshake.
      const levels = r.serverOutputs.filter((o) => o.kind === 'handshake-data').map((o) => o.kind === 'handshake-data' && o.level);
      assert.equal(levels, [EncryptionLevel.INITIAL, EncryptionLevel.HANDSHAKE, EncryptionLevel.HANDSHAKE, EncryptionLevel.HANDSHAKE, EncryptionLevel.HANDSHAKE]);
      assert.ok(r.clientOutputs.some((o) => o.kind === 'handshake-complete'));
      assert.ok(r.serverOutputs.some((o) => o.kind === 'handshake-complete'));
    });
  }

  test(`${name}: secp256r1 key exchange`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock, { groups: ['secp256r1'] }), serverOptions(crypto, clock, await serverCert()));
    assert.is(r.error, undefined, String(r.error?.error));
    assert.is(r.client.group, 'secp256r1');
    assert.is(r.server.group, 'secp256r1');
    assert.is(r.client.helloRetryRequested, false);
    assertMirroredSecrets(r);
  });

  test(`${name}: HelloRetryRequest when the client's share is not in a group the server takes (§4.1.4)`, async () => {
    const clock = new Clock();
    const r = runPair(
      clientOptions(crypto, clock, { groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] }),
      serverOptions(crypto, clock, await serverCert(), { groups: ['secp256r1'] }),
    );
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.client.helloRetryRequested && r.server.helloRetryRequested);
    assert.is(r.client.group, 'secp256r1');
    assertMirroredSecrets(r);
    const clientHellos = r.clientOutputs.filter((o) => o.kind === 'handshake-data' && o.level === EncryptionLevel.INITIAL);
    assert.is(clientHellos.length, 2);
  });

  test(`${name}: no common group at all is handshake_failure`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock, { groups: ['x25519'] }), serverOptions(crypto, clock, await serverCert(), { groups: ['secp256r1'] }));
    expectAlert(r, 'server', TlsAlert.HANDSHAKE_FAILURE, 'no group');
  });

  test(`${name}: no common cipher suite is handshake_failure`, async () => {
    const clock = new Clock();
    const r = runPair(
      clientOptions(crypto, clock, { cipherSuites: [TlsCipherSuite.TLS_AES_128_GCM_SHA256] }),
      serverOptions(crypto, clock, await serverCert(), { cipherSuites: [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256] }),
    );
    expectAlert(r, 'server', TlsAlert.HANDSHAKE_FAILURE, 'no suite');
  });

  test(`${name}: ALPN without overlap is no_application_protocol (RFC 9001 §8.1)`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock, { alpnProtocols: ['hq-interop'] }), serverOptions(crypto, clock, await serverCert()));
    expectAlert(r, 'server', TlsAlert.NO_APPLICATION_PROTOCOL, 'alpn');
    assert.is((r.error!.error as { code: number }).code, 0x178);
  });

  test(`${name}: QUIC without transport parameters is missing_extension (RFC 9001 §8.2)`, async () => {
    const clock = new Clock();
    const opts = clientOptions(crypto, clock);
    // A plain-TLS client (no transport parameters) talking to a QUIC server.
    delete opts.transportParameters;
    const r = runPair(opts, serverOptions(crypto, clock, await serverCert()));
    expectAlert(r, 'server', TlsAlert.MISSING_EXTENSION, 'no tp');
  });

  test(`${name}: plain TLS mode: no transport parameters, ALPN optional`, async () => {
    const clock = new Clock();
    const c = clientOptions(crypto, clock, { alpnProtocols: [] });
    delete c.transportParameters;
    const s = serverOptions(crypto, clock, await serverCert());
    delete s.transportParameters;
    const r = runPair(c, s);
    assert.is(r.error, undefined, String(r.error?.error));
    assert.is(r.client.alpnProtocol, undefined);
    assert.ok(r.client.handshakeComplete && r.server.handshakeComplete);
    assert.not.ok(r.clientOutputs.some((o) => o.kind === 'peer-transport-parameters'));
  });

  test(`${name}: client authentication: requested and presented`, async () => {
    const clock = new Clock();
    const cc = await clientCert();
    const r = runPair(
      clientOptions(crypto, clock, { clientCertificate: { chain: [cc.der], key: crypto.importSigningKey(cc.keyPkcs8) } }),
      serverOptions(crypto, clock, await serverCert(), { clientAuthentication: 'require' }),
    );
    assert.is(r.error, undefined, String(r.error?.error));
    assert.is(r.server.peerCertificates.length, 1);
    assert.is(toHex(r.server.peerCertificates[0]!), toHex(cc.der));
    assertMirroredSecrets(r);
  });

  test(`${name}: client authentication: requested, client has none -> empty Certificate accepted`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert(), { clientAuthentication: 'request' }));
    assert.is(r.error, undefined, String(r.error?.error));
    assert.is(r.server.peerCertificates.length, 0);
    assert.ok(r.server.handshakeComplete);
  });

  test(`${name}: client authentication: required, client has none -> certificate_required`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert(), { clientAuthentication: 'require' }));
    expectAlert(r, 'server', TlsAlert.CERTIFICATE_REQUIRED, 'no client cert');
  });

  test(`${name}: certificate checks: chain to a trust anchor with the server name, wrong anchor, wrong name, hashes`, async () => {
    const clock = new Clock();
    const { ca, leaf } = await chain();
    const good = runPair(
      clientOptions(crypto, clock, { verification: { mode: 'chain', trustAnchors: [ca.der] } }),
      serverOptions(crypto, clock, leaf, { certificateChain: [leaf.der, ca.der] }),
    );
    assert.is(good.error, undefined, String(good.error?.error));
    const other = await makeCertificate({ ca: true, commonName: 'another CA' });
    const unknownCa = runPair(clientOptions(crypto, clock, { verification: { mode: 'chain', trustAnchors: [other.der] } }), serverOptions(crypto, clock, leaf));
    expectAlert(unknownCa, 'client', TlsAlert.UNKNOWN_CA, 'unknown CA');
    const wrongName = runPair(
      clientOptions(crypto, clock, { serverName: 'other.test', verification: { mode: 'chain', trustAnchors: [ca.der] } }),
      serverOptions(crypto, clock, leaf),
    );
    expectAlert(wrongName, 'client', TlsAlert.CERTIFICATE_UNKNOWN, 'wrong name');
    // WebTransport serverCertificateHashes: a short-lived ECDSA certificate, matched by SHA-256.
    const short = await makeCertificate({ notBefore: new Date(clock.ms - 86_400_000), notAfter: new Date(clock.ms + 10 * 86_400_000) });
    const hash = crypto.hash('sha256', short.der);
    const byHash = runPair(clientOptions(crypto, clock, { verification: { mode: 'certificate-hashes', hashes: [hash] } }), serverOptions(crypto, clock, short));
    assert.is(byHash.error, undefined, String(byHash.error?.error));
    const wrongHash = runPair(
      clientOptions(crypto, clock, { verification: { mode: 'certificate-hashes', hashes: [new Uint8Array(32)] } }),
      serverOptions(crypto, clock, short),
    );
    expectAlert(wrongHash, 'client', TlsAlert.CERTIFICATE_UNKNOWN, 'wrong hash');
  });

  test(`${name}: server checks client certificates against clientTrustAnchors`, async () => {
    const clock = new Clock();
    const { ca, leaf } = await chain();
    const stranger = await clientCert();
    for (const [cert, anchors, ok] of [
      [leaf, [ca.der], true],
      [stranger, [ca.der], false],
    ] as const) {
      const r = runPair(
        clientOptions(crypto, clock, { clientCertificate: { chain: [cert.der], key: crypto.importSigningKey(cert.keyPkcs8) } }),
        serverOptions(crypto, clock, await serverCert(), { clientAuthentication: 'require', clientTrustAnchors: [...anchors] }),
      );
      if (ok) assert.is(r.error, undefined, String(r.error?.error));
      else expectAlert(r, 'server', TlsAlert.UNKNOWN_CA, 'client cert from unknown CA');
    }
  });

  test(`${name}: key log outputs carry the client random and each secret (SSLKEYLOGFILE labels)`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock, { keyLog: true }), serverOptions(crypto, clock, await serverCert(), { keyLog: true }));
    assert.is(r.error, undefined);
    const logs = r.clientOutputs.filter((o) => o.kind === 'key-log');
    assert.equal(
      logs.map((l) => l.kind === 'key-log' && l.label).sort(),
      ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'],
    );
    const ch = r.clientOutputs.find((o) => o.kind === 'handshake-data');
    const random = ch?.kind === 'handshake-data' ? toHex(ch.data.subarray(6, 38)) : '';
    for (const l of logs) if (l.kind === 'key-log') assert.is(toHex(l.clientRandom), random);
    const serverLogs = r.serverOutputs.filter((o) => o.kind === 'key-log');
    assert.is(serverLogs.length, 4);
    const chs = logs.find((l) => l.kind === 'key-log' && l.label === 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    assert.is(chs?.kind === 'key-log' && toHex(chs.secret), toHex(findSecret(r.clientOutputs, EncryptionLevel.HANDSHAKE, 'write')!));
    // Off by default.
    const quiet = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()));
    assert.not.ok(quiet.clientOutputs.some((o) => o.kind === 'key-log'));
  });
}

test.run();
