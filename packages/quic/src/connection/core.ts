/**
 * The connection's state: datagrams in (their packets opened and frames handled in
 * receive.ts), TLS driven, timers, closing and draining (RFC 9000 §10, §12, §13; RFC 9001 §4,
 * §5). `Connection` (connection.ts) adds the application API, and the send path (send.ts).
 */

import { type CongestionController, Pacer } from '@purequic/congestion';
import { requireCipherSuite } from '../crypto/cipher-suites.js';
import { EncryptionLevel } from '../crypto/encryption-level.js';
import { type PacketProtectionKeys, createPacketProtectionKeys } from '../crypto/keys.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import type { PacketHeader } from '../packet/header.js';
import { SUPPORTED_VERSIONS } from '../packet/version.js';
import { LossRecovery, TimeoutAction } from '../recovery/loss-recovery.js';
import { PacketNumberSpace } from '../recovery/packet-number-space.js';
import type { TlsEngine, TlsOutput } from '../tls/engine-api.js';
import { formatKeyLogLine } from '../tls/keylog.js';
import { decodeTransportParameters, type TransportParameters } from '../transport-params.js';
import { LocalConnectionIds, PeerConnectionIds } from './cid.js';
import { EcnValidator } from './ecn.js';
import { onPathOutcome } from './migration.js';
import { PathManager } from './path.js';
import { MAX_UDP_PAYLOAD, PathMtuDiscovery } from './pmtud.js';
import { type RecoveryToken, TokenKind } from './recovery-token.js';
import { ConnectionQlog, qlogKeyType } from '../qlog/connection-qlog.js';
import { KeyUpdatePolicy } from './key-update.js';
import { reducedParameter, ZeroRttState } from './zero-rtt.js';
import { KeyPhases, MAX_CRYPTO_BUFFER, PacketSpace } from './spaces.js';
import { StreamMap } from './streams.js';
import { PacketReceiver } from './receive.js';
import { ClientHelloPeek } from './versions.js';
import { createController } from './congestion-choice.js';
import { NewTokenSender } from './new-tokens.js';
import { acceptHandshakeParameters } from './peer-parameters.js';
import { startPreferredAddressMigration } from './preferred-address.js';
import { onPacketLost } from './token-outcomes.js';
import { endsWithResetToken } from './reset-token.js';
import type { ConnectionCloseReason, ConnectionEvent, PathAddress, TransportSettings } from './types.js';

/** RFC 9000 §14.1: datagrams carrying Initial packets are padded to at least this. */
export const MIN_INITIAL_DATAGRAM = 1200;
/** RFC 9000 §8.1: before address validation a server sends at most 3x what it received. */
export const AMPLIFICATION_FACTOR = 3;
/** How long nothing may be acknowledged when no idle timeout applies (see `ackWaitSince`). */
const NO_ACK_TIMEOUT_MS = 60_000;
/** The empty Token field, shared (a connection without a token allocates none). */
const NO_TOKEN = new Uint8Array(0);

export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'terminated';

/** A CONNECTION_CLOSE to send while closing. */
export interface CloseFrameInfo {
  application: boolean;
  code: number;
  frameType: number;
  reason: string;
}

/** What the constructor needs beyond the options; built by `Connection.connect` / `.accept`. */
export interface CoreInit {
  isServer: boolean;
  crypto: CryptoProvider;
  random: (n: number) => Uint8Array;
  settings: TransportSettings;
  remote: PathAddress;
  now: number;
  version: number;
  keyLog: ((line: string) => void) | undefined;
  /** Client: its first DCID; server: the DCID of the client's first Initial. */
  originalDcid: Uint8Array;
  /** Our source CID for the handshake (sequence 0). */
  localCid: Uint8Array;
  /**
   * Makes every later connection ID this endpoint issues (NEW_CONNECTION_ID, RFC 9000 §5.1.1),
   * each `settings.localConnectionIdLength` bytes; default random. A server behind a load
   * balancer passes a QUIC-LB generator (quic-lb.ts) so every CID carries its server ID.
   */
  newConnectionId?: () => Uint8Array;
  /** The CID we send to first: the client's random DCID, or the client's SCID at the server. */
  peerCid: Uint8Array;
  resetTokenFor: (cid: Uint8Array) => Uint8Array;
  /** Server: the client's Initial echoed our Retry token (RFC 9000 §7.3, §8.1.2). */
  retry?: { originalDcid: Uint8Array; retrySourceCid: Uint8Array } | undefined;
  /** Server: a token already proved the client's address (RFC 9000 §8.1): no amplification limit. */
  addressValidated?: boolean;
  /** Client: a NEW_TOKEN token for the Token field of its Initials (RFC 9000 §8.1.3). */
  initialToken?: Uint8Array | undefined;
  /** Versions by preference (client: it offers; server: it accepts, for compatible negotiation). */
  versions?: readonly number[];
  /** Client: this attempt follows a Version Negotiation packet (RFC 9368 §4 downgrade checks). */
  reactedToVersionNegotiation?: boolean;
}

