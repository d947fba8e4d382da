/**
 * What an endpoint does with a datagram no connection claims (RFC 9000 §5.2, §6, §8.1, §10.3):
 * answer an unknown version with Version Negotiation, check a client Initial's token and either
 * accept it, demand address validation with a Retry, or refuse a bad Retry token with
 * INVALID_TOKEN; answer a short-header packet for an unknown connection ID with a Stateless
 * Reset. Sans-IO (time and randomness passed in) so the simulator drives the same logic as
 * `QuicEndpoint`.
 */

import type { PathAddress } from '../connection/types.js';
import { statelessResetToken } from '../connection/reset-token.js';
import type { InitialKeys } from '../crypto/keys.js';
import type { SymmetricCrypto } from '../crypto/provider.js';
import { TransportErrorCode } from '../errors.js';
import { encodeVersionNegotiation, MAX_CID_LENGTH } from '../packet/header.js';
import { parseInvariantHeader } from '../packet/invariants.js';
import { PacketType } from '../packet/types.js';
import { greaseVersion, packetTypeFromLongHeaderBits, SUPPORTED_VERSIONS } from '../packet/version.js';
import { AddressTokens } from './address-tokens.js';
import { openInitial } from './initial-check.js';
import { buildInitialClose, buildRetryPacket, buildStatelessReset, statelessResetLength } from './stateless-packets.js';

/** RFC 9000 §14.1: servers drop client Initials in datagrams smaller than this. */
const MIN_INITIAL_DATAGRAM = 1200;
/** RFC 9000 §10.3.3: Stateless Resets sent at most this many per second (a loop or a flood ends here). */
const MAX_RESETS_PER_SECOND = 64;

/**
 * When a server demands address validation with a Retry before creating any state:
 * 'always', 'never', or once this many handshakes are in progress (under load). The default
 * is `DEFAULT_RETRY_POLICY`: Retry once 100 handshakes are in progress, so a server flooded
 * with Initials from addresses that never answer keeps no state for them (RFC 9000 §8.1.2).
 */
export type RetryPolicy = 'always' | 'never' | { handshakesInProgress: number };

/** The Retry policy when none is given: Retry above 100 handshakes in progress. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { handshakesInProgress: 100 };
/**
 * Handshakes in progress (half-open server connections) an endpoint holds at most by default;
 * Initials beyond are dropped (the client retransmits). Each costs a TLS handshake's CPU and
 * tens of KB until it completes or times out.
 */
export const DEFAULT_MAX_HANDSHAKES_IN_PROGRESS = 1000;

export interface StatelessResponderOptions {
  crypto: SymmetricCrypto;
  random: (n: number) => Uint8Array;
  /** The endpoint's static key: stateless reset tokens and address tokens derive from it. */
  staticKey: Uint8Array;
  /** Length of the connection IDs this endpoint issues. */
  cidLength: number;
  /** Makes the connection IDs this endpoint issues (a Retry's SCID); default random. */
  newConnectionId?: () => Uint8Array;
  /** Whether this endpoint accepts connections (only servers answer Initials). */
  isServer: boolean;
  retry?: RetryPolicy;
  /** Handshakes in progress above which new Initials are dropped (default 1000). */
  maxHandshakesInProgress?: number;
  /** Versions the server accepts, by preference (default: v1 and v2). */
  versions?: readonly number[];
  retryTokenLifetimeMs?: number;
  newTokenLifetimeMs?: number;
}

/** A client Initial the server should create a connection for. */
export interface AcceptDecision {
  action: 'accept';
  version: number;
  /** The DCID of this Initial: Initial keys derive from it and it routes to the connection. */
  dcid: Uint8Array;
  clientScid: Uint8Array;
  /** Set when the Initial echoed one of our Retry tokens (RFC 9000 §7.3 transport parameters). */
  retry: { originalDcid: Uint8Array; retrySourceCid: Uint8Array } | undefined;
  /** The token proved the client's address (RFC 9000 §8.1): no amplification limit. */
  addressValidated: boolean;
  /** The Initial keys of `dcid` and `version`, derived to check the packet (for `AcceptOptions.initialKeys`). */
  initialKeys: InitialKeys;
}

