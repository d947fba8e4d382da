/**
 * QUIC key derivation (RFC 9001 §5.1, §5.2, §6.1; RFC 9369 §3.3): HKDF-Expand-Label, Initial
 * secrets from the client's first Destination Connection ID, packet protection keys from a
 * traffic secret, and the key-update chain.
 *
 * A `PacketProtectionKeys` holds everything one key phase protects packets with, imported once:
 * the AEAD object, the IV, and the header protection object (which survives key updates).
 */

import { fromHex } from '../codec/hex.js';
import { QUIC_V1, QUIC_V2, versionName } from '../packet/version.js';
import { TLS_AES_128_GCM_SHA256, type CipherSuiteInfo } from './cipher-suites.js';
import type { Aead, HashAlgorithm, HeaderProtection, SymmetricCrypto } from './provider.js';

/** RFC 8446 §7.1: every HkdfLabel.label starts with this. */
const TLS13_LABEL_PREFIX = 'tls13 ';
/** RFC 9001 §5.1: all uses of HKDF-Expand-Label in QUIC use a zero-length Context. */
const EMPTY = new Uint8Array(0);

/**
 * HKDF-Expand-Label (RFC 8446 §7.1):
 * HKDF-Expand(Secret, HkdfLabel, Length) with
 * `HkdfLabel = uint16 length || opaque label<7..255> = "tls13 " + Label || opaque context<0..255>`.
 * Labels are ASCII without quotes or a trailing NUL (RFC 9001 §5.1).
 */
export function hkdfExpandLabel(
  crypto: SymmetricCrypto,
  hash: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return crypto.hkdfExpand(hash, secret, encodeHkdfLabel(label, context, length), length);
}

/** The HkdfLabel structure of RFC 8446 §7.1 (the `info` HKDF-Expand receives). */
export function encodeHkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const labelLength = TLS13_LABEL_PREFIX.length + label.length;
  if (labelLength < 7 || labelLength > 255) throw new RangeError(`HKDF label "${label}" has an invalid length`);
  if (context.length > 255) throw new RangeError('HKDF context longer than 255 bytes');
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new RangeError(`HKDF length ${length} out of range`);
  const info = new Uint8Array(2 + 1 + labelLength + 1 + context.length);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = labelLength;
  let offset = 3;
  for (const text of [TLS13_LABEL_PREFIX, label]) {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) throw new RangeError(`HKDF label "${label}" is not ASCII`);
      info[offset++] = code;
    }
  }
  info[offset++] = context.length;
  info.set(context, offset);
  return info;
}

/** What differs between QUIC versions in key derivation. */
export interface VersionKeyParameters {
  readonly version: number;
  /** HKDF-Extract salt for Initial secrets. */
  readonly initialSalt: Uint8Array;
  readonly keyLabel: string;
  readonly ivLabel: string;
  readonly hpLabel: string;
  /** Label deriving the next 1-RTT secret on a key update. */
  readonly keyUpdateLabel: string;
}

const V1_PARAMETERS: VersionKeyParameters = Object.freeze({
  version: QUIC_V1,
  // RFC 9001 §5.2
  initialSalt: fromHex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
  // RFC 9001 §5.1, §6.1
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
  keyUpdateLabel: 'quic ku',
});

const V2_PARAMETERS: VersionKeyParameters = Object.freeze({
  version: QUIC_V2,
  // RFC 9369 §3.3.1: the first 20 bytes of SHA-256("QUICv2 salt").
  initialSalt: fromHex('0dede3def700a6db819381be6e269dcbf9bd2ed9'),
  // RFC 9369 §3.3.2
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
  keyUpdateLabel: 'quicv2 ku',
});

/** Key derivation parameters of `version`; RangeError for a version we do not implement. */
export function versionKeyParameters(version: number): VersionKeyParameters {
  if (version === QUIC_V1) return V1_PARAMETERS;
  if (version === QUIC_V2) return V2_PARAMETERS;
  throw new RangeError(`no packet protection defined for QUIC version ${versionName(version)}`);
}

/** The client's and the server's Initial secrets (32 bytes each). */
export interface InitialSecrets {
  readonly client: Uint8Array;
  readonly server: Uint8Array;
}

/**
 * Initial secrets from the Destination Connection ID of the client's first Initial packet
 * (RFC 9001 §5.2; the salt per RFC 9369 §3.3.1 for v2). Always SHA-256, whatever the TLS suite.
 */