export abstract class ConnectionCore {
  readonly role: 'client' | 'server';
  readonly isServer: boolean;
  readonly crypto: CryptoProvider;
  readonly settings: TransportSettings;
  readonly random: (n: number) => Uint8Array;
  version: number;
  state: ConnectionState = 'handshake';
  remote: PathAddress;
  now: number;

  readonly events: ConnectionEvent[] = [];
  #eventHead = 0;

  readonly spaces: [PacketSpace, PacketSpace, PacketSpace];
  readonly keyPhases: KeyPhases;
  /** When to start key updates and the checks on the peer's (RFC 9001 §6). */
  readonly keyUpdate: KeyUpdatePolicy;
  /** 0-RTT keys and remembered parameters (RFC 9001 §4.6, RFC 9000 §7.4.1). */
  readonly zeroRtt = new ZeroRttState();
  readonly recovery: LossRecovery<RecoveryToken[]>;
  /** The active path's controller; replaced on a path change (RFC 9000 §9.4). */
  congestion: CongestionController;
  readonly pacer: Pacer;
  /** Replaced only when rejected 0-RTT resets every stream (RFC 9001 §4.6.2). */
  streams: StreamMap;
  readonly localCids: LocalConnectionIds;
  readonly peerCids: PeerConnectionIds;
  readonly originalDcid: Uint8Array;
  readonly localHandshakeCid: Uint8Array;
  /** The peer's SCID from its first long header: checked against initial_source_connection_id (§7.3). */
  peerHandshakeCid: Uint8Array | undefined;
  abstract readonly tls: TlsEngine;
  /** qlog events go here while an observer is set (`setQlogObserver`); undefined costs nothing. */
  qlog: ConnectionQlog | undefined;
  readonly keyLog: ((line: string) => void) | undefined;

  peerParams: TransportParameters | undefined;
  handshakeComplete = false;
  handshakeConfirmed = false;
  handshakeDonePending = false;
  /** Client: always; server: once the client proved its address (a Handshake packet, §8.1). */
  addressValidated: boolean;
  bytesReceived = 0;
  bytesSent = 0;
  /** Any packet successfully processed yet (a client switches to the server's CID on the first). */
  receivedAnyPacket = false;
  /** Client: the SCID of the Retry it acted on; server: the SCID of the Retry the client echoed. */
  retrySourceCid: Uint8Array | undefined;
  /** Client: the Token field of its Initials (from a Retry, or a NEW_TOKEN of an earlier connection). */
  initialToken: Uint8Array = NO_TOKEN;
  /** RFC 9368: the version of the client's first flight; `version` is the negotiated one. */
  readonly originalVersion: number;
  readonly preferredVersions: readonly number[];
  /** Client: the Available Versions it sent (checked against the server's Chosen Version). */
  offeredVersions: readonly number[] = [];
  readonly reactedToVersionNegotiation: boolean;
  /** Server: holds the ClientHello back until its version_information is read (RFC 9368 §2.3). */
  helloPeek: ClientHelloPeek | undefined;
  /** Server after a compatible switch: Initial read keys of the original version (client retransmissions). */
  originalInitialReadKeys: PacketProtectionKeys | undefined;
  /** Client: what a version switch replaced, until a packet of the new version authenticates. */
  versionBeforeSwitch: { version: number; write: PacketProtectionKeys | undefined; read: PacketProtectionKeys | undefined } | undefined;

  idleTimeoutMs = 0;
  idleDeadline = Infinity;
  /**
   * Since when ack-eliciting packets have been waiting for any acknowledgment (Infinity when
   * none wait): a peer that keeps sending but acknowledges nothing for an idle period is closed
   * like an idle one (RFC 9000 §10.1, §21.9), so our unacknowledged state cannot grow forever.
   */
  ackWaitSince = Infinity;
  ackElicitingSentSinceReceive = false;

