/**
 * The connection's send path: datagrams built straight into the caller's buffer (probing
 * datagrams, PMTU probes, CONNECTION_CLOSE, and packets of every space coalesced), padded,
 * protected in place and recorded for loss recovery (RFC 9000 §12.2, §13, §14, §17; RFC 9001
 * §5; RFC 9002). `Connection` (connection.ts) creates one `PacketSender` for its lifetime.
 */

import { ByteWriter } from '../codec/writer.js';
import { AEAD_TAG_LENGTH } from '../crypto/provider.js';
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
import type { Connection } from './connection.js';
import { MIN_INITIAL_DATAGRAM, AMPLIFICATION_FACTOR, type CloseFrameInfo } from './core.js';
import { type RecoveryToken, TokenKind, token } from './recovery-token.js';
import type { NetworkPath } from './path.js';
import { PacketNumberSkipper } from './pn-skip.js';
import type { PacketSpace } from './spaces.js';
import { MIN_SEND_BUFFER } from './streams.js';
import type { Transmit } from './types.js';

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
const EMPTY_BUFFER = new Uint8Array(0);

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

/** Builds and seals the datagrams `Connection.pollTransmit` hands out; one per connection. */
export class PacketSender {
  readonly conn: Connection;
  /** DATAGRAM frames waiting to go out (`Connection.sendDatagram` queues them). */
  datagrams: { id: number; data: Uint8Array }[] = [];
  /** When the pacer lets the next packet go, if data waits on it (Infinity otherwise). */
  pacingDeadline = Infinity;
  /** The largest datagram we send now: DPLPMTUD's size within the peer's limit. */
  maxDatagramSize = MIN_INITIAL_DATAGRAM;
  /** Writes into the caller's datagram buffer; pointed back at EMPTY_BUFFER after each poll (`releaseBuffer`). */
  #scratch = new ByteWriter(EMPTY_BUFFER);
  /** The frames of the packet being built (see #buildPacket). */
  readonly #tokenScratch: RecoveryToken[] = [];
  /** ECN codepoint of the datagram being built (one per datagram, recorded per packet). */
  #txEcn = 0;
  /** Random gaps in 1-RTT packet numbers that expose optimistic ACKs (RFC 9000 §21.4). */
  readonly #pnSkipper: PacketNumberSkipper;
  /** Packets sent when the peer CID last rotated (settings.peerCidRotationPackets). */
  #lastCidRotation = 0;
  #clientDropsInitial = false;

  constructor(conn: Connection) {
    this.conn = conn;
    this.#pnSkipper = new PacketNumberSkipper(conn.random);
  }

  /** Starts a key update when one is wanted and allowed; closes if the AEAD limit is hit (§6.6). */
  maybeUpdateKeys(): boolean {
    const write = this.conn.keyPhases.write;
    if (!write || !this.conn.keyUpdate.wantsUpdate(write)) return false;
    if (!this.conn.keyUpdate.mayInitiate(this.conn.handshakeConfirmed)) {
      if (this.conn.keyUpdate.confidentialityExhausted(write)) {
        this.conn.enterClosing({ application: false, code: TransportErrorCode.AEAD_LIMIT_REACHED, frameType: 0, reason: 'AEAD confidentiality limit reached' });
      }
      return false;
    }
    if (!this.conn.keyPhases.initiateUpdate()) return false;
    this.conn.keyUpdate.onPhaseChanged(true);
    this.conn.onKeyPhaseChanged('local_update');
    return true;
  }

  /**
   * Forgets the caller's datagram buffer once a poll is over: the endpoint's buffers are slices
   * of large send slabs, and an idle connection holding one would keep a whole old slab alive.
   */
  releaseBuffer(): void {
    this.#scratch.buf = EMPTY_BUFFER;
  }

