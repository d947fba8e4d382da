/**
 * Checks of the options an application passes to `QuicEndpoint.listen`, `bind` and `connect`,
 * at the API boundary: a wrong or missing option is a `TypeError` (a `RangeError` for a number
 * out of range) naming the option, thrown before anything is bound or sent, rather than an
 * `internal_error` from deep inside a handshake.
 */

import { isIP } from 'node:net';
import { isSupportedVersion } from '../packet/version.js';
import { type QuicLbConfig, quicLbCidFactory, quicLbCidLength } from '../connection/quic-lb.js';

type Options = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}` : `${typeof value} ${String(value)}`;
}

function fail(where: string, message: string): never {
  throw new TypeError(`${where}: ${message}`);
}

function object(where: string, value: unknown, name: string): Options {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `${name} must be an object, got ${describe(value)}`);
  return value as Options;
}

function optionalString(where: string, o: Options, key: string, prefix = 'options'): void {
  if (o[key] !== undefined && typeof o[key] !== 'string') fail(where, `${prefix}.${key} must be a string, got ${describe(o[key])}`);
}

function port(where: string, o: Options, key: string, required: boolean, allowZero: boolean): void {
  const v = o[key];
  if (v === undefined && !required) return;
  const low = allowZero ? 0 : 1;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, `options.${key} must be an integer port number, got ${describe(v)}`);
  if (v < low || v > 65535) throw new RangeError(`${where}: options.${key} must be between ${low} and 65535, got ${v}`);
}

function alpn(where: string, o: Options): void {
  const v = o.alpnProtocols;
  const example = "e.g. alpnProtocols: ['h3']";
  if (!Array.isArray(v) || v.length === 0) fail(where, `options.alpnProtocols must be a non-empty array of protocol names (${example}), got ${describe(v)}`);
  for (const p of v) {
    // RFC 7301 §3.1: a protocol name is 1 to 255 bytes.
    if (typeof p !== 'string' || p.length === 0 || Buffer.byteLength(p) > 255) fail(where, `options.alpnProtocols holds ${describe(p)}: each entry must be a name of 1 to 255 bytes`);
  }
}

function versions(where: string, o: Options): void {
  const v = o.versions;
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0) fail(where, `options.versions must be a non-empty array of QUIC versions (QUIC_V1, QUIC_V2), got ${describe(v)}`);
  if (!v.some((x) => typeof x === 'number' && isSupportedVersion(x))) fail(where, 'options.versions lists no version this implementation supports (QUIC_V1, QUIC_V2)');
}

function common(where: string, o: Options): void {
  const crypto = o.crypto;
  if (crypto !== undefined && typeof crypto !== 'object' && !['auto', 'node', 'noble'].includes(crypto as string)) {
    fail(where, `options.crypto must be 'auto', 'node', 'noble' or a provider object, got ${describe(crypto)}`);
  }
  if (o.transport !== undefined) object(where, o.transport, 'options.transport');
  optionalString(where, o, 'keyLogFile');
  optionalString(where, o, 'qlogDir');
  if (o.statelessResetKey !== undefined && (!(o.statelessResetKey instanceof Uint8Array) || o.statelessResetKey.length !== 32)) {
    fail(where, `options.statelessResetKey must be a Uint8Array of 32 bytes, got ${describe(o.statelessResetKey)}`);
  }
  if (o.protocol !== undefined && typeof o.protocol !== 'function') fail(where, `options.protocol must be a function, got ${describe(o.protocol)}`);
}

function quicLb(where: string, o: Options): void {
  if (o.quicLb === undefined) return;
  const lb = object(where, o.quicLb, 'options.quicLb');
  const config = object(where, lb.config, 'options.quicLb.config');
  if (typeof config.lengthSelfEncoding !== 'boolean') fail(where, `options.quicLb.config.lengthSelfEncoding must be a boolean, got ${describe(config.lengthSelfEncoding)}`);
  if (!(lb.serverId instanceof Uint8Array)) fail(where, `options.quicLb.serverId must be a Uint8Array, got ${describe(lb.serverId)}`);
  try {
    // The factory checks the configuration's ranges and the server ID's length (RangeError).
    quicLbCidFactory(config as unknown as QuicLbConfig, lb.serverId, (n) => new Uint8Array(n));
  } catch (e) {
    throw new RangeError(`${where}: options.quicLb: ${(e as Error).message}`);
  }
  const length = quicLbCidLength(config as unknown as QuicLbConfig);
  const transport = o.transport as Options | undefined;
  if (transport?.localConnectionIdLength !== undefined && transport.localConnectionIdLength !== length) {
    fail(where, `options.transport.localConnectionIdLength (${describe(transport.localConnectionIdLength)}) disagrees with options.quicLb, whose connection IDs are ${length} bytes`);
  }
}

/** `QuicEndpoint.listen(options)`; `listenOn` passes `requirePort` false (its socket is given). */
export function checkListenOptions(options: unknown, requirePort = true): void {
  const where = requirePort ? 'QuicEndpoint.listen' : 'QuicEndpoint.listenOn';
  const o = object(where, options, 'options');
  common(where, o);
  optionalString(where, o, 'host');
  port(where, o, 'port', requirePort, true);
  quicLb(where, o);
  if (o.sessionTicketSecret !== undefined && (!(o.sessionTicketSecret instanceof Uint8Array) || o.sessionTicketSecret.length !== 32)) {
    fail(where, `options.sessionTicketSecret must be a Uint8Array of 32 bytes, got ${describe(o.sessionTicketSecret)}`);
  }
  for (const key of ['certificatePem', 'privateKeyPem'] as const) {
    if (typeof o[key] !== 'string' || !/-----BEGIN /.test(o[key] as string)) {
      fail(where, `options.${key} must be a PEM string (see generateSelfSignedCertificate), got ${describe(o[key])}`);
    }
  }
  alpn(where, o);
  versions(where, o);
  const retry = o.retry;
  if (retry !== undefined && retry !== 'always' && retry !== 'never' && !(typeof retry === 'object' && retry !== null && typeof (retry as Options).handshakesInProgress === 'number')) {
    fail(where, `options.retry must be 'always', 'never' or { handshakesInProgress: number }, got ${describe(retry)}`);
  }
  preferredAddress(where, o);
  const maxHandshakes = o.maxHandshakesInProgress;
  if (maxHandshakes !== undefined && !(typeof maxHandshakes === 'number' && Number.isSafeInteger(maxHandshakes) && maxHandshakes > 0)) {
    fail(where, `options.maxHandshakesInProgress must be a positive integer, got ${describe(maxHandshakes)}`);
  }
}

/** `preferredAddress: { ipv4?: { address, port }, ipv6?: { address, port } }` (RFC 9000 §9.6). */
function preferredAddress(where: string, o: Options): void {
  if (o.preferredAddress === undefined) return;
  const pa = object(where, o.preferredAddress, 'options.preferredAddress');
  if (pa.ipv4 === undefined && pa.ipv6 === undefined) fail(where, 'options.preferredAddress needs ipv4 or ipv6 (or both)');
  for (const family of ['ipv4', 'ipv6'] as const) {
    if (pa[family] === undefined) continue;
    const a = object(where, pa[family], `options.preferredAddress.${family}`);
    const wanted = family === 'ipv4' ? 4 : 6;
    // The client sends to this address: a specific one of the family, not a wildcard.
    if (typeof a.address !== 'string' || isIP(a.address) !== wanted || a.address === '0.0.0.0' || a.address === '::') {
      fail(where, `options.preferredAddress.${family}.address must be a specific IPv${wanted} address, got ${describe(a.address)}`);
    }
    port(where, a, 'port', true, true);
  }
  // RFC 9000 §18.2: a server using zero-length connection IDs MUST NOT send preferred_address.
  const transport = o.transport as Options | undefined;
  if (transport?.localConnectionIdLength === 0) fail(where, 'options.preferredAddress needs non-zero-length connection IDs (transport.localConnectionIdLength)');
}

/** `QuicEndpoint.bind(options)`. */
export function checkBindOptions(options: unknown): void {
  const where = 'QuicEndpoint.bind';
  const o = object(where, options, 'options');
  common(where, o);
  optionalString(where, o, 'host');
  port(where, o, 'port', false, true);
}

const VERIFICATION_FORMS =
  "{ mode: 'chain', trustAnchors: [caPem] }, { mode: 'certificate-hashes', hashes: [sha256] } or { mode: 'none' } (no authentication: tests only)";

/** `QuicEndpoint.connect(options)`. */
export function checkConnectOptions(options: unknown): void {
  const where = 'QuicEndpoint.connect';
  const o = object(where, options, 'options');
  if (typeof o.host !== 'string' || o.host.length === 0) fail(where, `options.host must be a host name or IP address, got ${describe(o.host)}`);
  port(where, o, 'port', true, false);
  optionalString(where, o, 'serverName');
  alpn(where, o);
  versions(where, o);
  if (o.initialVersion !== undefined && (typeof o.initialVersion !== 'number' || !isSupportedVersion(o.initialVersion))) {
    fail(where, `options.initialVersion must be a supported QUIC version (QUIC_V1, QUIC_V2), got ${describe(o.initialVersion)}`);
  }
  const v = o.verification;
  if (v === undefined) fail(where, `options.verification is required: ${VERIFICATION_FORMS}`);
  const verification = object(where, v, 'options.verification');
  switch (verification.mode) {
    case 'chain': {
      const anchors = verification.trustAnchors;
      if (!Array.isArray(anchors) || anchors.length === 0) {
        fail(where, `options.verification.trustAnchors must be a non-empty array of CA certificates (PEM strings or DER), got ${describe(anchors)}`);
      }
      for (const a of anchors) {
        if (typeof a !== 'string' && !(a instanceof Uint8Array)) fail(where, `options.verification.trustAnchors holds ${describe(a)}: each must be a PEM string or DER bytes`);
      }
      break;
    }
    case 'certificate-hashes': {
      const hashes = verification.hashes;
      if (!Array.isArray(hashes) || hashes.length === 0 || !hashes.every((h) => h instanceof Uint8Array && h.length === 32)) {
        fail(where, `options.verification.hashes must be a non-empty array of 32-byte SHA-256 values, got ${describe(hashes)}`);
      }
      break;
    }
    case 'none':
      break;
    default:
      fail(where, `options.verification.mode must be 'chain', 'certificate-hashes' or 'none', got ${describe(verification.mode)}`);
  }
  const timeout = o.handshakeTimeoutMs;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
    fail(where, `options.handshakeTimeoutMs must be a positive number of milliseconds, got ${describe(timeout)}`);
  }
  if (o.transport !== undefined) object(where, o.transport, 'options.transport');
  optionalString(where, o, 'keyLogFile');
  if (o.protocol !== undefined && typeof o.protocol !== 'function') fail(where, `options.protocol must be a function, got ${describe(o.protocol)}`);
  if (o.lookup !== undefined && typeof o.lookup !== 'function') fail(where, `options.lookup must be a function, got ${describe(o.lookup)}`);
  if (o.migrateToPreferredAddress !== undefined && typeof o.migrateToPreferredAddress !== 'boolean') {
    fail(where, `options.migrateToPreferredAddress must be a boolean, got ${describe(o.migrateToPreferredAddress)}`);
  }
}
