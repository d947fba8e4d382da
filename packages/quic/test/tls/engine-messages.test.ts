import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError } from '../../src/errors.js';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeKeyShareServer,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeSupportedVersionsClient,
  decodeU16List,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeKeyShareServer,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSupportedVersionsClient,
  encodeU16List,
  readExtensions,
  bindersLength,
} from '../../src/tls/extensions.js';
import { decodeCertificateMessage, encodeCertificateMessage } from '../../src/tls/messages/cert-message.js';
import { decodeCertificateRequest, encodeCertificateRequest } from '../../src/tls/messages/cert-request.js';
import { certificateVerifyContent, decodeCertificateVerify, encodeCertificateVerify } from '../../src/tls/messages/cert-verify.js';
import { decodeEncryptedExtensions, encodeEncryptedExtensions } from '../../src/tls/messages/encrypted-extensions.js';
import { decodeFinished, encodeFinished } from '../../src/tls/messages/finished.js';
import { HandshakeReassembler } from '../../src/tls/messages/handshake-framing.js';
import { decodeClientHello, decodeServerHello, encodeClientHello, encodeServerHello } from '../../src/tls/messages/hello.js';
import { decodeNewSessionTicket, encodeNewSessionTicket } from '../../src/tls/messages/new-session-ticket.js';
import { TlsReader } from '../../src/tls/messages/tls-reader.js';
import { decodeTicketState, encodeTicketState } from '../../src/tls/tickets.js';
import { Transcript } from '../../src/tls/transcript.js';
import { HELLO_RETRY_REQUEST_RANDOM } from '../../src/tls/wire.js';
import { providers } from './support/providers.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

interface Simple {
  source: string;
  clientHello: string;
  serverHello: string;
  encryptedExtensions: string;
  certificate: string;
  certificateVerify: string;
  serverFinished: string;
  newSessionTicket: string;
}
const s3 = loadVectors<Simple>('rfc8448-3-simple-1rtt.json');

function alertOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(TlsAlertError.isTlsAlert(e), `TlsAlertError expected, got ${String(e)}`);
    assert.ok(QuicError.is(e));
    return (e as TlsAlertError).alert;
  }
  return undefined;
}

test('RFC 8448 §3 messages decode and re-encode byte for byte', () => {
  const ch = decodeClientHello(fromHex(s3.clientHello).subarray(4));
  assert.is(ch.cipherSuites.length, 3);
  assert.is(toHex(encodeClientHello(ch)), s3.clientHello);
  const sh = decodeServerHello(fromHex(s3.serverHello).subarray(4));
  assert.not.ok(sh.isHelloRetryRequest);
  assert.is(sh.cipherSuite, 0x1301);
  assert.is(toHex(encodeServerHello(sh)), s3.serverHello);
  assert.is(toHex(encodeEncryptedExtensions(decodeEncryptedExtensions(fromHex(s3.encryptedExtensions).subarray(4)))), s3.encryptedExtensions);
  const cert = decodeCertificateMessage(fromHex(s3.certificate).subarray(4));
  assert.is(cert.entries.length, 1);
  assert.is(cert.entries[0]!.data.length, 0x1b0);
  assert.is(toHex(encodeCertificateMessage(cert)), s3.certificate);
  const cv = decodeCertificateVerify(fromHex(s3.certificateVerify).subarray(4));
  assert.is(cv.scheme, 0x0804);
  assert.is(toHex(encodeCertificateVerify(cv)), s3.certificateVerify);
  assert.is(toHex(encodeFinished(decodeFinished(fromHex(s3.serverFinished).subarray(4), 32))), s3.serverFinished);
  const nst = decodeNewSessionTicket(fromHex(s3.newSessionTicket).subarray(4));
  assert.is(nst.lifetimeSeconds, 30);
  assert.is(toHex(nst.nonce), '0000');
  assert.is(toHex(encodeNewSessionTicket(nst)), s3.newSessionTicket);
});

