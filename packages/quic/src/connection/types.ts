/**
 * The sans-IO connection's contract with whoever drives it (the node:dgram endpoint, the
 * simulator in tests) and with the layers above (HTTP/3, WebTransport).
 *
 * Call order for a driver, each time something happens:
 *   1. `handleDatagram(data, remote, now)` for each received datagram, or `handleTimeout(now)`
 *      when `nextTimeout()` has passed;
 *   2. application calls (`openStream`, `writeStream`, `readStream`, `sendDatagram`, `close`, ...);
 *   3. drain `pollEvent()` until undefined;
 *   4. drain `pollTransmit(now, buffer)` until undefined and send what it wrote;
 *   5. re-arm one timer at `nextTimeout()`.
 * Nothing here reads a clock or an RNG: `now` is passed in (ms, monotonic), randomness injected.
 */

import type { CryptoProvider, NamedGroupName, SigningKey } from '../crypto/provider.js';
import type { EarlyDataContext, ServerVerification, SessionTicket, TlsCipherSuite } from '../tls/engine-api.js';
import type { SessionTicketKeys } from '../tls/tickets.js';
import type { QlogEventName, QlogObserver } from '../qlog/events.js';
import type { PreferredAddressConfig } from './preferred-address.js';

/** A UDP peer address as node:dgram reports it. */
export interface PathAddress {
  address: string;
  port: number;
  family?: 'IPv4' | 'IPv6';
}

/** Transport settings we advertise (RFC 9000 §18.2) and local policy. */
export interface TransportSettings {
  /** max_idle_timeout; 0 disables (RFC 9000 §10.1). Default 30 s. */
  maxIdleTimeoutMs: number;
  /** Initial receive windows; auto-tuning may grow them up to the max windows. */
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  maxConnectionWindow: number;
  maxStreamWindow: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  /** max_datagram_frame_size (RFC 9221 §3); 0 = DATAGRAM frames not accepted. */
  maxDatagramFrameSize: number;
  activeConnectionIdLimit: number;
  maxAckDelayMs: number;
  ackDelayExponent: number;
  /** Advertise RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset). */
  resetStreamAt: boolean;
  disableActiveMigration: boolean;
  /** Our max_udp_payload_size, and the datagram size we send until the path is probed. */
  maxUdpPayloadSize: number;
  /** Length of the connection IDs we issue (0-20). */
  localConnectionIdLength: number;
  /** Congestion controller (RFC 9002 NewReno, RFC 9438 CUBIC with HyStart++, or BBRv3). */
  congestionControl: 'cubic' | 'newreno' | 'bbr';
  /** Mark ECT(0) and validate ECN on the path (RFC 9000 §13.4); default true. */
  ecn?: boolean;
  /** DPLPMTUD probing above 1,200 bytes (RFC 9000 §14.3); default true. */
  pmtud?: boolean;
  /** A client moves to a new peer connection ID every this many packets (0/absent: only on migration). */
  peerCidRotationPackets?: number;
  /**
   * Start a 1-RTT key update after this many packets in a key phase (RFC 9001 §6; tests and the
   * interop `keyupdate` case). Default: only near the AEAD confidentiality limit (§6.6).
   */
  keyUpdateIntervalPackets?: number;
}

/** The transport settings a connection uses for any not given in `transport`. */
export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = {
  maxIdleTimeoutMs: 30_000,
  initialMaxData: 1 << 20,
  initialMaxStreamDataBidiLocal: 256 << 10,
  initialMaxStreamDataBidiRemote: 256 << 10,
  initialMaxStreamDataUni: 256 << 10,
  maxConnectionWindow: 24 << 20,
  maxStreamWindow: 16 << 20,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
  maxDatagramFrameSize: 65_535,
  activeConnectionIdLimit: 4,
  maxAckDelayMs: 25,
  ackDelayExponent: 3,
  resetStreamAt: true,
  disableActiveMigration: false,
  maxUdpPayloadSize: 1_452,
  localConnectionIdLength: 8,
  congestionControl: 'cubic',
};

interface CommonConnectionOptions {
  crypto: CryptoProvider;
  /** Injected randomness (connection IDs, PN skipping, greasing). */
  random: (length: number) => Uint8Array;
  /** Wall clock in ms since the epoch, for certificates and tickets only. */
  wallClock: () => number;
  alpnProtocols: string[];
  transport?: Partial<TransportSettings>;
  /** Receives SSLKEYLOGFILE lines when set. */
  keyLog?: (line: string) => void;
  /** TLS cipher suites to offer/accept, in preference order (default: all three). */
  cipherSuites?: TlsCipherSuite[];
  /** Key exchange groups, in preference order (default: X25519, then secp256r1). */
  groups?: NamedGroupName[];
  /** Receives qlog events from the start (see `Connection.setQlogObserver`). */
  qlog?: QlogObserver;
}