export type UnroutedDecision =
  | AcceptDecision
  /** Send this datagram back to the sender (VN, Retry, CONNECTION_CLOSE, Stateless Reset). */
  | { action: 'reply'; datagram: Uint8Array; what: 'version-negotiation' | 'retry' | 'invalid-token' | 'stateless-reset' }
  | { action: 'drop' };

/** Counters for tests and diagnostics. */
export interface ResponderStats {
  versionNegotiations: number;
  /** Initial-shaped datagrams dropped because their first packet did not authenticate. */
  unopenedInitials: number;
  /** Initials dropped because the cap on handshakes in progress was reached. */
  handshakesRefused: number;
  retries: number;
  invalidTokens: number;
  ignoredTokens: number;
  statelessResets: number;
}

export class StatelessResponder {
  readonly tokens: AddressTokens;
  readonly stats: ResponderStats = { versionNegotiations: 0, unopenedInitials: 0, handshakesRefused: 0, retries: 0, invalidTokens: 0, ignoredTokens: 0, statelessResets: 0 };
  readonly #o: StatelessResponderOptions;
  readonly #versions: readonly number[];
  #resetBudget = MAX_RESETS_PER_SECOND;
  #resetBudgetAt = -Infinity;

  constructor(options: StatelessResponderOptions) {
    this.#o = options;
    this.#versions = options.versions ?? SUPPORTED_VERSIONS;
    this.tokens = new AddressTokens({
      crypto: options.crypto,
      staticKey: options.staticKey,
      random: options.random,
      retryLifetimeMs: options.retryTokenLifetimeMs,
      newTokenLifetimeMs: options.newTokenLifetimeMs,
    });
  }

