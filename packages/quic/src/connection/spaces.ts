/**
 * Per packet-number-space state (RFC 9000 §12.3): keys, packet numbers, the ACK tracker and the
 * CRYPTO stream in each direction. Initial, Handshake and Application; 0-RTT and 1-RTT packets
 * share the Application space.
 */

import { type PacketProtectionKeys, nextKeyPhaseKeys } from '../crypto/keys.js';
import type { SymmetricCrypto } from '../crypto/provider.js';
import { PacketType } from '../packet/types.js';
import { AckTracker } from '../recovery/ack-tracker.js';
import { PacketNumberSpace } from '../recovery/packet-number-space.js';
import { RecvBuffer } from '../stream/recv-buffer.js';
import { SendBuffer } from '../stream/send-buffer.js';

/** RFC 9000 §7.5: at least 4096 bytes of out-of-order CRYPTO data must be buffered; we allow more. */
export const MAX_CRYPTO_BUFFER = 64 * 1024;

export class PacketSpace {
  readKeys: PacketProtectionKeys | undefined;
  writeKeys: PacketProtectionKeys | undefined;
  nextPacketNumber = 0;
  /** Largest of our packet numbers the peer acknowledged (-1: none), for PN encoding (§17.1). */
  largestAcked = -1;
  discarded = false;
  // Made on first use and dropped on discard (issue 11: a connection whose handshake is over
  // keeps nothing of its Initial and Handshake spaces but these few fields).
  #ack: AckTracker | undefined;
  #cryptoSend: SendBuffer | undefined;
  #cryptoRecv: RecvBuffer | undefined;

  constructor(
    readonly id: PacketNumberSpace,
    private readonly maxAckDelayMs: number,
  ) {}

  /** Received packet numbers and ACK scheduling (RFC 9000 §13.2). */
  get ack(): AckTracker {
    return (this.#ack ??= new AckTracker(this.id, { maxAckDelayMs: this.maxAckDelayMs }));
  }

  /** The CRYPTO stream we send in this space (RFC 9000 §19.6). */
  get cryptoSend(): SendBuffer {
    return (this.#cryptoSend ??= new SendBuffer());
  }

  /** The CRYPTO stream we receive in this space. */
  get cryptoRecv(): RecvBuffer {
    return (this.#cryptoRecv ??= new RecvBuffer());
  }

  /** Whether the space still holds its ACK tracker or CRYPTO buffers (tests check discard releases them). */
  get holdsState(): boolean {
    return this.#ack !== undefined || this.#cryptoSend !== undefined || this.#cryptoRecv !== undefined;
  }

  /** The long-header packet type we send in this space (1-RTT for Application). */
  get packetType(): PacketType {
    return this.id === PacketNumberSpace.INITIAL
      ? PacketType.INITIAL
      : this.id === PacketNumberSpace.HANDSHAKE
        ? PacketType.HANDSHAKE
        : PacketType.ONE_RTT;
  }

  /**
   * Drops keys and state (RFC 9001 §4.9): the ACK tracker and both CRYPTO buffers go; nothing
   * reads them once `discarded` is set (packets of the space are dropped unopened, none is sent).
   * Idempotent.
   */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.#ack = undefined;
    this.#cryptoSend = undefined;
    this.#cryptoRecv = undefined;
  }
}

/**
 * 1-RTT key phases (RFC 9001 §6). The next read keys are derived ahead of time (§6.3) so a
 * packet of the next phase can be opened without delay; the previous ones stay for packets
 * reordered across the update until `previousExpiry`.
 */
export class KeyPhases {
  phase: 0 | 1 = 0;
  read: PacketProtectionKeys | undefined;
  write: PacketProtectionKeys | undefined;
  #nextRead: PacketProtectionKeys | undefined;
  previous: PacketProtectionKeys | undefined;
  previousExpiry = Infinity;
  /** Smallest packet number received in the current phase (older phase packets are below it). */
  firstPacketInPhase = -1;
  updates = 0;

  constructor(private readonly crypto: SymmetricCrypto) {}

  install(read: PacketProtectionKeys | undefined, write: PacketProtectionKeys | undefined): void {
    if (read) {
      this.read = read;
      this.#nextRead = undefined;
      this.nextRead(); // §6.3: ready before the peer's first update, not derived on the packet path
    }
    if (write) this.write = write;
  }

  nextRead(): PacketProtectionKeys | undefined {
    if (!this.read) return undefined;
    this.#nextRead ??= nextKeyPhaseKeys(this.crypto, this.read);
    return this.#nextRead;
  }

  /** The peer moved to the next phase (a packet opened with `nextRead`): follow it (§6.2). */
  onPeerUpdate(packetNumber: number, now: number, ptoMs: number): void {
    const next = this.nextRead();
    if (!next || !this.write) return;
    this.previous = this.read;
    this.previousExpiry = now + 3 * ptoMs; // §6.5: keep old keys for about 3 PTO
    this.read = next;
    this.#nextRead = undefined;
    this.write = nextKeyPhaseKeys(this.crypto, this.write);
    this.phase = this.phase === 0 ? 1 : 0;
    this.firstPacketInPhase = packetNumber;
    this.updates++;
    this.nextRead(); // §6.3: derive the following phase's read keys now, not on the packet path
  }

  /**
   * We start the next phase (RFC 9001 §6.1). The old read keys stay for the peer's packets still
   * in the old phase; their 3 PTO countdown (§6.5) starts once the peer's first packet of the new
   * phase arrives (`onPacketInPhase`), since until then every packet it sends is old-phase.
   */
  initiateUpdate(): boolean {
    const next = this.nextRead();
    if (!next || !this.write) return false;
    this.previous = this.read;
    this.previousExpiry = Infinity;
    this.read = next;
    this.#nextRead = undefined;
    this.write = nextKeyPhaseKeys(this.crypto, this.write);
    this.phase = this.phase === 0 ? 1 : 0;
    this.firstPacketInPhase = Infinity;
    this.updates++;
    this.nextRead();
    return true;
  }

  /** A packet of the current phase was opened: track the phase's lowest packet number (§6.3). */
  onPacketInPhase(packetNumber: number, now: number, ptoMs: number): void {
    if (this.firstPacketInPhase >= 0 && packetNumber >= this.firstPacketInPhase) return;
    if (this.firstPacketInPhase === Infinity && this.previous) this.previousExpiry = now + 3 * ptoMs;
    this.firstPacketInPhase = packetNumber;
  }

  dropPreviousIfExpired(now: number): void {
    if (now >= this.previousExpiry) {
      this.previous = undefined;
      this.previousExpiry = Infinity;
    }
  }
}
