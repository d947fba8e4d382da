/**
 * TLS 1.3 wire constants (RFC 8446 §4, §B.3) and the maps between code points and the
 * provider's names for groups and signature schemes.
 */

import type { NamedGroupName } from '../crypto/provider.js';
import { TlsCipherSuite } from './engine-api.js';

/** HandshakeType (RFC 8446 §4). */
export const HandshakeType = {
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  NEW_SESSION_TICKET: 4,
  END_OF_EARLY_DATA: 5,
  ENCRYPTED_EXTENSIONS: 8,
  CERTIFICATE: 11,
  CERTIFICATE_REQUEST: 13,
  CERTIFICATE_VERIFY: 15,
  FINISHED: 20,
  KEY_UPDATE: 24,
  /** The synthetic message replacing ClientHello1 in the transcript after a HelloRetryRequest (§4.4.1). */
  MESSAGE_HASH: 254,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

/** ExtensionType (RFC 8446 §4.2; quic_transport_parameters from RFC 9001 §8.2). */
export const ExtensionType = {
  SERVER_NAME: 0,
  SUPPORTED_GROUPS: 10,
  SIGNATURE_ALGORITHMS: 13,
  APPLICATION_LAYER_PROTOCOL_NEGOTIATION: 16,
  PRE_SHARED_KEY: 41,
  EARLY_DATA: 42,
  SUPPORTED_VERSIONS: 43,
  COOKIE: 44,
  PSK_KEY_EXCHANGE_MODES: 45,
  CERTIFICATE_AUTHORITIES: 47,
  SIGNATURE_ALGORITHMS_CERT: 50,
  KEY_SHARE: 51,
  QUIC_TRANSPORT_PARAMETERS: 0x39,
} as const;

export const TLS13_VERSION = 0x0304;
/** legacy_version of ClientHello/ServerHello: TLS 1.2 (§4.1.2, §4.1.3). */
export const LEGACY_VERSION = 0x0303;

/** psk_dhe_ke (RFC 8446 §4.2.9); psk_ke (0) is never offered nor accepted. */
export const PSK_DHE_KE = 1;

/** ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM = new Uint8Array([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** The last 8 bytes of ServerHello.random that signal a downgrade (RFC 8446 §4.1.3). */
export const DOWNGRADE_TLS12 = new Uint8Array([0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01]);
export const DOWNGRADE_TLS11 = new Uint8Array([0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00]);

/** NamedGroup code points (RFC 8446 §4.2.7). */
export const NAMED_GROUP_CODES: Record<NamedGroupName, number> = {
  x25519: 0x001d,
  secp256r1: 0x0017,
};

const groupsByCode = new Map<number, NamedGroupName>(
  Object.entries(NAMED_GROUP_CODES).map(([name, code]) => [code, name as NamedGroupName]),
);

export function namedGroupByCode(code: number): NamedGroupName | undefined {
  return groupsByCode.get(code);
}

export const DEFAULT_CIPHER_SUITES: readonly TlsCipherSuite[] = [
  TlsCipherSuite.TLS_AES_128_GCM_SHA256,
  TlsCipherSuite.TLS_AES_256_GCM_SHA384,
  TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
];

export const DEFAULT_GROUPS: readonly NamedGroupName[] = ['x25519', 'secp256r1'];