  closeFrame: CloseFrameInfo | undefined;
  closeReason: ConnectionCloseReason | undefined;
  closeDeadline = Infinity;
  closeSendPending = false;
  #packetsSinceClose = 0;
  #nextCloseAt = 1;

  /** Paths, PATH_CHALLENGE/PATH_RESPONSE and migration (RFC 9000 §8.2, §9): path.ts. */
  readonly paths: PathManager;
  /** ECN marking and validation on the active path (RFC 9000 §13.4): ecn.ts. */
  readonly ecn: EcnValidator;
  /** DPLPMTUD on the active path (RFC 8899, RFC 9000 §14.3): pmtud.ts. */
  readonly pmtud: PathMtuDiscovery;
  /** Opens received packets and dispatches their frames: receive.ts. */
  readonly #receiver: PacketReceiver;
  /** Server: NEW_TOKEN frames to send (RFC 9000 §8.1.3). */
  readonly newTokens = new NewTokenSender();
  pingPending = false;
  /** Client: move to the server's preferred_address once the handshake is confirmed (RFC 9000 §9.6.1). */
  migrateToPreferredAddress = true;
  /** Packets dropped (undecryptable, malformed, duplicates): diagnostics. */
  droppedPackets = 0;
  /** Counters for diagnostics, benchmarks and qlog. */
  readonly stats = { packetsSent: 0, packetsReceived: 0, packetsLost: 0, spuriousLosses: 0, ptoCount: 0 };

  constructor(init: CoreInit) {
    this.isServer = init.isServer;
    this.role = init.isServer ? 'server' : 'client';
    this.crypto = init.crypto;
    this.settings = init.settings;
    this.random = init.random;
    this.version = init.version;
    this.remote = init.remote;
    this.now = init.now;
    this.keyLog = init.keyLog;
    this.addressValidated = !init.isServer || init.addressValidated === true;
    this.retrySourceCid = init.retry?.retrySourceCid;
    this.originalVersion = init.version;
    this.preferredVersions = init.versions ?? (init.isServer ? SUPPORTED_VERSIONS : [init.version]);
    this.reactedToVersionNegotiation = init.reactedToVersionNegotiation === true;
    if (init.isServer && init.versions?.some((v) => v !== init.version)) this.helloPeek = new ClientHelloPeek(MAX_CRYPTO_BUFFER);
    if (init.initialToken) this.initialToken = init.initialToken;
    this.originalDcid = init.originalDcid;
    this.localHandshakeCid = init.localCid;
    const maxAckDelay = init.settings.maxAckDelayMs;
    this.spaces = [
      new PacketSpace(PacketNumberSpace.INITIAL, maxAckDelay),
      new PacketSpace(PacketNumberSpace.HANDSHAKE, maxAckDelay),
      new PacketSpace(PacketNumberSpace.APPLICATION, maxAckDelay),
    ];
    this.keyPhases = new KeyPhases(init.crypto);
    this.keyUpdate = new KeyUpdatePolicy(init.settings.keyUpdateIntervalPackets);
    const mds = MIN_INITIAL_DATAGRAM;
    this.congestion = createController(init.settings.congestionControl, mds, init.now, init.random);
    this.pacer = new Pacer({ maxDatagramSize: mds });
    this.recovery = new LossRecovery<RecoveryToken[]>({ isServer: init.isServer, congestion: this.congestion });
    // The handshake path's address validation is the connection's own (addressValidated, §8.1).
    this.paths = new PathManager(init.remote, true, init.random, init.isServer);
    this.ecn = new EcnValidator(init.settings.ecn !== false);
    this.pmtud = new PathMtuDiscovery();
    this.pmtud.onSizeChange = (size) => {
      this.congestion.setMaxDatagramSize(size);
      this.pacer.setMaxDatagramSize(size);
    };
    this.streams = new StreamMap({ isServer: init.isServer, settings: init.settings, events: this.events });
    this.localCids = new LocalConnectionIds(() => {
      const cid = init.newConnectionId !== undefined ? init.newConnectionId() : init.random(init.settings.localConnectionIdLength);
      return { cid, resetToken: init.resetTokenFor(cid) };
    });
    this.localCids.onRouteChange = (cid, active) => {
      this.events.push({ type: 'cid-route', cid, active });
    };
    this.localCids.issueInitial(init.localCid, init.resetTokenFor(init.localCid));
    this.peerCids = new PeerConnectionIds(init.peerCid, init.settings.activeConnectionIdLimit);
    this.#receiver = new PacketReceiver(this);
    this.idleTimeoutMs = init.settings.maxIdleTimeoutMs;
    this.armIdle(init.now);
  }

