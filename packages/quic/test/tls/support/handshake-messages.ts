/**
 * TEST-ONLY: just enough handshake-message parsing (RFC 8446 §4) to observe and tamper with what
 * our engine sends: split a flight into messages, rebuild it, read and rewrite a ServerHello.
 */

import { ByteReader } from '../../../src/codec/reader.js';
import { ByteWriter } from '../../../src/codec/writer.js';
import { fromHex } from '../../../src/codec/hex.js';

/** HandshakeType (RFC 8446 §4). */
export const HandshakeType = {
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  NEW_SESSION_TICKET: 4,
  ENCRYPTED_EXTENSIONS: 8,
  CERTIFICATE: 11,
  CERTIFICATE_REQUEST: 13,
  CERTIFICATE_VERIFY: 15,
  FINISHED: 20,
  KEY_UPDATE: 24,
} as const;

/** ExtensionType values the tests look at (RFC 8446 §4.2). */
export const ExtensionType = {
  SERVER_NAME: 0,
  SUPPORTED_GROUPS: 10,
  ALPN: 16,
  PRE_SHARED_KEY: 41,
  SUPPORTED_VERSIONS: 43,
  KEY_SHARE: 51,
} as const;

/** NamedGroup code points (RFC 8446 §4.2.7). */
export const NamedGroup = { secp256r1: 0x0017, x25519: 0x001d } as const;

/** §4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest"). */
export const HELLO_RETRY_REQUEST_RANDOM = fromHex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

/** Splits bytes holding whole handshake messages; throws if the last one is cut. */
export function splitHandshakeMessages(data: Uint8Array): HandshakeMessage[] {
  const reader = new ByteReader(data);
  const messages: HandshakeMessage[] = [];
  // Each message takes at least 4 bytes, so the byte count bounds the loop.
  for (let i = 0; i <= data.length && !reader.isEmpty(); i++) {
    const type = reader.u8();
    messages.push({ type, body: reader.u24Prefixed().slice() });
  }
  return messages;
}

export function encodeHandshakeMessages(messages: HandshakeMessage[]): Uint8Array {
  const writer = new ByteWriter();
  for (const m of messages) writer.u8(m.type).u24Prefixed(m.body);
  return writer.toBytes();
}

/** Rewrites the messages of a flight; `edit` returns the new body (or the old one). */
export function rewriteHandshake(data: Uint8Array, edit: (message: HandshakeMessage) => Uint8Array): Uint8Array {
  return encodeHandshakeMessages(splitHandshakeMessages(data).map((m) => ({ type: m.type, body: edit(m) })));
}

export interface Extension {
  type: number;
  data: Uint8Array;
}

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compression: number;
  extensions: Extension[];
}

function readExtensions(reader: ByteReader): Extension[] {
  const block = new ByteReader(reader.u16Prefixed());
  const out: Extension[] = [];
  for (let i = 0; i <= block.end && !block.isEmpty(); i++) out.push({ type: block.u16(), data: block.u16Prefixed().slice() });
  return out;
}

/** Parses a ServerHello (or HelloRetryRequest) body (§4.1.3). */
export function parseServerHello(body: Uint8Array): ServerHello {
  const reader = new ByteReader(body);
  return {
    legacyVersion: reader.u16(),
    random: reader.bytes(32).slice(),
    sessionId: reader.u8Prefixed().slice(),
    cipherSuite: reader.u16(),
    compression: reader.u8(),
    extensions: readExtensions(reader),
  };
}

export function encodeServerHello(hello: ServerHello): Uint8Array {
  const writer = new ByteWriter();
  writer.u16(hello.legacyVersion).bytes(hello.random).u8Prefixed(hello.sessionId).u16(hello.cipherSuite).u8(hello.compression);
  writer.lengthPrefixed(2, (w) => {
    for (const e of hello.extensions) w.u16(e.type).u16Prefixed(e.data);
  });
  return writer.toBytes();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function isHelloRetryRequest(message: HandshakeMessage): boolean {
  return message.type === HandshakeType.SERVER_HELLO && equalBytes(parseServerHello(message.body).random, HELLO_RETRY_REQUEST_RANDOM);
}

/** Counts HelloRetryRequests among captured plaintext handshake flights. */
export function countHelloRetryRequests(flights: Uint8Array[]): number {
  return flights.flatMap(splitHandshakeMessages).filter(isHelloRetryRequest).length;
}

/** The group of the (real) ServerHello's key_share among captured flights. */
export function serverHelloGroup(flights: Uint8Array[]): number | undefined {
  for (const m of flights.flatMap(splitHandshakeMessages)) {
    if (m.type !== HandshakeType.SERVER_HELLO || isHelloRetryRequest(m)) continue;
    const share = parseServerHello(m.body).extensions.find((e) => e.type === ExtensionType.KEY_SHARE);
    if (share) return new ByteReader(share.data).u16();
  }
  return undefined;
}

/** Flips the last byte of a message body (e.g. Finished verify_data, a signature's last byte). */
export function flipLastByte(body: Uint8Array): Uint8Array {
  const out = body.slice();
  out[out.length - 1] = (out[out.length - 1] as number) ^ 0x01;
  return out;
}

export interface ClientHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuites: Uint8Array;
  compression: Uint8Array;
  extensions: Extension[];
}

/** Parses a ClientHello body (§4.1.2). */
export function parseClientHello(body: Uint8Array): ClientHello {
  const reader = new ByteReader(body);
  return {
    legacyVersion: reader.u16(),
    random: reader.bytes(32).slice(),
    sessionId: reader.u8Prefixed().slice(),
    cipherSuites: reader.u16Prefixed().slice(),
    compression: reader.u8Prefixed().slice(),
    extensions: readExtensions(reader),
  };
}

export function encodeClientHello(hello: ClientHello): Uint8Array {
  const writer = new ByteWriter();
  writer.u16(hello.legacyVersion).bytes(hello.random).u8Prefixed(hello.sessionId).u16Prefixed(hello.cipherSuites).u8Prefixed(hello.compression);
  writer.lengthPrefixed(2, (w) => {
    for (const e of hello.extensions) w.u16(e.type).u16Prefixed(e.data);
  });
  return writer.toBytes();
}
