/**
 * The scenarios of the congestion-control proof (issue 6), shared by the tests in this directory
 * and by `pnpm netsim`: one bottleneck of 20 Mbit/s, 40 ms minimum RTT and a drop-tail buffer
 * of one bandwidth-delay product, carrying 50 MB downloads.
 */

import type { BottleneckConfig, ControllerName, ScenarioConfig } from './scenario.js';

export const CONTROLLERS: readonly ControllerName[] = ['newreno', 'cubic', 'bbr'];

/** 20 Mbit/s * 40 ms = 100,000 bytes. */
export const BANDWIDTH_BPS = 20_000_000;
export const RTT_MS = 40;
export const BDP_BYTES = (BANDWIDTH_BPS / 8) * (RTT_MS / 1000);

export const BOTTLENECK: BottleneckConfig = { bandwidthBps: BANDWIDTH_BPS, rttMs: RTT_MS, bufferBytes: BDP_BYTES };

/** Bytes per flow: 50 MB (10^6), as the issue asks. */
export const TRANSFER_BYTES = 50_000_000;

/** The seed every scenario uses unless told otherwise (SIM_SEED overrides it). */
export const DEFAULT_SEED = Number(process.env.SIM_SEED ?? 1);

/** One flow alone on the bottleneck. */
export function singleFlow(controller: ControllerName, seed = DEFAULT_SEED, bytes = TRANSFER_BYTES): ScenarioConfig {
  return { name: `single ${controller}`, seed, bottleneck: BOTTLENECK, flows: [{ controller, bytes }] };
}

/**
 * Two flows of the same controller; the second starts 1 s after the first, so it has to win its
 * share from a flow that already fills the pipe. Fairness is measured from 5 s after the second
 * start until the first flow completes.
 */
export function twoFlows(controller: ControllerName, seed = DEFAULT_SEED, bytes = TRANSFER_BYTES): ScenarioConfig {
  return {
    name: `two flows ${controller}`,
    seed,
    bottleneck: BOTTLENECK,
    flows: [
      { controller, bytes },
      { controller, bytes, startMs: 1_000 },
    ],
    convergenceMs: 5_000,
  };
}

/**
 * One flow with 1% random loss on the bottleneck (independent of the queue). Loss-based
 * controllers are slow here (about 1.22 * MSS / (RTT * sqrt(p)) for Reno, a few Mbit/s), so the
 * run may last minutes of virtual time; goodput is over the whole transfer.
 */
export function randomLoss(controller: ControllerName, seed = DEFAULT_SEED, bytes = TRANSFER_BYTES): ScenarioConfig {
  return {
    name: `1% loss ${controller}`,
    seed,
    bottleneck: { ...BOTTLENECK, lossRate: 0.01 },
    flows: [{ controller, bytes }],
    maxTimeMs: 600_000,
  };
}
