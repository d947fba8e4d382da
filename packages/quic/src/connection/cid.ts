/**
 * Connection IDs (RFC 9000 §5.1): the ones we issue to the peer and the ones the peer issues to us.
 *
 * Both sides are frame-blind: they say which NEW_CONNECTION_ID / RETIRE_CONNECTION_ID frames are
 * due (`pending*` sets the packet builder drains, and refills on loss), and throw QuicError for
 * what the peer must not do. The endpoint learns which of our CIDs to route through
 * `LocalConnectionIds.onRouteChange`.
 */

import { QuicError, TransportErrorCode } from '../errors.js';

export const MAX_CID_LENGTH = 20;
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** The peer's handshake CID has no reset token until its transport parameters give one (shared, never written). */
const NO_RESET_TOKEN = new Uint8Array(0);

export interface IssuedConnectionId {
  readonly sequence: number;
  readonly cid: Uint8Array;
  readonly resetToken: Uint8Array;
}

/** Makes a fresh connection ID and its stateless reset token (injected: RNG and token key live outside). */
export type ConnectionIdFactory = () => { cid: Uint8Array; resetToken: Uint8Array };

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The connection IDs we issued and the peer may send to (§5.1.1). */
export class LocalConnectionIds {
  private readonly active = new Map<number, IssuedConnectionId>();
  private nextSequence = 0;
  private zeroLength = false;
  /** Sequence numbers whose NEW_CONNECTION_ID frame is due (first send or after loss). */
  readonly pendingAnnouncements = new Set<number>();
  /** Called when a CID starts (`true`) or stops (`false`) routing to this connection. */
  onRouteChange: (cid: Uint8Array, active: boolean) => void = () => {};

  constructor(
    private readonly factory: ConnectionIdFactory,
    /** How many CIDs the peer accepts (its active_connection_id_limit), known after the handshake. */
    private peerLimit = 2,
  ) {}

  /** Issues sequence 0, the CID carried in our first long headers' Source CID (§5.1.1). */
  issueInitial(cid?: Uint8Array, resetToken?: Uint8Array): IssuedConnectionId {
    // The token must be the given CID's own (RFC 9000 §10.3.2: recomputable from the CID after a
    // restart); a fresh pair is made only when none is given (a server's handshake CID is).
    const made = cid === undefined || resetToken === undefined ? this.factory() : undefined;
    const issued = { sequence: this.nextSequence++, cid: cid ?? made!.cid, resetToken: resetToken ?? made!.resetToken };
    this.zeroLength = issued.cid.length === 0;
    this.active.set(issued.sequence, issued);
    this.onRouteChange(issued.cid, true);
    return issued;
  }

  /**
   * Issues the next sequence number without a NEW_CONNECTION_ID frame: the server's
   * preferred_address CID, sequence 1 (RFC 9000 §5.1.1), which the transport parameter carries.
   */
  issueUnannounced(): IssuedConnectionId {
    const made = this.factory();
    const issued = { sequence: this.nextSequence++, cid: made.cid, resetToken: made.resetToken };
    this.active.set(issued.sequence, issued);
    this.onRouteChange(issued.cid, true);
    return issued;
  }

  get size(): number {
    return this.active.size;
  }

  get(sequence: number): IssuedConnectionId | undefined {
    return this.active.get(sequence);
  }

  all(): IterableIterator<IssuedConnectionId> {
    return this.active.values();
  }

  /** Sets the peer's active_connection_id_limit and issues CIDs up to it (§5.1.1). */
  setPeerLimit(limit: number): void {
    this.peerLimit = limit;
    this.topUp();
  }

  /** Issues new CIDs until the peer holds as many as it accepts (bounded by MAX_ISSUED_AT_ONCE). */
  topUp(): void {
    // RFC 9000 §5.1.1: with zero-length CIDs there is only the one; nothing to issue.
    if (this.zeroLength) return;
    // We keep at most 8 alive whatever the peer allows: enough for migration, bounded memory.
    const target = Math.min(this.peerLimit, 8);
    for (let guard = 0; this.active.size < target && guard < 16; guard++) {
      const made = this.factory();
      const issued = { sequence: this.nextSequence++, cid: made.cid, resetToken: made.resetToken };
      this.active.set(issued.sequence, issued);
      this.pendingAnnouncements.add(issued.sequence);
      this.onRouteChange(issued.cid, true);
    }
  }

  /**
   * The peer retired one of our CIDs (§19.16). `packetDcid` is the DCID of the packet carrying the
   * frame: retiring that one is a PROTOCOL_VIOLATION. Retiring twice is harmless (retransmission).
   */
  onRetire(sequence: number, packetDcid: Uint8Array): void {
    if (this.zeroLength) {
      // §19.16: a peer given a zero-length CID has nothing to retire.
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'RETIRE_CONNECTION_ID with zero-length connection IDs', 0x19);
    }
    if (sequence >= this.nextSequence) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `retired unissued connection ID ${sequence}`, 0x19);
    }
    const issued = this.active.get(sequence);
    if (!issued) return;
    if (equalBytes(issued.cid, packetDcid)) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'retired the connection ID the packet was sent to', 0x19);
    }
    this.active.delete(sequence);
    this.pendingAnnouncements.delete(sequence);
    this.onRouteChange(issued.cid, false);
    this.topUp(); // §5.1.1: SHOULD supply a new CID when the peer retires one
  }

  /** A NEW_CONNECTION_ID we sent was lost: announce it again unless it was retired meanwhile. */
  onAnnouncementLost(sequence: number): void {
    if (this.active.has(sequence)) this.pendingAnnouncements.add(sequence);
  }

  /** Stops routing every CID (connection gone). Idempotent. */
  retireAll(): void {
    for (const issued of this.active.values()) this.onRouteChange(issued.cid, false);
    this.active.clear();
    this.pendingAnnouncements.clear();
  }
}