  // ------------------------------------------------------------------ events & timers

  /** True when `pollEvent` has something to return or stream frames wait to be sent. */
  get hasWorkAfterRead(): boolean {
    return this.#eventHead < this.events.length || this.streams.hasPendingFrames();
  }

  pollEvent(): ConnectionEvent | undefined {
    if (this.#eventHead >= this.events.length) {
      if (this.#eventHead > 0) {
        this.events.length = 0;
        this.#eventHead = 0;
      }
      return undefined;
    }
    const event = this.events[this.#eventHead++];
    if (this.qlog && event) this.qlog.onConnectionEvent(this.now, event);
    return event;
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  get isTerminated(): boolean {
    return this.state === 'terminated';
  }

  ptoMs(): number {
    return this.recovery.rtt.ptoDuration(this.recovery.maxAckDelay);
  }

  nextTimeout(): number | undefined {
    if (this.state === 'terminated') return undefined;
    let t = Math.min(this.idleDeadline, this.closeDeadline);
    if (this.state === 'closing' || this.state === 'draining') return t;
    t = Math.min(t, this.#noAckDeadline());
    t = Math.min(t, this.recovery.lossDetectionTimer, this.keyPhases.previousExpiry, this.pacingDeadline());
    t = Math.min(t, this.paths.nextTimeout(), this.pmtud.nextTimeout);
    // An ACK cannot go out while the active path's amplification allowance is used up (§9.3).
    if (!this.paths.active.sendBlocked) for (const sp of this.spaces) if (sp.writeKeys && !sp.discarded) t = Math.min(t, sp.ack.ackDeadline);
    return Number.isFinite(t) ? t : undefined;
  }

  /** When the pacer lets the next packet go, if data waits on it (connection.ts fills this in). */
  abstract pacingDeadline(): number;

  /** A new 1-RTT key phase began. */
  onKeyPhaseChanged(trigger: 'local_update' | 'remote_update'): void {
    if (this.qlog) this.qlog.keyUpdated(this.now, this.keyPhases.updates, trigger, this.isServer);
  }

  /** A packet was dropped without processing (diagnostics and qlog packet_dropped). */
  onPacketDropped(h: PacketHeader, trigger: string): void {
    this.droppedPackets++;
    if (this.qlog) this.qlog.packetDropped(this.now, h.type, h.end - h.start, trigger);
  }

  handleTimeout(now: number): void {
    this.now = now;
    this.streams.now = now;
    if (this.state === 'terminated') return;
    if (now >= this.closeDeadline) {
      this.terminate();
      return;
    }
    if (now >= this.idleDeadline && this.state !== 'closing' && this.state !== 'draining') {
      // RFC 9000 §10.1: silently closed; no CONNECTION_CLOSE.
      this.setClosed({ kind: 'idle-timeout' });
      this.terminate();
      return;
    }
    if (this.state === 'closing' || this.state === 'draining') return;
    if (now >= this.#noAckDeadline()) {
      // Nothing acknowledged for an idle period while the peer kept sending: it hears nothing
      // of ours (or pretends not to). Closed silently, as on idle (RFC 9000 §10.1, §21.9).
      this.setClosed({ kind: 'idle-timeout' });
      this.terminate();
      return;
    }
    this.keyPhases.dropPreviousIfExpired(now);
    if (now >= this.paths.nextTimeout()) onPathOutcome(this, this.paths.onTimeout(now), now);
    if (now >= this.recovery.lossDetectionTimer) {
      try {
        const outcome = this.recovery.onLossDetectionTimeout(now);
        if (outcome.action === TimeoutAction.LOSS) {
          for (const p of outcome.lost) onPacketLost(this, outcome.space, p);
        } else if (outcome.action === TimeoutAction.PTO) {
          this.stats.ptoCount++;
          this.#onPto();
          // RFC 8899 §4.3: PTOs in a row may mean packets of the current size are black-holed.
          if (this.recovery.ptoCount >= 2) this.pmtud.onRepeatedPto();
        }
        if (this.qlog) this.qlog.recoveryUpdated(now, this.recovery, this.congestion, outcome.action === TimeoutAction.LOSS);
        this.recovery.releaseOutcomes();
      } catch (e) {
        this.closeOnError(e);
      }
    }
  }

  #onPto(): void {
    // RFC 9002 §6.2.4: probe with new or retransmitted data. In each handshake space that
    // probes (the one whose PTO expired, and any other with data in flight), resend the CRYPTO
    // data still unacknowledged: a PING alone there would never repair a lost flight. The
    // application space resends what matters most there (below).
    this.requeueCryptoForProbes();
    this.#requeueApplicationProbeData();
  }

  /**
   * What the application-space probes carry besides new data, in one pass over the packets
   * still unacknowledged, oldest first (RFC 9002 §6.2.4: "send previously sent data"):
   * - a server's HANDSHAKE_DONE not yet acknowledged: until it arrives the client is not
   *   confirmed (RFC 9001 §4.1.2), so it arms no PTO for its own 1-RTT data (RFC 9002 §6.2.1)
   *   and a lost request stays lost; with the client's acknowledgments lost as well, nothing
   *   would ever declare the frame lost and resend it;
   * - with no new data waiting, the stream data of the oldest packets, one packet per probe:
   *   when the tail of a response was lost, a probe that gets through delivers it, instead of a
   *   PING whose acknowledgment only starts loss detection one more round trip later. Whichever
   *   copy is acknowledged first settles the range; the stream buffers ignore the other.
   */
  #requeueApplicationProbeData(): void {
    const application = PacketNumberSpace.APPLICATION;
    const probes = this.recovery.pendingProbes(application);
    if (probes === 0 || this.spaces[application].discarded) return;
    let findHandshakeDone = this.isServer && !this.handshakeDonePending;
    let streamPackets = this.streams.hasPendingFrames() ? 0 : probes;
    for (const p of this.recovery.tracker(application).outstandingPackets()) {
      if (!findHandshakeDone && streamPackets === 0) break;
      let hasStreamData = false;
      for (const t of p.tokens) {
        if (t.kind === TokenKind.HANDSHAKE_DONE && findHandshakeDone) {
          this.handshakeDonePending = true;
          findHandshakeDone = false;
        } else if (t.kind === TokenKind.STREAM && streamPackets > 0) {
          this.streams.onTokenLost(t);
          hasStreamData = true;
        }
      }
      if (hasStreamData) streamPackets--;
    }
  }

  /**
   * Queues the unacknowledged CRYPTO data of each handshake space that still owes PTO probes
   * and has nothing else queued: on a PTO, and again after the first probe datagram went out,
   * so that both probe datagrams (RFC 9002 §6.2.4 sends two) carry it and one lost datagram
   * does not cost another PTO (RFC 9000 §14.1: each is a full, padded Initial datagram).
   */
  requeueCryptoForProbes(): void {
    for (const space of [PacketNumberSpace.INITIAL, PacketNumberSpace.HANDSHAKE]) {
      const sp = this.spaces[space];
      if (sp.discarded || this.recovery.pendingProbes(space) === 0 || sp.cryptoSend.hasPendingData()) continue;
      for (const p of this.recovery.tracker(space).outstandingPackets()) {
        for (const t of p.tokens) if (t.kind === TokenKind.CRYPTO) sp.cryptoSend.onLost(t.a, t.b, false);
      }
    }
  }

  /** (Re)arms the idle timer from `now` (RFC 9000 §10.1); also on each packet received (receive.ts). */
  armIdle(now: number): void {
    const local = this.settings.maxIdleTimeoutMs;
    const peer = this.peerParams?.maxIdleTimeout ?? 0;
    // RFC 9000 §10.1: the effective timeout is the minimum of the non-zero values.
    const effective = local === 0 ? peer : peer === 0 ? local : Math.min(local, peer);
    this.idleTimeoutMs = effective;
    this.idleDeadline = effective === 0 ? Infinity : now + Math.max(effective, 3 * this.ptoMs());
  }

  /** When the wait for any acknowledgment has lasted too long (see `ackWaitSince`). */
  #noAckDeadline(): number {
    if (this.ackWaitSince === Infinity || this.recovery.ackElicitingInFlight === 0) return Infinity;
    const limit = this.idleTimeoutMs > 0 ? this.idleTimeoutMs : NO_ACK_TIMEOUT_MS;
    return this.ackWaitSince + Math.max(limit, 3 * this.ptoMs());
  }

