/**
 * A token-bucket pacer (RFC 9002 §7.7: "a leaky bucket algorithm, where the capacity of the
 * bucket is limited to the maximum burst size and the rate the bucket fills is determined by"
 * rate = N * cwnd / smoothed_rtt).
 *
 * Sans-IO: the caller asks `timeUntilSend(now, bytes)` and arms its own timer; after sending
 * it reports `onSent(now, bytes)`. Packets carrying only ACK frames should not be paced
 * (§7.7), so callers neither ask nor report for them.
 */

import { PACING_GAIN } from './controller.js';

/** Options of {@link Pacer}. */
export interface PacerOptions {
  /** Maximum datagram size in bytes; default 1200. */
  maxDatagramSize?: number;
  /**
   * The bucket holds at least this many datagrams, so small windows still send in pairs;
   * default 2.
   */
  minBurstPackets?: number;
  /**
   * The bucket holds at least this much time's worth of the rate, so a timer that wakes
   * this late still keeps up with the rate; default 2 ms.
   */
  burstIntervalMs?: number;
  /**
   * Upper bound of the bucket in bytes, on top of the congestion window bound that
   * {@link Pacer.setRate} applies (RFC 9002 §7.7: limit bursts to the initial window unless the
   * path is known to absorb more); default no extra bound.
   */
  maxBurstBytes?: number;
}

/** Token-bucket pacer; times in ms, rates in bytes per ms. */
export class Pacer {
  readonly #minBurstPackets: number;
  readonly #burstIntervalMs: number;
  readonly #maxBurstBytes: number;
  #maxDatagramSize: number;
  /** Fill rate, bytes per ms; Infinity = not paced (no RTT estimate yet). */
  #rate = Infinity;
  #capacity: number;
  #tokens: number;
  #lastUpdate = -Infinity;
  #congestionWindow = Infinity;

  constructor(options: PacerOptions = {}) {
    this.#maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.#minBurstPackets = options.minBurstPackets ?? 2;
    this.#burstIntervalMs = options.burstIntervalMs ?? 2;
    this.#maxBurstBytes = options.maxBurstBytes ?? Infinity;
    this.#capacity = this.#minBurstPackets * this.#maxDatagramSize;
    this.#tokens = this.#capacity;
  }

  /** Current fill rate in bytes per ms. */
  get rate(): number {
    return this.#rate;
  }

  /** Current bucket size (maximum burst) in bytes. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens (bytes) available at the last update. */
  get tokens(): number {
    return this.#tokens;
  }

  /** Updates the datagram size used for the minimum burst. */
  setMaxDatagramSize(bytes: number): void {
    this.#maxDatagramSize = bytes;
    this.#resize(this.#capacityLimit(this.#congestionWindow));
  }

  /**
   * Sets the fill rate (bytes per ms, e.g. `controller.pacingRate(srtt)`) and bounds the burst
   * by `congestionWindow`. Call whenever the window or the RTT estimate changes.
   */
  setRate(now: number, bytesPerMs: number, congestionWindow: number): void {
    this.#refill(now);
    this.#rate = bytesPerMs > 0 ? bytesPerMs : 0;
    this.#congestionWindow = congestionWindow;
    this.#resize(this.#capacityLimit(congestionWindow));
  }

  /** Convenience: rate = N * cwnd / srtt with N = 1.25 (RFC 9002 §7.7). */
  setWindow(now: number, congestionWindow: number, smoothedRtt: number): void {
    const rate = smoothedRtt > 0 ? (PACING_GAIN * congestionWindow) / smoothedRtt : Infinity;
    this.setRate(now, rate, congestionWindow);
  }

  /**
   * Milliseconds to wait before a packet of `bytes` may leave; 0 means now. Never negative.
   */
  timeUntilSend(now: number, bytes: number): number {
    this.#refill(now);
    const needed = Math.min(bytes, this.#capacity);
    if (this.#tokens >= needed) return 0;
    if (this.#rate === Infinity) return 0;
    if (this.#rate === 0) return Infinity;
    return (needed - this.#tokens) / this.#rate;
  }

  /** Absolute time a packet of `bytes` may leave (`now` or later). */
  nextSendTime(now: number, bytes: number): number {
    return now + this.timeUntilSend(now, bytes);
  }

  /** A paced packet of `bytes` was sent at `now`. */
  onSent(now: number, bytes: number): void {
    this.#refill(now);
    this.#tokens -= bytes;
    // A send that ignored the pacer leaves a debt of at most one bucket, repaid by later waits.
    if (this.#tokens < -this.#capacity) this.#tokens = -this.#capacity;
  }

  #capacityLimit(congestionWindow: number): number {
    const floor = this.#minBurstPackets * this.#maxDatagramSize;
    const cap = Math.min(this.#rate * this.#burstIntervalMs, congestionWindow, this.#maxBurstBytes);
    // An unpaced sender (rate Infinity) still gets a finite bucket for when pacing starts.
    return cap >= floor && cap !== Infinity ? cap : floor;
  }

  #resize(capacity: number): void {
    this.#capacity = capacity;
    if (this.#tokens > capacity) this.#tokens = capacity;
  }

  #refill(now: number): void {
    if (now <= this.#lastUpdate) return;
    const elapsed = this.#lastUpdate === -Infinity ? Infinity : now - this.#lastUpdate;
    this.#lastUpdate = now;
    if (this.#rate === Infinity || elapsed === Infinity) {
      this.#tokens = this.#capacity;
      return;
    }
    const t = this.#tokens + elapsed * this.#rate;
    this.#tokens = t > this.#capacity ? this.#capacity : t;
  }
}