export interface ClientConnectionOptions extends CommonConnectionOptions {
  serverName?: string;
  verification: ServerVerification;
  clientCertificate?: { chain: Uint8Array[]; key: SigningKey };
  sessionTicket?: SessionTicket;
  earlyData?: boolean;
  /** Move to the server's preferred_address after handshake confirmation (RFC 9000 §9.6.1); default true. */
  migrateToPreferredAddress?: boolean;
}

export interface ServerConnectionOptions extends CommonConnectionOptions {
  certificateChain: Uint8Array[];
  key: SigningKey;
  /** Issue session tickets with these keys (share one instance across connections). */
  sessionTicketKeys?: SessionTicketKeys;
  ticketLifetimeSeconds?: number;
  /**
   * Accept 0-RTT from resumed clients. Needs `earlyDataFilter` for anti-replay (e.g. a shared
   * `ZeroRttReplayCache`'s `accept`); without it 0-RTT is always refused.
   */
  earlyData?: boolean;
  earlyDataFilter?: (context: EarlyDataContext) => boolean;
  /**
   * Offer these addresses in preferred_address (RFC 9000 §9.6); the driver must deliver datagrams
   * arriving there with that `local` address. Needs non-zero-length connection IDs (§18.2).
   */
  preferredAddress?: PreferredAddressConfig;
}

/** Why a connection ended. `remote` says who closed it. */
export type ConnectionCloseReason =
  | { kind: 'transport'; code: number; frameType?: number; reason: string; remote: boolean }
  | { kind: 'application'; code: number; reason: string; remote: boolean }
  | { kind: 'idle-timeout' }
  | { kind: 'stateless-reset' }
  | { kind: 'version-negotiation'; versions: number[] };

/** Bidirectional or unidirectional (RFC 9000 §2.1). */
export type StreamDirection = 'bidi' | 'uni';

/** Events the connection queues for its driver; `pollEvent()` returns them in order. */
export type ConnectionEvent =
  | { type: 'handshake-complete'; alpn: string | undefined }
  | { type: 'handshake-confirmed' }
  /** The peer opened a stream (it waits in the accept queue until the application takes it). */
  | { type: 'stream-opened'; streamId: number; direction: StreamDirection }
  | { type: 'stream-readable'; streamId: number }
  /** Send credit or buffer space became available. */
  | { type: 'stream-writable'; streamId: number }
  /** The peer reset its sending side (after the reliable size was delivered for RESET_STREAM_AT). */
  | { type: 'stream-reset'; streamId: number; errorCode: number; finalSize: number }
  | { type: 'stream-stop-sending'; streamId: number; errorCode: number }
  /** Everything we wrote including FIN was acknowledged. */
  | { type: 'stream-finished'; streamId: number }
  /** Room to open more streams in this direction (MAX_STREAMS from the peer). */
  | { type: 'streams-available'; direction: StreamDirection }
  | { type: 'datagram'; data: Uint8Array }
  | { type: 'datagram-acked'; id: number }
  | { type: 'datagram-lost'; id: number }
  | { type: 'session-ticket'; ticket: SessionTicket }
  /**
   * Client: the server accepted or rejected our 0-RTT. Rejected, the data is resent in 1-RTT,
   * unless `streamsReset`: the ALPN or a limit changed, every stream was discarded (RFC 9001
   * §4.6.2) and the application must open its streams and write its data again.
   */
  | { type: 'early-data'; accepted: boolean; streamsReset?: boolean }
  /** Route this CID (ours) to this connection, or stop routing it. */
  | { type: 'cid-route'; cid: Uint8Array; active: boolean; resetToken?: Uint8Array }
  /**
   * The send path changed or a validation ended (RFC 9000 §8.2, §9): `validated` (the active
   * peer address passed), `migrated` (we now send on `remote` from `local`), `probe-failed` (a
   * path we probed did not validate; we stay), `reverted` (back to the last validated path),
   * `failed` (the active path did not validate and there is nothing to go back to).
   */
  | { type: 'path'; change: 'validated' | 'migrated' | 'probe-failed' | 'reverted' | 'failed'; remote: PathAddress; local?: PathAddress }
  /**
   * A stateless reset token of the peer (RFC 9000 §10.3.1), for the driver's index of which
   * connection a Stateless Reset (whose CID is random) is for. The connection itself decides,
   * with `matchesStatelessReset`, whether the token is still in use.
   */
  | { type: 'peer-reset-token'; token: Uint8Array }
  /** Client: the server sent a NEW_TOKEN token for a later connection (RFC 9000 §8.1.3). */
  | { type: 'new-token'; token: Uint8Array }
  | { type: 'closed'; reason: ConnectionCloseReason };

