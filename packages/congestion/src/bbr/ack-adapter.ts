/**
 * Rebuilds BBR's rate sample from the summary fields of an {@link AckSample}, for callers that do
 * not run a {@link DeliveryRateEstimator} and attach its `rateSample`. RS.lost (bytes declared lost
 * between the sampled packet's send and its ACK) is not in the summary; it is recovered here from
 * C.lost recorded at send time in a ring keyed by packet number. A ring slot reused by another
 * packet (or a sampled packet that was never reported as sent, e.g. ACK-only) gives RS.lost = 0.
 */

import type { AckSample } from '../controller.js';
import { createRateSample, type DeliveryRateEstimator, type RateSample } from '../delivery-rate.js';

const RING_SIZE = 4096;
const RING_MASK = RING_SIZE - 1;

/** AckSample -> RateSample adapter with its lost-at-send ring; one per controller. */
export class AckSampleAdapter {
  /** C.lost: bytes declared lost so far (the owner adds to it). */
  lost = 0;
  readonly #lostAtSend = new Float64Array(RING_SIZE);
  readonly #pnAtSend = new Float64Array(RING_SIZE).fill(-1);
  readonly #rs: RateSample = createRateSample();

  /** Records C.lost when `packetNumber` was sent. */
  onPacketSent(packetNumber: number): void {
    const slot = packetNumber & RING_MASK;
    this.#lostAtSend[slot] = this.lost;
    this.#pnAtSend[slot] = packetNumber;
  }

  /** The rate sample for `sample` (a reused object). */
  rateSampleFrom(sample: AckSample): RateSample {
    const rs = this.#rs;
    const hasData = sample.ackedBytes > 0;
    rs.hasData = hasData;
    rs.deliveryRate = sample.deliveryRate;
    rs.isAppLimited = sample.appLimited;
    rs.interval = sample.deliveryInterval;
    rs.delivered = hasData ? sample.delivered - sample.priorDelivered : 0;
    rs.priorDelivered = sample.priorDelivered;
    rs.newlyAcked = sample.ackedBytes;
    rs.txInFlight = sample.sampleTxInFlight;
    rs.rtt = sample.rttUpdated ? sample.rtt.latestRtt : -1;
    rs.lastAckedPacketNumber = sample.largestAckedPacketNumber;
    rs.totalDelivered = sample.delivered;
    rs.totalLost = this.lost;
    const pn = sample.largestAckedPacketNumber;
    const slot = pn & RING_MASK;
    rs.lost = hasData && pn >= 0 && this.#pnAtSend[slot] === pn ? this.lost - this.#lostAtSend[slot]! : 0;
    return rs;
  }
}