  get retryPolicy(): RetryPolicy {
    return this.#o.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** The stateless reset token of one of our connection IDs (RFC 9000 §10.3.2). */
  resetTokenFor(cid: Uint8Array): Uint8Array {
    return statelessResetToken(this.#o.crypto, this.#o.staticKey, cid);
  }

  /**
   * Decides what to do with a datagram no connection claimed. `now` is monotonic (rate limits),
   * `wallClockMs` since the epoch (token ages); `handshakesInProgress` feeds the Retry policy.
   */
  handle(data: Uint8Array, remote: PathAddress, now: number, wallClockMs: number, handshakesInProgress: number): UnroutedDecision {
    let header;
    try {
      header = parseInvariantHeader(data, this.#o.cidLength);
    } catch {
      return { action: 'drop' };
    }
    if (!header.isLong) return this.#statelessReset(data, header.dcid, now);
    if (!this.#o.isServer) return { action: 'drop' };
    if (!this.#versions.includes(header.version)) {
      // RFC 9000 §6.1, §14.1: answer with Version Negotiation, only to datagrams big enough to be
      // Initials, never to a Version Negotiation packet.
      if (data.length < MIN_INITIAL_DATAGRAM || header.version === 0) return { action: 'drop' };
      this.stats.versionNegotiations++;
      // RFC 9000 §6.3: a greased version in the list exercises the client's handling of unknown ones.
      const grease = this.#o.random(4);
      const supportedVersions = [...this.#versions, greaseVersion(((grease[0]! << 24) | (grease[1]! << 16) | (grease[2]! << 8) | grease[3]!) >>> 0)];
      const datagram = encodeVersionNegotiation({ dcid: header.scid, scid: header.dcid, supportedVersions, unusedBits: this.#o.random(1)[0]! });
      return { action: 'reply', datagram, what: 'version-negotiation' };
    }
    const type = packetTypeFromLongHeaderBits(header.version, (data[0]! >> 4) & 0x03);
    // RFC 9000 §14.1: a server MUST discard an Initial in a datagram below 1200 bytes; §7.2: a
    // client's first DCID has at least 8 bytes.
    if (type !== PacketType.INITIAL || data.length < MIN_INITIAL_DATAGRAM || header.dcid.length < 8) return { action: 'drop' };
    // RFC 9000 §17.2: v1 and v2 connection IDs have at most 20 bytes; longer ones are dropped.
    if (header.dcid.length > MAX_CID_LENGTH || header.scid.length > MAX_CID_LENGTH) return { action: 'drop' };
    const token = initialToken(data, header.dcid.length, header.scid.length);
    if (token === undefined) return { action: 'drop' };
    const accept = (retry: AcceptDecision['retry'], addressValidated: boolean): UnroutedDecision => {
      // No state before the Initial authenticates (RFC 9001 §5.2: its keys come from its DCID);
      // none beyond the cap on handshakes in progress either.
      if (handshakesInProgress >= (this.#o.maxHandshakesInProgress ?? DEFAULT_MAX_HANDSHAKES_IN_PROGRESS)) {
        this.stats.handshakesRefused++;
        return { action: 'drop' };
      }
      const initialKeys = openInitial(this.#o.crypto, header.version, data, this.#o.cidLength);
      if (!initialKeys) {
        this.stats.unopenedInitials++;
        return { action: 'drop' };
      }
      return { action: 'accept', version: header.version, dcid: header.dcid.slice(), clientScid: header.scid.slice(), retry, addressValidated, initialKeys };
    };
    if (token.length > 0) {
      const check = this.tokens.check(token, remote, wallClockMs);
      if (check.valid && check.kind === 'retry') {
        // RFC 9000 §7.3: the client must use the CID our Retry gave it; anything else is not this token's Initial.
        if (!sameBytes(check.retrySourceCid, header.dcid)) return this.#invalidToken(header.version, header.dcid, header.scid);
        return accept({ originalDcid: check.originalDcid, retrySourceCid: check.retrySourceCid }, true);
      }
      if (check.valid) return accept(undefined, true);
      // RFC 9000 §8.1.3: a bad Retry token means the client will not take another Retry: close
      // with INVALID_TOKEN at once. A bad NEW_TOKEN (or foreign) token is as good as none (§8.1.4).
      if (check.kind === 'retry') return this.#invalidToken(header.version, header.dcid, header.scid);
      this.stats.ignoredTokens++;
    }
    if (this.#mustRetry(handshakesInProgress)) {
      const newScid = this.#o.newConnectionId !== undefined ? this.#o.newConnectionId() : this.#o.random(this.#o.cidLength);
      const retryToken = this.tokens.mintRetryToken(remote, header.dcid, newScid, wallClockMs);
      const datagram = buildRetryPacket(this.#o.crypto, header.version, header.scid, header.dcid, newScid, retryToken, this.#o.random(1)[0]!);
      this.stats.retries++;
      return { action: 'reply', datagram, what: 'retry' };
    }
    return accept(undefined, false);
  }

  #mustRetry(handshakesInProgress: number): boolean {
    const policy = this.retryPolicy;
    if (policy === 'always') return true;
    if (policy === 'never') return false;
    return handshakesInProgress >= policy.handshakesInProgress;
  }

  #invalidToken(version: number, dcid: Uint8Array, scid: Uint8Array): UnroutedDecision {
    this.stats.invalidTokens++;
    const datagram = buildInitialClose(this.#o.crypto, version, dcid, scid, TransportErrorCode.INVALID_TOKEN, 'invalid token');
    return { action: 'reply', datagram, what: 'invalid-token' };
  }

  #statelessReset(data: Uint8Array, dcid: Uint8Array, now: number): UnroutedDecision {
    // RFC 9000 §10.3.3: rate-limited; smaller than the trigger (so resets cannot loop).
    if (now - this.#resetBudgetAt >= 1000) {
      this.#resetBudget = MAX_RESETS_PER_SECOND;
      this.#resetBudgetAt = now;
    }
    const length = statelessResetLength(data.length, this.#o.random(1)[0]!);
    if (length === 0 || this.#resetBudget <= 0) return { action: 'drop' };
    this.#resetBudget--;
    this.stats.statelessResets++;
    return { action: 'reply', datagram: buildStatelessReset(length, this.resetTokenFor(dcid), this.#o.random), what: 'stateless-reset' };
  }
}

/** The Token field of a v1/v2 Initial (RFC 9000 §17.2.2), or undefined if truncated. */
function initialToken(data: Uint8Array, dcidLength: number, scidLength: number): Uint8Array | undefined {
  let o = 1 + 4 + 1 + dcidLength + 1 + scidLength;
  if (o >= data.length) return undefined;
  const first = data[o]!;
  const size = 1 << (first >> 6);
  if (o + size > data.length) return undefined;
  let length = first & 0x3f;
  for (let i = 1; i < size; i++) length = length * 256 + data[o + i]!;
  o += size;
  if (o + length > data.length) return undefined;
  return data.subarray(o, o + length);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
