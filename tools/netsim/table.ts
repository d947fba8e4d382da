/** The netsim summary table: one row per scenario and controller, fixed-width text. */

export interface Row {
  scenario: string;
  controller: string;
  /** Every flow received all its bytes. */
  complete: boolean;
  /** Fraction of the bottleneck's capacity used (wire bytes), 0..1. */
  utilisation: number;
  /** Goodput of each flow over its own transfer, Mbit/s. */
  goodputMbps: number[];
  meanQueueMs: number;
  p95QueueMs: number;
  /** Bytes declared lost by the senders, hence retransmitted. */
  lostBytes: number;
  /** Jain's index after convergence; undefined for one flow. */
  fairness: number | undefined;
  virtualS: number;
  cpuS: number;
}

const COLUMNS: { title: string; right: boolean; cell: (r: Row) => string }[] = [
  { title: 'scenario', right: false, cell: (r) => r.scenario },
  { title: 'controller', right: false, cell: (r) => r.controller + (r.complete ? '' : ' (incomplete)') },
  { title: 'util %', right: true, cell: (r) => (100 * r.utilisation).toFixed(1) },
  { title: 'goodput Mbit/s', right: true, cell: (r) => r.goodputMbps.map((g) => g.toFixed(2)).join(' + ') },
  { title: 'queue mean ms', right: true, cell: (r) => r.meanQueueMs.toFixed(1) },
  { title: 'queue p95 ms', right: true, cell: (r) => r.p95QueueMs.toFixed(1) },
  { title: 'retransmitted B', right: true, cell: (r) => String(r.lostBytes) },
  { title: 'Jain', right: true, cell: (r) => (r.fairness === undefined ? '-' : r.fairness.toFixed(3)) },
  { title: 'virtual s', right: true, cell: (r) => r.virtualS.toFixed(1) },
  { title: 'CPU s', right: true, cell: (r) => r.cpuS.toFixed(1) },
];

/** Formats `rows` as an aligned text table with a header and a rule. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: string[]): string =>
    values.map((v, i) => (COLUMNS[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
