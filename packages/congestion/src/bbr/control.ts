/**
 * BBR's control parameters computed from the path model (draft-ietf-ccwg-bbr "Updating Control
 * Parameters"): pacing rate, send quantum, and the congestion-window targets and caps. Pure
 * functions of their inputs; bbr.ts owns the state. Volumes bytes, rates bytes per ms.
 */

import type { BbrModel } from './model.js';
import {
  BBR_HEADROOM,
  BBR_MAX_SEND_QUANTUM,
  BBR_PACING_MARGIN_PERCENT,
  BBR_PROBE_RTT_CWND_GAIN,
  BbrState,
} from './constants.js';

/** Draft SetPacingRateWithGain, the candidate rate: gain * bw * (100 - margin) / 100. */
export function pacingRateWithGain(gain: number, bw: number): number {
  return (gain * bw * (100 - BBR_PACING_MARGIN_PERCENT)) / 100;
}

/** Draft SetSendQuantum: 1 ms of the pacing rate, within [2 * SMSS, 64 KiB]. */
export function sendQuantumFor(pacingRate: number, smss: number): number {
  let quantum = pacingRate * 1; // one ms worth
  if (quantum > BBR_MAX_SEND_QUANTUM) quantum = BBR_MAX_SEND_QUANTUM;
  if (!(quantum >= 2 * smss)) quantum = 2 * smss;
  return quantum;
}

/** Draft BBR.MinPipeCwnd. */
export function minPipeCwnd(smss: number, segments: number): number {
  return segments * smss;
}

/**
 * Draft QuantizationBudget: room for offload (QUIC: one send quantum, draft "QUIC Offload
 * Budget"), at least MinPipeCwnd, and two more datagrams in ProbeBW_UP.
 */
export function quantizationBudget(
  inflightCap: number,
  sendQuantum: number,
  minPipe: number,
  smss: number,
  state: BbrState,
): number {
  let cap = inflightCap;
  if (cap < sendQuantum) cap = sendQuantum;
  if (cap < minPipe) cap = minPipe;
  if (state === BbrState.PROBE_BW_UP) cap += 2 * smss;
  return cap;
}

/** Draft Inflight(gain): the in-flight volume for `gain` times the estimated BDP. */
export function inflightFor(
  model: BbrModel,
  gain: number,
  initialCwnd: number,
  sendQuantum: number,
  minPipe: number,
  smss: number,
  state: BbrState,
): number {
  return quantizationBudget(model.bdpMultiple(gain, initialCwnd), sendQuantum, minPipe, smss, state);
}

/** Draft UpdateMaxInflight: cwnd_gain * BDP plus the aggregation allowance, quantized. */
export function maxInflightFor(
  model: BbrModel,
  cwndGain: number,
  initialCwnd: number,
  sendQuantum: number,
  minPipe: number,
  smss: number,
  state: BbrState,
): number {
  const cap = model.bdpMultiple(cwndGain, initialCwnd) + model.extraAcked;
  return quantizationBudget(cap, sendQuantum, minPipe, smss, state);
}

/** Draft InflightWithHeadroom: inflight_longterm minus 15 % headroom, at least MinPipeCwnd. */
export function inflightWithHeadroom(inflightLongterm: number, minPipe: number, smss: number): number {
  if (inflightLongterm === Infinity) return Infinity;
  const headroom = Math.max(smss, BBR_HEADROOM * inflightLongterm);
  return Math.max(inflightLongterm - headroom, minPipe);
}

/** Draft ProbeRTTCwnd: half the BDP, at least MinPipeCwnd. */
export function probeRttCwnd(model: BbrModel, initialCwnd: number, minPipe: number): number {
  const cwnd = model.bdpMultiple(BBR_PROBE_RTT_CWND_GAIN, initialCwnd);
  return cwnd > minPipe ? cwnd : minPipe;
}

/**
 * Draft SetCwnd before the ProbeRTT and model bounds: grow by the bytes acknowledged, towards
 * max_inflight once the pipe was filled, freely before that while below it (or while less than
 * the initial window was delivered); never below MinPipeCwnd.
 */
export function grownCwnd(
  cwnd: number,
  newlyAcked: number,
  maxInflight: number,
  fullBwReached: boolean,
  totalDelivered: number,
  initialCwnd: number,
  minPipe: number,
): number {
  let next = cwnd;
  if (fullBwReached) {
    next = Math.min(cwnd + newlyAcked, maxInflight);
  } else if (cwnd < maxInflight || totalDelivered < initialCwnd) {
    next = cwnd + newlyAcked;
  }
  return next > minPipe ? next : minPipe;
}

/** Draft BoundCwndForModel: the volume cap of the current state (the draft's summary table). */
export function modelCwndCap(state: BbrState, model: BbrModel, minPipe: number, smss: number): number {
  let cap = Infinity;
  if (
    state === BbrState.PROBE_BW_DOWN ||
    state === BbrState.PROBE_BW_REFILL ||
    state === BbrState.PROBE_BW_UP
  ) {
    cap = model.inflightLongterm;
  } else if (state === BbrState.PROBE_RTT || state === BbrState.PROBE_BW_CRUISE) {
    cap = inflightWithHeadroom(model.inflightLongterm, minPipe, smss);
  }
  if (model.inflightShortterm < cap) cap = model.inflightShortterm;
  return cap > minPipe ? cap : minPipe;
}
