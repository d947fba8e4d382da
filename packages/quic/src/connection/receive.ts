/**
 * The connection's receive path: a datagram's coalesced packets opened (header protection,
 * key phases, 0-RTT keys), and their frames dispatched to streams, loss recovery, TLS, paths
 * and CIDs (RFC 9000 §12, §13, §17, §19; RFC 9001 §5, §6). `ConnectionCore` (core.ts) holds
 * the state these act on and creates one `PacketReceiver` for its lifetime.
 */

import { EncryptionLevel } from '../crypto/encryption-level.js';
import { type PacketProtectionKeys } from '../crypto/keys.js';
import { decryptPayload, removeHeaderProtection } from '../crypto/protection.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import { parseFrames } from '../frame/parse.js';
import { type AckFrame, type Frame, FrameType, isAckEliciting, isProbingFrame } from '../frame/types.js';
import { CoalescedPacketReader } from '../packet/coalesced.js';
import { hasReservedBitsSet, type PacketHeader } from '../packet/header.js';
import { PacketType } from '../packet/types.js';
import { PacketNumberSpace } from '../recovery/packet-number-space.js';
import type { ConnectionCore } from './core.js';
import { onPathOutcome, onPeerAddressChange } from './migration.js';
import type { NetworkPath } from './path.js';
import { MAX_CRYPTO_BUFFER } from './spaces.js';
import { acceptRetry } from './retry-client.js';
import { acceptOtherVersion, peekClientHello, undoVersionSwitch } from './version-switch.js';
import { onPacketAcked, onPacketLost } from './token-outcomes.js';
import type { PathAddress } from './types.js';

const NO_DATAGRAM = new Uint8Array(0);

/** Undecryptable packets kept while keys are missing (RFC 9001 §5.7), per connection. */
const MAX_BUFFERED_PACKETS = 16;

/** Opens the packets of each datagram and hands their frames on; one per connection. */
export class PacketReceiver {
  readonly core: ConnectionCore;
  /** The datagram being processed: its path (once known), peer address, size, ECN codepoint. */
  #rxPath: NetworkPath | undefined;
  #rxRemote: PathAddress;
  #rxLocal: PathAddress | undefined;
  #rxLength = 0;
  #rxChallengeCredited = false;
  #rxEcn = 0;
  readonly #reader: CoalescedPacketReader;
  #buffered: { data: Uint8Array; now: number }[] = [];

  constructor(core: ConnectionCore) {
    this.core = core;
    this.#rxRemote = core.remote;
    this.#reader = new CoalescedPacketReader({ shortDcidLength: core.settings.localConnectionIdLength });
  }

  /** Notes the datagram about to be processed (`ConnectionCore.handleDatagram`). */
  begin(data: Uint8Array, remote: PathAddress, ecn: number, local: PathAddress | undefined): void {
    // RFC 9000 §9.3: the send path changes only once a packet from a new address is
    // authenticated (#processPacket); until then just count the bytes on a known path.
    const path = this.core.paths.find(remote, local);
    if (path) path.bytesReceived += data.length;
    this.#rxPath = path;
    this.#rxRemote = remote;
    this.#rxLocal = local;
    this.#rxLength = data.length;
    this.#rxChallengeCredited = false;
    this.#rxEcn = ecn;
  }

  processDatagram(data: Uint8Array, now: number): void {
    const reader = this.#reader.reset(data);
    try {
      for (let h = reader.next(); h !== undefined; h = reader.next()) {
        if (this.core.state === 'closing' || this.core.state === 'draining' || this.core.state === 'terminated') return;
        this.#processPacket(data, h, now);
      }
    } finally {
      // The reader must not keep the last datagram (and node's buffer behind it) alive for as
      // long as the connection idles.
      reader.reset(NO_DATAGRAM);
    }
  }

