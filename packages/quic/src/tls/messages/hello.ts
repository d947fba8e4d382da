/**
 * ClientHello (RFC 8446 §4.1.2) and ServerHello / HelloRetryRequest (§4.1.3, §4.1.4) codecs.
 * Encoders return whole handshake messages (header included); decoders take the body.
 */

import { ByteWriter } from '../../codec/writer.js';
import { type Extension, readExtensions, writeExtensions } from '../extensions.js';
import { HandshakeType, HELLO_RETRY_REQUEST_RANDOM, LEGACY_VERSION } from '../wire.js';
import { TlsAlert, TlsReader, tlsFail } from './tls-reader.js';

export interface ClientHello {
  legacyVersion: number;
  random: Uint8Array;
  legacySessionId: Uint8Array;
  cipherSuites: number[];
  extensions: Extension[];
}

export interface ServerHello {
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  extensions: Extension[];
  /** True when `random` is the HelloRetryRequest constant (§4.1.3). */
  isHelloRetryRequest: boolean;
}

export function encodeClientHello(ch: Omit<ClientHello, 'legacyVersion'>): Uint8Array {
  const w = new ByteWriter(512);
  w.u8(HandshakeType.CLIENT_HELLO);
  w.lengthPrefixed(3, () => {
    w.u16(LEGACY_VERSION).bytes(ch.random).u8Prefixed(ch.legacySessionId);
    w.lengthPrefixed(2, () => ch.cipherSuites.forEach((s) => w.u16(s)));
    w.u8(1).u8(0); // legacy_compression_methods: just "null" (§4.1.2)
    writeExtensions(w, ch.extensions);
  });
  return w.finish();
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new TlsReader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const legacySessionId = r.u8Prefixed();
  if (legacySessionId.length > 32) r.fail('legacy_session_id longer than 32 bytes');
  const suites = new TlsReader(r.u16Prefixed());
  if (suites.remaining < 2 || suites.remaining % 2 !== 0) suites.fail('bad cipher_suites length');
  const cipherSuites: number[] = [];
  while (!suites.isEmpty()) cipherSuites.push(suites.u16());
  const compression = r.u8Prefixed();
  // §4.1.2: a TLS 1.3 ClientHello carries exactly one compression method, null.
  if (compression.length !== 1 || compression[0] !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'compression methods other than null');
  // §4.1.2: a ClientHello without extensions is TLS 1.2 or older; treated as an empty block here,
  // the missing supported_versions then fails the version check.
  const extensions = r.isEmpty() ? [] : readExtensions(r);
  r.expectEnd('ClientHello');
  return { legacyVersion, random, legacySessionId, cipherSuites, extensions };
}

export function encodeServerHello(sh: Omit<ServerHello, 'isHelloRetryRequest'>): Uint8Array {
  const w = new ByteWriter(256);
  w.u8(HandshakeType.SERVER_HELLO);
  w.lengthPrefixed(3, () => {
    w.u16(LEGACY_VERSION).bytes(sh.random).u8Prefixed(sh.legacySessionIdEcho).u16(sh.cipherSuite).u8(0);
    writeExtensions(w, sh.extensions);
  });
  return w.finish();
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new TlsReader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const legacySessionIdEcho = r.u8Prefixed();
  if (legacySessionIdEcho.length > 32) r.fail('legacy_session_id_echo longer than 32 bytes');
  const cipherSuite = r.u16();
  const compression = r.u8();
  const extensions = r.isEmpty() ? [] : readExtensions(r);
  r.expectEnd('ServerHello');
  // §4.1.3: a TLS 1.3 ServerHello has legacy_version 0x0303 and compression 0. A lower version
  // without supported_versions is a downgrade the caller rejects with protocol_version.
  if (legacyVersion > LEGACY_VERSION) tlsFail(TlsAlert.PROTOCOL_VERSION, 'ServerHello legacy_version above TLS 1.2');
  if (compression !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'ServerHello compression method not null');
  return { random, legacySessionIdEcho, cipherSuite, extensions, isHelloRetryRequest: equalBytes(random, HELLO_RETRY_REQUEST_RANDOM) };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