interface PeerConnectionId extends IssuedConnectionId {}

/** The connection IDs the peer issued for us to send to (§5.1.2). */
export class PeerConnectionIds {
  private readonly active = new Map<number, PeerConnectionId>();
  private largestRetirePriorTo = 0;
  /** Sequence numbers whose RETIRE_CONNECTION_ID frame is due (first send or after loss). */
  readonly pendingRetirements = new Set<number>();
  private current: PeerConnectionId;

  /**
   * @param initial the peer's handshake CID (sequence 0) and, once known, its reset token
   * @param localLimit our active_connection_id_limit
   */
  constructor(initialCid: Uint8Array, private readonly localLimit: number) {
    this.current = { sequence: 0, cid: initialCid, resetToken: NO_RESET_TOKEN };
    this.active.set(0, this.current);
  }

  /** The CID we send to now. */
  get currentCid(): Uint8Array {
    return this.current.cid;
  }

  get currentSequence(): number {
    return this.current.sequence;
  }

  /** Replaces the handshake CID before any sequence was assigned (the server's SCID, or Retry's). */
  replaceInitial(cid: Uint8Array): void {
    const initial = { sequence: 0, cid, resetToken: this.active.get(0)?.resetToken ?? NO_RESET_TOKEN };
    this.active.set(0, initial);
    if (this.current.sequence === 0) this.current = initial;
  }

  /** The server's stateless_reset_token transport parameter belongs to sequence 0 (§18.2). */
  setInitialResetToken(token: Uint8Array): void {
    const initial = this.active.get(0);
    if (initial) this.active.set(0, { ...initial, resetToken: token });
    if (this.current.sequence === 0 && initial) this.current = this.active.get(0)!;
  }

  /** Every reset token of an active peer CID: a datagram ending in one is a stateless reset (§10.3.1). */
  resetTokens(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const c of this.active.values()) if (c.resetToken.length === STATELESS_RESET_TOKEN_LENGTH) out.push(c.resetToken);
    return out;
  }

  get size(): number {
    return this.active.size;
  }

  /** Handles NEW_CONNECTION_ID (§19.15). */
  onNewConnectionId(sequence: number, retirePriorTo: number, cid: Uint8Array, resetToken: Uint8Array): void {
    if (this.current.cid.length === 0) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID while using zero-length connection IDs', 0x18);
    }
    const known = this.active.get(sequence);
    if (known) {
      // A retransmission is fine; the same sequence with other values is not (§19.15).
      if (!equalBytes(known.cid, cid) || (known.resetToken.length > 0 && !equalBytes(known.resetToken, resetToken))) {
        throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `connection ID sequence ${sequence} reused`, 0x18);
      }
      return;
    }
    for (const other of this.active.values()) {
      if (equalBytes(other.cid, cid)) {
        throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'connection ID issued twice with different sequence numbers', 0x18);
      }
    }
    if (sequence < this.largestRetirePriorTo) {
      // §19.15: already covered by an earlier Retire Prior To: retire it straight away.
      this.pendingRetirements.add(sequence);
      return;
    }
    this.active.set(sequence, { sequence, cid, resetToken });
    if (retirePriorTo > this.largestRetirePriorTo) {
      // §5.1.2: stop using them and retire them before counting the new one against the limit.
      this.largestRetirePriorTo = retirePriorTo;
      for (const seq of [...this.active.keys()]) {
        if (seq < retirePriorTo) {
          this.active.delete(seq);
          this.pendingRetirements.add(seq);
        }
      }
      if (this.current.sequence < retirePriorTo) this.switchToLowestActive();
    }
    if (this.active.size > this.localLimit) {
      throw new QuicError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, `peer exceeded active_connection_id_limit ${this.localLimit}`, 0x18);
    }
    // Bound the retirements we track (§5.1.2 suggests twice the limit).
    if (this.pendingRetirements.size > 2 * this.localLimit + 8) {
      throw new QuicError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, 'too many connection IDs waiting for retirement', 0x18);
    }
  }

  /** The unused peer CID `rotate()` would move to (for probing another path first, §9.5), or undefined. */
  peekNext(): Uint8Array | undefined {
    let next: PeerConnectionId | undefined;
    for (const c of this.active.values()) {
      if (c.sequence !== this.current.sequence && (!next || c.sequence < next.sequence)) next = c;
    }
    return next?.cid;
  }

  /** Moves to an unused peer CID (migration, §9.5) and retires the old one. Returns false if none. */
  rotate(): boolean {
    let next: PeerConnectionId | undefined;
    for (const c of this.active.values()) {
      if (c.sequence !== this.current.sequence && (!next || c.sequence < next.sequence)) next = c;
    }
    if (!next) return false;
    this.active.delete(this.current.sequence);
    this.pendingRetirements.add(this.current.sequence);
    this.current = next;
    return true;
  }

  /** A RETIRE_CONNECTION_ID we sent was lost. */
  onRetirementLost(sequence: number): void {
    this.pendingRetirements.add(sequence);
  }

  private switchToLowestActive(): void {
    let lowest: PeerConnectionId | undefined;
    for (const c of this.active.values()) if (!lowest || c.sequence < lowest.sequence) lowest = c;
    // The frame that raised Retire Prior To also carried a CID at or above it, so one exists.
    if (lowest) this.current = lowest;
  }
}