  /** Processes again the packets kept until their keys arrived (RFC 9001 §5.7). */
  retryBuffered(): void {
    if (this.#buffered.length === 0) return;
    const pending = this.#buffered;
    this.#buffered = [];
    for (const b of pending) {
      if (this.core.state !== 'handshake' && this.core.state !== 'established') return;
      this.processDatagram(b.data, b.now);
    }
  }

  #processPacket(datagram: Uint8Array, h: PacketHeader, now: number): void {
    if (h.type === PacketType.VERSION_NEGOTIATION) {
      this.#onVersionNegotiation(h);
      return;
    }
    if (h.type === PacketType.RETRY) {
      // RFC 9000 §17.2.5.2: acted on by a client once, else discarded.
      if (!acceptRetry(this.core, h, now)) this.core.onPacketDropped(h, 'unsupported');
      return;
    }
    if (h.type === PacketType.ZERO_RTT && !this.core.isServer) {
      // 0-RTT only ever goes to a server.
      this.core.onPacketDropped(h, 'unsupported');
      return;
    }
    if (h.isLong && h.version !== this.core.version && !acceptOtherVersion(this.core, h)) {
      this.core.onPacketDropped(h, 'unsupported');
      return;
    }
    const space = h.type === PacketType.INITIAL ? 0 : h.type === PacketType.HANDSHAKE ? 1 : 2;
    const sp = this.core.spaces[space];
    if (sp.discarded) {
      this.core.onPacketDropped(h, 'key_unavailable');
      return;
    }
    const zeroRtt = h.type === PacketType.ZERO_RTT;
    const readKeys =
      space === 2
        ? zeroRtt
          ? this.core.zeroRtt.readKeys(now)
          : this.core.keyPhases.read
        : h.isLong && h.version !== this.core.version
          ? this.core.originalInitialReadKeys
          : sp.readKeys;
    if (!readKeys) {
      // 0-RTT refused (no keys once the ClientHello was processed): nothing will open it.
      if (zeroRtt && this.core.spaces[1].writeKeys) {
        this.core.onPacketDropped(h, 'key_unavailable');
        return;
      }
      // RFC 9001 §5.7: keep a few packets that arrive before their keys.
      if (this.#buffered.length < MAX_BUFFERED_PACKETS && !this.core.handshakeComplete) {
        this.#buffered.push({ data: datagram.slice(h.start, h.end), now });
      } else this.core.onPacketDropped(h, 'key_unavailable');
      return;
    }
    const largest = sp.ack.largestReceived;
    const header = removeHeaderProtection(readKeys.headerProtection, datagram, h.start, h.pnOffset, h.end, largest);
    if (!header) {
      this.core.onPacketDropped(h, 'decryption_failure');
      if (this.core.versionBeforeSwitch) undoVersionSwitch(this.core);
      return;
    }
    let keys: PacketProtectionKeys | undefined = readKeys;
    let peerUpdated = false;
    if (space === 2 && !zeroRtt && header.keyPhase !== this.core.keyPhases.phase) {
      // RFC 9001 §6.3: another key phase: older packets use the previous keys, newer the next.
      if (this.core.keyPhases.previous && header.packetNumber < this.core.keyPhases.firstPacketInPhase) keys = this.core.keyPhases.previous;
      else {
        keys = this.core.keyPhases.nextRead();
        peerUpdated = true;
      }
    }
    const payload = keys ? decryptPayload(keys, datagram, h.start, h.pnOffset, header.pnLength, h.end, header.packetNumber) : null;
    if (!payload) {
      if (keys) this.core.keyUpdate.onDecryptionFailed(keys); // RFC 9001 §6.6 integrity limit
      this.core.onPacketDropped(h, 'decryption_failure');
      // A packet that does not authenticate must not move us to another version (RFC 9368 §2.3).
      if (this.core.versionBeforeSwitch) undoVersionSwitch(this.core);
      return;
    }
    this.core.versionBeforeSwitch = undefined;
    // RFC 9000 §17.2/§17.3.1: reserved bits must be zero once protection is removed.
    if (hasReservedBitsSet(header.firstByte)) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits set');
    }
    if (sp.ack.isDuplicate(header.packetNumber)) {
      this.core.onPacketDropped(h, 'duplicate');
      return;
    }
    if (peerUpdated) {
      if (!this.core.handshakeConfirmed) throw new QuicError(TransportErrorCode.KEY_UPDATE_ERROR, 'key update before handshake confirmed');
      this.core.keyUpdate.checkPeerUpdate();
      this.core.keyPhases.onPeerUpdate(header.packetNumber, now, this.core.ptoMs());
      this.core.keyUpdate.onPhaseChanged(false);
      this.core.onKeyPhaseChanged('remote_update');
    } else if (space === 2 && keys === this.core.keyPhases.read) {
      this.core.keyPhases.onPacketInPhase(header.packetNumber, now, this.core.ptoMs());
      if (this.core.isServer) this.core.zeroRtt.onOneRttPacket(now, this.core.ptoMs());
    }

    if (!this.core.receivedAnyPacket && !this.core.isServer && h.isLong) {
      // RFC 9000 §7.2: the client switches to the server's chosen CID.
      this.core.peerCids.replaceInitial(h.scid.slice());
    }
    if (h.isLong && this.core.peerHandshakeCid === undefined) this.core.peerHandshakeCid = h.scid.slice();
    this.core.receivedAnyPacket = true;