test('extension bodies round-trip', () => {
  assert.is(decodeServerName(encodeServerName('example.test')), 'example.test');
  assert.equal(decodeU16List(encodeU16List([0x1d, 0x17]), 'groups'), [0x1d, 0x17]);
  assert.equal(decodeAlpn(encodeAlpn(['h3', 'hq-interop'])), ['h3', 'hq-interop']);
  assert.equal(decodeSupportedVersionsClient(encodeSupportedVersionsClient([0x0304, 0x7a7a])), [0x0304, 0x7a7a]);
  const share = { group: 0x1d, keyExchange: new Uint8Array(32).fill(3) };
  assert.equal(decodeKeyShareClient(encodeKeyShareClient([share])), [share]);
  assert.equal(decodeKeyShareServer(encodeKeyShareServer(share)), share);
  assert.equal(decodePskModes(encodePskModes([1])), [1]);
  assert.is(toHex(decodeCookie(encodeCookie(new Uint8Array([1, 2])))), '0102');
  const psks = { identities: [{ identity: new Uint8Array([9, 9, 9]), obfuscatedTicketAge: 0xfffffff0 }], binders: [new Uint8Array(32).fill(5)] };
  const encoded = encodeOfferedPsks(psks);
  assert.equal(decodeOfferedPsks(encoded), psks);
  // The binders list is the tail of the extension body (§4.2.11.2).
  assert.is(bindersLength([32]), 35);
  assert.is(toHex(encoded.subarray(encoded.length - 35, encoded.length - 32)), '002120');
});