  /** The next datagram to send, written into `buffer` (`Connection.pollTransmit` catches what this throws). */
  pollTransmit(now: number, buffer: Uint8Array): Transmit | undefined {
    this.conn.now = now;
    if (this.conn.state === 'terminated' || this.conn.state === 'draining') return undefined;
    if (this.conn.state === 'closing') {
      if (!this.conn.closeSendPending || !this.conn.closeFrame) return undefined;
      this.conn.closeSendPending = false;
      const length = this.#buildCloseDatagram(buffer, this.conn.closeFrame);
      // RFC 9000 §8.1 holds while closing too: no more than 3x what the unvalidated peer sent.
      if (!this.conn.addressValidated && this.conn.bytesSent + length > AMPLIFICATION_FACTOR * this.conn.bytesReceived) return undefined;
      return length > 0 ? this.#transmit(length) : undefined;
    }
    this.#updateDatagramSize();
    if (this.conn.handshakeConfirmed) {
      this.maybeUpdateKeys();
      if (this.conn.isClosed) return this.conn.pollTransmit(now, buffer); // AEAD limit reached: send the close
    }
    this.#txEcn = 0;
    // Path validation frames go in their own probing datagrams, on the path they belong to.
    const probing = this.#buildPathDatagram(buffer, now);
    if (probing) return probing;
    this.#txEcn = this.conn.ecn.codepoint;
    this.#maybeRotatePeerCid();
    let maxSize = Math.min(this.maxDatagramSize, buffer.length);
    if (!this.conn.addressValidated) {
      // RFC 9000 §8.1: at most three times the bytes received before the address is validated.
      const allowance = AMPLIFICATION_FACTOR * this.conn.bytesReceived - this.conn.bytesSent;
      if (allowance < MIN_INITIAL_DATAGRAM) {
        this.conn.recovery.setAmplificationBlocked(true, now);
        return undefined;
      }
      maxSize = Math.min(maxSize, allowance);
    }
    const activePath = this.conn.paths.active;
    if (!activePath.validated) {
      // RFC 9000 §9.3/§8.1: 3x what the new peer address sent until it is validated.
      const allowance = activePath.allowance;
      if (activePath.sendBlocked) {
        // Only bytes arriving from that address unblock us: no pacing timer until then.
        this.pacingDeadline = Infinity;
        return undefined;
      }
      maxSize = Math.min(maxSize, allowance);
    }

    if (this.conn.pmtud.state === 'confirming' && activePath.validated && this.conn.handshakeConfirmed) {
      // RFC 8899 §4.3: confirm a size in doubt with one probe at a time, like a PTO probe
      // regardless of the window (ordinary packets meanwhile go at the base size).
      const size = this.conn.pmtud.probeSize(now);
      if (size > 0 && size <= buffer.length) return this.#buildMtuProbe(buffer, size, now);
    }

    // Congestion control and pacing gate everything but ACK-only packets and PTO probes.
    const inFlight = this.conn.recovery.bytesInFlight;
    const cwnd = this.conn.congestion.congestionWindow;
    this.conn.streams.sendBufferLimit = Math.max(MIN_SEND_BUFFER, Math.min(2 * cwnd, MAX_SEND_BUFFER));
    let mayElicit = this.conn.congestion.canSend(inFlight, maxSize);
    this.pacingDeadline = Infinity;
    // RFC 9002 §7.7 paces at a rate derived from the RTT: before the first sample (the 333 ms
    // initial RTT) that would throttle the first flight, 0-RTT included, so the initial window
    // goes out unpaced.
    if (mayElicit && this.conn.recovery.rtt.hasSample) {
      // Each controller states its rate (RFC 9002 §7.7: 1.25 cwnd/srtt for window-based ones; BBR its own).
      this.conn.pacer.setRate(now, this.conn.congestion.pacingRate(this.conn.recovery.rtt.smoothedRtt), this.conn.congestion.congestionWindow);
      const wait = this.conn.pacer.timeUntilSend(now, maxSize);
      // Waits below a microsecond are floating-point dust in the token count: `now + wait`
      // would not move the clock and the timer would fire at the same instant forever.
      if (wait > PACING_EPSILON_MS) {
        mayElicit = false;
        if (this.#hasAckElicitingWork()) this.pacingDeadline = now + wait;
      }
    }

    if (mayElicit && activePath.validated && this.conn.handshakeConfirmed && (inFlight > 0 || this.#hasAckElicitingWork())) {
      // RFC 9000 §14.3 / RFC 8899: a DPLPMTUD probe when one is due and the window allows it.
      const probeSize = this.conn.pmtud.probeSize(now);
      if (probeSize > 0 && probeSize <= buffer.length && this.conn.congestion.canSend(inFlight, probeSize)) {
        return this.#buildMtuProbe(buffer, probeSize, now);
      }
    }

    const w = this.#scratch;
    w.buf = buffer;
    let pending: PendingPacket | undefined;
    let hasInitial = false;
    let initialElicits = false;
    for (const sp of this.conn.spaces) {
      if (sp.discarded || !sp.writeKeys) continue;
      const probe = this.conn.recovery.pendingProbes(sp.id) > 0;
      if (!this.#wantsToSend(sp, now, mayElicit || probe)) continue;
      // The next packet starts where the pending one will end once sealed; that one is sealed
      // only when the next really exists, so the datagram's last packet is always the pending
      // one (it takes the Initial padding, RFC 9000 §14.1) and a sealed packet always leaves.
      const start = pending ? this.#sealedEnd(pending) : 0;
      if (maxSize - start < MIN_PACKET_ROOM) break;
      const next = this.#buildPacket(w, sp, start, maxSize - start, now, mayElicit || probe, probe);
      if (!next) continue;
      if (pending) this.#seal(buffer, pending, 0);
      pending = next;
      if (sp.id === PacketNumberSpace.INITIAL) {
        hasInitial = true;
        if (pending.ackEliciting) initialElicits = true;
      }
      // RFC 9001 §4.9.1: a client drops Initial keys once it sends a Handshake packet.
      if (!this.conn.isServer && sp.id === PacketNumberSpace.HANDSHAKE) this.#clientDropsInitial = true;
    }
    // RFC 9002 §7.8: allowed to send but nothing to send (no data, or blocked by flow control):
    // the window must not grow on the strength of packets that did not fill it.
    if (mayElicit && !this.#hasAckElicitingWork()) this.conn.recovery.onAppLimited(now);
    if (!pending) return undefined;
    // RFC 9000 §14.1: a client's datagram with an Initial packet, and a server's with an
    // ack-eliciting Initial, is padded to 1200 bytes (inside the last packet, so it is protected).
    let padding = 0;
    if (hasInitial && (!this.conn.isServer || initialElicits)) {
      padding = Math.max(0, MIN_INITIAL_DATAGRAM - (pending.payloadEnd + AEAD_TAG_LENGTH));
    }
    const length = this.#seal(buffer, pending, padding);
    // A handshake space still owes a PTO probe after this datagram: its CRYPTO data goes in that one too.
    if (this.conn.recovery.pendingProbes(PacketNumberSpace.INITIAL) > 0 || this.conn.recovery.pendingProbes(PacketNumberSpace.HANDSHAKE) > 0) this.conn.requeueCryptoForProbes();
    if (this.#clientDropsInitial) {
      this.#clientDropsInitial = false;
      this.conn.discardSpace(PacketNumberSpace.INITIAL);
    }
    return this.#transmit(length);
  }

  #transmit(length: number): Transmit {
    this.conn.bytesSent += length;
    const path = this.conn.paths.active;
    path.bytesSent += length;
    return path.local ? { length, remote: this.conn.remote, ecn: this.#txEcn, local: path.local } : { length, remote: this.conn.remote, ecn: this.#txEcn };
  }

  #updateDatagramSize(): void {
    // DPLPMTUD's current size (1200 bytes, the size every QUIC path must carry (RFC 9000 §14),
    // until probes confirm more), within the peer's max_udp_payload_size.
    const peer = this.conn.peerParams?.maxUdpPayloadSize ?? 65527;
    this.maxDatagramSize = Math.min(this.conn.pmtud.sendSize, peer);
  }

  #maybeRotatePeerCid(): void {
    const every = this.conn.settings.peerCidRotationPackets ?? 0;
    if (every <= 0 || this.conn.isServer || !this.conn.handshakeConfirmed) return;
    if (this.conn.stats.packetsSent - this.#lastCidRotation < every) return;
    this.#lastCidRotation = this.conn.stats.packetsSent;
    this.conn.rotatePeerConnectionId();
  }

  /** The peer CID for packets on `path`: the current one, or the next spare for another path (§9.5). */
  #dcidFor(path: NetworkPath): Uint8Array {
    if (path === this.conn.paths.active) return this.conn.peerCids.currentCid;
    return this.conn.peerCids.peekNext() ?? this.conn.peerCids.currentCid;
  }

  /**
   * A probing datagram (RFC 9000 §9.1) with PATH_CHALLENGE and/or PATH_RESPONSE for one path,
   * padded to 1,200 bytes unless that path's anti-amplification allowance is smaller
   * (§8.2.1, §8.2.2). Challenges are not congestion-limited (a few small packets per
   * validation) and, off the active path, exempt from congestion reaction when lost; responses
   * are limited (see below).
   */
  #buildPathDatagram(buffer: Uint8Array, now: number): Transmit | undefined {
    if (!this.conn.handshakeComplete || !this.conn.keyPhases.write || this.conn.spaces[PacketNumberSpace.APPLICATION].discarded) return undefined;
    const path = this.conn.paths.nextPathWithFrames();
    if (!path) return undefined;
    const room = Math.min(path.allowance, buffer.length, this.maxDatagramSize);
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
      (path.responseCredit < MIN_RESPONSE_DATAGRAM || (path === this.conn.paths.active && !this.conn.congestion.canSend(this.conn.recovery.bytesInFlight, responseBytes)))
    ) {
      path.responses.length = 0;
    }
    if (path.responses.length === 0 && !path.challengePending) return undefined;
    const responding = path.responses.length > 0;
    const sp = this.conn.spaces[PacketNumberSpace.APPLICATION];
    const w = this.#scratch;
    w.buf = buffer;
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    const pnOffset = writeShortHeader(buffer, 0, { dcid: this.#dcidFor(path), packetNumber: pn, pnLength, keyPhase: this.conn.keyPhases.phase });
    w.offset = pnOffset + pnLength;
    const limit = room - AEAD_TAG_LENGTH;
    const challenge = this.conn.paths.takeChallenge(path, now, this.conn.ptoMs());
    if (challenge) writePathFrame(w, { type: FrameType.PATH_CHALLENGE, data: challenge });
    for (let i = 0; i < 2 && path.responses.length > 0 && limit - w.offset >= 9; i++) {
      writePathFrame(w, { type: FrameType.PATH_RESPONSE, data: path.responses.shift()! });
    }
    const tokens = [token(TokenKind.PING)]; // neither frame is retransmitted (§13.3)
    const pending: PendingPacket = { sp, start: 0, pnOffset, pnLength, payloadEnd: w.offset, packetNumber: pn, isLong: false, ackEliciting: true, tokens };
    const padTo = challenge ? Math.min(MIN_INITIAL_DATAGRAM, room) : responseBytes;
    const padding = Math.max(0, padTo - (w.offset + AEAD_TAG_LENGTH));
    const length = this.#seal(buffer, pending, padding, path !== this.conn.paths.active);
    if (responding) path.responseCredit -= length;
    path.probesSent++;
    this.conn.bytesSent += length;
    path.bytesSent += length;
    return path.local ? { length, remote: path.remote, ecn: 0, local: path.local } : { length, remote: path.remote, ecn: 0 };
  }

  /** A DPLPMTUD probe (RFC 9000 §14.4): PING and PADDING to exactly `size` bytes. */
  #buildMtuProbe(buffer: Uint8Array, size: number, now: number): Transmit {
    const sp = this.conn.spaces[PacketNumberSpace.APPLICATION];
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    const pnOffset = writeShortHeader(buffer, 0, { dcid: this.conn.peerCids.currentCid, packetNumber: pn, pnLength, keyPhase: this.conn.keyPhases.phase });
    let at = pnOffset + pnLength;
    buffer[at++] = FrameType.PING;
    const tokens = [token(TokenKind.PMTU_PROBE, 0, size)];
    const pending: PendingPacket = { sp, start: 0, pnOffset, pnLength, payloadEnd: at, packetNumber: pn, isLong: false, ackEliciting: true, tokens };
    const length = this.#seal(buffer, pending, size - (at + AEAD_TAG_LENGTH), true);
    this.conn.pmtud.onProbeSent(size);
    void now;
    return this.#transmit(length);
  }

  /** Any space with keys has ack-eliciting frames waiting (a paced sender must arm its timer for them). */
  #hasAckElicitingWork(): boolean {
    for (const sp of this.conn.spaces) if (!sp.discarded && sp.writeKeys && this.#hasAckElicitingData(sp)) return true;
    return false;
  }

  #wantsToSend(sp: PacketSpace, now: number, mayElicit: boolean): boolean {
    if (sp.ack.ackDue(now)) return true;
    return mayElicit && this.#hasAckElicitingData(sp);
  }