    const frames = parseFrames(payload, h.type);
    if (!this.#rxPath) {
      // An authenticated packet from a peer address we had no path for (§9.3).
      this.#rxPath = this.core.paths.findOrCreate(this.#rxRemote, this.#rxLocal);
      this.#rxPath.bytesReceived += this.#rxLength;
    }
    if (this.core.qlog) this.core.qlog.packetReceived(now, h.type, header.packetNumber, h.end - h.start, header.keyPhase, frames);
    let ackEliciting = false;
    let probingOnly = true;
    for (const f of frames) {
      if (isAckEliciting(f.type)) ackEliciting = true;
      if (probingOnly && !isProbingFrame(f.type)) probingOnly = false;
      this.#onFrame(space, f, h);
      if (this.core.state !== 'handshake' && this.core.state !== 'established') break;
    }
    const largestSoFar = header.packetNumber > largest;
    // The packet's frames may have discarded its own space (the client Finished completes the
    // server's handshake, RFC 9001 §4.9.2): nothing is acknowledged there any more.
    if (!sp.discarded) sp.ack.onPacketReceived(header.packetNumber, now, ackEliciting, this.#rxEcn as 0 | 1 | 2 | 3);
    if (space === 2 && !probingOnly && largestSoFar && this.#rxPath !== this.core.paths.active) onPeerAddressChange(this.core, this.#rxPath, now);
    this.core.stats.packetsReceived++;
    this.core.ackElicitingSentSinceReceive = false;
    this.core.armIdle(now);

    if (this.core.isServer && space === 1) {
      // RFC 9000 §8.1: a Handshake packet proves the client's address.
      if (!this.core.addressValidated) {
        this.core.addressValidated = true;
        this.core.recovery.setAmplificationBlocked(false, now);
      }
      // RFC 9001 §4.9.1: the server drops Initial keys once it processes one, also when a Retry
      // or NEW_TOKEN token validated the address before. Kept, its Initials (which the client,
      // having dropped its Initial keys, never acknowledges) would hold the PTO in the Initial
      // space for good (discardSpace is idempotent).
      this.core.discardSpace(PacketNumberSpace.INITIAL);
    }
  }

  #onVersionNegotiation(h: PacketHeader): void {
    // RFC 9000 §6.2: a client acts on VN only before anything else arrived, and only if it
    // does not list the version it chose (else it is forged or stale).
    if (this.core.isServer || this.core.receivedAnyPacket || this.core.retrySourceCid !== undefined) return;
    const versions = h.supportedVersions ?? [];
    if (versions.includes(this.core.version)) return;
    this.core.setClosed({ kind: 'version-negotiation', versions });
    this.core.terminate();
  }

