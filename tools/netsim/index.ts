/**
 * `pnpm netsim`: runs the congestion-control scenarios of issue 6 with real QUIC connections on
 * the deterministic simulator (packages/quic/test/congestion/scenarios.ts: 20 Mbit/s, 40 ms
 * RTT, 1-BDP drop-tail buffer, 50 MB per flow), prints a table per scenario and controller, and
 * writes one SVG per scenario and controller (cwnd, bytes in flight, goodput, bottleneck queue
 * over virtual time) plus index.html into netsim-report/.
 *
 *   pnpm netsim                       every scenario, every controller
 *   pnpm netsim -- cubic              only runs whose name contains every given word
 *   pnpm netsim -- --mb=10 --seed=3   10 MB per flow, seed 3 (SIM_SEED works too)
 *
 * Same seed, same figures: virtual time only. The CPU column is wall time on this machine.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario, type ScenarioConfig, type ScenarioResult } from '../../packages/quic/test/congestion/scenario.js';
import { CONTROLLERS, DEFAULT_SEED, randomLoss, singleFlow, TRANSFER_BYTES, twoFlows } from '../../packages/quic/test/congestion/scenarios.js';
import { scenarioChart } from './plots.js';
import { renderChart } from './svg.js';
import { formatTable, type Row } from './table.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'netsim-report');

const args = process.argv.slice(2).filter((a) => a !== '--');
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const words = args.filter((a) => !a.startsWith('--'));
const bytes = option('mb') !== undefined ? Math.round(Number(option('mb')) * 1e6) : TRANSFER_BYTES;
const seed = option('seed') !== undefined ? Number(option('seed')) : DEFAULT_SEED;
if (!(bytes > 0) || !Number.isInteger(seed)) throw new Error('usage: pnpm netsim -- [--mb=N] [--seed=N] [words...]');

const configs: ScenarioConfig[] = [];
for (const make of [singleFlow, twoFlows, randomLoss]) for (const c of CONTROLLERS) configs.push(make(c, seed, bytes));
const selected = configs.filter((c) => words.every((w) => c.name.includes(w)));

mkdirSync(outDir, { recursive: true });
const rows: Row[] = [];
const charts: { name: string; file: string }[] = [];
console.log(`netsim: ${selected.length} runs, ${bytes / 1e6} MB per flow, seed ${seed}\n`);
for (const config of selected) {
  const started = performance.now();
  const r = runScenario(config);
  const cpuMs = performance.now() - started;
  rows.push(rowOf(r, cpuMs));
  const file = `${config.name.replace(/%/g, 'pct').replace(/[^a-z0-9]+/gi, '-')}.svg`;
  writeFileSync(join(outDir, file), renderChart(scenarioChart(r)));
  charts.push({ name: config.name, file });
  console.log(`  ${config.name}: ${(r.virtualMs / 1000).toFixed(1)} s virtual in ${(cpuMs / 1000).toFixed(1)} s`);
}
const table = formatTable(rows);
console.log(`\n${table}\n`);
writeFileSync(join(outDir, 'index.html'), html(table, charts));
writeFileSync(join(outDir, 'table.txt'), `${table}\n`);
console.log(`report: ${join(outDir, 'index.html')}`);

function rowOf(r: ScenarioResult, cpuMs: number): Row {
  return {
    scenario: r.name.replace(/ (newreno|cubic|bbr)$/, ''),
    controller: r.flows[0]?.controller ?? '',
    complete: r.flows.every((f) => f.complete),
    utilisation: r.utilisation,
    goodputMbps: r.flows.map((f) => f.goodputBps / 1e6),
    meanQueueMs: r.meanQueueDelayMs,
    p95QueueMs: r.p95QueueDelayMs,
    lostBytes: r.flows.reduce((s, f) => s + f.lostBytes, 0),
    fairness: r.flows.length > 1 ? r.fairness : undefined,
    virtualS: r.virtualMs / 1000,
    cpuS: cpuMs / 1000,
  };
}

function html(tableText: string, list: { name: string; file: string }[]): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const figures = list.map((c) => `<h2>${esc(c.name)}</h2>\n<img src="${c.file}" alt="${esc(c.name)}">`).join('\n');
  return `<!doctype html>
<meta charset="utf-8">
<title>purequic netsim report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}pre{background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}</style>
<h1>Congestion control on the simulator</h1>
<p>Real QUIC connections (purequic client and server) through one shared drop-tail bottleneck, on virtual time.
Seed ${seed}, ${bytes / 1e6} MB per flow. Reproduce with <code>pnpm netsim</code>.</p>
<pre>${esc(tableText)}</pre>
${figures}
`;
}
