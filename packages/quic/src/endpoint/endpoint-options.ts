/**
 * The options of `QuicEndpoint.listen`, `bind` and `connect` (checked in options.ts) and the
 * hook through which a protocol layer (HTTP/3, WebTransport) takes over a connection's events.
 */

import type { TransportSettings } from '../connection/types.js';
import type { QuicLbConfig } from '../connection/quic-lb.js';
import type { CryptoProvider, CryptoProviderName, NamedGroupName } from '../crypto/provider.js';
import type { ServerVerification, TlsCipherSuite } from '../tls/engine-api.js';
import type { ZeroRttReplayCache } from '../connection/zero-rtt.js';
import type { RetryPolicy } from './stateless-responder.js';
import type { QuicConnection } from './quic-connection.js';
import type { HostLookup } from './connect-attempts.js';

/** Settings shared by every connection of an endpoint (server or client). */
export interface EndpointOptions {
  /** Crypto provider by name or object; default 'auto'. */
  crypto?: CryptoProviderName | CryptoProvider;
  transport?: Partial<TransportSettings>;
  /** Append SSLKEYLOGFILE lines here (for Wireshark); off unless set. */
  keyLogFile?: string;
  /** TLS cipher suites and groups in preference order (default: all we support). */
  cipherSuites?: TlsCipherSuite[];
  groups?: NamedGroupName[];
  /**
   * The endpoint's static key (32 bytes): stateless reset tokens (RFC 9000 §10.3.2) and address
   * tokens derive from it. Give a restarted endpoint the same key so its Stateless Resets end
   * its peers' old connections and its old NEW_TOKEN tokens stay valid. Random if omitted.
   */
  statelessResetKey?: Uint8Array;
  /** Write one qlog file per connection here (`<ODCID>_<client|server>.sqlog`, JSON-SEQ). */
  qlogDir?: string;
  /**
   * For protocol layers above QUIC (HTTP/3): called synchronously for each new connection, before
   * any of its events is dispatched, so the layer can take them over with
   * `QuicConnection.takeEvents`. Connect options may give their own.
   */
  protocol?: ProtocolAttach;
}

/** See `EndpointOptions.protocol`. */
export type ProtocolAttach = (connection: QuicConnection) => void;

/** `QuicEndpoint.listen`: where to listen, the certificate, ALPN, and the server's policies. */
export interface ListenOptions extends EndpointOptions {
  host?: string;
  port: number;
  /** PEM: the leaf first, then intermediates. */
  certificatePem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  alpnProtocols: string[];
  /**
   * Address validation with Retry (RFC 9000 §8.1.2): 'always', 'never', or under load
   * (`{ handshakesInProgress: n }`). Default: Retry once 100 handshakes are in progress.
   */
  retry?: RetryPolicy;
  /** Handshakes in progress held at most; Initials beyond are dropped (default 1000). */
  maxHandshakesInProgress?: number;
  /**
   * QUIC versions accepted, by preference (default v1 then v2). Others get Version
   * Negotiation; a client offering a preferred compatible version is switched to it during the
   * handshake (RFC 9368 §2.3), e.g. `[QUIC_V2, QUIC_V1]` moves v1 clients that offer v2 to v2.
   */
  versions?: number[];
  /** Issue session tickets so clients can resume (default true). */
  sessionTickets?: boolean;
  /**
   * Accept 0-RTT from resumed clients (default false). Anti-replay: every accepted 0-RTT
   * ClientHello is remembered by its PSK binder in this endpoint's `ZeroRttReplayCache`, so a
   * replay to this endpoint gets no 0-RTT (its data is only taken in 1-RTT).
   */
  earlyData?: boolean;
  /**
   * Offer a preferred address (RFC 9000 §9.6): the endpoint binds a socket per family given
   * (port 0: any free port) and the client moves there after the handshake, to the address of
   * the family it uses; the original address keeps working for clients that stay. Connection
   * IDs must not be zero-length (§18.2).
   */
  preferredAddress?: { ipv4?: { address: string; port: number }; ipv6?: { address: string; port: number } };
  /**
   * Issue QUIC-LB plaintext connection IDs (draft-ietf-quic-load-balancers-19 §5.2) carrying
   * `serverId`: the handshake SCID, every NEW_CONNECTION_ID and a Retry's SCID, so that a load
   * balancer or a front thread (see `@purequic/quic/cluster`) routes every datagram of a
   * connection here. The CIDs are `1 + serverIdLength + nonceLength` bytes long (this sets
   * `transport.localConnectionIdLength`, which must then be absent or equal).
   */
  quicLb?: { config: QuicLbConfig; serverId: Uint8Array };
  /**
   * Derive the session ticket keys from this secret (32 bytes) instead of at random, so that
   * several endpoints serving one name (workers, hosts) resume each other's tickets. Rotated
   * every 12 h by wall-clock interval; keep it as secret as the private key.
   */
  sessionTicketSecret?: Uint8Array;
}

/** `QuicEndpoint.bind`: the local address of a client endpoint (default '::', dual-stack, any port). */
export interface BindOptions extends EndpointOptions {
  host?: string;
  port?: number;
}

/** `QuicEndpoint.connect`: which server, how to verify it, and per-connection settings. */
export interface ConnectOptions {
  /**
   * Host name or IP address. A name is resolved (`node:dns` lookup, every address) and the
   * addresses the socket can reach are tried Happy Eyeballs style (RFC 8305): IPv6 and IPv4
   * interleaved, the next one started 250 ms after the previous, the first handshake wins.
   */
  host: string;
  port: number;
  /** The name the certificate must match (and SNI); default: `host` when it is a name. */
  serverName?: string;
  alpnProtocols: string[];
  /**
   * How the server's certificate is checked (required: nothing is implied): `{ mode: 'chain',
   * trustAnchors: [caPem] }`, `{ mode: 'certificate-hashes', hashes }` (WebTransport's
   * serverCertificateHashes), or `{ mode: 'none' }` (no authentication; tests only).
   */
  verification: ServerVerification;
  /**
   * `connect()` rejects with a `QuicConnectError` (code 'ETIMEDOUT', "no response from
   * 127.0.0.1:9 within 10 s") when no handshake completed within this; default 10,000 ms.
   */
  handshakeTimeoutMs?: number;
  /** Resolves `host` to its addresses (as `node:net`'s `lookup` option); default `node:dns` lookup, all addresses. */
  lookup?: HostLookup;
  transport?: Partial<TransportSettings>;
  keyLogFile?: string;
  cipherSuites?: TlsCipherSuite[];
  groups?: NamedGroupName[];
  /**
   * QUIC versions by preference, most preferred first (default [v1]); all are offered to the
   * server as compatible (RFC 9368 §3), so `[QUIC_V2, QUIC_V1]` starts in v1 and moves to v2
   * where the server agrees. A Version Negotiation packet leads to one more attempt with the most
   * preferred version the server lists (RFC 9000 §6.2, with RFC 9368's downgrade checks).
   */
  versions?: number[];
  /** The first flight's version (RFC 9368 §5); default v1 when offered, else `versions[0]`. */
  initialVersion?: number;
  /** Resume with a ticket this endpoint holds for the server (default true). */
  resume?: boolean;
  /** Offer 0-RTT when resuming (default false). */
  earlyData?: boolean;
  /** Overrides the endpoint's `protocol` for this connection. */
  protocol?: ProtocolAttach;
  /**
   * Move to the server's preferred address once the handshake is confirmed (RFC 9000 §9.6.1),
   * after validating it; the connection stays on the original address if that fails. Default true.
   */
  migrateToPreferredAddress?: boolean;
}