  #onFrame(space: PacketNumberSpace, f: Frame, h: PacketHeader): void {
    switch (f.type) {
      case FrameType.PADDING:
      case FrameType.PING:
        return;
      case FrameType.ACK:
        this.#onAck(space, f);
        return;
      case FrameType.CRYPTO:
        this.#onCrypto(space, f.offset, f.data);
        return;
      case FrameType.STREAM:
        this.core.streams.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
        return;
      case FrameType.RESET_STREAM:
        this.core.streams.onResetStream(f.streamId, f.errorCode, f.finalSize, 0, FrameType.RESET_STREAM);
        return;
      case FrameType.RESET_STREAM_AT:
        if (!this.core.settings.resetStreamAt) {
          throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'RESET_STREAM_AT without negotiating it', FrameType.RESET_STREAM_AT);
        }
        this.core.streams.onResetStream(f.streamId, f.errorCode, f.finalSize, f.reliableSize, FrameType.RESET_STREAM_AT);
        return;
      case FrameType.STOP_SENDING:
        this.core.streams.onStopSending(f.streamId, f.errorCode);
        return;
      case FrameType.MAX_DATA:
        this.core.streams.onMaxData(f.maximum);
        return;
      case FrameType.MAX_STREAM_DATA:
        this.core.streams.onMaxStreamData(f.streamId, f.maximum);
        return;
      case FrameType.MAX_STREAMS:
        this.core.streams.onMaxStreams(f.bidirectional, f.maximum);
        return;
      case FrameType.DATA_BLOCKED:
      case FrameType.STREAMS_BLOCKED:
        return; // informational (§19.12, §19.14); our limits move as the application reads
      case FrameType.STREAM_DATA_BLOCKED:
        this.core.streams.onStreamDataBlocked(f.streamId);
        return;
      case FrameType.NEW_CONNECTION_ID:
        this.core.peerCids.onNewConnectionId(f.sequenceNumber, f.retirePriorTo, f.connectionId.slice(), f.statelessResetToken.slice());
        // The driver indexes peer tokens to find the connection a Stateless Reset is for (§10.3.1).
        this.core.events.push({ type: 'peer-reset-token', token: f.statelessResetToken.slice() });
        return;
      case FrameType.RETIRE_CONNECTION_ID:
        this.core.localCids.onRetire(f.sequenceNumber, h.dcid);
        return;
      case FrameType.PATH_CHALLENGE:
        // RFC 9000 §8.2.2: echo the data on the path it came from (bounded per path).
        if (this.#rxPath) {
          // Its datagram's size is credited once, however many challenges it carries.
          this.core.paths.onChallenge(this.#rxPath, f.data.slice(), this.#rxChallengeCredited ? 0 : this.#rxLength);
          this.#rxChallengeCredited = true;
        }
        return;
      case FrameType.PATH_RESPONSE:
        onPathOutcome(this.core, this.core.paths.onResponse(f.data), this.core.now);
        return;
      case FrameType.NEW_TOKEN:
        if (this.core.isServer) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client', FrameType.NEW_TOKEN);
        // RFC 9000 §8.1.3: the driver keeps it for a later connection to this server.
        this.core.events.push({ type: 'new-token', token: f.token.slice() });
        return;
      case FrameType.CONNECTION_CLOSE:
        this.core.onConnectionClose(f.application, f.errorCode, f.frameType, f.reason);
        return;
      case FrameType.HANDSHAKE_DONE:
        if (this.core.isServer) {
          throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client', FrameType.HANDSHAKE_DONE);
        }
        this.core.confirmHandshake();
        return;
      case FrameType.DATAGRAM:
        // RFC 9221 §3: a DATAGRAM we did not ask for, or larger than we allow, is a violation.
        if (this.core.settings.maxDatagramFrameSize === 0 || f.data.length > this.core.settings.maxDatagramFrameSize) {
          throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'unexpected or oversized DATAGRAM', FrameType.DATAGRAM);
        }
        this.core.events.push({ type: 'datagram', data: f.data.slice() });
        return;
    }
  }

  #onAck(space: PacketNumberSpace, f: AckFrame): void {
    const exponent = space === PacketNumberSpace.APPLICATION ? (this.core.peerParams?.ackDelayExponent ?? 3) : 3;
    // RFC 9000 §19.3: ACK Delay is in microseconds scaled by 2^ack_delay_exponent.
    const ackDelayMs = (f.ackDelay * 2 ** exponent) / 1000;
    const sp = this.core.spaces[space];
    // ECN counts go to loss recovery (its CE reaction) unless ECN failed validation on this
    // path; the check itself needs the newly acknowledged packets, so it follows (ecn.ts).
    const ecnCounts = this.core.ecn.state === 'failed' ? undefined : f.ecn;
    const outcome = this.core.recovery.onAckReceived(space, f.ranges, ackDelayMs, this.core.now, ecnCounts);
    const largest = f.ranges[0]?.largest ?? -1;
    const largestIncreased = largest > sp.largestAcked;
    if (largest > sp.largestAcked) sp.largestAcked = largest;
    if (space === PacketNumberSpace.APPLICATION) this.core.keyUpdate.onAckReceived(largest);
    for (const p of outcome.acked) onPacketAcked(this.core, space, p);
    if (outcome.acked.length > 0) this.core.ackWaitSince = this.core.recovery.ackElicitingInFlight > 0 ? this.core.now : Infinity;
    for (const p of outcome.lost) onPacketLost(this.core, space, p);
    // RFC 9000 §13.4.2.1: validate with ACKs that raise the largest acknowledged only.
    if (largestIncreased) this.core.ecn.onAckFrame(space, f.ecn);
    else this.core.ecn.onAckFrame(space, undefined, true);
    this.core.stats.spuriousLosses += outcome.spuriouslyLost.length;
    if (this.core.qlog) this.core.qlog.recoveryUpdated(this.core.now, this.core.recovery, this.core.congestion, outcome.lost.length > 0);
    this.core.recovery.releaseOutcomes();
  }

  #onCrypto(space: PacketNumberSpace, offset: number, data: Uint8Array): void {
    const sp = this.core.spaces[space];
    const buf = sp.cryptoRecv;
    // RFC 9000 §7.5: bound what the peer can make us buffer.
    if (offset + data.length - buf.readOffset > MAX_CRYPTO_BUFFER) {
      throw new QuicError(TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, 'too much out-of-order CRYPTO data', FrameType.CRYPTO);
    }
    buf.insert(offset, data);
    const level = space === 0 ? EncryptionLevel.INITIAL : space === 1 ? EncryptionLevel.HANDSHAKE : EncryptionLevel.APPLICATION;
    // Bounded: each read consumes bytes that were inserted above.
    for (let chunk = buf.read(); chunk !== undefined; chunk = buf.read()) {
      const data = this.core.helloPeek !== undefined && space === 0 ? peekClientHello(this.core, chunk) : chunk;
      if (data !== undefined) this.core.tls.receive(level, data);
    }
    this.core.processTls();
  }
}
