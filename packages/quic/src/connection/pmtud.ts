/**
 * Datagram Packetization Layer PMTU Discovery (RFC 8899, RFC 9000 §14.3) for one path.
 *
 * The connection starts at BASE_PLPMTU = 1,200 bytes, the size every QUIC path must carry
 * (RFC 9000 §14). Once the handshake is confirmed it sends probe packets (PING + PADDING, one
 * at a time, only while the connection has data moving so an idle connection stays quiet).
 * The first probe is optimistic: the search maximum (the smaller of the peer's
 * max_udp_payload_size and our own limit), tried once, since most paths carry it; if it is
 * lost, a binary search finds the largest size the path delivers. A size is confirmed when a probe of it is
 * acknowledged; it is given up on after MAX_PROBES lost probes (RFC 8899 §5.1.2). Probe losses
 * are not congestion signals (RFC 9000 §14.4); the connection marks those packets exempt.
 *
 * Black-hole detection (RFC 8899 §4.3, §5.2): when several full-size packets in a row are lost
 * with no full-size packet acknowledged meanwhile, or two PTOs expire in a row (when nothing
 * large gets through, nothing is acknowledged and no loss is ever declared), the size is in
 * doubt: packets go out at BASE_PLPMTU while a probe of the current size (sent whatever the
 * congestion window, one at a time) confirms it. Acknowledged: a false alarm, back to the
 * size. Lost MAX_PROBES times: the size falls back to BASE_PLPMTU and the search starts again
 * below it (the path's MTU shrank, e.g. a route change).
 *
 * Sans-IO and frame-blind: the connection asks `probeSize(now)` when it may send, reports
 * `onProbeSent/Acked/Lost` and `onLargePacketsAcked/Lost`, and reads `current` (the datagram
 * size to build packets at), which changes only through these calls.
 */

/** RFC 8899 §5.1.2 BASE_PLPMTU for QUIC (RFC 9000 §14.1). */
export const BASE_PLPMTU = 1200;
/** RFC 8899 §5.1.2 MAX_PROBES: lost probes of one size before it is deemed too big. */
export const MAX_PROBES = 3;
/** RFC 8899 §5.1.1 PMTU_RAISE_TIMER: a finished search is retried after this long (ms). */
export const PMTU_RAISE_TIMER_MS = 600_000;
/** Full-size packets lost in a row, with none acknowledged, before the size is doubted. */
export const BLACK_HOLE_LOSSES = 6;
/** The largest UDP payload at all (RFC 9000 §18.2 max_udp_payload_size limit). */
export const MAX_UDP_PAYLOAD = 65_527;

export type PmtudState = 'disabled' | 'searching' | 'search-complete' | 'confirming';

export class PathMtuDiscovery {
  /** The datagram size packets are built at (RFC 8899 PLPMTU). */
  current = BASE_PLPMTU;
  state: PmtudState = 'disabled';
  /** Probes sent and sizes confirmed over the connection (diagnostics, tests). */
  readonly stats = { probesSent: 0, probesLost: 0, probesAcked: 0, blackHoles: 0 };
  /** Called when `current` changes (the connection tells its congestion controller and pacer). */
  onSizeChange: (size: number) => void = () => {};

  /** Largest size known to pass. */
  #low = BASE_PLPMTU;
  /** Smallest size known to fail (exclusive upper bound of the search). */
  #high = BASE_PLPMTU + 1;
  #maxSize = BASE_PLPMTU;
  /** Size of the probe in flight, 0 when none. */
  #inFlight = 0;
  /** Lost probes of the size being tried. */
  #failures = 0;
  #nextSearchAt = Infinity;
  #largeLosses = 0;
  /** The next probe is the optimistic one at the search maximum. */
  #optimistic = false;

  /**
   * Starts searching (after handshake confirmation, RFC 9000 §14.3) up to `maxSize`: the
   * smaller of the peer's max_udp_payload_size and our configured maximum.
   */
  enable(maxSize: number, now: number): void {
    if (this.state !== 'disabled') return;
    this.#maxSize = Math.max(BASE_PLPMTU, Math.min(maxSize, MAX_UDP_PAYLOAD));
    this.#restartSearch(now);
  }

