/**
 * 0-RTT at the QUIC layer (RFC 9000 §7.4.1, RFC 9001 §4.6): the server's transport parameters
 * a client remembers with a ticket, the checks that the server did not reduce them, and a
 * replay cache for the server's anti-replay (RFC 8446 §8.1, RFC 9001 §9.2).
 */

import { toHex } from '../codec/hex.js';
import type { PacketProtectionKeys } from '../crypto/keys.js';
import type { EarlyDataContext } from '../tls/engine-api.js';
import { decodeTransportParameters, defaultTransportParameters, type TransportParameters } from '../transport-params.js';

/**
 * The parameters a client may use for 0-RTT from a ticket's raw server parameters. RFC 9000
 * §7.4.1: ack_delay_exponent, max_ack_delay, initial_source_connection_id,
 * original_destination_connection_id, preferred_address, retry_source_connection_id and
 * stateless_reset_token are not remembered; their defaults apply until the server's new ones
 * arrive. Undefined if the bytes do not decode (a ticket from elsewhere).
 */
export function rememberedTransportParameters(raw: Uint8Array): TransportParameters | undefined {
  let p: TransportParameters;
  try {
    p = decodeTransportParameters(raw, 'server');
  } catch {
    return undefined;
  }
  const d = defaultTransportParameters();
  return {
    ...p,
    ackDelayExponent: d.ackDelayExponent,
    maxAckDelay: d.maxAckDelay,
    initialSourceConnectionId: undefined,
    originalDestinationConnectionId: undefined,
    preferredAddress: undefined,
    retrySourceConnectionId: undefined,
    statelessResetToken: undefined,
  };
}

/**
 * The limits that 0-RTT relies on, which the server must not reduce when it accepts 0-RTT
 * (RFC 9000 §7.4.1; RFC 9221 §3 for max_datagram_frame_size). Returns the name of the first
 * reduced one, or undefined.
 */
export function reducedParameter(remembered: TransportParameters, current: TransportParameters): string | undefined {
  const limits = [
    'activeConnectionIdLimit',
    'initialMaxData',
    'initialMaxStreamDataBidiLocal',
    'initialMaxStreamDataBidiRemote',
    'initialMaxStreamDataUni',
    'initialMaxStreamsBidi',
    'initialMaxStreamsUni',
    'maxDatagramFrameSize',
  ] as const;
  for (const name of limits) if (current[name] < remembered[name]) return name;
  return undefined;
}

export interface ZeroRttReplayCacheOptions {
  /** Most ClientHellos remembered at once; when full, 0-RTT is refused (fail safe). Default 100,000. */
  maxEntries?: number;
  /**
   * How long a ClientHello is remembered (ms). It must cover the window in which the TLS
   * engine's ticket-age check (RFC 8446 §8.3, `maxTicketAgeSkewMs`, default 10 s) accepts the
   * same ClientHello; default 20 s.
   */
  windowMs?: number;
}

/**
 * Server anti-replay for 0-RTT (RFC 8446 §8.2, RFC 9001 §9.2): each accepted 0-RTT ClientHello
 * is remembered by its PSK binder (unique per ClientHello: it covers the client random) for
 * as long as the ticket-age check would accept it again, so a replay within that window is
 * refused 0-RTT (the handshake itself proceeds, its data arrives only in 1-RTT) and a replay
 * after it fails the age check. Memory is bounded: expired entries go first, and a full
 * cache refuses 0-RTT rather than forgetting. One cache per server (share it across
 * connections); it only protects 0-RTT that reaches this cache, i.e. one server instance.
 */
export class ZeroRttReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #windowMs: number;
  /** 0-RTT attempts refused as replays (diagnostics). */
  replaysRefused = 0;

  constructor(options: ZeroRttReplayCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#windowMs = options.windowMs ?? 20_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * For `TlsServerOptions.earlyDataFilter`: true the first time a ClientHello is seen within
   * the window, false for a replay or when the cache is full. Time is the server's wall clock
   * as the TLS engine saw it (ticket issue time plus the server's ticket age).
   */
  accept(context: EarlyDataContext): boolean {
    const now = context.ticketIssuedAtMs + context.serverTicketAgeMs;
    this.#expire(now);
    const key = toHex(context.binder);
    if (this.#entries.has(key)) {
      this.replaysRefused++;
      return false;
    }
    if (this.#entries.size >= this.#maxEntries) return false;
    this.#entries.set(key, now + this.#windowMs);
    return true;
  }

  /** Drops entries past their window. Entries are in insertion order, which is time order. */
  #expire(now: number): void {
    // Bounded by the number of entries.
    for (const [key, expiry] of this.#entries) {
      if (expiry > now) break;
      this.#entries.delete(key);
    }
  }
}

/** A connection's 0-RTT state: the server's read keys, the client's remembered parameters. */
export class ZeroRttState {
  /** Client: the server's parameters from the ticket, set before the ClientHello goes out. */
  remembered: TransportParameters | undefined;
  /** Client: the ALPN the ticket was issued for (0-RTT speaks it). */
  ticketAlpn: string | undefined;
  /** Client: the server's answer, once known. */
  accepted: boolean | undefined;
  #readKeys: PacketProtectionKeys | undefined;
  #discardAt = Infinity;

  /** Server: the TLS engine accepted 0-RTT and derived its keys. */
  installReadKeys(keys: PacketProtectionKeys): void {
    this.#readKeys = keys;
  }

  /** Server: the keys to open a 0-RTT packet, until they are discarded. */
  readKeys(now: number): PacketProtectionKeys | undefined {
    if (now >= this.#discardAt) this.#readKeys = undefined;
    return this.#readKeys;
  }

  /**
   * Server: a 1-RTT packet arrived. RFC 9001 §4.9.3: 0-RTT keys go within a short time of that,
   * three PTO recommended, so 0-RTT packets reordered behind it can still be opened.
   */
  onOneRttPacket(now: number, ptoMs: number): void {
    if (this.#readKeys && this.#discardAt === Infinity) this.#discardAt = now + 3 * ptoMs;
  }
}

/**
 * The server's 0-RTT decision after the TLS engine's own checks: RFC 9001 §4.6.2 / RFC 9000
 * §7.4.1: 0-RTT only if our current parameters are at least what the ticket promised; then
 * the anti-replay filter (`next`, e.g. `ZeroRttReplayCache.accept`). Without one, no 0-RTT.
 */
export function serverEarlyDataFilter(currentRaw: Uint8Array, next: ((context: EarlyDataContext) => boolean) | undefined): (context: EarlyDataContext) => boolean {
  const current = decodeTransportParameters(currentRaw, 'server');
  return (context) => {
    if (!next || !context.ticketTransportParameters) return false;
    const promised = rememberedTransportParameters(context.ticketTransportParameters);
    if (!promised || reducedParameter(promised, current) !== undefined) return false;
    return next(context);
  };
}
