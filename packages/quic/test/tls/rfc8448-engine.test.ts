/**
 * RFC 8448 §3 (Simple 1-RTT), §4 (Resumed 0-RTT), §5 (HelloRetryRequest) and §6 (Client
 * Authentication) reproduced by our engines, byte for byte.
 *
 * Injected: the trace's randoms and X25519 private keys (a provider wrapper whose
 * generateKeyShare imports the trace key), and — through the test-only rewrite hook — the
 * trace's exact ClientHello (it carries extensions we do not send: renegotiation_info,
 * session_ticket, record_size_limit, more groups and signature schemes), the trace's
 * EncryptedExtensions (supported_groups and record_size_limit, which our server does not send)
 * and the server's CertificateVerify (RSA-PSS is randomized, so our own signature cannot equal
 * the trace's; ours is checked to verify instead). §5 also swaps in the trace's HelloRetryRequest
 * (its server adds a cookie; ours has none), §6 the trace's CertificateRequest (it lists schemes we
 * do not implement) and both CertificateVerify messages (the §6 keys are not published); the peer
 * engine still verifies every injected signature. Everything else — ServerHello, Certificate,
 * PSK binder, every secret, both Finished messages, EndOfEarlyData, the resumption PSK — is
 * computed by the engines and compared with the trace.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeDer, encodeOid, encodeUnsignedInteger, DerTag } from '../../src/crypto/der.js';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import type { CryptoProvider, NamedGroupName } from '../../src/crypto/provider.js';
import { createTlsClient } from '../../src/tls/client.js';
import { TlsCipherSuite, type SessionTicket, type TlsEngine, type TlsOutput } from '../../src/tls/engine-api.js';
import { findExtension } from '../../src/tls/extensions.js';
import { KeySchedule } from '../../src/tls/key-schedule.js';
import { decodeCertificateMessage } from '../../src/tls/messages/cert-message.js';
import { certificateVerifyContent, decodeCertificateVerify } from '../../src/tls/messages/cert-verify.js';
import { decodeClientHello, decodeServerHello } from '../../src/tls/messages/hello.js';
import { decodeNewSessionTicket } from '../../src/tls/messages/new-session-ticket.js';
import { certificateSpki } from '../../src/tls/peer-auth.js';
import { createTlsServer } from '../../src/tls/server.js';
import { encodeTicketState, SessionTicketKeys } from '../../src/tls/tickets.js';
import { ExtensionType, HandshakeType } from '../../src/tls/wire.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';
import { PROVIDERS, serverCert } from './engine-pair.js';
import { TEST_NOW_MS } from './support/certificates.js';
import { seededRandom } from './support/harness.js';

interface RsaKey {
  modulus: string;
  publicExponent: string;
  privateExponent: string;
  prime1: string;
  prime2: string;
  exponent1: string;
  exponent2: string;
  coefficient: string;
}

interface Simple {
  source: string;
  clientPrivateKey: string;
  clientPublicKey: string;
  serverPrivateKey: string;
  serverPublicKey: string;
  clientHello: string;
  serverHello: string;
  encryptedExtensions: string;
  certificate: string;
  certificateVerify: string;
  serverFinished: string;
  clientFinished: string;
  newSessionTicket: string;
  earlySecret: string;
  ecdheSharedSecret: string;
  handshakeSecret: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  masterSecret: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
  exporterMasterSecret: string;
  resumptionMasterSecret: string;
  serverFinishedVerifyData: string;
  clientFinishedVerifyData: string;
  resumptionPsk: string;
  rsaKey: RsaKey;
}

interface Resumed {
  source: string;
  clientPrivateKey: string;
  serverPrivateKey: string;
  serverPublicKey: string;
  psk: string;
  earlySecret: string;
  clientHello: string;
  clientHelloPrefix: string;
  binderHash: string;
  binderKey: string;
  binder: string;
  clientEarlyTrafficSecret: string;
  earlyExporterMasterSecret: string;
  serverHello: string;
  ecdheSharedSecret: string;
  handshakeSecret: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  masterSecret: string;
  encryptedExtensions: string;
  serverFinished: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
  endOfEarlyData: string;
  clientFinished: string;
  resumptionMasterSecret: string;
}

interface Retry {
  source: string;
  clientX25519PrivateKey: string;
  clientP256PrivateKey: string;
  serverP256PrivateKey: string;
  clientHello1: string;
  helloRetryRequest: string;
  clientHello2: string;
  serverHello: string;
  handshakeSecret: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  encryptedExtensions: string;
  certificate: string;
  certificateVerify: string;
  serverFinished: string;
  clientFinished: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
}

interface ClientAuth {
  source: string;
  clientPrivateKey: string;
  serverPrivateKey: string;
  clientHello: string;
  serverHello: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  encryptedExtensions: string;
  certificateRequest: string;
  serverCertificate: string;
  serverCertificateVerify: string;
  serverFinished: string;
  clientCertificate: string;
  clientCertificateVerify: string;
  clientFinished: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
}

const s3 = loadVectors<Simple>('rfc8448-3-simple-1rtt.json');
const s6 = loadVectors<ClientAuth>('rfc8448-6-client-authentication.json');
const s5 = loadVectors<Retry>('rfc8448-5-hello-retry-request.json');
const s4 = loadVectors<Resumed>('rfc8448-4-resumed-0rtt.json');
const h = fromHex;

/** The trace's RSA key (§2) as PKCS#8 (RFC 5208) over RSAPrivateKey (RFC 8017 A.1.2). */
function rsaPkcs8(k: RsaKey): Uint8Array {
  const ints = [new Uint8Array(1), h(k.modulus), h(k.publicExponent), h(k.privateExponent), h(k.prime1), h(k.prime2), h(k.exponent1), h(k.exponent2), h(k.coefficient)];
  const rsaPrivateKey = encodeDer(DerTag.SEQUENCE, ...ints.map(encodeUnsignedInteger));
  const algorithm = encodeDer(DerTag.SEQUENCE, encodeOid('1.2.840.113549.1.1.1'), encodeDer(DerTag.NULL));
  return encodeDer(DerTag.SEQUENCE, encodeUnsignedInteger(new Uint8Array(1)), algorithm, encodeDer(DerTag.OCTET_STRING, rsaPrivateKey));
}