  /** RFC 9000 §10.1: sending an ack-eliciting packet restarts the idle timer, once per receive. */
  onAckElicitingSent(now: number): void {
    // The packet just sent is counted: when it is the only one waiting, the wait starts now.
    if (this.ackWaitSince === Infinity || this.recovery.ackElicitingInFlight <= 1) this.ackWaitSince = now;
    if (!this.ackElicitingSentSinceReceive) {
      this.ackElicitingSentSinceReceive = true;
      this.armIdle(now);
    }
  }

  // ------------------------------------------------------------------ receive

  /** `local`: the local address the datagram reached when not the default one (a server's preferred address, RFC 9000 §9.6). */
  handleDatagram(data: Uint8Array, remote: PathAddress, now: number, ecn = 0, local?: PathAddress): void {
    this.now = now;
    this.streams.now = now;
    if (this.state === 'terminated' || this.state === 'draining') return;
    if (this.state === 'closing') {
      // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE, at an exponentially falling rate.
      if (++this.#packetsSinceClose >= this.#nextCloseAt) {
        this.#nextCloseAt *= 2;
        this.closeSendPending = true;
      }
      return;
    }
    this.bytesReceived += data.length;
    this.#receiver.begin(data, remote, ecn, local);
    if (!this.addressValidated) {
      // RFC 9002 §6.2.2.1, A.6: bytes received raise the amplification allowance; a server
      // blocked by it re-arms its PTO once it may send again.
      this.recovery.setAmplificationBlocked(AMPLIFICATION_FACTOR * this.bytesReceived - this.bytesSent < MIN_INITIAL_DATAGRAM, now);
    }
    const received = this.stats.packetsReceived;
    try {
      this.#receiver.processDatagram(data, now);
    } catch (e) {
      this.closeOnError(e);
    }
    // RFC 9000 §10.3.1: a short-header datagram we could not open may be a Stateless Reset.
    if (this.stats.packetsReceived === received && this.matchesStatelessReset(data)) this.#onStatelessReset();
  }

