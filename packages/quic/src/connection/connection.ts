/**
 * The sans-IO QUIC connection: `ConnectionCore` (state, receive side) plus the send path
 * (packets built straight into the caller's datagram buffer, coalesced, padded, protected in
 * place) and the application API. See `types.ts` for the driver's call order.
 */

import { ByteWriter } from '../codec/writer.js';
import { deriveInitialKeys } from '../crypto/keys.js';
import { AEAD_TAG_LENGTH, type CryptoProvider, type NamedGroupName } from '../crypto/provider.js';
import { protect } from '../crypto/protection.js';
import { ackFrameLength, writeAck } from '../frame/ack.js';
import { cryptoDataCapacity, writeCryptoFrameHeader } from '../frame/crypto.js';
import { writeConnectionClose } from '../frame/close.js';
import { datagramFrameHeaderLength, writeDatagramFrameHeader } from '../frame/datagram.js';
import { type AckFrame, FrameType } from '../frame/types.js';
import { TransportErrorCode } from '../errors.js';
import { writeNewConnectionId, writeRetireConnectionId } from '../frame/cid.js';
import { writePathFrame } from '../frame/misc.js';
import { patchLongHeaderLength, writeLongHeader, writeShortHeader } from '../packet/header.js';
import { packetNumberLength, type PacketNumberLength } from '../packet/number.js';
import { PacketType } from '../packet/types.js';
import { PacketNumberSpace } from '../recovery/packet-number-space.js';
import { createTlsClient } from '../tls/client.js';
import type { TlsCipherSuite, TlsEngine } from '../tls/engine-api.js';
import { createTlsServer } from '../tls/server.js';
import { encodeTransportParameters, type TransportParameters } from '../transport-params.js';
import { ConnectionCore, MIN_INITIAL_DATAGRAM, AMPLIFICATION_FACTOR, type CloseFrameInfo } from './core.js';
import { type RecoveryToken, TokenKind, token } from './recovery-token.js';
import type { NetworkPath } from './path.js';
import { PacketNumberSkipper } from './pn-skip.js';
import { statelessResetToken } from './reset-token.js';
import { clientInitialVersion, clientVersionInformation, clientVersions, serverVersionInformation } from './versions.js';
import { rememberedTransportParameters, serverEarlyDataFilter } from './zero-rtt.js';
import { ConnectionQlog } from '../qlog/connection-qlog.js';
import type { QlogObserver } from '../qlog/events.js';
import type { PacketSpace } from './spaces.js';
import { MIN_SEND_BUFFER } from './streams.js';
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

/** The smallest room worth starting another packet in. */
const MIN_PACKET_ROOM = 64;
/** Response credit needed to send an unpadded PATH_RESPONSE datagram (header, frame, tag). */
const MIN_RESPONSE_DATAGRAM = 64;
/** ACK ranges per frame (RFC 9000 §13.2.3 lets us bound them). */
const MAX_ACK_RANGES = 32;
/** Upper bound of the per-stream send buffer however large the congestion window grows. */
const MAX_SEND_BUFFER = 32 << 20;
/** Pacer waits shorter than this are sent at once (see pollTransmit). */
const PACING_EPSILON_MS = 0.001;
/** Outgoing DATAGRAM frames queued at most (they are unreliable: the oldest are dropped). */
const MAX_QUEUED_DATAGRAMS = 1024;