/** TEST-ONLY provider wrapper: key generation returns the trace's key pairs (X25519, and P-256 if given). */
function withTraceKey(base: CryptoProvider, x25519Hex: string | undefined, p256Hex?: string): CryptoProvider {
  return {
    ...base,
    generateKeyShare: (group: NamedGroupName) => {
      if (group === 'x25519' && x25519Hex) return base.importKeyShare('x25519', h(x25519Hex));
      if (group === 'secp256r1' && p256Hex) return base.importKeyShare('secp256r1', h(p256Hex));
      throw new Error(`the trace has no ${group} key here`);
    },
  };
}

/** The first 32-byte request gets the trace's random; anything else is seeded filler. */
function traceRandom(random: Uint8Array): (length: number) => Uint8Array {
  const filler = seededRandom(8448);
  let used = false;
  return (length) => {
    if (length === 32 && !used) {
      used = true;
      return random.slice();
    }
    return filler(length);
  };
}

function drain(engine: TlsEngine): TlsOutput[] {
  const out: TlsOutput[] = [];
  for (let o = engine.poll(), n = 0; o && n < 100; o = engine.poll(), n++) out.push(o);
  return out;
}

function data(outputs: TlsOutput[], level: EncryptionLevel): string[] {
  return outputs.flatMap((o) => (o.kind === 'handshake-data' && o.level === level ? [toHex(o.data)] : []));
}

function secret(outputs: TlsOutput[], level: EncryptionLevel, direction: 'read' | 'write'): string | undefined {
  const s = outputs.find((o) => o.kind === 'secret' && o.level === level && o.direction === direction);
  return s?.kind === 'secret' ? toHex(s.secret) : undefined;
}

function keyLog(outputs: TlsOutput[], label: string): { random: string; secret: string } | undefined {
  const k = outputs.find((o) => o.kind === 'key-log' && o.label === label);
  return k?.kind === 'key-log' ? { random: toHex(k.clientRandom), secret: toHex(k.secret) } : undefined;
}

