/**
 * Version negotiation (RFC 9000 §6; RFC 9368): which version a client tries after a Version
 * Negotiation packet, the version_information transport parameter each side sends, the checks
 * that stop a forged Version Negotiation packet from downgrading a connection, compatible
 * negotiation from v1 to v2 at the server (RFC 9368 §2.3, RFC 9369 §4), and the ClientHello peek
 * that lets a server decide the version before TLS writes its transport parameters.
 */

import { ByteReader } from '../codec/reader.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import { greaseVersion, isSupportedVersion, QUIC_V1 } from '../packet/version.js';
import { decodeTransportParameters, type VersionInformation } from '../transport-params.js';

const VN_ERROR = TransportErrorCode.VERSION_NEGOTIATION_ERROR;

/**
 * The client's versions by preference, most preferred first, kept to those we implement (default:
 * v1 only). The first flight's version is chosen apart from this order (`clientInitialVersion`).
 */
export function clientVersions(preferred: readonly number[] | undefined): number[] {
  const list = (preferred ?? [QUIC_V1]).filter(isSupportedVersion);
  if (list.length === 0) throw new RangeError('no supported QUIC version among the preferred ones');
  return [...new Set(list)];
}

/**
 * The version of a client's first flight (RFC 9368 §5, "Client Choice of Original Version"),
 * kept apart from the preference order: a client that prefers v2 still starts in v1, which every
 * server speaks, and lets compatible negotiation (§2.3) move it to v2 where the server agrees, at
 * no extra round trip. `initial` if given (it must be one of `preferred`); else v1 when the client
 * offers it; else its most preferred version.
 */
export function clientInitialVersion(preferred: readonly number[], initial?: number): number {
  if (initial !== undefined) {
    if (!preferred.includes(initial)) throw new RangeError(`initial version 0x${initial.toString(16)} is not among the offered versions`);
    return initial;
  }
  return preferred.includes(QUIC_V1) ? QUIC_V1 : preferred[0]!;
}

/**
 * RFC 9000 §6.2 / RFC 9368 §4: the version a client tries after a Version Negotiation packet
 * listing `offered`: its most preferred version the server offers; undefined if none (the
 * attempt fails) or if the packet lists the version just tried (it is discarded then).
 */
export function versionAfterNegotiation(preferred: readonly number[], offered: readonly number[], attempted: number): number | undefined {
  if (offered.includes(attempted)) return undefined;
  return preferred.find((v) => v !== attempted && offered.includes(v));
}

/**
 * The client's version_information (RFC 9368 §3): the version of its first flight, then every
 * version that flight is compatible with, by preference, plus a greased one (§3 allows reserved
 * versions; they exercise the server's handling of unknown ones).
 */
export function clientVersionInformation(chosen: number, preferred: readonly number[], random32: number): VersionInformation {
  const available = preferred.includes(chosen) ? [...preferred] : [chosen, ...preferred];
  available.push(greaseVersion(random32));
  return { chosenVersion: chosen, availableVersions: available };
}

/** The server's version_information: the negotiated version and every version it accepts. */
export function serverVersionInformation(negotiated: number, accepted: readonly number[]): VersionInformation {
  return { chosenVersion: negotiated, availableVersions: [...accepted] };
}

/**
 * RFC 9368 §2.3: the version a server switches to for a client whose first flight came in
 * `original` and whose version_information is `info`: the server's most preferred version that
 * the client lists as compatible. Our versions (v1, v2) are all compatible with each other.
 */
export function compatibleVersion(original: number, info: VersionInformation | undefined, serverPreferred: readonly number[]): number {
  if (!info) return original;
  for (const v of serverPreferred) if (isSupportedVersion(v) && info.availableVersions.includes(v)) return v;
  return original;
}

/**
 * Server checks of the client's version_information (RFC 9368 §4): its Chosen Version must be
 * the version its first flight used.
 */
export function checkClientVersionInformation(info: VersionInformation | undefined, originalVersion: number): void {
  if (info && info.chosenVersion !== originalVersion) {
    throw new QuicError(VN_ERROR, 'client Chosen Version differs from its first flight');
  }
}

