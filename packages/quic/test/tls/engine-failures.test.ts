import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import { createTlsClient } from '../../src/tls/client.js';
import { createTlsServer } from '../../src/tls/server.js';
import { encodeServerHello } from '../../src/tls/messages/hello.js';
import { encodeU16, encodeKeyShareServer, encodeCookie, decodeCookie, findExtension } from '../../src/tls/extensions.js';
import { decodeClientHello } from '../../src/tls/messages/hello.js';
import { DOWNGRADE_TLS12, ExtensionType, HandshakeType, HELLO_RETRY_REQUEST_RANDOM } from '../../src/tls/wire.js';
import { Clock, clientOptions, expectAlert, PROVIDERS, runPair, serverCert, serverOptions, type Tamper } from './engine-pair.js';
import { toHex } from '../helpers/vectors.js';

/** Flips the last byte of the first message of `type` sent by `side`. */
function corrupt(side: 'client' | 'server', type: number, at: (msg: Uint8Array) => number = (m) => m.length - 1): Tamper {
  let done = false;
  return (from, level, data) => {
    if (from !== side || done || data[0] !== type) return undefined;
    done = true;
    const copy = data.slice();
    const i = at(copy);
    copy[i] = (copy[i] as number) ^ 0x01;
    return [{ level, data: copy }];
  };
}

