/**
 * The interface between QUIC and the TLS 1.3 handshake engine (RFC 9001 §4.1).
 *
 * The engine is transport-agnostic and sans-IO: QUIC (or the test-only TLS-over-TCP record
 * adapter) feeds it handshake bytes per encryption level and polls what it produced:
 * handshake bytes to send per level, traffic secrets as each level becomes available, the
 * peer's transport parameters, completion, tickets. It never reads a clock or an RNG of its
 * own: both come in through the options.
 */

import type { EncryptionLevel } from '../crypto/encryption-level.js';
import type { CryptoProvider, NamedGroupName, SigningKey } from '../crypto/provider.js';
import type { SessionTicketKeys } from './tickets.js';

export type TlsRole = 'client' | 'server';

/** TLS 1.3 cipher suite code points (RFC 8446 §B.4). */
export const TlsCipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;
export type TlsCipherSuite = (typeof TlsCipherSuite)[keyof typeof TlsCipherSuite];

/** What the engine hands back; `poll()` returns these in the order they happened. */
export type TlsOutput =
  /** Handshake bytes to send in CRYPTO frames at `level` (in order). */
  | { kind: 'handshake-data'; level: EncryptionLevel; data: Uint8Array }
  /** A traffic secret became available (RFC 9001 §4.1.4): install packet protection keys. */
  | { kind: 'secret'; level: EncryptionLevel; direction: 'read' | 'write'; secret: Uint8Array; cipherSuite: TlsCipherSuite }
  /** The peer's quic_transport_parameters extension (0x39), raw; QUIC decodes and validates it. */
  | { kind: 'peer-transport-parameters'; data: Uint8Array }
  /** Handshake complete (RFC 9001 §4.1.1): our Finished sent and the peer's verified. */
  | { kind: 'handshake-complete' }
  /** Client: the server's 0-RTT answer (EncryptedExtensions early_data, RFC 8446 §4.2.10). */
  | { kind: 'early-data'; accepted: boolean }
  /** Client: a NewSessionTicket arrived; keep it (serializable) to resume later. */
  | { kind: 'session-ticket'; ticket: SessionTicket }
  /** A secret for SSLKEYLOGFILE (emitted only when `keyLog` is on). */
  | { kind: 'key-log'; label: KeyLogLabel; clientRandom: Uint8Array; secret: Uint8Array };

export type KeyLogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0';

/** A resumption ticket as the client stores it (RFC 8446 §4.6.1), plain data so it can be saved. */
export interface SessionTicket {
  ticket: Uint8Array;
  /** The PSK derived from resumption_master_secret and the ticket nonce. */
  psk: Uint8Array;
  cipherSuite: TlsCipherSuite;
  /** Wall-clock ms when received, and lifetime in seconds: ticket age rules (§4.6.1). */
  receivedAtMs: number;
  lifetimeSeconds: number;
  ageAdd: number;
  /** max_early_data_size from the ticket's early_data extension; 0 = no 0-RTT. For QUIC 0xffffffff. */
  maxEarlyDataSize: number;
  serverName: string | undefined;
  alpn: string | undefined;
  /** The server's transport parameters remembered for 0-RTT (RFC 9000 §7.4.1), raw. */
  transportParameters?: Uint8Array;
}

/** How a client checks the server's certificate. */
export type ServerVerification =
  /** Chain to trust anchors (DER or PEM); default anchors are the caller's to supply. */
  | { mode: 'chain'; trustAnchors: (Uint8Array | string)[] }
  /** WebTransport's serverCertificateHashes: SHA-256 of the leaf DER, no chain building. */
  | { mode: 'certificate-hashes'; hashes: Uint8Array[] }
  /** No verification (tests, interop runners). The signature over the transcript is still checked. */
  | { mode: 'none' };

interface CommonOptions {
  crypto: CryptoProvider;
  /** Random bytes (32-byte randoms, key shares' entropy comes from the provider). Injected for tests. */
  random: (length: number) => Uint8Array;
  /** Wall-clock milliseconds since the epoch: certificate validity and ticket ages. */
  now: () => number;
  /** ALPN protocols in preference order; QUIC requires an overlap (RFC 9001 §8.1). */
  alpnProtocols: string[];
  /** Our quic_transport_parameters, already encoded. Omit for plain TLS (the record adapter). */
  transportParameters?: Uint8Array;
  cipherSuites?: TlsCipherSuite[];
  groups?: NamedGroupName[];
  keyLog?: boolean;
  /** Test-only injection points (RFC 8448 reproduction); never set in production. */
  testHooks?: TlsTestHooks;
}

