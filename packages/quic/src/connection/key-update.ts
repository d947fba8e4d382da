/**
 * Key update policy (RFC 9001 §6): when this endpoint may and should start a new 1-RTT key
 * phase, the checks on a peer's updates, and the AEAD usage limits of §6.6.
 *
 * The keys themselves live in `KeyPhases` (spaces.ts); this class only counts and decides:
 *  - §6.1: no update before the handshake is confirmed, and no further update until a packet
 *    sent in the current phase has been acknowledged;
 *  - §6.2: a peer that updates twice without waiting for our acknowledgment of a packet of its
 *    current phase commits KEY_UPDATE_ERROR;
 *  - §6.6: an update is started well before the confidentiality limit of the suite; if that is
 *    not possible by the limit the connection closes with AEAD_LIMIT_REACHED; the same error
 *    when more packets than the integrity limit failed authentication.
 */

import type { PacketProtectionKeys } from '../crypto/keys.js';
import { QuicError, TransportErrorCode } from '../errors.js';

/** Fraction of the confidentiality limit after which we start trying to update (§6.6). */
const CONFIDENTIALITY_MARGIN = 0.75;

export class KeyUpdatePolicy {
  /** Packets protected with the current write keys (§6.6 counts per key). */
  packetsInPhase = 0;
  /** Our first packet number of the current phase (-1: none sent yet). */
  firstSentInPhase = -1;
  /** A packet of ours from the current phase was acknowledged: the next update is allowed (§6.1). */
  currentPhaseAcked = false;
  /** We sent an ACK covering a peer packet of the current phase: the peer may update again (§6.2). */
  peerPhaseAcknowledged = false;
  /** Packets that failed authentication, over all keys of the connection (§6.6). */
  failedDecryptions = 0;
  /** The application asked for an update (`Connection.updateKeys`). */
  requested = false;
  /** Updates this endpoint started, and updates it followed (diagnostics, tests, qlog). */
  localUpdates = 0;
  remoteUpdates = 0;

  /**
   * @param intervalPackets start an update after this many packets in a phase (tests, interop
   *   `keyupdate`); the confidentiality limit applies regardless.
   */
  constructor(public intervalPackets: number = Infinity) {}

  /** A 1-RTT packet was protected with the current write keys. */
  onPacketSent(packetNumber: number): void {
    if (this.firstSentInPhase < 0) this.firstSentInPhase = packetNumber;
    this.packetsInPhase++;
  }

  /** The peer acknowledged up to `largest` in the Application space. */
  onAckReceived(largest: number): void {
    if (this.firstSentInPhase >= 0 && largest >= this.firstSentInPhase) this.currentPhaseAcked = true;
  }

  /** We sent an ACK up to `largest`; `firstPeerPacketInPhase` from KeyPhases (-1/Infinity: none yet). */
  onAckSent(largest: number, firstPeerPacketInPhase: number): void {
    if (firstPeerPacketInPhase >= 0 && largest >= firstPeerPacketInPhase) this.peerPhaseAcknowledged = true;
  }

  /** Whether an update should start now (asked for, interval reached, or near the AEAD limit). */
  wantsUpdate(writeKeys: PacketProtectionKeys): boolean {
    if (this.requested || this.packetsInPhase >= this.intervalPackets) return true;
    return this.packetsInPhase >= writeKeys.suite.confidentialityLimit * CONFIDENTIALITY_MARGIN;
  }

  /** RFC 9001 §6.1: confirmed handshake, and an acknowledged packet of the current phase. */
  mayInitiate(handshakeConfirmed: boolean): boolean {
    return handshakeConfirmed && this.currentPhaseAcked;
  }

  /**
   * RFC 9001 §6.6: the current write keys may protect only one more packet, which we keep for
   * the CONNECTION_CLOSE.
   */
  confidentialityExhausted(writeKeys: PacketProtectionKeys): boolean {
    return this.packetsInPhase + 1 >= writeKeys.suite.confidentialityLimit;
  }

  /**
   * RFC 9001 §6.2: the peer started a new phase. Allowed only once we acknowledged one of its
   * packets of the current phase; otherwise it updated twice without waiting.
   */
  checkPeerUpdate(): void {
    if (!this.peerPhaseAcknowledged) {
      throw new QuicError(TransportErrorCode.KEY_UPDATE_ERROR, 'consecutive key updates without an acknowledgment');
    }
  }

  /** A new key phase began (`local`: we started it): the per-phase bookkeeping restarts. */
  onPhaseChanged(local: boolean): void {
    if (local) this.localUpdates++;
    else this.remoteUpdates++;
    this.packetsInPhase = 0;
    this.firstSentInPhase = -1;
    this.currentPhaseAcked = false;
    this.peerPhaseAcknowledged = false;
    this.requested = false;
  }

  /** RFC 9001 §6.6: a packet failed authentication with `keys`; past the integrity limit, close. */
  onDecryptionFailed(keys: PacketProtectionKeys): void {
    if (++this.failedDecryptions > keys.suite.integrityLimit) {
      throw new QuicError(TransportErrorCode.AEAD_LIMIT_REACHED, 'AEAD integrity limit reached');
    }
  }
}
