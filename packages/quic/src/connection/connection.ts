/**
 * The sans-IO QUIC connection: `ConnectionCore` (state, TLS, closing; receive path in
 * receive.ts) plus the send path (send.ts: packets built straight into the caller's datagram
 * buffer, coalesced, padded, protected in place) and the application API. See `types.ts` for
 * the driver's call order.
 */

import { deriveInitialKeys, type InitialKeys } from '../crypto/keys.js';
import { AEAD_TAG_LENGTH, type CryptoProvider, type NamedGroupName } from '../crypto/provider.js';
import { createTlsClient } from '../tls/client.js';
import type { TlsCipherSuite, TlsEngine } from '../tls/engine-api.js';
import { createTlsServer } from '../tls/server.js';
import { encodeTransportParameters, type PreferredAddress, type TransportParameters } from '../transport-params.js';
import { ConnectionCore, type CoreInit } from './core.js';
import { type PreferredAddressConfig, preferredAddressParameter } from './preferred-address.js';
import { statelessResetToken } from './reset-token.js';
import { PacketSender } from './send.js';
import { clientInitialVersion, clientVersionInformation, clientVersions, serverVersionInformation } from './versions.js';
import { rememberedTransportParameters, serverEarlyDataFilter } from './zero-rtt.js';
import { ConnectionQlog } from '../qlog/connection-qlog.js';
import type { QlogEventName, QlogObserver } from '../qlog/events.js';
import {
  type ClientConnectionOptions,
  DEFAULT_TRANSPORT_SETTINGS,
  type PathAddress,
  type SansIoConnection,
  type ServerConnectionOptions,
  type StreamDirection,
  type StreamRead,
  type Transmit,
  type TransportSettings,
} from './types.js';

/** Outgoing DATAGRAM frames queued at most (they are unreliable: the oldest are dropped). */
const MAX_QUEUED_DATAGRAMS = 1024;

export interface ConnectOptions extends ClientConnectionOptions {
  remote: PathAddress;
  now: number;
  /** Key for stateless reset tokens (RFC 9000 §10.3.2); random per connection if omitted. */
  statelessResetKey?: Uint8Array;
  /** A token from this server's NEW_TOKEN frame on an earlier connection (RFC 9000 §8.1.3). */
  token?: Uint8Array;
  /** QUIC versions by preference (default [v1]); all are offered as compatible (RFC 9368 §3). */
  versions?: number[];
  /** The version of this attempt (default: v1 if offered, else the first of `versions`; RFC 9368 §5). */
  version?: number;
  /** This attempt follows a Version Negotiation packet: the downgrade checks of RFC 9368 §4 apply. */
  reactedToVersionNegotiation?: boolean;
}

export interface AcceptOptions extends ServerConnectionOptions {
  remote: PathAddress;
  now: number;
  /** From the client's first Initial: its DCID (our keys derive from it), its SCID, its version. */
  originalDcid: Uint8Array;
  clientScid: Uint8Array;
  version: number;
  statelessResetKey?: Uint8Array;
  /** The Initial echoed our Retry token: the original DCID and the Retry's SCID (RFC 9000 §7.3). */
  retry?: { originalDcid: Uint8Array; retrySourceCid: Uint8Array };
  /** A Retry or NEW_TOKEN token validated the client's address (RFC 9000 §8.1). */
  addressValidated?: boolean;
  /**
   * The Initial keys of `originalDcid` and `version` when the endpoint already derived them to
   * check the client's first packet (saves deriving them twice per handshake).
   */
  initialKeys?: InitialKeys;
  /**
   * Versions the server accepts by preference; when the client's version_information lists a
   * preferred one, the server switches to it (compatible negotiation, RFC 9368 §2.3). Default:
   * the client's version only.
   */
  versions?: number[];
  /**
   * Makes every connection ID this server issues (the handshake SCID and NEW_CONNECTION_ID),
   * each `transport.localConnectionIdLength` bytes; default random. See quic-lb.ts.
   */
  newConnectionId?: () => Uint8Array;
}