/** One datagram written by `pollTransmit` into the caller's buffer. */
export interface Transmit {
  length: number;
  remote: PathAddress;
  /** ECN codepoint to set (0 = not-ECT). */
  ecn: number;
  /** Local address to send from, when not the default (a client migrating, RFC 9000 §9.2). */
  local?: PathAddress;
}

/** A chunk read from a stream: bytes (possibly empty) and whether the stream ended there. */
export interface StreamRead {
  data: Uint8Array;
  fin: boolean;
}

/**
 * What the sans-IO `Connection` offers its driver and the layers above. The endpoint's
 * promise/WHATWG facades and the simulator use only this.
 */
export interface SansIoConnection {
  readonly role: 'client' | 'server';
  readonly isHandshakeComplete: boolean;
  readonly isClosed: boolean;
  readonly closeReason: ConnectionCloseReason | undefined;
  readonly negotiatedAlpn: string | undefined;
  /** The handshake resumed a session (PSK), and 0-RTT data was accepted. */
  readonly resumed: boolean;
  readonly earlyDataAccepted: boolean;
  /** Starts a 1-RTT key update now, or as soon as RFC 9001 §6.1 allows; true if it started now. */
  updateKeys(): boolean;
  /** The negotiated TLS cipher suite and key exchange group, once known. */
  readonly cipherSuite: TlsCipherSuite | undefined;
  readonly group: NamedGroupName | undefined;
  readonly remoteAddress: PathAddress;
  /** The largest DATAGRAM payload the peer accepts now (0 if not negotiated). */
  readonly maxDatagramPayload: number;

  /** `ecn`: the datagram's ECN codepoint when the driver can read it (0 = not-ECT, unknown). */
  /** `local`: the local address it reached, when the driver listens on more than one (a server's preferred address). */
  handleDatagram(data: Uint8Array, remote: PathAddress, now: number, ecn?: number, local?: PathAddress): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
  pollEvent(): ConnectionEvent | undefined;
  /**
   * True when the driver has work after an application read: an event to poll, or stream
   * frames to send (flow-control credit the read opened, among others).
   */
  readonly hasWorkAfterRead: boolean;
  /** Writes the next datagram into `buffer` (at least maxUdpPayloadSize bytes), or returns undefined. */
  pollTransmit(now: number, buffer: Uint8Array): Transmit | undefined;

  /** Opens a stream; undefined while the peer's MAX_STREAMS forbids it ('streams-available' follows). */
  openStream(direction: StreamDirection): number | undefined;
  /** Queues bytes (and FIN); returns how many bytes were accepted (back-pressure: 'stream-writable'). */
  writeStream(streamId: number, data: Uint8Array, fin: boolean): number;
  /** Takes readable bytes in order; undefined when nothing is readable yet ('stream-readable' follows). */
  readStream(streamId: number, maxBytes?: number): StreamRead | undefined;
  /**
   * After the peer's CONNECTION_CLOSE: whether stream `streamId` still holds data the peer sent
   * before closing (it stays readable with `readStream` until read or the connection terminates).
   */
  hasReadableAfterClose(streamId: number): boolean;
  /** RESET_STREAM, or RESET_STREAM_AT when `reliableSize` is given. Idempotent, never throws. */
  resetStream(streamId: number, errorCode: number, reliableSize?: number): void;
  /** STOP_SENDING. Idempotent, never throws. */
  stopSending(streamId: number, errorCode: number): void;
  setStreamPriority(streamId: number, urgency: number, incremental: boolean): void;
  /** Queues a DATAGRAM; returns its id for acked/lost events, or undefined if it cannot be sent. */
  sendDatagram(data: Uint8Array): number | undefined;
  /** Application close (CONNECTION_CLOSE 0x1d). Idempotent. */
  close(errorCode: number, reason: string, now: number): void;
  /** True while a qlog observer is set: layers above build their events only then. */
  readonly qlogEnabled?: boolean;
  /** Adds an event of a layer above (HTTP/3) to this connection's qlog, if any. */
  qlogEvent?(name: QlogEventName, data: Record<string, unknown>, now: number): void;
}