  /** The size to probe now, or 0: none due, one already in flight, or the search is over. */
  probeSize(now: number): number {
    if (this.#inFlight !== 0 || this.state === 'disabled') return 0;
    if (this.state === 'confirming') return this.current;
    if (this.state === 'search-complete') {
      if (now < this.#nextSearchAt) return 0;
      this.#restartSearch(now);
    }
    if (this.#high - this.#low <= 1) {
      this.#complete(now);
      return 0;
    }
    if (this.#optimistic) return this.#high - 1;
    // Binary search between the largest size that passed and the smallest that failed.
    return this.#low + Math.ceil((this.#high - this.#low) / 2);
  }

  /** The size to build ordinary packets at: the base while the current size is in doubt. */
  get sendSize(): number {
    return this.state === 'confirming' ? BASE_PLPMTU : this.current;
  }

  /** When a probe may become due without any other event (the raise timer), else Infinity. */
  get nextTimeout(): number {
    return this.state === 'search-complete' ? this.#nextSearchAt : Infinity;
  }

  onProbeSent(size: number): void {
    this.#inFlight = size;
    this.stats.probesSent++;
  }

  onProbeAcked(size: number): void {
    if (size !== this.#inFlight) return;
    this.#inFlight = 0;
    this.#failures = 0;
    this.#optimistic = false;
    this.stats.probesAcked++;
    this.#largeLosses = 0;
    if (this.state === 'confirming') {
      // False alarm: the path still carries the current size.
      this.state = this.#high - this.#low <= 1 ? 'search-complete' : 'searching';
      return;
    }
    if (size > this.#low) this.#low = size;
    if (size > this.current) this.#setCurrent(size);
  }

  onProbeLost(size: number, now: number): void {
    if (size !== this.#inFlight) return;
    this.#inFlight = 0;
    this.stats.probesLost++;
    if (this.#optimistic) {
      // One try only: the binary search below the maximum starts (and may try it again).
      this.#optimistic = false;
      return;
    }
    if (++this.#failures < MAX_PROBES) return; // RFC 8899 §5.1.2: try the same size again
    this.#failures = 0;
    if (this.state === 'confirming') {
      // RFC 8899 §5.2 (black hole): the current size no longer passes; start from the base.
      this.stats.blackHoles++;
      this.#setCurrent(BASE_PLPMTU);
      this.#restartSearch(now);
      this.#high = size;
      this.#optimistic = false;
      return;
    }
    if (size < this.#high) this.#high = size;
  }

  /** Full-size packets were acknowledged: the current size still passes. */
  onLargePacketAcked(): void {
    this.#largeLosses = 0;
  }

  /** A packet of the current size (not a probe) was declared lost. */
  onLargePacketLost(): void {
    if (this.current <= BASE_PLPMTU || this.state === 'disabled' || this.state === 'confirming') return;
    if (++this.#largeLosses < BLACK_HOLE_LOSSES) return;
    // RFC 8899 §4.3: suspect a black hole; confirm the size with a probe before shrinking.
    this.#largeLosses = 0;
    this.state = 'confirming';
    this.#failures = 0;
    this.#inFlight = 0;
  }

  /** Two or more PTOs expired in a row: maybe nothing of the current size gets through. */
  onRepeatedPto(): void {
    if (this.current <= BASE_PLPMTU || this.state === 'disabled' || this.state === 'confirming') return;
    this.#largeLosses = 0;
    this.state = 'confirming';
    this.#failures = 0;
    this.#inFlight = 0;
  }

  /** A new path (migration): its MTU is unknown, start again from the base (RFC 9000 §14.3). */
  resetForNewPath(now: number): void {
    if (this.state === 'disabled') return;
    this.#inFlight = 0;
    this.#failures = 0;
    this.#largeLosses = 0;
    this.#setCurrent(BASE_PLPMTU);
    this.#restartSearch(now);
  }

  #restartSearch(now: number): void {
    this.state = 'searching';
    this.#low = this.current;
    this.#high = this.#maxSize + 1;
    this.#optimistic = this.#high - this.#low > 1;
    this.#nextSearchAt = Infinity;
    if (this.#high - this.#low <= 1) this.#complete(now);
  }

  #complete(now: number): void {
    this.state = 'search-complete';
    this.#nextSearchAt = this.current < this.#maxSize ? now + PMTU_RAISE_TIMER_MS : Infinity;
  }

  #setCurrent(size: number): void {
    if (size === this.current) return;
    this.current = size;
    this.onSizeChange(size);
  }
}