  /** Whether `data` looks like a short header ending in one of the peer's reset tokens (§10.3.1). */
  matchesStatelessReset(data: Uint8Array): boolean {
    if (this.state !== 'handshake' && this.state !== 'established') return false;
    return ((data[0] ?? 0x80) & 0x80) === 0 && endsWithResetToken(data, this.peerCids.resetTokens());
  }

  /** RFC 9000 §10.3.1: the peer lost our connection: draining, and nothing more is sent. */
  #onStatelessReset(): void {
    this.state = 'draining';
    this.closeSendPending = false;
    this.closeDeadline = this.now + 3 * this.ptoMs();
    this.setClosed({ kind: 'stateless-reset' });
  }

  /** The negotiated version changed at the server: its transport parameters must say so. */
  abstract onVersionChanged(): void;

  // ------------------------------------------------------------------ TLS

  /** Drains the TLS engine's outputs: handshake bytes, keys, parameters, completion. */
  processTls(): void {
    for (let out = this.tls.poll(); out !== undefined; out = this.tls.poll()) this.#onTlsOutput(out);
    this.#receiver.retryBuffered();
  }

  #onTlsOutput(out: TlsOutput): void {
    switch (out.kind) {
      case 'handshake-data': {
        const space = out.level === EncryptionLevel.INITIAL ? 0 : out.level === EncryptionLevel.HANDSHAKE ? 1 : 2;
        this.spaces[space].cryptoSend.write(out.data);
        return;
      }
      case 'secret': {
        const suite = requireCipherSuite(out.cipherSuite);
        const keys = createPacketProtectionKeys(this.crypto, suite, this.version, out.secret);
        if (this.qlog) this.qlog.keyInstalled(this.now, qlogKeyType(out.level, (out.direction === 'write') !== this.isServer));
        if (out.level === EncryptionLevel.EARLY_DATA) {
          this.#onZeroRttKeys(keys);
          return;
        }
        if (out.level === EncryptionLevel.HANDSHAKE) {
          if (out.direction === 'read') this.spaces[1].readKeys = keys;
          else this.spaces[1].writeKeys = keys;
          this.recovery.onHandshakeKeysAvailable(this.now);
        } else if (out.level === EncryptionLevel.APPLICATION) {
          if (out.direction === 'read') this.keyPhases.install(keys, undefined);
          else this.keyPhases.install(undefined, keys);
          if (out.direction === 'read') this.spaces[2].readKeys = keys;
          else this.spaces[2].writeKeys = keys;
        }
        return;
      }
      case 'peer-transport-parameters':
        this.#applyPeerParameters(decodeTransportParameters(out.data, this.isServer ? 'client' : 'server'));
        return;
      case 'handshake-complete':
        this.handshakeComplete = true;
        if (this.state === 'handshake') this.state = 'established';
        this.events.push({ type: 'handshake-complete', alpn: this.tls.alpnProtocol });
        // RFC 9001 §4.1.2: at the server, completion is confirmation.
        if (this.isServer) {
          this.handshakeDonePending = true;
          this.confirmHandshake();
        }
        return;
      case 'session-ticket':
        this.events.push({ type: 'session-ticket', ticket: out.ticket });
        return;
      case 'key-log':
        this.keyLog?.(formatKeyLogLine(out));
        return;
      case 'early-data':
        if (!this.isServer) this.#onEarlyDataAnswer(out.accepted);
        return;
    }
  }

  /**
   * 0-RTT keys (RFC 9001 §4.6.1). The server reads 0-RTT packets with them. The client writes
   * Application data in 0-RTT packets (the Application space's write keys until 1-RTT ones
   * replace them) with the server's remembered parameters (RFC 9000 §7.4.1); without
   * remembered parameters it has no stream limits to use, so it sends no 0-RTT.
   */
  #onZeroRttKeys(keys: PacketProtectionKeys): void {
    if (this.isServer) {
      this.zeroRtt.installReadKeys(keys);
      return;
    }
    const remembered = this.zeroRtt.remembered;
    if (!remembered) return;
    this.spaces[2].writeKeys = keys;
    if (this.qlog) this.qlog.parametersRestored(this.now, remembered);
    this.peerParams = remembered;
    this.streams.applyPeerParameters(remembered, remembered.resetStreamAt && this.settings.resetStreamAt);
  }

  /** The server's answer to our 0-RTT (EncryptedExtensions; its transport parameters came first). */
  #onEarlyDataAnswer(accepted: boolean): void {
    this.zeroRtt.accepted = accepted;
    const remembered = this.zeroRtt.remembered;
    // Our parameters' reading: by now peerParams are the server's new ones (they precede this answer).
    const reduced = remembered && this.peerParams ? reducedParameter(remembered, this.peerParams) : undefined;
    if (accepted) {
      // RFC 9000 §7.4.1: accepting 0-RTT, the server must not reduce the remembered limits.
      if (reduced) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `0-RTT accepted but ${reduced} reduced`);
      this.events.push({ type: 'early-data', accepted });
      return;
    }
    // RFC 9002 §6.4: rejected: the 0-RTT packets leave flight; no more 0-RTT.
    if (this.spaces[2].writeKeys && !this.keyPhases.write) this.spaces[2].writeKeys = undefined;
    const rejected = this.recovery.onZeroRttRejected(this.now);
    // RFC 9001 §4.6.2: what 0-RTT assumed may be wrong now. When the application protocol and
    // every limit we relied on are unchanged, the streams stay valid and their data is simply
    // resent in 1-RTT (requeued as if lost). Otherwise all stream state is reset: a fresh stream
    // map under the new parameters, and the application is told to start over.
    const streamsReset = reduced !== undefined || this.tls.alpnProtocol !== this.zeroRtt.ticketAlpn;
    if (streamsReset) {
      this.streams = new StreamMap({ isServer: this.isServer, settings: this.settings, events: this.events });
      this.streams.now = this.now;
      if (this.peerParams) this.streams.applyPeerParameters(this.peerParams, this.peerParams.resetStreamAt && this.settings.resetStreamAt);
    }
    this.events.push({ type: 'early-data', accepted, streamsReset });
    for (const p of rejected) onPacketLost(this, PacketNumberSpace.APPLICATION, p);
  }

  #applyPeerParameters(p: TransportParameters): void {
    acceptHandshakeParameters(this, p);
    this.peerParams = p;
    if (this.qlog) this.qlog.parametersSet(this.now, 'remote', p);
    // Checked just above (RFC 9000 §7.3 CID authentication, RFC 9368 version downgrade): nothing
    // reads them again, and an idle connection need not keep them.
    p.initialSourceConnectionId = undefined;
    p.originalDestinationConnectionId = undefined;
    p.retrySourceConnectionId = undefined;
    p.versionInformation = undefined;
    this.recovery.setMaxAckDelay(p.maxAckDelay, this.now);
    this.streams.applyPeerParameters(p, p.resetStreamAt && this.settings.resetStreamAt);
    this.armIdle(this.now);
  }

  /** The handshake is confirmed (RFC 9001 §4.1.2): at the server on completion, at the client on HANDSHAKE_DONE. */
  confirmHandshake(): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.recovery.onHandshakeConfirmed(this.now);
    this.events.push({ type: 'handshake-confirmed' });
    // RFC 9001 §4.9.2: Handshake keys go once the handshake is confirmed.
    this.discardSpace(PacketNumberSpace.HANDSHAKE);
    this.discardSpace(PacketNumberSpace.INITIAL);
    // RFC 9000 §5.1.1: now give the peer more connection IDs, up to its limit.
    if (this.peerParams) this.localCids.setPeerLimit(this.peerParams.activeConnectionIdLimit);
    // RFC 9000 §14.3: probe for a larger datagram size, within both sides' limits.
    if (this.settings.pmtud !== false) {
      const peerMax = this.peerParams?.maxUdpPayloadSize ?? MAX_UDP_PAYLOAD;
      this.pmtud.enable(Math.min(peerMax, this.settings.maxUdpPayloadSize), this.now);
    }
    // RFC 9000 §9.6.1: a client moves to the server's preferred address now.
    startPreferredAddressMigration(this, this.migrateToPreferredAddress);
  }

  // ------------------------------------------------------------------ paths (RFC 9000 §8.2, §9)

  /**
   * RFC 9000 §9.4: a new path gets a new congestion controller and RTT estimate, unless only
   * the peer's port changed; ECN is validated again (§13.4.2) and the MTU searched again.
   */
  resetPathState(now: number, portOnly: boolean): void {
    this.ecn.resetForNewPath(this.settings.ecn !== false);
    if (portOnly) return;
    this.pmtud.resetForNewPath(now);
    this.congestion = createController(this.settings.congestionControl, this.pmtud.current, now, this.random);
    this.recovery.resetPath(now, this.congestion);
  }

  discardSpace(space: PacketNumberSpace): void {
    const sp = this.spaces[space];
    if (sp.discarded) return;
    sp.discard();
    // RFC 9002 §6.4: its packets leave bytes in flight without being acked or lost.
    this.recovery.discardSpace(space, this.now);
    this.ecn.discardSpace(space);
    if (space === PacketNumberSpace.INITIAL) {
      // RFC 9001 §4.9.1: with the Initial keys goes everything only Initial packets used.
      this.initialToken = NO_TOKEN;
      this.originalInitialReadKeys = undefined;
      this.helloPeek = undefined;
    }
  }

  // ------------------------------------------------------------------ closing

  /** Turns any error from processing input into a CONNECTION_CLOSE (never rethrows). */
  closeOnError(e: unknown): void {
    if (QuicError.is(e)) {
      this.enterClosing({ application: false, code: e.code, frameType: e.frameType ?? 0, reason: e.reason });
    } else {
      const reason = e instanceof Error ? e.message : String(e);
      this.enterClosing({ application: false, code: TransportErrorCode.INTERNAL_ERROR, frameType: 0, reason });
    }
  }

  /** RFC 9000 §10.2.1: the closing state: send CONNECTION_CLOSE, then wait 3 PTO. Idempotent. */
  enterClosing(frame: CloseFrameInfo): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'terminated') return;
    this.state = 'closing';
    this.closeFrame = frame;
    this.closeSendPending = true;
    this.closeDeadline = this.now + 3 * this.ptoMs();
    this.setClosed(
      frame.application
        ? { kind: 'application', code: frame.code, reason: frame.reason, remote: false }
        : { kind: 'transport', code: frame.code, frameType: frame.frameType, reason: frame.reason, remote: false },
    );
  }

  /** The peer's CONNECTION_CLOSE (receive.ts): draining. */
  onConnectionClose(application: boolean, code: number, frameType: number, reason: Uint8Array): void {
    // RFC 9000 §10.2.2: draining: send nothing more, wait 3 PTO.
    const text = new TextDecoder('utf-8', { fatal: false }).decode(reason);
    this.state = 'draining';
    this.closeDeadline = this.now + 3 * this.ptoMs();
    this.setClosed(
      application
        ? { kind: 'application', code, reason: text, remote: true }
        : { kind: 'transport', code, frameType, reason: text, remote: true },
    );
  }

  /** Records why the connection closed and tells the application, once. */
  setClosed(reason: ConnectionCloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    // A peer's CONNECTION_CLOSE leaves what it sent before readable (streams.ts).
    this.streams.closeAll('remote' in reason && reason.remote);
    this.events.push({ type: 'closed', reason });
  }

  /** The end: no more timers, streams closed, CIDs retired. Idempotent. */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.closeDeadline = Infinity;
    this.idleDeadline = Infinity;
    this.streams.closeAll();
    this.streams.releaseReadable();
    this.localCids.retireAll();
    if (this.isServer) this.events.push({ type: 'cid-route', cid: this.originalDcid, active: false });
  }
}