/**
 * Client checks of the server's version_information (RFC 9368 §4). `negotiated` is the version
 * in use; `offered` what the client listed; `reactedToVn` whether this attempt follows a Version
 * Negotiation packet (then the server's versions must confirm the choice: no downgrade).
 */
export function checkServerVersionInformation(
  info: VersionInformation | undefined,
  negotiated: number,
  offered: readonly number[],
  preferred: readonly number[],
  reactedToVn: boolean,
): void {
  if (!info) {
    if (reactedToVn) throw new QuicError(VN_ERROR, 'no version_information after Version Negotiation');
    return;
  }
  if (!offered.includes(info.chosenVersion) || info.chosenVersion !== negotiated) {
    throw new QuicError(VN_ERROR, 'server Chosen Version is not the negotiated one');
  }
  if (reactedToVn) {
    // We would have picked the same version had the VN packet listed the server's real versions.
    const wouldPick = preferred.find((v) => v === negotiated || info.availableVersions.includes(v));
    if (info.availableVersions.length === 0 || wouldPick !== negotiated) {
      throw new QuicError(VN_ERROR, 'version downgrade: the server supports a version we prefer');
    }
  }
}

/**
 * Reassembles the start of a client's Initial CRYPTO stream until the whole ClientHello is
 * there, so a server can read the client's version_information before TLS answers (and writes
 * the server's transport parameters, which carry the negotiated version). Bounded by `limit`.
 */
export class ClientHelloPeek {
  /** Bytes held so far, in a buffer grown by doubling (linear in the bytes pushed, issue 12 #2). */
  #held = new Uint8Array(0);
  #length = 0;
  done = false;

  constructor(private readonly limit: number) {}

  /**
   * Adds a chunk. Returns undefined while the ClientHello is incomplete (the bytes are held),
   * else everything held so far (the caller passes it on to TLS) and `done` becomes true.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (this.done) return chunk;
    const length = this.#length + chunk.length;
    if (length > this.#held.length) {
      const grown = new Uint8Array(Math.max(length, Math.min(this.#held.length * 2, this.limit + chunk.length), 256));
      grown.set(this.#held.subarray(0, this.#length));
      this.#held = grown;
    }
    this.#held.set(chunk, this.#length);
    this.#length = length;
    const all = this.#held;
    const needed = length >= 4 ? 4 + ((all[1]! << 16) | (all[2]! << 8) | all[3]!) : Infinity;
    if (length < needed && length < this.limit) return undefined;
    this.done = true;
    this.#held = new Uint8Array(0);
    return all.subarray(0, length);
  }
}

/** ClientHello handshake type and the quic_transport_parameters extension (RFC 8446, RFC 9001 §8.2). */
const CLIENT_HELLO = 1;
const QUIC_TRANSPORT_PARAMETERS = 0x39;

/**
 * The version_information in a ClientHello's transport parameters, or undefined if it has none
 * or cannot be read (TLS will then report the real error).
 */
export function peekClientVersionInformation(clientHello: Uint8Array): VersionInformation | undefined {
  try {
    const r = new ByteReader(clientHello, 0, clientHello.length, TransportErrorCode.PROTOCOL_VIOLATION);
    if (r.u8() !== CLIENT_HELLO) return undefined;
    const body = r.bytes(r.u24());
    const b = new ByteReader(body, 0, body.length, TransportErrorCode.PROTOCOL_VIOLATION);
    b.skip(2 + 32); // legacy_version, random
    b.u8Prefixed(); // legacy_session_id
    b.u16Prefixed(); // cipher_suites
    b.u8Prefixed(); // legacy_compression_methods
    const extensions = b.u16Prefixed();
    const e = new ByteReader(extensions, 0, extensions.length, TransportErrorCode.PROTOCOL_VIOLATION);
    // Bounded: each round consumes at least 4 bytes.
    while (!e.isEmpty()) {
      const type = e.u16();
      const data = e.u16Prefixed();
      if (type === QUIC_TRANSPORT_PARAMETERS) return decodeTransportParameters(data, 'client').versionInformation;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