test('malformed bodies are decode_error; duplicates and semantic faults are illegal_parameter', () => {
  assert.is(alertOf(() => decodeServerName(fromHex('0000'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeServerName(fromHex('0005000002'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeU16List(fromHex('000300'), 'x')), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeU16List(fromHex('0002001d00'), 'x')), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeAlpn(fromHex('0003000000'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeAlpn(fromHex('000100'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeKeyShareClient(fromHex('0008001d0001aa001d0001bb'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeKeyShareClient(fromHex('000a001d0001aa001d0001bb'))), TlsAlert.ILLEGAL_PARAMETER);
  assert.is(alertOf(() => decodePskModes(fromHex('00'))), TlsAlert.DECODE_ERROR);
  const twoIdsOneBinder = encodeOfferedPsks({
    identities: [
      { identity: new Uint8Array([1]), obfuscatedTicketAge: 0 },
      { identity: new Uint8Array([2]), obfuscatedTicketAge: 0 },
    ],
    binders: [new Uint8Array(32)],
  });
  assert.is(alertOf(() => decodeOfferedPsks(twoIdsOneBinder)), TlsAlert.ILLEGAL_PARAMETER);
  assert.is(alertOf(() => readExtensions(new TlsReader(fromHex('0008000a0000000a0000')))), TlsAlert.ILLEGAL_PARAMETER);
  assert.is(alertOf(() => readExtensions(new TlsReader(fromHex('0005000a0002')))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeFinished(new Uint8Array(31), 32)), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeCertificateVerify(fromHex('08040000'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeNewSessionTicket(fromHex('0000001e000000000000000000'))), TlsAlert.DECODE_ERROR);
  assert.is(alertOf(() => decodeCertificateMessage(fromHex('00000003000000'))), TlsAlert.DECODE_ERROR);
  // ClientHello: compression methods other than null (§4.1.2).
  const ch = fromHex(s3.clientHello).subarray(4).slice();
  const comp = 2 + 32 + 1 + 2 + 6; // version, random, sid len, suites len + 3 suites
  assert.is(ch[comp], 1);
  ch[comp + 1] = 1;
  assert.is(alertOf(() => decodeClientHello(ch)), TlsAlert.ILLEGAL_PARAMETER);
  // Trailing garbage after a message body.
  const sh = Uint8Array.from([...fromHex(s3.serverHello).subarray(4), 0]);
  assert.is(alertOf(() => decodeServerHello(sh)), TlsAlert.DECODE_ERROR);
});

test('every truncation of the RFC 8448 messages is a decode_error, never another exception', () => {
  const cases: [string, (b: Uint8Array) => unknown][] = [
    [s3.clientHello, decodeClientHello],
    [s3.serverHello, decodeServerHello],
    [s3.encryptedExtensions, decodeEncryptedExtensions],
    [s3.certificate, decodeCertificateMessage],
    [s3.certificateVerify, decodeCertificateVerify],
    [s3.newSessionTicket, decodeNewSessionTicket],
  ];
  for (const [hex, decode] of cases) {
    const body = fromHex(hex).subarray(4);
    // A hello cut exactly before its extensions is a complete extension-less (pre-1.3) hello.
    const noExtensions = hex === s3.clientHello ? 2 + 32 + 1 + 2 + 6 + 2 : hex === s3.serverHello ? 2 + 32 + 1 + 2 + 1 : -1;
    for (let cut = 0; cut < body.length; cut++) {
      if (cut === noExtensions) continue;
      const alert = alertOf(() => decode(body.subarray(0, cut)));
      assert.ok(alert === TlsAlert.DECODE_ERROR, `cut ${cut} of ${hex.slice(0, 2)}: alert ${alert}`);
    }
  }
});

test('HelloRetryRequest is recognised by its special random (§4.1.3)', () => {
  const hrr = encodeServerHello({ random: HELLO_RETRY_REQUEST_RANDOM, legacySessionIdEcho: new Uint8Array(0), cipherSuite: 0x1301, extensions: [] });
  assert.ok(decodeServerHello(hrr.subarray(4)).isHelloRetryRequest);
  const req = encodeCertificateRequest({ context: new Uint8Array(0), extensions: [{ type: 13, data: encodeU16List([0x0403]) }] });
  assert.equal(decodeCertificateRequest(req.subarray(4)).extensions[0]!.type, 13);
});

test('reassembly: any split and several messages per chunk; oversized messages rejected', () => {
  const all = fromHex(s3.encryptedExtensions + s3.certificate + s3.certificateVerify + s3.serverFinished);
  for (const step of [1, 7, 100, all.length]) {
    const r = new HandshakeReassembler();
    const types: number[] = [];
    for (let i = 0; i < all.length; i += step) {
      r.push(all.subarray(i, i + step));
      for (let m = r.next(), n = 0; m && n < 10; m = r.next(), n++) types.push(m.type);
    }
    assert.equal(types, [8, 11, 15, 20], `step ${step}`);
    assert.not.ok(r.hasPartial);
  }
  const huge = new HandshakeReassembler();
  huge.push(fromHex('0bffffff'));
  assert.is(alertOf(() => huge.next()), TlsAlert.UNEXPECTED_MESSAGE);
});

test('CertificateVerify content: 64 spaces, the context string, a zero byte, the hash (§4.4.3)', () => {
  const c = certificateVerifyContent('server', new Uint8Array([0xaa, 0xbb]));
  assert.is(c.length, 64 + 33 + 1 + 2);
  assert.ok(c.subarray(0, 64).every((b) => b === 0x20));
  assert.is(new TextDecoder().decode(c.subarray(64, 97)), 'TLS 1.3, server CertificateVerify');
  assert.is(toHex(c.subarray(97)), '00aabb');
  assert.is(new TextDecoder().decode(certificateVerifyContent('client', new Uint8Array(0)).subarray(64, 97)), 'TLS 1.3, client CertificateVerify');
});

test('transcript: message_hash replaces ClientHello1 after an HRR (§4.4.1)', () => {
  const crypto = providers.noble;
  const t = new Transcript();
  const ch1 = fromHex(s3.clientHello);
  t.add(ch1);
  t.replaceWithMessageHash(crypto, 'sha256');
  const expected = Uint8Array.from([254, 0, 0, 32, ...crypto.hash('sha256', ch1)]);
  assert.is(toHex(t.bytes()), toHex(expected));
  assert.is(toHex(t.hash(crypto, 'sha256')), toHex(crypto.hash('sha256', expected)));
});

test('ticket state round-trips', () => {
  const state = {
    cipherSuite: 0x1302 as const,
    psk: new Uint8Array(48).fill(1),
    issuedAtMs: 1_780_000_000_123,
    lifetimeSeconds: 3600,
    ageAdd: 0xdeadbeef,
    maxEarlyDataSize: 0xffffffff,
    alpn: 'h3',
    serverName: undefined,
    transportParameters: new Uint8Array([1, 2]),
  };
  assert.equal(decodeTicketState(encodeTicketState(state)), state);
});

test.run();
