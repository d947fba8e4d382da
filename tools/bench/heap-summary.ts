/**
 * Summarises a V8 heap snapshot by object kind and name, per connection: what an idle connection
 * holds (connections.bench.ts with BENCH_IDLE_SNAPSHOT). Self sizes only; objects of which there
 * are fewer than one per connection are mostly the process's own and sort to the bottom.
 *
 *   node --import tsx tools/bench/heap-summary.ts /tmp/idle.heapsnapshot 500 [top]
 */

import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const [file, perArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts FILE CONNECTIONS [TOP]');
const per = Number(perArg ?? 1);
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
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
for (const [key, { count, size }] of [...totals].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 50))) {
  console.log(`${(size / per).toFixed(0).padStart(7)} B  ${(count / per).toFixed(1).padStart(6)} per connection  ${key}`);
}
