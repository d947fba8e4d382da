/**
 * A small fake path on virtual time for controller tests: one bottleneck of `rateBytesPerMs` with
 * a drop-tail buffer of `bufferBytes`, a fixed round-trip propagation delay `rttMs`, and a receiver
 * that acknowledges every packet at once. The sender always has data, paces with {@link Pacer} at
 * `cc.pacingRate(srtt)`, detects loss by packet threshold (3) and time threshold (9/8 RTT) as
 * RFC 9002 §6.1 does, and keeps a {@link DeliveryRateEstimator} to produce rate samples. Not the
 * network simulator of @purequic/quic: just enough to close the control loop.
 */

import {
  type AckSample,
  type CongestionController,
  createAckSample,
  type DeliveryPacketState,
  DeliveryRateEstimator,
  Pacer,
} from '../../src/index.js';

export interface LinkConfig {
  /** Bottleneck rate, bytes per ms. */
  rateBytesPerMs: number;
  /** Round-trip propagation delay, ms. */
  rttMs: number;
  /** Drop-tail buffer at the bottleneck, bytes. */
  bufferBytes: number;
  /** Datagram size; default 1200. */
  mds?: number;
  /** Attach the full rate sample to AckSample and report per-packet loss detail; default true. */
  fullRateSamples?: boolean;
  /** Drop every packet whose number satisfies this (on top of buffer drops). */
  dropIf?: (pn: number) => boolean;
}

/** Per-ms observations collected by {@link runLink}. */
export interface LinkTrace {
  time: number[];
  cwnd: number[];
  /** Bytes in flight at the observation. */
  inflight: number[];
  /** Latest RTT sample at the observation. */
  rtt: number[];
  /** Bytes delivered (acknowledged) up to the observation. */
  delivered: number[];
  lostPackets: number;
  sentPackets: number;
}

interface Packet extends DeliveryPacketState {
  acked: boolean;
  lost: number;
  declaredLost: boolean;
}