  #hasAckElicitingData(sp: PacketSpace): boolean {
    if (sp.cryptoSend.hasPendingData() || this.conn.recovery.pendingProbes(sp.id) > 0) return true;
    if (sp.id !== PacketNumberSpace.APPLICATION) return false;
    if (!this.conn.handshakeComplete && !this.conn.isServer && !sp.writeKeys) return false; // nothing but ACK/CRYPTO before 1-RTT (or 0-RTT) keys
    return (
      this.conn.handshakeDonePending ||
      (this.conn.handshakeConfirmed && this.conn.newTokens.hasPending) ||
      this.conn.pingPending ||
      this.conn.localCids.pendingAnnouncements.size > 0 ||
      this.conn.peerCids.pendingRetirements.size > 0 ||
      this.datagrams.length > 0 ||
      this.conn.streams.hasPendingFrames()
    );
  }

  /** Writes one packet's header and frames at `start`; returns it unsealed, or undefined if empty. */
  #buildPacket(w: ByteWriter, sp: PacketSpace, start: number, room: number, now: number, mayElicit: boolean, probe: boolean): PendingPacket | undefined {
    const buf = w.buf;
    const pn = sp.nextPacketNumber;
    const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
    // RFC 9001 §4.6.1: a client without 1-RTT keys sends Application data in 0-RTT packets.
    const zeroRtt = sp.id === PacketNumberSpace.APPLICATION && !this.conn.keyPhases.write;
    const isLong = sp.id !== PacketNumberSpace.APPLICATION || zeroRtt;
    const dcid = this.conn.peerCids.currentCid;
    const pnOffset = isLong
      ? writeLongHeader(buf, start, {
          type: zeroRtt ? PacketType.ZERO_RTT : sp.packetType,
          version: this.conn.version,
          dcid,
          scid: this.conn.localHandshakeCid,
          token: sp.id === PacketNumberSpace.INITIAL ? this.conn.initialToken : undefined,
          packetNumber: pn,
          pnLength,
        })
      : writeShortHeader(buf, start, { dcid, packetNumber: pn, pnLength, keyPhase: this.conn.keyPhases.phase });
    const payloadStart = pnOffset + pnLength;
    const limit = start + room - AEAD_TAG_LENGTH;
    w.offset = payloadStart;
    // Frames are recorded in a scratch list, then copied to an array of their exact number
    // that the sent-packet record keeps: a fresh `[]` grown by push carries room for 17 (about
    // 150 bytes more per packet allocated, and held while the packet is in flight).
    const tokens = this.#tokenScratch;
    tokens.length = 0;

    // ACK first: due, or riding along whenever anything else goes out (RFC 9000 §13.2.1).
    if (!zeroRtt && (sp.ack.ackDue(now) || sp.ack.hasNewPackets)) this.#writeAck(w, sp, limit, now, tokens); // §12.4: no ACK in 0-RTT

    if (mayElicit) {
      if (sp.id === PacketNumberSpace.APPLICATION) this.#writeApplicationControl(w, limit, tokens);
      this.#writeCrypto(w, sp, limit, tokens);
      if (sp.id === PacketNumberSpace.APPLICATION && (this.conn.handshakeComplete || this.conn.isServer || zeroRtt)) {
        this.#writeDatagrams(w, limit, tokens);
        this.conn.streams.writeStreamFrames(w, limit, tokens);
      }
    }
    let ackEliciting = false;
    for (const t of tokens) if (t.kind !== TokenKind.ACK) ackEliciting = true;
    if ((probe || this.conn.pingPending) && !ackEliciting && limit - w.offset >= 1) {
      w.u8(FrameType.PING); // RFC 9002 §6.2.4: a probe must elicit an ACK
      tokens.push(token(TokenKind.PING));
      ackEliciting = true;
      this.conn.pingPending = false;
    }
    if (tokens.length === 0) return undefined;
    return { sp, start, pnOffset, pnLength, payloadEnd: w.offset, packetNumber: pn, isLong, ackEliciting, tokens: tokens.slice() };
  }

  #writeAck(w: ByteWriter, sp: PacketSpace, limit: number, now: number, tokens: RecoveryToken[]): void {
    const pending = sp.ack.ackFrame(now, MAX_ACK_RANGES);
    if (!pending) return;
    const exponent = sp.id === PacketNumberSpace.APPLICATION ? this.conn.settings.ackDelayExponent : 3;
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
    if (sp.id === PacketNumberSpace.APPLICATION) this.conn.keyUpdate.onAckSent(frame.ranges[0]?.largest ?? -1, this.conn.keyPhases.firstPacketInPhase);
    tokens.push(token(TokenKind.ACK, 0, sp.ack.onAckSent()));
  }

  #writeApplicationControl(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    if (this.conn.handshakeDonePending && limit - w.offset >= 1) {
      w.u8(FrameType.HANDSHAKE_DONE);
      this.conn.handshakeDonePending = false;
      tokens.push(token(TokenKind.HANDSHAKE_DONE));
    }
    // Sets are only iterated when not empty (an iterator per packet otherwise).
    if (this.conn.localCids.pendingAnnouncements.size > 0) this.#writeNewConnectionIds(w, limit, tokens);
    if (this.conn.peerCids.pendingRetirements.size > 0) this.#writeRetireConnectionIds(w, limit, tokens);
    if (this.conn.handshakeConfirmed) this.conn.newTokens.write(w, limit, tokens);
    this.conn.streams.writeControlFrames(w, limit, tokens);
  }

  #writeNewConnectionIds(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    for (const seq of this.conn.localCids.pendingAnnouncements) {
      const issued = this.conn.localCids.get(seq);
      this.conn.localCids.pendingAnnouncements.delete(seq);
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
  }

  #writeRetireConnectionIds(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    for (const seq of this.conn.peerCids.pendingRetirements) {
      if (limit - w.offset < 9) break;
      this.conn.peerCids.pendingRetirements.delete(seq);
      writeRetireConnectionId(w, { type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: seq });
      tokens.push(token(TokenKind.RETIRE_CONNECTION_ID, 0, seq));
    }
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
    while (this.datagrams.length > 0) {
      const d = this.datagrams[0]!;
      const size = datagramFrameHeaderLength(d.data.length) + d.data.length;
      if (size > limit - w.offset) return; // next packet
      this.datagrams.shift();
      writeDatagramFrameHeader(w, d.data.length);
      w.bytes(d.data);
      tokens.push(token(TokenKind.DATAGRAM, 0, d.id));
    }
  }

  /** Pads, fills the Length field, protects in place, records the packet. Returns its end. */
  /** RFC 9001 §5.4.2: packet number + payload must be at least 4 bytes for the HP sample. */
  #samplePadding(p: PendingPacket): number {
    return 4 - p.pnLength - (p.payloadEnd - p.pnOffset - p.pnLength);
  }

  /** Where `p` ends once sealed without extra padding (what `#seal(buf, p, 0)` returns). */
  #sealedEnd(p: PendingPacket): number {
    return p.payloadEnd + Math.max(0, this.#samplePadding(p)) + AEAD_TAG_LENGTH;
  }

  #seal(buf: Uint8Array, p: PendingPacket, padding: number, congestionExempt = false): number {
    let payloadEnd = p.payloadEnd;
    const extra = Math.max(padding, this.#samplePadding(p));
    if (extra > 0) {
      buf.fill(0, payloadEnd, payloadEnd + extra); // PADDING frames are zero bytes (§19.1)
      payloadEnd += extra;
    }
    if (p.isLong) patchLongHeaderLength(buf, p.pnOffset - 2, payloadEnd - p.pnOffset + AEAD_TAG_LENGTH);
    const keys = p.sp.id === PacketNumberSpace.APPLICATION && !p.isLong ? this.conn.keyPhases.write! : p.sp.writeKeys!;
    const end = protect(keys, buf, p.start, p.pnOffset, p.pnLength, payloadEnd, p.packetNumber);
    if (!p.isLong) this.conn.keyUpdate.onPacketSent(p.packetNumber);
    if (this.conn.qlog) {
      const type = !p.isLong ? PacketType.ONE_RTT : p.sp.id === PacketNumberSpace.APPLICATION ? PacketType.ZERO_RTT : p.sp.packetType;
      this.conn.qlog.packetSent(this.conn.now, type, p.packetNumber, end - p.start, this.conn.keyPhases.phase, p.tokens);
    }
    const size = end - p.start;
    const inFlight = p.ackEliciting || extra > 0;
    const record = this.conn.recovery.onPacketSent(p.sp.id, p.packetNumber, this.conn.now, size, p.ackEliciting, inFlight, p.tokens);
    if (congestionExempt) record.congestionExempt = true;
    this.conn.ecn.onPacketSent(p.sp.id, p.packetNumber, this.#txEcn);
    p.sp.nextPacketNumber++;
    if (!p.isLong && this.#pnSkipper.skipAfter(p.packetNumber)) {
      this.conn.recovery.onPacketNumberSkipped(PacketNumberSpace.APPLICATION, p.sp.nextPacketNumber);
      p.sp.nextPacketNumber++;
    }
    this.conn.stats.packetsSent++;
    if (inFlight) this.conn.pacer.onSent(this.conn.now, size);
    if (p.ackEliciting) this.conn.onAckElicitingSent(this.conn.now);
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
    for (const sp of this.conn.spaces) {
      if (sp.discarded || !sp.writeKeys) continue;
      if (sp.id === PacketNumberSpace.APPLICATION && !this.conn.handshakeComplete && !this.conn.isServer) continue;
      if (pending) offset = this.#seal(buffer, pending, 0);
      const pn = sp.nextPacketNumber;
      const pnLength = packetNumberLength(pn, sp.largestAcked < 0 ? undefined : sp.largestAcked);
      const isLong = sp.id !== PacketNumberSpace.APPLICATION;
      const dcid = this.conn.peerCids.currentCid;
      const pnOffset = isLong
        ? writeLongHeader(buffer, offset, { type: sp.packetType, version: this.conn.version, dcid, scid: this.conn.localHandshakeCid, token: sp.id === PacketNumberSpace.INITIAL ? this.conn.initialToken : undefined, packetNumber: pn, pnLength })
        : writeShortHeader(buffer, offset, { dcid, packetNumber: pn, pnLength, keyPhase: this.conn.keyPhases.phase });
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
    const padding = pending.sp.id === PacketNumberSpace.INITIAL && !this.conn.isServer ? Math.max(0, MIN_INITIAL_DATAGRAM - (pending.payloadEnd + AEAD_TAG_LENGTH)) : 0;
    return this.#seal(buffer, pending, padding);
  }
}