function settingsFrom(partial: Partial<TransportSettings> | undefined): TransportSettings {
  return { ...DEFAULT_TRANSPORT_SETTINGS, ...partial };
}

function resetTokenFactory(crypto: CryptoProvider, key: Uint8Array): (cid: Uint8Array) => Uint8Array {
  // RFC 9000 §10.3.2: a token derived from the CID with a static key can be recomputed after a restart.
  return (cid) => statelessResetToken(crypto, key, cid);
}

export class Connection extends ConnectionCore implements SansIoConnection {
  readonly tls: TlsEngine;
  #nextDatagramId = 0;
  /** The send path: send.ts. */
  readonly #send = new PacketSender(this);

  /** Server: the TLS options object, whose transport parameters follow a version switch. */
  #tlsServerOptions: { transportParameters?: Uint8Array | undefined } | undefined;
  #transportOriginalDcid: Uint8Array | undefined;

  /** Server: our preferred_address transport parameter (RFC 9000 §9.6), CID sequence 1. */
  #preferredAddress: PreferredAddress | undefined;

  private constructor(init: CoreInit & { preferredAddress?: PreferredAddressConfig | undefined }, makeTls: (params: Uint8Array) => TlsEngine) {
    super(init);
    this.#transportOriginalDcid = init.isServer ? (init.retry?.originalDcid ?? init.originalDcid) : undefined;
    const pa = init.preferredAddress;
    if (init.isServer && pa && (pa.ipv4 || pa.ipv6) && this.localHandshakeCid.length > 0) {
      // RFC 9000 §5.1.1: the preferred address's CID has sequence number 1; the peer learns it
      // from the transport parameter, not from NEW_CONNECTION_ID.
      const issued = this.localCids.issueUnannounced();
      this.#preferredAddress = preferredAddressParameter(pa, issued.cid, issued.resetToken);
    }
    const params = this.#localTransportParameters(this.#transportOriginalDcid);
    this.tls = makeTls(encodeTransportParameters(params));
  }

