/** Turns a scenario's sampled time series into the report's chart: window, goodput, queue. */

import type { ScenarioResult } from '../../packages/quic/test/congestion/scenario.js';
import type { Chart, Series } from './svg.js';

const FLOW_COLORS = [
  { cwnd: '#1f77b4', inFlight: '#7fb8e0', goodput: '#1f77b4' },
  { cwnd: '#d62728', inFlight: '#f09a9a', goodput: '#d62728' },
  { cwnd: '#2ca02c', inFlight: '#98df8a', goodput: '#2ca02c' },
];

/** Goodput is averaged over this many samples in the plot (one sample holds few packets). */
const GOODPUT_SMOOTHING = 5;

/** The chart for one scenario run. */
export function scenarioChart(r: ScenarioResult): Chart {
  const period = r.config.sampleEveryMs ?? 50;
  const { bandwidthBps, rttMs, bufferBytes, lossRate } = r.config.bottleneck;
  const bdp = (bandwidthBps / 8) * (rttMs / 1000);
  const windows: Series[] = [];
  const goodput: Series[] = [];
  r.flows.forEach((flow, i) => {
    const colors = FLOW_COLORS[i % FLOW_COLORS.length]!;
    const name = r.flows.length > 1 ? `flow ${i + 1} ` : '';
    // A flow's series end with its transfer (one sample past its last byte).
    const end = Number.isNaN(flow.endMs) ? Infinity : flow.endMs + period;
    const samples = flow.samples.filter((s) => s.time >= flow.startMs && s.time <= end);
    const x = samples.map((s) => s.time / 1000);
    windows.push({ label: `${name}cwnd`, color: colors.cwnd, x, y: samples.map((s) => s.cwnd / 1000) });
    windows.push({ label: `${name}in flight`, color: colors.inFlight, x, y: samples.map((s) => s.bytesInFlight / 1000), dashed: true });
    goodput.push({ label: `${name}goodput`, color: colors.goodput, x, y: movingAverage(samples.map((s) => s.goodputBps / 1e6), GOODPUT_SMOOTHING) });
  });
  const controller = r.flows[0]?.controller ?? '';
  const loss = lossRate !== undefined && lossRate > 0 ? `, ${lossRate * 100}% random loss` : '';
  return {
    title: `${r.name}`,
    subtitle: `${controller}: ${bandwidthBps / 1e6} Mbit/s, ${rttMs} ms RTT, buffer ${bufferBytes / 1000} kB${loss}; sampled every ${period} ms of virtual time`,
    xLabel: 'virtual time (s)',
    panels: [
      {
        title: 'Congestion window and bytes in flight (sender)',
        yLabel: 'kB',
        series: windows,
        references: [
          { label: 'BDP', value: bdp / 1000, color: '#444' },
          { label: 'BDP + buffer', value: (bdp + bufferBytes) / 1000, color: '#aa7700' },
        ],
      },
      {
        title: `Goodput (read by the client; ${GOODPUT_SMOOTHING * period} ms moving average)`,
        yLabel: 'Mbit/s',
        series: goodput,
        references: [{ label: 'link rate', value: bandwidthBps / 1e6, color: '#444' }],
      },
      {
        title: 'Bottleneck queue (as delay at the link rate)',
        yLabel: 'ms',
        series: [{ label: 'queue', color: '#9467bd', x: r.queueSamples.map((s) => s.time / 1000), y: r.queueSamples.map((s) => s.delayMs) }],
        references: [{ label: 'buffer full', value: (bufferBytes * 8000) / bandwidthBps, color: '#aa7700' }],
      },
    ],
  };
}

/** Trailing moving average over `n` values. */
function movingAverage(values: readonly number[], n: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] as number;
    if (i >= n) sum -= values[i - n] as number;
    out.push(sum / Math.min(i + 1, n));
  }
  return out;
}