function expectThrowsAlert(fn: () => void, alert: number, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(TlsAlertError.isTlsAlert(e), `${what}: TlsAlertError, got ${String(e)}`);
    assert.is((e as TlsAlertError).alert, alert, `${what}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: no error`);
}

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: a wrong server Finished is decrypt_error (§4.4.4)`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), corrupt('server', HandshakeType.FINISHED));
    expectAlert(r, 'client', TlsAlert.DECRYPT_ERROR, 'server Finished');
    assert.not.ok(r.client.handshakeComplete);
  });

  test(`${name}: a wrong client Finished is decrypt_error (§4.4.4)`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), corrupt('client', HandshakeType.FINISHED));
    expectAlert(r, 'server', TlsAlert.DECRYPT_ERROR, 'client Finished');
    assert.not.ok(r.server.handshakeComplete);
  });

  test(`${name}: a bad CertificateVerify signature is decrypt_error (§4.4.3)`, async () => {
    const clock = new Clock();
    // Flip a byte inside the DER signature body (not its tags), so it still parses.
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), corrupt('server', HandshakeType.CERTIFICATE_VERIFY, (m) => m.length - 3));
    expectAlert(r, 'client', TlsAlert.DECRYPT_ERROR, 'server CertificateVerify');
  });

  test(`${name}: a CertificateVerify scheme we did not offer is illegal_parameter`, async () => {
    const clock = new Clock();
    // 0x0403 -> 0x0402 (ecdsa_sha1, never offered for TLS 1.3 CertificateVerify).
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), corrupt('server', HandshakeType.CERTIFICATE_VERIFY, () => 5));
    expectAlert(r, 'client', TlsAlert.ILLEGAL_PARAMETER, 'CV scheme');
  });

  test(`${name}: input split byte by byte still completes; messages packed together too`, async () => {
    const clock = new Clock();
    const split: Tamper = (_from, level, data) => Array.from(data, (_, i) => ({ level, data: data.subarray(i, i + 1) }));
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), split);
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.client.handshakeComplete && r.server.handshakeComplete);
  });

  test(`${name}: data at the wrong level is unexpected_message (RFC 9001 §4.1.3)`, async () => {
    const clock = new Clock();
    const toHandshake: Tamper = (from, level, data) => (from === 'client' && level === EncryptionLevel.INITIAL ? [{ level: EncryptionLevel.HANDSHAKE, data }] : undefined);
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), toHandshake);
    expectAlert(r, 'server', TlsAlert.UNEXPECTED_MESSAGE, 'ClientHello at Handshake');
    const sh: Tamper = (from, level, data) => (from === 'server' && level === EncryptionLevel.INITIAL ? [{ level: EncryptionLevel.HANDSHAKE, data }] : undefined);
    expectAlert(runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()), sh), 'client', TlsAlert.UNEXPECTED_MESSAGE, 'SH at Handshake');
  });

  test(`${name}: KeyUpdate is unexpected_message in QUIC (RFC 9001 §6); the engine stays failed`, async () => {
    const clock = new Clock();
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, await serverCert()));
    assert.ok(r.client.handshakeComplete);
    const keyUpdate = new Uint8Array([HandshakeType.KEY_UPDATE, 0, 0, 1, 0]);
    expectThrowsAlert(() => r.client.receive(EncryptionLevel.APPLICATION, keyUpdate), TlsAlert.UNEXPECTED_MESSAGE, 'client KeyUpdate');
    expectThrowsAlert(() => r.client.receive(EncryptionLevel.APPLICATION, new Uint8Array(0)), TlsAlert.UNEXPECTED_MESSAGE, 'latched');
    expectThrowsAlert(() => r.server.receive(EncryptionLevel.APPLICATION, keyUpdate), TlsAlert.UNEXPECTED_MESSAGE, 'server KeyUpdate');
  });

  test(`${name}: ServerHello without supported_versions: protocol_version; with the downgrade sentinel: illegal_parameter (§4.1.3)`, () => {
    const clock = new Clock();
    for (const [random, alert] of [
      [new Uint8Array(32).fill(7), TlsAlert.PROTOCOL_VERSION],
      [Uint8Array.from([...new Uint8Array(24).fill(7), ...DOWNGRADE_TLS12]), TlsAlert.ILLEGAL_PARAMETER],
    ] as const) {
      const client = createTlsClient(clientOptions(crypto, clock));
      client.start();
      const sh = encodeServerHello({ random, legacySessionIdEcho: new Uint8Array(0), cipherSuite: 0x1301, extensions: [] });
      expectThrowsAlert(() => client.receive(EncryptionLevel.INITIAL, sh), alert, 'downgrade');
    }
  });

  test(`${name}: ServerHello selecting TLS 1.2 in supported_versions or an unoffered suite is illegal_parameter`, () => {
    const clock = new Clock();
    const share = crypto.generateKeyShare('x25519');
    const ks = { type: ExtensionType.KEY_SHARE, data: encodeKeyShareServer({ group: 0x1d, keyExchange: share.publicKey }) };
    for (const [suite, version] of [
      [0x1301, 0x0303],
      [0x1304, 0x0304],
    ]) {
      const client = createTlsClient(clientOptions(crypto, clock));
      client.start();
      const sh = encodeServerHello({
        random: new Uint8Array(32).fill(1),
        legacySessionIdEcho: new Uint8Array(0),
        cipherSuite: suite!,
        extensions: [ks, { type: ExtensionType.SUPPORTED_VERSIONS, data: encodeU16(version!) }],
      });
      expectThrowsAlert(() => client.receive(EncryptionLevel.INITIAL, sh), TlsAlert.ILLEGAL_PARAMETER, `suite ${suite} version ${version}`);
    }
  });

  test(`${name}: client echoes the HelloRetryRequest cookie (§4.2.2) and rejects a second HRR`, () => {
    const clock = new Clock();
    const client = createTlsClient(clientOptions(crypto, clock, { groups: ['x25519', 'secp256r1'] }));
    client.start();
    client.poll();
    const cookie = new Uint8Array([9, 8, 7, 6, 5]);
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      extensions: [
        { type: ExtensionType.KEY_SHARE, data: encodeU16(0x17) },
        { type: ExtensionType.COOKIE, data: encodeCookie(cookie) },
        { type: ExtensionType.SUPPORTED_VERSIONS, data: encodeU16(0x0304) },
      ],
    });
    client.receive(EncryptionLevel.INITIAL, hrr);
    const ch2 = client.poll();
    assert.ok(ch2?.kind === 'handshake-data');
    const hello = decodeClientHello(ch2.data.subarray(4));
    const echoed = findExtension(hello.extensions, ExtensionType.COOKIE);
    assert.ok(echoed);
    assert.is(toHex(decodeCookie(echoed)), toHex(cookie));
    assert.ok(client.helloRetryRequested);
    expectThrowsAlert(() => client.receive(EncryptionLevel.INITIAL, hrr), TlsAlert.UNEXPECTED_MESSAGE, 'second HRR');
  });

  test(`${name}: HRR asking for a group we already sent is illegal_parameter (§4.2.8)`, () => {
    const clock = new Clock();
    const client = createTlsClient(clientOptions(crypto, clock));
    client.start();
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      extensions: [
        { type: ExtensionType.KEY_SHARE, data: encodeU16(0x1d) },
        { type: ExtensionType.SUPPORTED_VERSIONS, data: encodeU16(0x0304) },
      ],
    });
    expectThrowsAlert(() => client.receive(EncryptionLevel.INITIAL, hrr), TlsAlert.ILLEGAL_PARAMETER, 'same group');
  });

  test(`${name}: server: a ClientHello2 that ignores the HelloRetryRequest (same share) is illegal_parameter (§4.1.2)`, async () => {
    const clock = new Clock();
    const client = createTlsClient(clientOptions(crypto, clock, { groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] }));
    client.start();
    const ch1 = client.poll();
    assert.ok(ch1?.kind === 'handshake-data');
    const server = createTlsServer(serverOptions(crypto, clock, await serverCert(), { groups: ['secp256r1'] }));
    server.receive(EncryptionLevel.INITIAL, ch1.data);
    assert.ok(server.helloRetryRequested);
    expectThrowsAlert(() => server.receive(EncryptionLevel.INITIAL, ch1.data), TlsAlert.ILLEGAL_PARAMETER, 'CH2 = CH1');
  });

  test(`${name}: server: no TLS 1.3 in supported_versions is protocol_version; QUIC legacy_session_id is PROTOCOL_VIOLATION`, async () => {
    const clock = new Clock();
    const cert = await serverCert();
    const client = createTlsClient(clientOptions(crypto, clock));
    client.start();
    const out = client.poll();
    assert.ok(out?.kind === 'handshake-data');
    const ch = out.data;
    // supported_versions body "02 03 04" -> "02 03 03".
    const sv = findSeq(ch, [0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]);
    assert.ok(sv > 0);
    const tls12 = ch.slice();
    tls12[sv + 6] = 0x03;
    expectThrowsAlert(() => createTlsServer(serverOptions(crypto, clock, cert)).receive(EncryptionLevel.INITIAL, tls12), TlsAlert.PROTOCOL_VERSION, 'no 1.3');
    // Give the ClientHello a one-byte legacy_session_id (and fix the length field).
    const withId = new Uint8Array(ch.length + 1);
    withId.set(ch.subarray(0, 38));
    withId[38] = 1;
    withId[39] = 0xaa;
    withId.set(ch.subarray(39), 40);
    const len = ch.length + 1 - 4;
    withId[1] = len >> 16;
    withId[2] = (len >> 8) & 0xff;
    withId[3] = len & 0xff;
    try {
      createTlsServer(serverOptions(crypto, clock, cert)).receive(EncryptionLevel.INITIAL, withId);
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(QuicError.is(e));
      assert.is((e as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION);
    }
  });

  test(`${name}: malformed ClientHellos only ever throw TlsAlertError/QuicError (truncations, bit flips)`, async () => {
    const clock = new Clock();
    const cert = await serverCert();
    const client = createTlsClient(clientOptions(crypto, clock));
    client.start();
    const out = client.poll();
    assert.ok(out?.kind === 'handshake-data');
    const ch = out.data;
    let alerts = 0;
    for (let i = 4; i < ch.length; i += 3) {
      const bad = ch.slice();
      bad[i] = (bad[i] as number) ^ 0xff;
      const server = createTlsServer(serverOptions(crypto, clock, cert));
      try {
        server.receive(EncryptionLevel.INITIAL, bad);
      } catch (e) {
        assert.ok(QuicError.is(e), `flip at ${i}: ${String(e)}`);
        alerts++;
      }
    }
    for (let cut = 5; cut < ch.length; cut += 7) {
      const truncated = ch.slice(0, cut);
      // Fix the handshake length so the message is "complete" but its body is cut short.
      const len = cut - 4;
      truncated[1] = len >> 16;
      truncated[2] = (len >> 8) & 0xff;
      truncated[3] = len & 0xff;
      try {
        createTlsServer(serverOptions(crypto, clock, cert)).receive(EncryptionLevel.INITIAL, truncated);
      } catch (e) {
        assert.ok(QuicError.is(e), `cut at ${cut}: ${String(e)}`);
        alerts++;
      }
    }
    assert.ok(alerts > 20);
  });
}

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: mutated server flights (every message, sampled bytes) only ever fail with TlsAlertError/QuicError`, async () => {
    const clock = new Clock();
    const cert = await serverCert();
    let failures = 0;
    let runs = 0;
    for (const type of [HandshakeType.SERVER_HELLO, HandshakeType.ENCRYPTED_EXTENSIONS, HandshakeType.CERTIFICATE, HandshakeType.CERTIFICATE_VERIFY, HandshakeType.FINISHED]) {
      for (let position = 1; position < 400; position += 37) {
        let done = false;
        const mutate: Tamper = (from, level, data) => {
          if (from !== 'server' || done || data[0] !== type) return undefined;
          done = true;
          const copy = data.slice();
          const i = position % copy.length;
          copy[i] = (copy[i] as number) ^ 0x5a;
          return [{ level, data: copy }];
        };
        const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, cert), mutate);
        runs++;
        if (!r.error) continue;
        failures++;
        assert.ok(QuicError.is(r.error.error), `type ${type} at ${position}: ${String(r.error.error)}`);
      }
    }
    // Only mutations that hit an ignorable spot (or the random) may pass; most must fail.
    assert.ok(failures > runs / 2, `${failures} of ${runs}`);
  });
}

function findSeq(haystack: Uint8Array, needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((b, j) => haystack[i + j] === b)) return i;
  return -1;
}

void HandshakeType;
test.run();