const clientRandom3 = h(s3.clientHello).subarray(6, 38);
const serverRandom3 = h(s3.serverHello).subarray(6, 38);
const certDer = decodeCertificateMessage(h(s3.certificate).subarray(4)).entries[0]!.data;
const traceNst = decodeNewSessionTicket(h(s3.newSessionTicket).subarray(4));
const TRACE_SUITES = [TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384];

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: RFC 8448 §3 key schedule from the trace's messages (Derive-Secret chain, Finished, resumption PSK)`, () => {
    const shared = crypto.deriveSharedSecret(crypto.importKeyShare('x25519', h(s3.clientPrivateKey)), h(s3.serverPublicKey));
    assert.is(toHex(shared), s3.ecdheSharedSecret);
    const ks = new KeySchedule(crypto, 'sha256');
    assert.is(toHex(ks.earlySecret), s3.earlySecret);
    assert.is(toHex(ks.deriveHandshakeSecret(shared)), s3.handshakeSecret);
    const th = (...msgs: string[]) => crypto.hash('sha256', h(msgs.join('')));
    const hs = ks.handshakeTrafficSecrets(th(s3.clientHello, s3.serverHello));
    assert.is(toHex(hs.client), s3.clientHandshakeTrafficSecret);
    assert.is(toHex(hs.server), s3.serverHandshakeTrafficSecret);
    assert.is(toHex(ks.deriveMasterSecret()), s3.masterSecret);
    const upToCv = th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate, s3.certificateVerify);
    assert.is(toHex(ks.finishedVerifyData(hs.server, upToCv)), s3.serverFinishedVerifyData);
    const upToSf = th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate, s3.certificateVerify, s3.serverFinished);
    const app = ks.applicationTrafficSecrets(upToSf);
    assert.is(toHex(app.client), s3.clientApplicationTrafficSecret);
    assert.is(toHex(app.server), s3.serverApplicationTrafficSecret);
    assert.is(toHex(ks.exporterMasterSecret(upToSf)), s3.exporterMasterSecret);
    assert.is(toHex(ks.finishedVerifyData(hs.client, upToSf)), s3.clientFinishedVerifyData);
    const rms = ks.resumptionMasterSecret(th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate, s3.certificateVerify, s3.serverFinished, s3.clientFinished));
    assert.is(toHex(rms), s3.resumptionMasterSecret);
    assert.is(toHex(ks.resumptionPsk(rms, traceNst.nonce)), s3.resumptionPsk);
    // §4.4.3: the trace's RSA-PSS CertificateVerify verifies over our CertificateVerify content.
    const cv = decodeCertificateVerify(h(s3.certificateVerify).subarray(4));
    const content = certificateVerifyContent('server', th(s3.clientHello, s3.serverHello, s3.encryptedExtensions, s3.certificate));
    assert.is(cv.scheme, 0x0804);
    assert.ok(crypto.verify(certificateSpki(certDer), 'rsa_pss_rsae_sha256', content, cv.signature));
  });

  test(`${name}: RFC 8448 §4 key schedule: early secret, binder, early traffic secret from the trace's ClientHello`, () => {
    const ks = new KeySchedule(crypto, 'sha256', h(s4.psk));
    assert.is(toHex(ks.earlySecret), s4.earlySecret);
    assert.is(toHex(ks.binderKey(true)), s4.binderKey);
    assert.is(toHex(crypto.hash('sha256', h(s4.clientHelloPrefix))), s4.binderHash);
    assert.is(toHex(ks.finishedVerifyData(ks.binderKey(true), h(s4.binderHash))), s4.binder);
    const chHash = crypto.hash('sha256', h(s4.clientHello));
    assert.is(toHex(ks.clientEarlyTrafficSecret(chHash)), s4.clientEarlyTrafficSecret);
    assert.is(toHex(ks.earlyExporterMasterSecret(chHash)), s4.earlyExporterMasterSecret);
  });

  test(`${name}: RFC 8448 §3: our client reproduces the handshake secrets, its Finished and the resumption PSK`, () => {
    let ourHello: Uint8Array | undefined;
    const client = createTlsClient({
      crypto: withTraceKey(crypto, s3.clientPrivateKey),
      random: traceRandom(clientRandom3),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      serverName: 'server',
      cipherSuites: TRACE_SUITES,
      verification: { mode: 'none' },
      keyLog: true,
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          if (type !== HandshakeType.CLIENT_HELLO) return message;
          ourHello = message;
          return h(s3.clientHello);
        },
      },
    });
    client.start();
    const first = drain(client);
    assert.equal(data(first, EncryptionLevel.INITIAL), [s3.clientHello]);
    // What we would have sent differs only in extensions we do not implement.
    const ours = decodeClientHello(ourHello!.subarray(4));
    const theirs = decodeClientHello(h(s3.clientHello).subarray(4));
    assert.is(toHex(ours.random), toHex(theirs.random));
    assert.equal(ours.cipherSuites, theirs.cipherSuites);
    for (const type of [ExtensionType.SERVER_NAME, ExtensionType.KEY_SHARE, ExtensionType.SUPPORTED_VERSIONS, ExtensionType.PSK_KEY_EXCHANGE_MODES]) {
      assert.is(toHex(findExtension(ours.extensions, type)!), toHex(findExtension(theirs.extensions, type)!), `extension ${type}`);
    }

    client.receive(EncryptionLevel.INITIAL, h(s3.serverHello));
    const afterSh = drain(client);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'write'), s3.clientHandshakeTrafficSecret);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'read'), s3.serverHandshakeTrafficSecret);
    assert.equal(keyLog(afterSh, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'), { random: toHex(clientRandom3), secret: s3.clientHandshakeTrafficSecret });

    // The server's flight, in one piece (several messages per call).
    client.receive(EncryptionLevel.HANDSHAKE, h(s3.encryptedExtensions + s3.certificate + s3.certificateVerify + s3.serverFinished));
    const afterFlight = drain(client);
    assert.equal(data(afterFlight, EncryptionLevel.HANDSHAKE), [s3.clientFinished]);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'write'), s3.clientApplicationTrafficSecret);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'read'), s3.serverApplicationTrafficSecret);
    assert.equal(keyLog(afterFlight, 'SERVER_TRAFFIC_SECRET_0'), { random: toHex(clientRandom3), secret: s3.serverApplicationTrafficSecret });
    assert.ok(afterFlight.some((o) => o.kind === 'handshake-complete'));
    assert.ok(client.handshakeComplete);
    assert.is(toHex(client.peerCertificates[0]!), toHex(certDer));

    client.receive(EncryptionLevel.APPLICATION, h(s3.newSessionTicket));
    const ticketOut = drain(client).find((o) => o.kind === 'session-ticket');
    assert.ok(ticketOut?.kind === 'session-ticket');
    const t = ticketOut.ticket;
    assert.is(toHex(t.psk), s3.resumptionPsk);
    assert.is(toHex(t.ticket), toHex(traceNst.ticket));
    assert.is(t.lifetimeSeconds, 30);
    assert.is(t.ageAdd, traceNst.ageAdd);
    assert.is(t.maxEarlyDataSize, 1024);
    assert.is(t.cipherSuite, TlsCipherSuite.TLS_AES_128_GCM_SHA256);
  });

  test(`${name}: RFC 8448 §3: our server reproduces ServerHello, Certificate, the secrets and its Finished`, () => {
    const ourMessages = new Map<number, Uint8Array>();
    const server = createTlsServer({
      crypto: withTraceKey(crypto, s3.serverPrivateKey),
      random: traceRandom(serverRandom3),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      certificateChain: [certDer],
      key: crypto.importSigningKey(rsaPkcs8(s3.rsaKey)),
      keyLog: true,
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          ourMessages.set(type, message);
          if (type === HandshakeType.ENCRYPTED_EXTENSIONS) return h(s3.encryptedExtensions);
          if (type === HandshakeType.CERTIFICATE_VERIFY) return h(s3.certificateVerify);
          return message;
        },
      },
    });
    server.receive(EncryptionLevel.INITIAL, h(s3.clientHello));
    const out = drain(server);
    assert.equal(data(out, EncryptionLevel.INITIAL), [s3.serverHello]);
    assert.equal(data(out, EncryptionLevel.HANDSHAKE), [s3.encryptedExtensions, s3.certificate, s3.certificateVerify, s3.serverFinished]);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'read'), s3.clientHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'write'), s3.serverHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.APPLICATION, 'write'), s3.serverApplicationTrafficSecret);
    assert.equal(keyLog(out, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'), { random: toHex(clientRandom3), secret: s3.serverHandshakeTrafficSecret });
    // Our own EncryptedExtensions: just the empty server_name (the trace adds supported_groups, record_size_limit).
    assert.is(toHex(ourMessages.get(HandshakeType.ENCRYPTED_EXTENSIONS)!), '08000006000400000000');
    // Our own CertificateVerify: same scheme, a fresh RSA-PSS signature that verifies.
    const ourCv = decodeCertificateVerify(ourMessages.get(HandshakeType.CERTIFICATE_VERIFY)!.subarray(4));
    assert.is(ourCv.scheme, 0x0804);
    const th = crypto.hash('sha256', h(s3.clientHello + s3.serverHello + s3.encryptedExtensions + s3.certificate));
    assert.ok(crypto.verify(certificateSpki(certDer), 'rsa_pss_rsae_sha256', certificateVerifyContent('server', th), ourCv.signature));

    server.receive(EncryptionLevel.HANDSHAKE, h(s3.clientFinished));
    const done = drain(server);
    assert.is(secret(done, EncryptionLevel.APPLICATION, 'read'), s3.clientApplicationTrafficSecret);
    assert.ok(server.handshakeComplete);
  });

  test(`${name}: RFC 8448 §4: our client reproduces the PSK binder, 0-RTT keys, EndOfEarlyData and Finished`, () => {
    const traceHello = decodeClientHello(h(s4.clientHello).subarray(4));
    const obfuscatedAge = new DataView(h(s4.clientHello).buffer).getUint32(h(s4.clientHello).length - 35 - 4);
    const ageMs = (obfuscatedAge - traceNst.ageAdd) >>> 0;
    const ticket: SessionTicket = {
      ticket: traceNst.ticket,
      psk: h(s4.psk),
      cipherSuite: TlsCipherSuite.TLS_AES_128_GCM_SHA256,
      receivedAtMs: TEST_NOW_MS - ageMs,
      lifetimeSeconds: traceNst.lifetimeSeconds,
      ageAdd: traceNst.ageAdd,
      maxEarlyDataSize: 1024,
      serverName: 'server',
      alpn: undefined,
    };
    let ourHello: Uint8Array | undefined;
    const client = createTlsClient({
      crypto: withTraceKey(crypto, s4.clientPrivateKey),
      random: traceRandom(traceHello.random),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      serverName: 'server',
      cipherSuites: TRACE_SUITES,
      verification: { mode: 'none' },
      sessionTicket: ticket,
      earlyData: true,
      keyLog: true,
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          if (type !== HandshakeType.CLIENT_HELLO) return message;
          ourHello = message;
          // The trace's ClientHello with the binder blanked: the engine must compute it.
          const blank = h(s4.clientHello);
          blank.fill(0, blank.length - 32);
          return blank;
        },
      },
    });
    client.start();
    const first = drain(client);
    assert.equal(data(first, EncryptionLevel.INITIAL), [s4.clientHello]);
    assert.is(secret(first, EncryptionLevel.EARLY_DATA, 'write'), s4.clientEarlyTrafficSecret);
    assert.equal(keyLog(first, 'CLIENT_EARLY_TRAFFIC_SECRET'), { random: toHex(traceHello.random), secret: s4.clientEarlyTrafficSecret });
    // Our own pre_shared_key offer (identity, obfuscated age) equals the trace's.
    const ours = decodeClientHello(ourHello!.subarray(4));
    const ourPsk = findExtension(ours.extensions, ExtensionType.PRE_SHARED_KEY)!;
    const theirPsk = findExtension(traceHello.extensions, ExtensionType.PRE_SHARED_KEY)!;
    assert.is(toHex(ourPsk.subarray(0, ourPsk.length - 35)), toHex(theirPsk.subarray(0, theirPsk.length - 35)));
    assert.ok(findExtension(ours.extensions, ExtensionType.EARLY_DATA));

    client.receive(EncryptionLevel.INITIAL, h(s4.serverHello));
    const afterSh = drain(client);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'write'), s4.clientHandshakeTrafficSecret);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'read'), s4.serverHandshakeTrafficSecret);
    assert.ok(client.resumed);

    client.receive(EncryptionLevel.HANDSHAKE, h(s4.encryptedExtensions + s4.serverFinished));
    const afterFlight = drain(client);
    assert.ok(afterFlight.some((o) => o.kind === 'early-data' && o.accepted));
    // Plain TLS: EndOfEarlyData under the early keys, then Finished (RFC 8446 §4.5).
    assert.equal(data(afterFlight, EncryptionLevel.EARLY_DATA), [s4.endOfEarlyData]);
    assert.equal(data(afterFlight, EncryptionLevel.HANDSHAKE), [s4.clientFinished]);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'write'), s4.clientApplicationTrafficSecret);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'read'), s4.serverApplicationTrafficSecret);
    assert.ok(client.handshakeComplete && client.earlyDataAccepted);
  });

  test(`${name}: RFC 8448 §4: our server accepts the PSK and 0-RTT, reproduces ServerHello, secrets and Finished`, () => {
    const hello = h(s4.clientHello);
    const obfuscatedAge = new DataView(hello.buffer).getUint32(hello.length - 35 - 4);
    const ageMs = (obfuscatedAge - traceNst.ageAdd) >>> 0;
    // TEST-ONLY: ticket keys that recognise the trace's ticket (sealed by the trace's server).
    class TraceTicketKeys extends SessionTicketKeys {
      override open(t: Uint8Array): Uint8Array | undefined {
        if (toHex(t) !== toHex(traceNst.ticket)) return undefined;
        return encodeTicketState({
          cipherSuite: TlsCipherSuite.TLS_AES_128_GCM_SHA256,
          psk: h(s4.psk),
          issuedAtMs: TEST_NOW_MS - ageMs,
          lifetimeSeconds: traceNst.lifetimeSeconds,
          ageAdd: traceNst.ageAdd,
          maxEarlyDataSize: 1024,
          alpn: undefined,
          serverName: 'server',
          transportParameters: undefined,
        });
      }
    }
    const ourMessages = new Map<number, Uint8Array>();
    const server = createTlsServer({
      crypto: withTraceKey(crypto, s4.serverPrivateKey),
      random: traceRandom(h(s4.serverHello).subarray(6, 38)),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      certificateChain: [certDer],
      key: crypto.importSigningKey(rsaPkcs8(s3.rsaKey)),
      sessionTicketKeys: new TraceTicketKeys({ crypto, random: seededRandom(1) }),
      earlyData: true,
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          ourMessages.set(type, message);
          return type === HandshakeType.ENCRYPTED_EXTENSIONS ? h(s4.encryptedExtensions) : message;
        },
      },
    });
    server.receive(EncryptionLevel.INITIAL, hello);
    const out = drain(server);
    assert.ok(server.resumed && server.earlyDataAccepted);
    assert.is(secret(out, EncryptionLevel.EARLY_DATA, 'read'), s4.clientEarlyTrafficSecret);
    assert.equal(data(out, EncryptionLevel.INITIAL), [s4.serverHello]);
    assert.equal(data(out, EncryptionLevel.HANDSHAKE), [s4.encryptedExtensions, s4.serverFinished]);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'read'), s4.clientHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'write'), s4.serverHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.APPLICATION, 'write'), s4.serverApplicationTrafficSecret);
    // Our own EncryptedExtensions: empty server_name and early_data (the trace adds two more).
    assert.is(toHex(ourMessages.get(HandshakeType.ENCRYPTED_EXTENSIONS)!), '0800000a000800000000002a0000');

    server.receive(EncryptionLevel.EARLY_DATA, h(s4.endOfEarlyData));
    server.receive(EncryptionLevel.HANDSHAKE, h(s4.clientFinished));
    const done = drain(server);
    assert.is(secret(done, EncryptionLevel.APPLICATION, 'read'), s4.clientApplicationTrafficSecret);
    assert.ok(server.handshakeComplete);
  });
}

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: RFC 8448 §5: our client answers the HelloRetryRequest (cookie echo, message_hash transcript) and reproduces every secret and its Finished`, () => {
    let hellos = 0;
    let ourSecondHello: Uint8Array | undefined;
    const client = createTlsClient({
      crypto: withTraceKey(crypto, s5.clientX25519PrivateKey, s5.clientP256PrivateKey),
      random: traceRandom(h(s5.clientHello1).subarray(6, 38)),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      serverName: 'server',
      cipherSuites: TRACE_SUITES,
      groups: ['x25519', 'secp256r1'],
      verification: { mode: 'none' },
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          if (type !== HandshakeType.CLIENT_HELLO) return message;
          if (hellos++ === 0) return h(s5.clientHello1);
          ourSecondHello = message;
          return h(s5.clientHello2);
        },
      },
    });
    client.start();
    assert.equal(data(drain(client), EncryptionLevel.INITIAL), [s5.clientHello1]);
    client.receive(EncryptionLevel.INITIAL, h(s5.helloRetryRequest));
    assert.equal(data(drain(client), EncryptionLevel.INITIAL), [s5.clientHello2]);
    assert.ok(client.helloRetryRequested);
    // Our own ClientHello2: the same random, a P-256 share equal to the trace's, the cookie echoed.
    const ours = decodeClientHello(ourSecondHello!.subarray(4));
    const theirs = decodeClientHello(h(s5.clientHello2).subarray(4));
    assert.is(toHex(ours.random), toHex(theirs.random));
    for (const type of [ExtensionType.KEY_SHARE, ExtensionType.COOKIE, ExtensionType.SERVER_NAME, ExtensionType.SUPPORTED_VERSIONS]) {
      assert.is(toHex(findExtension(ours.extensions, type)!), toHex(findExtension(theirs.extensions, type)!), `extension ${type}`);
    }
    client.receive(EncryptionLevel.INITIAL, h(s5.serverHello));
    const afterSh = drain(client);
    assert.is(client.group, 'secp256r1');
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'write'), s5.clientHandshakeTrafficSecret);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'read'), s5.serverHandshakeTrafficSecret);
    client.receive(EncryptionLevel.HANDSHAKE, h(s5.encryptedExtensions + s5.certificate + s5.certificateVerify + s5.serverFinished));
    const afterFlight = drain(client);
    assert.equal(data(afterFlight, EncryptionLevel.HANDSHAKE), [s5.clientFinished]);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'write'), s5.clientApplicationTrafficSecret);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'read'), s5.serverApplicationTrafficSecret);
    assert.ok(client.handshakeComplete);
  });

  test(`${name}: RFC 8448 §5: our server sends a HelloRetryRequest for P-256 and reproduces ServerHello, secrets and Finished`, () => {
    const ourMessages: [number, Uint8Array][] = [];
    const server = createTlsServer({
      crypto: withTraceKey(crypto, undefined, s5.serverP256PrivateKey),
      random: traceRandom(h(s5.serverHello).subarray(6, 38)),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      groups: ['secp256r1'],
      certificateChain: [certDer],
      key: crypto.importSigningKey(rsaPkcs8(s3.rsaKey)),
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          ourMessages.push([type, message]);
          // Our HRR carries no cookie (the trace's server adds one); the trace's EE has extensions we do not send.
          if (type === HandshakeType.SERVER_HELLO && ourMessages.filter(([t]) => t === type).length === 1) return h(s5.helloRetryRequest);
          if (type === HandshakeType.ENCRYPTED_EXTENSIONS) return h(s5.encryptedExtensions);
          if (type === HandshakeType.CERTIFICATE_VERIFY) return h(s5.certificateVerify);
          return message;
        },
      },
    });
    server.receive(EncryptionLevel.INITIAL, h(s5.clientHello1));
    assert.equal(data(drain(server), EncryptionLevel.INITIAL), [s5.helloRetryRequest]);
    assert.ok(server.helloRetryRequested);
    // Our own HRR is the trace's without the cookie extension.
    const ourHrr = decodeServerHello(ourMessages[0]![1].subarray(4));
    const traceHrr = decodeServerHello(h(s5.helloRetryRequest).subarray(4));
    assert.ok(ourHrr.isHelloRetryRequest);
    assert.is(ourHrr.cipherSuite, traceHrr.cipherSuite);
    assert.equal(
      ourHrr.extensions.map((e) => [e.type, toHex(e.data)]),
      traceHrr.extensions.filter((e) => e.type !== ExtensionType.COOKIE).map((e) => [e.type, toHex(e.data)]),
    );
    server.receive(EncryptionLevel.INITIAL, h(s5.clientHello2));
    const out = drain(server);
    assert.equal(data(out, EncryptionLevel.INITIAL), [s5.serverHello]);
    assert.equal(data(out, EncryptionLevel.HANDSHAKE), [s5.encryptedExtensions, s5.certificate, s5.certificateVerify, s5.serverFinished]);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'read'), s5.clientHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.HANDSHAKE, 'write'), s5.serverHandshakeTrafficSecret);
    assert.is(secret(out, EncryptionLevel.APPLICATION, 'write'), s5.serverApplicationTrafficSecret);
    server.receive(EncryptionLevel.HANDSHAKE, h(s5.clientFinished));
    assert.is(secret(drain(server), EncryptionLevel.APPLICATION, 'read'), s5.clientApplicationTrafficSecret);
    assert.ok(server.handshakeComplete);
  });
}

const s6ClientCert = decodeCertificateMessage(h(s6.clientCertificate).subarray(4)).entries[0]!.data;
const s6ServerCert = decodeCertificateMessage(h(s6.serverCertificate).subarray(4)).entries[0]!.data;

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: RFC 8448 §6: our client verifies the ECDSA server, presents its certificate and reproduces secrets and Finished`, () => {
    const ourMessages = new Map<number, Uint8Array>();
    const client = createTlsClient({
      crypto: withTraceKey(crypto, s6.clientPrivateKey),
      random: traceRandom(h(s6.clientHello).subarray(6, 38)),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      serverName: 'server',
      cipherSuites: TRACE_SUITES,
      verification: { mode: 'none' },
      // The trace does not show the client certificate's key: we sign with the §2 key and send
      // the trace's CertificateVerify instead (RSA-PSS is randomized anyway).
      clientCertificate: { chain: [s6ClientCert], key: crypto.importSigningKey(rsaPkcs8(s3.rsaKey)) },
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          ourMessages.set(type, message);
          if (type === HandshakeType.CLIENT_HELLO) return h(s6.clientHello);
          if (type === HandshakeType.CERTIFICATE_VERIFY) return h(s6.clientCertificateVerify);
          return message;
        },
      },
    });
    client.start();
    drain(client);
    client.receive(EncryptionLevel.INITIAL, h(s6.serverHello));
    const afterSh = drain(client);
    assert.is(secret(afterSh, EncryptionLevel.HANDSHAKE, 'write'), s6.clientHandshakeTrafficSecret);
    client.receive(
      EncryptionLevel.HANDSHAKE,
      h(s6.encryptedExtensions + s6.certificateRequest + s6.serverCertificate + s6.serverCertificateVerify + s6.serverFinished),
    );
    const afterFlight = drain(client);
    assert.equal(data(afterFlight, EncryptionLevel.HANDSHAKE), [s6.clientCertificate, s6.clientCertificateVerify, s6.clientFinished]);
    assert.is(toHex(ourMessages.get(HandshakeType.CERTIFICATE)!), s6.clientCertificate);
    assert.is(decodeCertificateVerify(ourMessages.get(HandshakeType.CERTIFICATE_VERIFY)!.subarray(4)).scheme, 0x0804);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'write'), s6.clientApplicationTrafficSecret);
    assert.is(secret(afterFlight, EncryptionLevel.APPLICATION, 'read'), s6.serverApplicationTrafficSecret);
    assert.ok(client.handshakeComplete);
  });

  test(`${name}: RFC 8448 §6: our server requests a certificate, verifies the client's RSA-PSS signature, reproduces its Finished`, async () => {
    const ours = await serverCert();
    const server = createTlsServer({
      crypto: withTraceKey(crypto, s6.serverPrivateKey),
      random: traceRandom(h(s6.serverHello).subarray(6, 38)),
      now: () => TEST_NOW_MS,
      alpnProtocols: [],
      // The trace's certificate; its key is not shown, so we sign with another P-256 key and send
      // the trace's CertificateVerify (ECDSA signatures are randomized anyway).
      certificateChain: [s6ServerCert],
      key: crypto.importSigningKey(ours.keyPkcs8),
      clientAuthentication: 'require',
      testHooks: {
        rewriteHandshakeMessage: (type, message) => {
          if (type === HandshakeType.ENCRYPTED_EXTENSIONS) return h(s6.encryptedExtensions);
          // Our CertificateRequest lists only the schemes we implement; the trace's lists more.
          if (type === HandshakeType.CERTIFICATE_REQUEST) return h(s6.certificateRequest);
          if (type === HandshakeType.CERTIFICATE_VERIFY) return h(s6.serverCertificateVerify);
          return message;
        },
      },
    });
    server.receive(EncryptionLevel.INITIAL, h(s6.clientHello));
    const out = drain(server);
    assert.equal(data(out, EncryptionLevel.INITIAL), [s6.serverHello]);
    assert.equal(data(out, EncryptionLevel.HANDSHAKE), [
      s6.encryptedExtensions,
      s6.certificateRequest,
      s6.serverCertificate,
      s6.serverCertificateVerify,
      s6.serverFinished,
    ]);
    assert.is(secret(out, EncryptionLevel.APPLICATION, 'write'), s6.serverApplicationTrafficSecret);
    server.receive(EncryptionLevel.HANDSHAKE, h(s6.clientCertificate + s6.clientCertificateVerify + s6.clientFinished));
    assert.is(secret(drain(server), EncryptionLevel.APPLICATION, 'read'), s6.clientApplicationTrafficSecret);
    assert.ok(server.handshakeComplete);
    assert.is(toHex(server.peerCertificates[0]!), toHex(s6ClientCert));
  });
}

test.run();