export function deriveInitialSecrets(crypto: SymmetricCrypto, version: number, clientDcid: Uint8Array): InitialSecrets {
  const params = versionKeyParameters(version);
  const initialSecret = crypto.hkdfExtract('sha256', params.initialSalt, clientDcid);
  return {
    client: hkdfExpandLabel(crypto, 'sha256', initialSecret, 'client in', EMPTY, 32),
    server: hkdfExpandLabel(crypto, 'sha256', initialSecret, 'server in', EMPTY, 32),
  };
}

/** Raw key material of one key phase, before import. */
export interface PacketKeyMaterial {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly hp: Uint8Array;
}

/**
 * The AEAD key, IV and header protection key from a traffic secret (RFC 9001 §5.1; labels per
 * RFC 9369 §3.3.2 for v2). Every label uses an empty context.
 */
export function derivePacketKeyMaterial(
  crypto: SymmetricCrypto,
  suite: CipherSuiteInfo,
  version: number,
  secret: Uint8Array,
): PacketKeyMaterial {
  const params = versionKeyParameters(version);
  return {
    key: hkdfExpandLabel(crypto, suite.hash, secret, params.keyLabel, EMPTY, suite.keyLength),
    iv: hkdfExpandLabel(crypto, suite.hash, secret, params.ivLabel, EMPTY, suite.ivLength),
    hp: hkdfExpandLabel(crypto, suite.hash, secret, params.hpLabel, EMPTY, suite.hpKeyLength),
  };
}

/**
 * The secret of the next key phase (RFC 9001 §6.1; "quicv2 ku" per RFC 9369 §3.3.2):
 * `HKDF-Expand-Label(secret, "quic ku", "", Hash.length)`.
 */
export function nextTrafficSecret(
  crypto: SymmetricCrypto,
  suite: CipherSuiteInfo,
  version: number,
  secret: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(crypto, suite.hash, secret, versionKeyParameters(version).keyUpdateLabel, EMPTY, suite.hashLength);
}

/** Everything needed to protect or unprotect packets in one direction for one key phase. */
export interface PacketProtectionKeys {
  readonly suite: CipherSuiteInfo;
  readonly version: number;
  /** The traffic secret these keys came from; the next key phase derives from it. */
  readonly secret: Uint8Array;
  readonly aead: Aead;
  /** 12-byte IV; the nonce is this XOR the packet number (RFC 9001 §5.3). */
  readonly iv: Uint8Array;
  /** Imported once; shared by every key phase of the connection (RFC 9001 §5.4, §6). */
  readonly headerProtection: HeaderProtection;
}

/**
 * Imports the keys of a traffic secret (called once per key phase and direction).
 * `headerProtection` is passed on key updates, where the header protection key does not change.
 */
export function createPacketProtectionKeys(
  crypto: SymmetricCrypto,
  suite: CipherSuiteInfo,
  version: number,
  secret: Uint8Array,
  headerProtection?: HeaderProtection,
): PacketProtectionKeys {
  const material = derivePacketKeyMaterial(crypto, suite, version, secret);
  return {
    suite,
    version,
    secret,
    aead: crypto.createAead(suite.aead, material.key),
    iv: material.iv,
    headerProtection: headerProtection ?? crypto.createHeaderProtection(suite.aead, material.hp),
  };
}

/**
 * The keys of the next key phase (RFC 9001 §6): a new AEAD key and IV from the "quic ku" secret,
 * the same header protection. Endpoints call it once per update and direction, ahead of time for
 * the receive side (RFC 9001 §6.3).
 */
export function nextKeyPhaseKeys(crypto: SymmetricCrypto, keys: PacketProtectionKeys): PacketProtectionKeys {
  const secret = nextTrafficSecret(crypto, keys.suite, keys.version, keys.secret);
  return createPacketProtectionKeys(crypto, keys.suite, keys.version, secret, keys.headerProtection);
}

/** Initial packet protection for both directions. */
export interface InitialKeys {
  readonly client: PacketProtectionKeys;
  readonly server: PacketProtectionKeys;
}

/**
 * Initial keys for both directions (RFC 9001 §5.2): AEAD_AES_128_GCM with AES header protection.
 * A client writes with `client` and reads with `server`; a server the other way round.
 */
export function deriveInitialKeys(crypto: SymmetricCrypto, version: number, clientDcid: Uint8Array): InitialKeys {
  const secrets = deriveInitialSecrets(crypto, version, clientDcid);
  return {
    client: createPacketProtectionKeys(crypto, TLS_AES_128_GCM_SHA256, version, secrets.client),
    server: createPacketProtectionKeys(crypto, TLS_AES_128_GCM_SHA256, version, secrets.server),
  };
}