/** Runs the loop for `durationMs` of virtual time; `observe` runs at each whole ms. */
export function runLink(
  cc: CongestionController,
  cfg: LinkConfig,
  durationMs: number,
  observe?: (now: number, trace: LinkTrace) => void,
): LinkTrace {
  const mds = cfg.mds ?? 1200;
  const full = cfg.fullRateSamples ?? true;
  const rate = cfg.rateBytesPerMs;
  const estimator = new DeliveryRateEstimator();
  const pacer = new Pacer({ maxDatagramSize: mds });
  const rtt = { latestRtt: 0, smoothedRtt: cfg.rttMs, rttVar: cfg.rttMs / 2, minRtt: 0, hasSample: false };
  const sample: AckSample = createAckSample(rtt);
  const trace: LinkTrace = { time: [], cwnd: [], inflight: [], rtt: [], delivered: [], lostPackets: 0, sentPackets: 0 };

  // Packets in send order; `head` is the oldest not yet acknowledged or lost.
  const packets: Packet[] = [];
  let head = 0;
  // Arrivals of ACKs: [time, packet number], non-decreasing in time (FIFO bottleneck).
  const ackTimes: number[] = [];
  const ackPns: number[] = [];
  let ackHead = 0;
  let linkFreeAt = 0;
  let bytesInFlight = 0;
  let largestAcked = -1;
  let now = 0;
  let nextObserve = 0;

  const send = (): void => {
    const pn = packets.length;
    const p: Packet = {
      packetNumber: pn,
      timeSent: now,
      size: mds,
      delivered: 0,
      deliveredTime: 0,
      firstSentTime: 0,
      appLimited: false,
      txInFlight: 0,
      lost: 0,
      acked: false,
      declaredLost: false,
    };
    packets.push(p);
    bytesInFlight += mds;
    estimator.onPacketSent(p, now, bytesInFlight);
    cc.onPacketSent(now, mds, pn, true, bytesInFlight);
    pacer.onSent(now, mds);
    trace.sentPackets++;
    // The bottleneck: queue backlog in bytes is what it still has to transmit.
    const backlog = Math.max(0, linkFreeAt - now) * rate;
    if (backlog > cfg.bufferBytes || cfg.dropIf?.(pn)) return; // dropped
    const departure = Math.max(now, linkFreeAt) + mds / rate;
    linkFreeAt = departure;
    ackTimes.push(departure + cfg.rttMs);
    ackPns.push(pn);
  };

  const declareLost = (p: Packet): void => {
    p.declaredLost = true;
    bytesInFlight -= p.size;
    trace.lostPackets++;
    const lostSince = estimator.onPacketLost(p);
    if (full) cc.onPacketLostDetail?.(now, p.size, p.txInFlight, lostSince, p.appLimited);
  };

  /** Processes one ACK frame acknowledging packet `pn`. */
  const onAck = (pn: number): void => {
    const p = packets[pn]!;
    if (p.acked || p.declaredLost) return; // late ACK of a packet already declared lost: ignore
    const prior = bytesInFlight;
    estimator.beginAck();
    // RTT sample from the largest acknowledged (RFC 9002 §5.1).
    let rttUpdated = false;
    if (pn > largestAcked) {
      largestAcked = pn;
      const latest = now - p.timeSent;
      rtt.latestRtt = latest;
      if (!rtt.hasSample) {
        rtt.minRtt = latest;
        rtt.smoothedRtt = latest;
        rtt.rttVar = latest / 2;
        rtt.hasSample = true;
      } else {
        if (latest < rtt.minRtt) rtt.minRtt = latest;
        rtt.rttVar = 0.75 * rtt.rttVar + 0.25 * Math.abs(rtt.smoothedRtt - latest);
        rtt.smoothedRtt = 0.875 * rtt.smoothedRtt + 0.125 * latest;
      }
      rttUpdated = true;
    }
    // Loss detection (RFC 9002 §6.1) before the acknowledgment grows the window.
    let lostBytes = 0;
    let largestLostSent = -Infinity;
    const lossDelay = Math.max(1.125 * Math.max(rtt.smoothedRtt, rtt.latestRtt), 1);
    for (let i = head; i < largestAcked && i < packets.length; i++) {
      const q = packets[i]!;
      if (q.acked || q.declaredLost) continue;
      if (largestAcked - i >= 3 || q.timeSent <= now - lossDelay) {
        declareLost(q);
        lostBytes += q.size;
        if (q.timeSent > largestLostSent) largestLostSent = q.timeSent;
      }
    }
    if (lostBytes > 0) cc.onPacketsLost(now, lostBytes, largestLostSent);
    p.acked = true;
    bytesInFlight -= p.size;
    estimator.onPacketAcked(p, now);
    cc.onPacketAcked(now, p.size, p.timeSent, p.appLimited);
    estimator.endAck(rtt.hasSample ? rtt.minRtt : 0);
    const rs = estimator.sample;
    sample.now = now;
    sample.ackedBytes = p.size;
    sample.ackedPackets = 1;
    sample.largestAckedPacketNumber = pn;
    sample.largestAckedSentTime = p.timeSent;
    sample.priorBytesInFlight = prior;
    sample.bytesInFlight = bytesInFlight;
    sample.rttUpdated = rttUpdated;
    sample.delivered = rs.totalDelivered;
    sample.priorDelivered = rs.priorDelivered;
    sample.deliveryInterval = rs.interval;
    sample.deliveryRate = rs.deliveryRate;
    sample.sampleTxInFlight = rs.txInFlight;
    sample.appLimited = rs.isAppLimited;
    if (full) sample.rateSample = rs;
    cc.onPacketsAcked(sample);
    while (head < packets.length && (packets[head]!.acked || packets[head]!.declaredLost)) head++;
  };

  let lastProgress = 0;
  for (let step = 0; step < 5_000_000 && now < durationMs; step++) {
    // Deliver every ACK due now.
    while (ackHead < ackTimes.length && ackTimes[ackHead]! <= now) {
      onAck(ackPns[ackHead]!);
      ackHead++;
      lastProgress = now;
    }
    // A crude probe timeout: nothing acknowledged for a while, everything in flight is lost.
    if (bytesInFlight > 0 && now - lastProgress > 3 * rtt.smoothedRtt + 4 * rtt.rttVar + 10) {
      let lostBytes = 0;
      let largestLostSent = -Infinity;
      for (let i = head; i < packets.length; i++) {
        const q = packets[i]!;
        if (q.acked || q.declaredLost) continue;
        declareLost(q);
        lostBytes += q.size;
        largestLostSent = q.timeSent;
      }
      if (lostBytes > 0) cc.onPacketsLost(now, lostBytes, largestLostSent);
      lastProgress = now;
    }
    // Send what the window and the pacer allow.
    pacer.setRate(now, cc.pacingRate(rtt.smoothedRtt), cc.congestionWindow);
    let wait = Infinity;
    for (let burst = 0; burst < 1000 && cc.canSend(bytesInFlight, mds); burst++) {
      const w = pacer.timeUntilSend(now, mds);
      if (w > 0) {
        wait = w;
        break;
      }
      send();
    }
    while (nextObserve <= now) {
      trace.time.push(nextObserve);
      trace.cwnd.push(cc.congestionWindow);
      trace.inflight.push(bytesInFlight);
      trace.rtt.push(rtt.latestRtt);
      trace.delivered.push(estimator.delivered);
      observe?.(nextObserve, trace);
      nextObserve++;
    }
    // Next event: an ACK, a pacing slot, an observation, or the timeout check.
    let next = nextObserve;
    if (ackHead < ackTimes.length && ackTimes[ackHead]! < next) next = ackTimes[ackHead]!;
    if (now + wait < next) next = now + wait;
    now = next > now ? next : now + 1e-6;
  }
  return trace;
}

/** Mean of `values` over indices whose time is in [from, to). */
export function meanOver(trace: LinkTrace, values: number[], from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < trace.time.length; i++) {
    const t = trace.time[i]!;
    if (t >= from && t < to) {
      sum += values[i]!;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/** Delivery rate (bytes per ms) between two observation times. */
export function goodput(trace: LinkTrace, from: number, to: number): number {
  const a = trace.delivered[Math.floor(from)] ?? 0;
  const b = trace.delivered[Math.min(Math.floor(to), trace.delivered.length - 1)] ?? 0;
  return (b - a) / (to - from);
}
