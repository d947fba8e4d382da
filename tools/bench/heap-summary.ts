/**
 * What an idle connection holds (connections.bench.ts with BENCH_IDLE_SNAPSHOT): the heap
 * snapshot with N connections minus the one without (`<file>.before`), by object kind and name,
 * divided by N. Self sizes only.
 *
 *   node --import tsx tools/bench/heap-summary.ts /tmp/idle.heapsnapshot 500 [top]
 */

import { existsSync, readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const [file, perArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts FILE CONNECTIONS [TOP]');
const per = Number(perArg ?? 1);
function summarise(path: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields.length;
  const types = snap.snapshot.meta.node_types[0];
  const totals = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields) {
    const type = types[snap.nodes[i]!]!;
    const name = type === 'string' || type === 'concatenated string' || type === 'number' ? '' : snap.strings[snap.nodes[i + 1]!]!.slice(0, 70);
    const key = `${type} ${name}`;
    const entry = totals.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += snap.nodes[i + 3]!;
    totals.set(key, entry);
  }
  return totals;
}

const after = summarise(file);
const before = existsSync(`${file}.before`) ? summarise(`${file}.before`) : new Map<string, { count: number; size: number }>();
const diff = [...after].map(([key, a]) => {
  const b = before.get(key) ?? { count: 0, size: 0 };
  return [key, { count: a.count - b.count, size: a.size - b.size }] as const;
});
const total = diff.reduce((sum, [, d]) => sum + d.size, 0);
console.log(`${(total / per / 1024).toFixed(1)} KB per connection in the snapshot (self sizes, ArrayBuffer contents included)`);
for (const [key, { count, size }] of diff.sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 50))) {
  console.log(`${(size / per).toFixed(0).padStart(7)} B  ${(count / per).toFixed(1).padStart(6)} per connection  ${key}`);
}