  /** At the server the handshake is over here: the TLS options (transport parameters) are not needed again. */
  override confirmHandshake(): void {
    super.confirmHandshake();
    // The engine read them for EncryptedExtensions and the session ticket, both sent by now.
    if (this.#tlsServerOptions) this.#tlsServerOptions.transportParameters = undefined;
    this.#tlsServerOptions = undefined;
  }

  onVersionChanged(): void {
    // The server engine reads its transport parameters when it writes EncryptedExtensions, after
    // the ClientHello peek decided the version (RFC 9368 §2.3): give it the new version_information.
    if (this.#tlsServerOptions) this.#tlsServerOptions.transportParameters = encodeTransportParameters(this.#localTransportParameters(this.#transportOriginalDcid));
  }

  /** Starts a client connection; poll for its first datagram. */
  static connect(options: ConnectOptions): Connection {
    const settings = settingsFrom(options.transport);
    const versions = clientVersions(options.versions);
    const version = options.version ?? clientInitialVersion(versions);
    const originalDcid = options.random(8); // RFC 9000 §7.2: at least 8 bytes
    const key = options.statelessResetKey ?? options.random(32);
    const conn = new Connection(
      {
        isServer: false,
        crypto: options.crypto,
        random: options.random,
        settings,
        remote: options.remote,
        now: options.now,
        version,
        versions,
        reactedToVersionNegotiation: options.reactedToVersionNegotiation,
        keyLog: options.keyLog,
        originalDcid,
        localCid: options.random(settings.localConnectionIdLength),
        peerCid: originalDcid,
        resetTokenFor: resetTokenFactory(options.crypto, key),
        initialToken: options.token,
      },
      (transportParameters) =>
        createTlsClient({
          crypto: options.crypto,
          random: options.random,
          now: options.wallClock,
          alpnProtocols: options.alpnProtocols,
          transportParameters,
          serverName: options.serverName,
          verification: options.verification,
          clientCertificate: options.clientCertificate,
          sessionTicket: options.sessionTicket,
          earlyData: options.earlyData,
          cipherSuites: options.cipherSuites,
          groups: options.groups,
          keyLog: options.keyLog !== undefined,
        }),
    );
    if (options.qlog) conn.setQlogObserver(options.qlog);
    conn.migrateToPreferredAddress = options.migrateToPreferredAddress !== false;
    const initial = deriveInitialKeys(options.crypto, version, originalDcid);
    conn.spaces[0].writeKeys = initial.client;
    conn.spaces[0].readKeys = initial.server;
    // RFC 9000 §7.4.1: 0-RTT uses the server's parameters remembered with the ticket.
    const remembered = options.earlyData ? options.sessionTicket?.transportParameters : undefined;
    if (remembered) conn.zeroRtt.remembered = rememberedTransportParameters(remembered);
    conn.zeroRtt.ticketAlpn = options.sessionTicket?.alpn;
    conn.tls.start();
    conn.processTls();
    return conn;
  }

  /** Creates the server side for a client's first Initial; then feed it that datagram. */
  static accept(options: AcceptOptions): Connection {
    const settings = settingsFrom(options.transport);
    const key = options.statelessResetKey ?? options.random(32);
    let tlsOptions: Parameters<typeof createTlsServer>[0] | undefined;
    const conn = new Connection(
      {
        isServer: true,
        crypto: options.crypto,
        random: options.random,
        settings,
        remote: options.remote,
        now: options.now,
        version: options.version,
        keyLog: options.keyLog,
        originalDcid: options.originalDcid.slice(),
        localCid: options.newConnectionId !== undefined ? options.newConnectionId() : options.random(settings.localConnectionIdLength),
        newConnectionId: options.newConnectionId,
        peerCid: options.clientScid.slice(),
        resetTokenFor: resetTokenFactory(options.crypto, key),
        preferredAddress: options.preferredAddress,
        retry: options.retry,
        addressValidated: options.addressValidated,
        versions: options.versions,
      },
      (transportParameters) =>
        createTlsServer((tlsOptions = {
          crypto: options.crypto,
          random: options.random,
          now: options.wallClock,
          alpnProtocols: options.alpnProtocols,
          transportParameters,
          certificateChain: options.certificateChain,
          key: options.key,
          sessionTicketKeys: options.sessionTicketKeys,
          ticketLifetimeSeconds: options.ticketLifetimeSeconds,
          earlyData: options.earlyData,
          earlyDataFilter: options.earlyData ? serverEarlyDataFilter(transportParameters, options.earlyDataFilter) : undefined,
          cipherSuites: options.cipherSuites,
          groups: options.groups,
          keyLog: options.keyLog !== undefined,
        })),
    );
    conn.#tlsServerOptions = tlsOptions;
    conn.events.push({ type: 'cid-route', cid: conn.originalDcid, active: true });
    if (options.qlog) conn.setQlogObserver(options.qlog);
    const initial = options.initialKeys ?? deriveInitialKeys(options.crypto, options.version, options.originalDcid);
    conn.spaces[0].writeKeys = initial.server;
    conn.spaces[0].readKeys = initial.client;
    if (!conn.addressValidated) conn.recovery.setAmplificationBlocked(true, options.now);
    return conn;
  }

  #localTransportParameters(originalDcid: Uint8Array | undefined): Partial<TransportParameters> {
    const s = this.settings;
    const p: Partial<TransportParameters> = {
      maxIdleTimeout: s.maxIdleTimeoutMs,
      maxUdpPayloadSize: s.maxUdpPayloadSize,
      initialMaxData: s.initialMaxData,
      initialMaxStreamDataBidiLocal: s.initialMaxStreamDataBidiLocal,
      initialMaxStreamDataBidiRemote: s.initialMaxStreamDataBidiRemote,
      initialMaxStreamDataUni: s.initialMaxStreamDataUni,
      initialMaxStreamsBidi: s.initialMaxStreamsBidi,
      initialMaxStreamsUni: s.initialMaxStreamsUni,
      ackDelayExponent: s.ackDelayExponent,
      maxAckDelay: s.maxAckDelayMs,
      disableActiveMigration: s.disableActiveMigration,
      activeConnectionIdLimit: s.activeConnectionIdLimit,
      initialSourceConnectionId: this.localHandshakeCid,
      maxDatagramFrameSize: s.maxDatagramFrameSize,
      resetStreamAt: s.resetStreamAt,
    };
    if (originalDcid) {
      p.originalDestinationConnectionId = originalDcid;
      p.statelessResetToken = this.localCids.get(0)?.resetToken;
      // RFC 9000 §7.3: after a Retry, the server names the Retry's SCID.
      if (this.retrySourceCid) p.retrySourceConnectionId = this.retrySourceCid;
      // RFC 9368 §3: the negotiated version and every version this server accepts.
      p.versionInformation = serverVersionInformation(this.version, this.preferredVersions);
      if (this.#preferredAddress) p.preferredAddress = this.#preferredAddress;
    } else {
      const grease = this.random(4);
      const info = clientVersionInformation(this.version, this.preferredVersions, ((grease[0]! << 24) | (grease[1]! << 16) | (grease[2]! << 8) | grease[3]!) >>> 0);
      this.offeredVersions = info.availableVersions;
      p.versionInformation = info;
    }
    return p;
  }

  /**
   * Sends this connection's qlog events to `observer` from now on (undefined stops them):
   * connection_started and our parameters_set first, then events as they happen.
   */
  setQlogObserver(observer: QlogObserver | undefined): void {
    if (!observer) {
      this.qlog = undefined;
      return;
    }
    this.qlog = new ConnectionQlog(observer);
    this.qlog.connectionStarted(this.now, this.remote, this.version, this.localHandshakeCid, this.peerCids.currentCid);
    const local = this.#localTransportParameters(this.isServer ? this.originalDcid : undefined);
    this.qlog.parametersSet(this.now, 'local', local, { congestion_control: this.settings.congestionControl });
  }

  // ------------------------------------------------------------------ getters

  get qlogEnabled(): boolean {
    return this.qlog !== undefined;
  }

  qlogEvent(name: QlogEventName, data: Record<string, unknown>, now: number): void {
    this.qlog?.layerEvent(now, name, data);
  }

  get isHandshakeComplete(): boolean {
    return this.handshakeComplete;
  }

  get negotiatedAlpn(): string | undefined {
    return this.tls.alpnProtocol;
  }

  get remoteAddress(): PathAddress {
    return this.remote;
  }

  get resumed(): boolean {
    return this.tls.resumed;
  }

  get earlyDataAccepted(): boolean {
    return this.tls.earlyDataAccepted;
  }

  get cipherSuite(): TlsCipherSuite | undefined {
    return this.tls.cipherSuite;
  }

  get group(): NamedGroupName | undefined {
    return this.tls.group;
  }

  get maxDatagramPayload(): number {
    const peerMax = this.peerParams?.maxDatagramFrameSize ?? 0;
    if (peerMax === 0) return 0;
    // One 1-RTT packet: short header (1 + DCID + 4-byte PN) + frame header + tag.
    const room = this.#send.maxDatagramSize - (1 + this.peerCids.currentCid.length + 4) - AEAD_TAG_LENGTH - 3;
    return Math.max(0, Math.min(peerMax - 3, room));
  }

  /**
   * Client: 0-RTT keys are in place and no 1-RTT ones yet, so streams and datagrams written now
   * go out as 0-RTT (RFC 9001 §4.6.1) before the handshake completes.
   */
  get canSendEarlyData(): boolean {
    return !this.isServer && !this.keyPhases.write && this.spaces[2].writeKeys !== undefined && !this.isClosed;
  }

  /** Bytes in flight as loss recovery counts them (tests check the invariant with it). */
  get bytesInFlight(): number {
    return this.recovery.bytesInFlight;
  }

  pacingDeadline(): number {
    return this.#send.pacingDeadline;
  }

  // ------------------------------------------------------------------ application API

  openStream(direction: StreamDirection): number | undefined {
    if (this.isClosed) return undefined;
    return this.streams.openStream(direction);
  }

  writeStream(streamId: number, data: Uint8Array, fin: boolean): number {
    return this.streams.writeStream(streamId, data, fin);
  }

  readStream(streamId: number, maxBytes?: number): StreamRead | undefined {
    this.streams.smoothedRtt = this.recovery.rtt.smoothedRtt;
    return this.streams.readStream(streamId, maxBytes);
  }

  /** After the peer closed the connection: whether stream `streamId` still has received data to read. */
  hasReadableAfterClose(streamId: number): boolean {
    return this.streams.hasReadableAfterClose(streamId);
  }

  resetStream(streamId: number, errorCode: number, reliableSize?: number): void {
    this.streams.resetStream(streamId, errorCode, reliableSize);
  }

  stopSending(streamId: number, errorCode: number): void {
    this.streams.stopSending(streamId, errorCode);
  }

  setStreamPriority(streamId: number, urgency: number, incremental: boolean): void {
    this.streams.setPriority(streamId, urgency, incremental);
  }

  sendDatagram(data: Uint8Array): number | undefined {
    if (this.isClosed || data.length > this.maxDatagramPayload) return undefined;
    if (this.#send.datagrams.length >= MAX_QUEUED_DATAGRAMS) {
      // Unreliable by design (RFC 9221 §5): the oldest queued one is dropped, and reported lost.
      const dropped = this.#send.datagrams.shift()!;
      this.events.push({ type: 'datagram-lost', id: dropped.id });
    }
    const id = this.#nextDatagramId++;
    this.#send.datagrams.push({ id, data });
    return id;
  }

  /** Server: sends a NEW_TOKEN frame (RFC 9000 §8.1.3) once the handshake is confirmed. */
  sendNewToken(newToken: Uint8Array): void {
    if (this.isServer && !this.isClosed) this.newTokens.queue(newToken);
  }

  /**
   * Asks for a 1-RTT key update (RFC 9001 §6). It starts at once when allowed (handshake
   * confirmed, a packet of the current phase acknowledged, §6.1), else as soon as it is.
   * Returns true if the new phase started now.
   */
  updateKeys(): boolean {
    if (this.isClosed) return false;
    this.keyUpdate.requested = true;
    return this.#send.maybeUpdateKeys();
  }

  close(errorCode: number, reason: string, now: number): void {
    this.now = now;
    this.enterClosing({ application: true, code: errorCode, frameType: 0, reason });
  }

  /**
   * Active migration of a client whose local address changed to `local` (RFC 9000 §9.2): the
   * new path is probed with PATH_CHALLENGE from `local` (datagrams whose `Transmit.local` is
   * set) using a fresh peer CID (§9.5); once PATH_RESPONSE arrives the connection sends from
   * `local` (a 'path' event, change 'migrated'); if validation fails it stays on the old path
   * ('probe-failed'). Returns false when migration is not possible now: not a client, the
   * handshake not confirmed (§9), the peer disabled active migration (§18.2), or no spare
   * peer CID to use on the new path (§9.5).
   */
  migrate(local: PathAddress, now: number): boolean {
    this.now = now;
    if (this.isServer || !this.handshakeConfirmed || this.isClosed) return false;
    if (this.peerParams?.disableActiveMigration) return false;
    if (this.peerCids.currentCid.length > 0 && this.peerCids.size < 2) return false;
    this.paths.probeLocal(local, now, this.ptoMs());
    return true;
  }

  /**
   * Moves to another connection ID of the peer's and retires the current one (RFC 9000 §5.1.2,
   * §9.5), e.g. to make the connection harder to link over time. False if none is spare.
   */
  rotatePeerConnectionId(): boolean {
    if (this.#probingLocal()) return false; // the spare CID is promised to the probed path
    return this.peerCids.rotate();
  }

  #probingLocal(): boolean {
    for (const c of this.paths.candidates) if (c.migrating) return true;
    return false;
  }

  // ------------------------------------------------------------------ send path

  pollTransmit(now: number, buffer: Uint8Array): Transmit | undefined {
    try {
      return this.#send.pollTransmit(now, buffer);
    } catch (e) {
      // Nothing escapes the sans-IO API: a bug here closes this connection, not the endpoint.
      this.closeOnError(e);
      return undefined;
    } finally {
      this.#send.releaseBuffer();
    }
  }

}

