// Loaded with `node --import` into a benchmarked Node side (process-pair.ts): records when each
// garbage collection started (epoch ms) and its kind, into a preallocated array so that the
// probe itself allocates nothing per collection, and prints them at exit as
// `gc-probe <kind> <epoch ms>` lines. Kinds: 1 minor, 2 major, 4 incremental, 8 weak callbacks.
import { PerformanceObserver, performance } from 'node:perf_hooks';

const MAX = 100_000;
const kinds = new Uint8Array(MAX);
const times = new Float64Array(MAX);
let count = 0;
const origin = performance.timeOrigin;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (count >= MAX) return;
    kinds[count] = entry.detail?.kind ?? 0;
    times[count] = origin + entry.startTime;
    count++;
  }
}).observe({ entryTypes: ['gc'] });
process.on('exit', () => {
  let out = '';
  for (let i = 0; i < count; i++) out += `gc-probe ${kinds[i]} ${times[i].toFixed(1)}\n`;
  process.stderr.write(out);
});