interface PendingPacket {
  sp: PacketSpace;
  start: number;
  pnOffset: number;
  pnLength: PacketNumberLength;
  payloadEnd: number;
  packetNumber: number;
  isLong: boolean;
  ackEliciting: boolean;
  tokens: RecoveryToken[];
}

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
   * Versions the server accepts by preference; when the client's version_information lists a
   * preferred one, the server switches to it (compatible negotiation, RFC 9368 §2.3). Default:
   * the client's version only.
   */
  versions?: number[];
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
  #datagrams: { id: number; data: Uint8Array }[] = [];
  #nextDatagramId = 0;
  #pacingDeadline = Infinity;
  #maxDatagramSize = MIN_INITIAL_DATAGRAM;
  #scratch = new ByteWriter(new Uint8Array(0));
  /** ECN codepoint of the datagram being built (one per datagram, recorded per packet). */
  #txEcn = 0;
  /** Random gaps in 1-RTT packet numbers that expose optimistic ACKs (RFC 9000 §21.4). */
  #pnSkipper = new PacketNumberSkipper(this.random);
  /** Packets sent when the peer CID last rotated (settings.peerCidRotationPackets). */
  #lastCidRotation = 0;

  /** Server: the TLS options object, whose transport parameters follow a version switch. */
  #tlsServerOptions: { transportParameters?: Uint8Array | undefined } | undefined;
  #transportOriginalDcid: Uint8Array | undefined;

  private constructor(init: ConstructorParameters<typeof ConnectionCore>[0], makeTls: (params: Uint8Array) => TlsEngine) {
    super(init);
    this.#transportOriginalDcid = init.isServer ? (init.retry?.originalDcid ?? init.originalDcid) : undefined;
    const params = this.#localTransportParameters(this.#transportOriginalDcid);
    this.tls = makeTls(encodeTransportParameters(params));
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
        localCid: options.random(settings.localConnectionIdLength),
        peerCid: options.clientScid.slice(),
        resetTokenFor: resetTokenFactory(options.crypto, key),
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
    const initial = deriveInitialKeys(options.crypto, options.version, options.originalDcid);
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
    const room = this.#maxDatagramSize - (1 + this.peerCids.currentCid.length + 4) - AEAD_TAG_LENGTH - 3;
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
    return this.#pacingDeadline;
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
    if (this.#datagrams.length >= MAX_QUEUED_DATAGRAMS) {
      // Unreliable by design (RFC 9221 §5): the oldest queued one is dropped, and reported lost.
      const dropped = this.#datagrams.shift()!;
      this.events.push({ type: 'datagram-lost', id: dropped.id });
    }
    const id = this.#nextDatagramId++;
    this.#datagrams.push({ id, data });
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
    return this.#maybeUpdateKeys();
  }

  /** Starts a key update when one is wanted and allowed; closes if the AEAD limit is hit (§6.6). */
  #maybeUpdateKeys(): boolean {
    const write = this.keyPhases.write;
    if (!write || !this.keyUpdate.wantsUpdate(write)) return false;
    if (!this.keyUpdate.mayInitiate(this.handshakeConfirmed)) {
      if (this.keyUpdate.confidentialityExhausted(write)) {
        this.enterClosing({ application: false, code: TransportErrorCode.AEAD_LIMIT_REACHED, frameType: 0, reason: 'AEAD confidentiality limit reached' });
      }
      return false;
    }
    if (!this.keyPhases.initiateUpdate()) return false;
    this.keyUpdate.onPhaseChanged(true);
    this.onKeyPhaseChanged('local_update');
    return true;
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
      return this.#pollTransmit(now, buffer);
    } catch (e) {
      // Nothing escapes the sans-IO API: a bug here closes this connection, not the endpoint.
      this.closeOnError(e);
      return undefined;
    }
  }

  #pollTransmit(now: number, buffer: Uint8Array): Transmit | undefined {
    this.now = now;
    if (this.state === 'terminated' || this.state === 'draining') return undefined;
    if (this.state === 'closing') {
      if (!this.closeSendPending || !this.closeFrame) return undefined;
      this.closeSendPending = false;
      const length = this.#buildCloseDatagram(buffer, this.closeFrame);
      // RFC 9000 §8.1 holds while closing too: no more than 3x what the unvalidated peer sent.
      if (!this.addressValidated && this.bytesSent + length > AMPLIFICATION_FACTOR * this.bytesReceived) return undefined;
      return length > 0 ? this.#transmit(length) : undefined;
    }
    this.#updateDatagramSize();
    if (this.handshakeConfirmed) {
      this.#maybeUpdateKeys();
      if (this.isClosed) return this.pollTransmit(now, buffer); // AEAD limit reached: send the close
    }
    this.#txEcn = 0;
    // Path validation frames go in their own probing datagrams, on the path they belong to.
    const probing = this.#buildPathDatagram(buffer, now);
    if (probing) return probing;
    this.#txEcn = this.ecn.codepoint;
    this.#maybeRotatePeerCid();
    let maxSize = Math.min(this.#maxDatagramSize, buffer.length);
    if (!this.addressValidated) {
      // RFC 9000 §8.1: at most three times the bytes received before the address is validated.
      const allowance = AMPLIFICATION_FACTOR * this.bytesReceived - this.bytesSent;
      if (allowance < MIN_INITIAL_DATAGRAM) {
        this.recovery.setAmplificationBlocked(true, now);
        return undefined;
      }
      maxSize = Math.min(maxSize, allowance);
    }
    const activePath = this.paths.active;
    if (!activePath.validated) {
      // RFC 9000 §9.3/§8.1: 3x what the new peer address sent until it is validated.
      const allowance = activePath.allowance;
      if (activePath.sendBlocked) {
        // Only bytes arriving from that address unblock us: no pacing timer until then.
        this.#pacingDeadline = Infinity;
        return undefined;
      }
      maxSize = Math.min(maxSize, allowance);
    }

    if (this.pmtud.state === 'confirming' && activePath.validated && this.handshakeConfirmed) {
      // RFC 8899 §4.3: confirm a size in doubt with one probe at a time, like a PTO probe
      // regardless of the window (ordinary packets meanwhile go at the base size).
      const size = this.pmtud.probeSize(now);
      if (size > 0 && size <= buffer.length) return this.#buildMtuProbe(buffer, size, now);
    }

    // Congestion control and pacing gate everything but ACK-only packets and PTO probes.
    const inFlight = this.recovery.bytesInFlight;
    const cwnd = this.congestion.congestionWindow;
    this.streams.sendBufferLimit = Math.max(MIN_SEND_BUFFER, Math.min(2 * cwnd, MAX_SEND_BUFFER));
    let mayElicit = this.congestion.canSend(inFlight, maxSize);
    this.#pacingDeadline = Infinity;
    // RFC 9002 §7.7 paces at a rate derived from the RTT: before the first sample (the 333 ms
    // initial RTT) that would throttle the first flight, 0-RTT included, so the initial window
    // goes out unpaced.
    if (mayElicit && this.recovery.rtt.hasSample) {
      // Each controller states its rate (RFC 9002 §7.7: 1.25 cwnd/srtt for window-based ones; BBR its own).
      this.pacer.setRate(now, this.congestion.pacingRate(this.recovery.rtt.smoothedRtt), this.congestion.congestionWindow);
      const wait = this.pacer.timeUntilSend(now, maxSize);
      // Waits below a microsecond are floating-point dust in the token count: `now + wait`
      // would not move the clock and the timer would fire at the same instant forever.
      if (wait > PACING_EPSILON_MS) {
        mayElicit = false;
        if (this.#hasAckElicitingWork()) this.#pacingDeadline = now + wait;
      }
    }

    if (mayElicit && activePath.validated && this.handshakeConfirmed && (inFlight > 0 || this.#hasAckElicitingWork())) {
      // RFC 9000 §14.3 / RFC 8899: a DPLPMTUD probe when one is due and the window allows it.
      const probeSize = this.pmtud.probeSize(now);
      if (probeSize > 0 && probeSize <= buffer.length && this.congestion.canSend(inFlight, probeSize)) {
        return this.#buildMtuProbe(buffer, probeSize, now);
      }
    }

    const w = this.#scratch;
    w.buf = buffer;
    let pending: PendingPacket | undefined;
    let offset = 0;
    let hasInitial = false;
    let initialElicits = false;
    for (const sp of this.spaces) {
      if (sp.discarded || !sp.writeKeys) continue;
      const probe = this.recovery.pendingProbes(sp.id) > 0;
      if (!this.#wantsToSend(sp, now, mayElicit || probe)) continue;
      if (maxSize - offset < MIN_PACKET_ROOM) break;
      if (pending) offset = this.#seal(buffer, pending, 0);
      pending = this.#buildPacket(w, sp, offset, maxSize - offset, now, mayElicit || probe, probe);
      if (!pending) continue;
      if (sp.id === PacketNumberSpace.INITIAL) {
        hasInitial = true;
        if (pending.ackEliciting) initialElicits = true;
      }
      // RFC 9001 §4.9.1: a client drops Initial keys once it sends a Handshake packet.
      if (!this.isServer && sp.id === PacketNumberSpace.HANDSHAKE) this.#clientDropsInitial = true;
    }
    // RFC 9002 §7.8: allowed to send but nothing to send (no data, or blocked by flow control):
    // the window must not grow on the strength of packets that did not fill it.
    if (mayElicit && !this.#hasAckElicitingWork()) this.recovery.onAppLimited(now);
    if (!pending) return undefined;
    // RFC 9000 §14.1: a client's datagram with an Initial packet, and a server's with an
    // ack-eliciting Initial, is padded to 1200 bytes (inside the last packet, so it is protected).
    let padding = 0;
    if (hasInitial && (!this.isServer || initialElicits)) {
      padding = Math.max(0, MIN_INITIAL_DATAGRAM - (pending.payloadEnd + AEAD_TAG_LENGTH));
    }
    offset = this.#seal(buffer, pending, padding);
    if (this.#clientDropsInitial) {
      this.#clientDropsInitial = false;
      this.discardSpace(PacketNumberSpace.INITIAL);
    }
    return this.#transmit(offset);
  }

  #clientDropsInitial = false;

  #transmit(length: number): Transmit {
    this.bytesSent += length;
    const path = this.paths.active;
    path.bytesSent += length;
    return path.local ? { length, remote: this.remote, ecn: this.#txEcn, local: path.local } : { length, remote: this.remote, ecn: this.#txEcn };
  }

  #updateDatagramSize(): void {
    // DPLPMTUD's current size (1200 bytes, the size every QUIC path must carry (RFC 9000 §14),
    // until probes confirm more), within the peer's max_udp_payload_size.
    const peer = this.peerParams?.maxUdpPayloadSize ?? 65527;
    this.#maxDatagramSize = Math.min(this.pmtud.sendSize, peer);
  }

  #maybeRotatePeerCid(): void {
    const every = this.settings.peerCidRotationPackets ?? 0;
    if (every <= 0 || this.isServer || !this.handshakeConfirmed) return;
    if (this.stats.packetsSent - this.#lastCidRotation < every) return;
    this.#lastCidRotation = this.stats.packetsSent;
    this.rotatePeerConnectionId();
  }

  /** The peer CID for packets on `path`: the current one, or the next spare for another path (§9.5). */
  #dcidFor(path: NetworkPath): Uint8Array {
    if (path === this.paths.active) return this.peerCids.currentCid;
    return this.peerCids.peekNext() ?? this.peerCids.currentCid;
  }

  /**
   * A probing datagram (RFC 9000 §9.1) with PATH_CHALLENGE and/or PATH_RESPONSE for one path,
   * padded to 1,200 bytes unless that path's anti-amplification allowance is smaller
   * (§8.2.1, §8.2.2). Challenges are not congestion-limited (a few small packets per
   * validation) and, off the active path, exempt from congestion reaction when lost; responses
   * are limited (see below).
   */
  #buildPathDatagram(buffer: Uint8Array, now: number): Transmit | undefined {
    if (!this.handshakeComplete || !this.keyPhases.write || this.spaces[PacketNumberSpace.APPLICATION].discarded) return undefined;
    const path = this.paths.nextPathWithFrames();
    if (!path) return undefined;
    const room = Math.min(path.allowance, buffer.length, this.#maxDatagramSize);
    if (room < MIN_PACKET_ROOM) {
      // The allowance may grow with the next datagram from that address; the challenge retry
      // timer sends a new one later. Responses are optional (§8.2.2): drop them.
      path.responses.length = 0;
      path.challengePending = false;
      return undefined;
    }
    // Responses cost response credit (three times the bytes of the datagrams that carried the
    // challenges, path.ts): a datagram with responses only is padded to 1200 bytes when the
    // credit allows, else sent as it is (§8.2.2: an unexpanded challenge gets an unexpanded
    // response). On the active path responses also count against the congestion window like
    // any ack-eliciting packet, so a peer that never acknowledges cannot pile them up in
    // flight. Without credit or window they are dropped: responses are not retransmitted, the
    // peer sends a new challenge (§8.2.2, §13.3, §21.9).
    const responseBytes = path.challengePending ? Math.min(MIN_INITIAL_DATAGRAM, room) : Math.min(MIN_INITIAL_DATAGRAM, room, path.responseCredit);
    if (
      path.responses.length > 0 &&
      (path.responseCredit < MIN_RESPONSE_DATAGRAM || (path === this.paths.active && !this.congestion.canSend(this.recovery.bytesInFlight, responseBytes)))
    ) {
      path.responses.length = 0;
    }
    if (path.responses.length === 0 && !path.challengePending) return undefined;
    const responding = path.responses.length > 0;
    const sp = this.spaces[PacketNumberSpace.APPLICATION];
    const w = this.#scratch;
    w.buf = buffer;
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    const pnOffset = writeShortHeader(buffer, 0, { dcid: this.#dcidFor(path), packetNumber: pn, pnLength, keyPhase: this.keyPhases.phase });
    w.offset = pnOffset + pnLength;
    const limit = room - AEAD_TAG_LENGTH;
    const challenge = this.paths.takeChallenge(path, now, this.ptoMs());
    if (challenge) writePathFrame(w, { type: FrameType.PATH_CHALLENGE, data: challenge });
    for (let i = 0; i < 2 && path.responses.length > 0 && limit - w.offset >= 9; i++) {
      writePathFrame(w, { type: FrameType.PATH_RESPONSE, data: path.responses.shift()! });
    }
    const tokens = [token(TokenKind.PING)]; // neither frame is retransmitted (§13.3)
    const pending: PendingPacket = { sp, start: 0, pnOffset, pnLength, payloadEnd: w.offset, packetNumber: pn, isLong: false, ackEliciting: true, tokens };
    const padTo = challenge ? Math.min(MIN_INITIAL_DATAGRAM, room) : responseBytes;
    const padding = Math.max(0, padTo - (w.offset + AEAD_TAG_LENGTH));
    const length = this.#seal(buffer, pending, padding, path !== this.paths.active);
    if (responding) path.responseCredit -= length;
    path.probesSent++;
    this.bytesSent += length;
    path.bytesSent += length;
    return path.local ? { length, remote: path.remote, ecn: 0, local: path.local } : { length, remote: path.remote, ecn: 0 };
  }

  /** A DPLPMTUD probe (RFC 9000 §14.4): PING and PADDING to exactly `size` bytes. */
  #buildMtuProbe(buffer: Uint8Array, size: number, now: number): Transmit {
    const sp = this.spaces[PacketNumberSpace.APPLICATION];
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    const pnOffset = writeShortHeader(buffer, 0, { dcid: this.peerCids.currentCid, packetNumber: pn, pnLength, keyPhase: this.keyPhases.phase });
    let at = pnOffset + pnLength;
    buffer[at++] = FrameType.PING;
    const tokens = [token(TokenKind.PMTU_PROBE, 0, size)];
    const pending: PendingPacket = { sp, start: 0, pnOffset, pnLength, payloadEnd: at, packetNumber: pn, isLong: false, ackEliciting: true, tokens };
    const length = this.#seal(buffer, pending, size - (at + AEAD_TAG_LENGTH), true);
    this.pmtud.onProbeSent(size);
    void now;
    return this.#transmit(length);
  }

  /** Any space with keys has ack-eliciting frames waiting (a paced sender must arm its timer for them). */
  #hasAckElicitingWork(): boolean {
    for (const sp of this.spaces) if (!sp.discarded && sp.writeKeys && this.#hasAckElicitingData(sp)) return true;
    return false;
  }

  #wantsToSend(sp: PacketSpace, now: number, mayElicit: boolean): boolean {
    if (sp.ack.ackDue(now)) return true;
    return mayElicit && this.#hasAckElicitingData(sp);
  }

  #hasAckElicitingData(sp: PacketSpace): boolean {
    if (sp.cryptoSend.hasPendingData() || this.recovery.pendingProbes(sp.id) > 0) return true;
    if (sp.id !== PacketNumberSpace.APPLICATION) return false;
    if (!this.handshakeComplete && !this.isServer && !sp.writeKeys) return false; // nothing but ACK/CRYPTO before 1-RTT (or 0-RTT) keys
    return (
      this.handshakeDonePending ||
      (this.handshakeConfirmed && this.newTokens.hasPending) ||
      this.pingPending ||
      this.localCids.pendingAnnouncements.size > 0 ||
      this.peerCids.pendingRetirements.size > 0 ||
      this.#datagrams.length > 0 ||
      this.streams.hasPendingFrames()
    );
  }

  /** Writes one packet's header and frames at `start`; returns it unsealed, or undefined if empty. */
  #buildPacket(w: ByteWriter, sp: PacketSpace, start: number, room: number, now: number, mayElicit: boolean, probe: boolean): PendingPacket | undefined {
    const buf = w.buf;
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    // RFC 9001 §4.6.1: a client without 1-RTT keys sends Application data in 0-RTT packets.
    const zeroRtt = sp.id === PacketNumberSpace.APPLICATION && !this.keyPhases.write;
    const isLong = sp.id !== PacketNumberSpace.APPLICATION || zeroRtt;
    const dcid = this.peerCids.currentCid;
    const pnOffset = isLong
      ? writeLongHeader(buf, start, {
          type: zeroRtt ? PacketType.ZERO_RTT : sp.packetType,
          version: this.version,
          dcid,
          scid: this.localHandshakeCid,
          token: sp.id === PacketNumberSpace.INITIAL ? this.initialToken : undefined,
          packetNumber: pn,
          pnLength,
        })
      : writeShortHeader(buf, start, { dcid, packetNumber: pn, pnLength, keyPhase: this.keyPhases.phase });
    const payloadStart = pnOffset + pnLength;
    const limit = start + room - AEAD_TAG_LENGTH;
    w.offset = payloadStart;
    const tokens: RecoveryToken[] = [];

    // ACK first: due, or riding along whenever anything else goes out (RFC 9000 §13.2.1).
    if (!zeroRtt && (sp.ack.ackDue(now) || sp.ack.hasNewPackets)) this.#writeAck(w, sp, limit, now, tokens); // §12.4: no ACK in 0-RTT

    if (mayElicit) {
      if (sp.id === PacketNumberSpace.APPLICATION) this.#writeApplicationControl(w, limit, tokens);
      this.#writeCrypto(w, sp, limit, tokens);
      if (sp.id === PacketNumberSpace.APPLICATION && (this.handshakeComplete || this.isServer || zeroRtt)) {
        this.#writeDatagrams(w, limit, tokens);
        this.streams.writeStreamFrames(w, limit, tokens);
      }
    }
    let ackEliciting = false;
    for (const t of tokens) if (t.kind !== TokenKind.ACK) ackEliciting = true;
    if ((probe || this.pingPending) && !ackEliciting && limit - w.offset >= 1) {
      w.u8(FrameType.PING); // RFC 9002 §6.2.4: a probe must elicit an ACK
      tokens.push(token(TokenKind.PING));
      ackEliciting = true;
      this.pingPending = false;
    }
    if (tokens.length === 0) return undefined;
    return { sp, start, pnOffset, pnLength, payloadEnd: w.offset, packetNumber: pn, isLong, ackEliciting, tokens };
  }

  #writeAck(w: ByteWriter, sp: PacketSpace, limit: number, now: number, tokens: RecoveryToken[]): void {
    const pending = sp.ack.ackFrame(now, MAX_ACK_RANGES);
    if (!pending) return;
    const exponent = sp.id === PacketNumberSpace.APPLICATION ? this.settings.ackDelayExponent : 3;
    const frame: AckFrame = {
      type: FrameType.ACK,
      // RFC 9000 §19.3: microseconds, scaled down by our ack_delay_exponent.
      ackDelay: Math.floor((pending.ackDelayMs * 1000) / 2 ** exponent),
      ranges: pending.ranges as AckFrame['ranges'],
      ecn: pending.ecn,
    };
    let ranges = MAX_ACK_RANGES;
    while (ranges > 1 && ackFrameLength(frame, ranges) > limit - w.offset) ranges--;
    if (ackFrameLength(frame, ranges) > limit - w.offset) return;
    writeAck(w, frame, ranges);
    if (sp.id === PacketNumberSpace.APPLICATION) this.keyUpdate.onAckSent(frame.ranges[0]?.largest ?? -1, this.keyPhases.firstPacketInPhase);
    tokens.push(token(TokenKind.ACK, 0, sp.ack.onAckSent()));
  }

  #writeApplicationControl(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    if (this.handshakeDonePending && limit - w.offset >= 1) {
      w.u8(FrameType.HANDSHAKE_DONE);
      this.handshakeDonePending = false;
      tokens.push(token(TokenKind.HANDSHAKE_DONE));
    }
    for (const seq of this.localCids.pendingAnnouncements) {
      const issued = this.localCids.get(seq);
      this.localCids.pendingAnnouncements.delete(seq);
      if (!issued) continue;
      if (limit - w.offset < 1 + 8 + 8 + 1 + 20 + 16) break;
      writeNewConnectionId(w, {
        type: FrameType.NEW_CONNECTION_ID,
        sequenceNumber: seq,
        retirePriorTo: 0,
        connectionId: issued.cid,
        statelessResetToken: issued.resetToken,
      });
      tokens.push(token(TokenKind.NEW_CONNECTION_ID, 0, seq));
    }
    for (const seq of this.peerCids.pendingRetirements) {
      if (limit - w.offset < 9) break;
      this.peerCids.pendingRetirements.delete(seq);
      writeRetireConnectionId(w, { type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: seq });
      tokens.push(token(TokenKind.RETIRE_CONNECTION_ID, 0, seq));
    }
    if (this.handshakeConfirmed) this.newTokens.write(w, limit, tokens);
    this.streams.writeControlFrames(w, limit, tokens);
  }

  #writeCrypto(w: ByteWriter, sp: PacketSpace, limit: number, tokens: RecoveryToken[]): void {
    // Bounded: each round writes a frame or stops.
    for (let rounds = 0; rounds < 64 && sp.cryptoSend.hasPendingData(); rounds++) {
      const room = limit - w.offset;
      const capacity = cryptoDataCapacity(sp.cryptoSend.sentOffset, room, room);
      if (capacity <= 0) return;
      const chunk = sp.cryptoSend.nextChunk(capacity);
      if (!chunk || chunk.length === 0) return;
      writeCryptoFrameHeader(w, chunk.offset, chunk.length);
      sp.cryptoSend.copyTo(chunk.offset, chunk.length, w.buf, w.offset);
      w.offset += chunk.length;
      tokens.push(token(TokenKind.CRYPTO, 0, chunk.offset, chunk.length));
    }
  }

  #writeDatagrams(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    while (this.#datagrams.length > 0) {
      const d = this.#datagrams[0]!;
      const size = datagramFrameHeaderLength(d.data.length) + d.data.length;
      if (size > limit - w.offset) return; // next packet
      this.#datagrams.shift();
      writeDatagramFrameHeader(w, d.data.length);
      w.bytes(d.data);
      tokens.push(token(TokenKind.DATAGRAM, 0, d.id));
    }
  }

  /** Pads, fills the Length field, protects in place, records the packet. Returns its end. */
  #seal(buf: Uint8Array, p: PendingPacket, padding: number, congestionExempt = false): number {
    let payloadEnd = p.payloadEnd;
    // RFC 9001 §5.4.2: packet number + payload must be at least 4 bytes for the HP sample.
    const minPayload = 4 - p.pnLength;
    const extra = Math.max(padding, minPayload - (payloadEnd - p.pnOffset - p.pnLength));
    if (extra > 0) {
      buf.fill(0, payloadEnd, payloadEnd + extra); // PADDING frames are zero bytes (§19.1)
      payloadEnd += extra;
    }
    if (p.isLong) patchLongHeaderLength(buf, p.pnOffset - 2, payloadEnd - p.pnOffset + AEAD_TAG_LENGTH);
    const keys = p.sp.id === PacketNumberSpace.APPLICATION && !p.isLong ? this.keyPhases.write! : p.sp.writeKeys!;
    const end = protect(keys, buf, p.start, p.pnOffset, p.pnLength, payloadEnd, p.packetNumber);
    if (!p.isLong) this.keyUpdate.onPacketSent(p.packetNumber);
    if (this.qlog) {
      const type = !p.isLong ? PacketType.ONE_RTT : p.sp.id === PacketNumberSpace.APPLICATION ? PacketType.ZERO_RTT : p.sp.packetType;
      this.qlog.packetSent(this.now, type, p.packetNumber, end - p.start, this.keyPhases.phase, p.tokens);
    }
    const size = end - p.start;
    const inFlight = p.ackEliciting || extra > 0;
    const record = this.recovery.onPacketSent(p.sp.id, p.packetNumber, this.now, size, p.ackEliciting, inFlight, p.tokens);
    if (congestionExempt) record.congestionExempt = true;
    this.ecn.onPacketSent(p.sp.id, p.packetNumber, this.#txEcn);
    p.sp.nextPacketNumber++;
    if (!p.isLong && this.#pnSkipper.skipAfter(p.packetNumber)) {
      this.recovery.onPacketNumberSkipped(PacketNumberSpace.APPLICATION, p.sp.nextPacketNumber);
      p.sp.nextPacketNumber++;
    }
    this.stats.packetsSent++;
    if (inFlight) this.pacer.onSent(this.now, size);
    if (p.ackEliciting) this.onAckElicitingSent(this.now);
    return end;
  }

  /**
   * CONNECTION_CLOSE in every space we can send in (RFC 9000 §10.2.3): the peer may not have
   * the keys of our highest one yet. An application close before 1-RTT becomes APPLICATION_ERROR.
   */
  #buildCloseDatagram(buffer: Uint8Array, frame: CloseFrameInfo): number {
    const w = this.#scratch;
    w.buf = buffer;
    const reason = new TextEncoder().encode(frame.reason).subarray(0, 256);
    let offset = 0;
    let pending: PendingPacket | undefined;
    for (const sp of this.spaces) {
      if (sp.discarded || !sp.writeKeys) continue;
      if (sp.id === PacketNumberSpace.APPLICATION && !this.handshakeComplete && !this.isServer) continue;
      if (pending) offset = this.#seal(buffer, pending, 0);
      const pn = sp.nextPacketNumber;
      const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
      const isLong = sp.id !== PacketNumberSpace.APPLICATION;
      const dcid = this.peerCids.currentCid;
      const pnOffset = isLong
        ? writeLongHeader(buffer, offset, { type: sp.packetType, version: this.version, dcid, scid: this.localHandshakeCid, token: sp.id === PacketNumberSpace.INITIAL ? this.initialToken : undefined, packetNumber: pn, pnLength })
        : writeShortHeader(buffer, offset, { dcid, packetNumber: pn, pnLength, keyPhase: this.keyPhases.phase });
      w.offset = pnOffset + pnLength;
      const application = frame.application && !isLong;
      writeConnectionClose(w, {
        type: FrameType.CONNECTION_CLOSE,
        application,
        errorCode: frame.application && isLong ? 0x0c : frame.code,
        frameType: application ? 0 : frame.frameType,
        reason: frame.application && isLong ? new Uint8Array(0) : reason,
      });
      pending = { sp, start: offset, pnOffset, pnLength, payloadEnd: w.offset, packetNumber: pn, isLong, ackEliciting: false, tokens: [] };
    }
    if (!pending) return 0;
    const padding = pending.sp.id === PacketNumberSpace.INITIAL && !this.isServer ? Math.max(0, MIN_INITIAL_DATAGRAM - (pending.payloadEnd + AEAD_TAG_LENGTH)) : 0;
    return this.#seal(buffer, pending, padding);
  }
}