/**
 * Test-only hooks. `rewriteHandshakeMessage` sees each handshake message we are about to send
 * (header included) and may return different bytes, which are then sent and hashed into the
 * transcript instead: the RFC 8448 tests use it to send the trace's exact ClientHello (whose
 * extensions we do not all implement). For a ClientHello offering a PSK the binders are
 * computed after the rewrite, over the rewritten bytes.
 */
export interface TlsTestHooks {
  rewriteHandshakeMessage?: (type: number, message: Uint8Array) => Uint8Array;
}

export interface TlsClientOptions extends CommonOptions {
  serverName?: string;
  verification: ServerVerification;
  /** Groups to send key shares for in the first ClientHello (default: the first of `groups`). */
  keyShareGroups?: NamedGroupName[];
  /** A certificate to present if the server asks. */
  clientCertificate?: { chain: Uint8Array[]; key: SigningKey };
  /** Resume with this ticket; offer 0-RTT when `earlyData` and the ticket allows it. */
  sessionTicket?: SessionTicket;
  earlyData?: boolean;
}

export interface TlsServerOptions extends CommonOptions {
  /** Leaf first, DER. */
  certificateChain: Uint8Array[];
  key: SigningKey;
  /** Ask for a client certificate; 'require' fails the handshake without one. */
  clientAuthentication?: 'none' | 'request' | 'require';
  clientTrustAnchors?: (Uint8Array | string)[];
  /** Accept 0-RTT from resumed clients (with anti-replay the caller provides). */
  earlyData?: boolean;
  /**
   * Issues and opens session tickets (RFC 8446 §4.6.1). Share one instance across connections
   * (it holds the rotating ticket keys). Without it no tickets are sent and PSKs are ignored.
   */
  sessionTicketKeys?: SessionTicketKeys;
  /** Lifetime of issued tickets, capped at 7 days (§4.6.1) and at the key rotation interval. */
  ticketLifetimeSeconds?: number;
  /** Largest difference between the client's and our view of a ticket's age for 0-RTT (§8.3). Default 10 s. */
  maxTicketAgeSkewMs?: number;
  /**
   * Last say on 0-RTT, after the engine's own checks passed (RFC 8446 §8 anti-replay; RFC 9001
   * §4.6.2: compare `ticketTransportParameters` with the current ones). Return false to reject.
   */
  earlyDataFilter?: (context: EarlyDataContext) => boolean;
}

/** What the server knows when deciding on 0-RTT. */
export interface EarlyDataContext {
  /** The server's own transport parameters when the ticket was issued (RFC 9001 §4.6.2), raw. */
  ticketTransportParameters: Uint8Array | undefined;
  alpn: string | undefined;
  serverName: string | undefined;
  /** Identifies this ClientHello for a replay cache (RFC 8446 §8.1): the accepted PSK binder. */
  binder: Uint8Array;
  clientRandom: Uint8Array;
  ticketIssuedAtMs: number;
  /** The client's ticket age (de-obfuscated) and ours, in ms. */
  clientTicketAgeMs: number;
  serverTicketAgeMs: number;
}

/** The handshake engine both roles implement; see the module doc for the call order. */
export interface TlsEngine {
  readonly role: TlsRole;
  /** Client: builds the ClientHello (poll for it). Server: no-op, the ClientHello drives it. */
  start(): void;
  /**
   * Handshake bytes received at `level` (any split). Throws `TlsAlertError` (a QuicError with
   * CRYPTO_ERROR 0x100+alert) or a QuicError; after a throw the engine stays failed.
   */
  receive(level: EncryptionLevel, data: Uint8Array): void;
  /** The next output, in order, or undefined. */
  poll(): TlsOutput | undefined;
  readonly handshakeComplete: boolean;
  readonly alpnProtocol: string | undefined;
  readonly cipherSuite: TlsCipherSuite | undefined;
  readonly group: NamedGroupName | undefined;
  /** The peer's certificate chain (DER, leaf first); empty if none was presented. */
  readonly peerCertificates: readonly Uint8Array[];
  /** Client: the name it sent; server: the SNI the client sent. */
  readonly serverName: string | undefined;
  /** True once a PSK (ticket) was accepted. */
  readonly resumed: boolean;
  readonly earlyDataAccepted: boolean;
  /** True if a HelloRetryRequest was sent (server) or received (client). */
  readonly helloRetryRequested: boolean;
}
