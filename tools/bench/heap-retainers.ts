/**
 * What an idle connection retains, by field path: the dominator tree of a heap snapshot
 * (connections.bench.ts with BENCH_IDLE_SNAPSHOT), summed over every instance of the root
 * classes (default `Connection` and `QuicConnection`) and divided by their count, down to a depth.
 * An object is counted under a connection only when that connection alone keeps it alive (it
 * dominates it): shared state (the endpoint's certificate, code, configuration) is not, and
 * neither is what the endpoint holds for the connection outside it (CID maps, timer queues),
 * which shows up as the gap between "retained by the roots" and the measured total.
 * Weak edges are not followed. Self sizes include ArrayBuffer contents where V8 reports them.
 *
 *   node --import tsx tools/bench/heap-retainers.ts FILE [ROOTS=Connection,QuicConnection] [DEPTH=3] [MIN_BYTES=48]
 *
 * The snapshots are never committed (they hold keys): write them under /tmp or .scratch/.
 */

import { existsSync, readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, rootsArg, depthArg, minArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-retainers.ts FILE [ROOTS] [DEPTH] [MIN_BYTES]');
const rootClasses = new Set((rootsArg ?? 'Connection,QuicConnection').split(','));
const maxDepth = Number(depthArg ?? 3);
const minBytes = Number(minArg ?? 48);

function analyse(path: string) {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const meta = snap.snapshot.meta;
  const NF = meta.node_fields.length;
  const EF = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const n = snap.nodes.length / NF;
  const typeOf = (v: number): string => nodeTypes[snap.nodes[v * NF]!]!;
  const nameOf = (v: number): string => snap.strings[snap.nodes[v * NF + 1]!]!;
  const selfSize = (v: number): number => snap.nodes[v * NF + 3]!;
  const WEAK = edgeTypes.indexOf('weak');
  const ELEMENT = edgeTypes.indexOf('element');
  const HIDDEN = edgeTypes.indexOf('hidden');

  // Edges of node v are firstEdge[v] .. firstEdge[v + 1] - 1 (edge ordinals).
  const firstEdge = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) firstEdge[v + 1] = firstEdge[v]! + snap.nodes[v * NF + 4]!;
  const edgeTo = (e: number): number => snap.edges[e * EF + 2]! / NF;
  const edgeUsable = (e: number): boolean => snap.edges[e * EF] !== WEAK;
  function edgeName(e: number): string {
    const type = snap.edges[e * EF]!;
    const raw = snap.edges[e * EF + 1]!;
    if (type === ELEMENT || type === HIDDEN) return '[]';
    return snap.strings[raw]!;
  }

  // Depth-first numbering from the synthetic root (node 0), iteratively.
  const dfnum = new Int32Array(n).fill(-1);
  const vertex = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1);
  let count = 0;
  {
    const stack = new Int32Array(n);
    const cursor = new Int32Array(n);
    let top = 0;
    stack[0] = 0;
    cursor[0] = firstEdge[0]!;
    dfnum[0] = count;
    vertex[count++] = 0;
    while (top >= 0) {
      const v = stack[top]!;
      const e = cursor[top]!;
      if (e >= firstEdge[v + 1]!) {
        top--;
        continue;
      }
      cursor[top] = e + 1;
      if (!edgeUsable(e)) continue;
      const w = edgeTo(e);
      if (dfnum[w] !== -1) continue;
      dfnum[w] = count;
      vertex[count++] = w;
      parent[w] = v;
      stack[++top] = w;
      cursor[top] = firstEdge[w]!;
    }
  }

  // Predecessors (in depth-first numbers), as compressed rows.
  const predStart = new Int32Array(count + 1);
  for (let v = 0; v < n; v++) {
    if (dfnum[v] === -1) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (edgeUsable(e)) predStart[dfnum[edgeTo(e)]! + 1]! += 1;
  }
  for (let i = 0; i < count; i++) predStart[i + 1]! += predStart[i]!;
  const preds = new Int32Array(predStart[count]!);
  {
    const fill = predStart.slice(0, count);
    for (let v = 0; v < n; v++) {
      if (dfnum[v] === -1) continue;
      for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (edgeUsable(e)) preds[fill[dfnum[edgeTo(e)]!]!++] = dfnum[v]!;
    }
  }

  // Lengauer-Tarjan (simple version, path compression) on depth-first numbers.
  const semi = new Int32Array(count);
  const label = new Int32Array(count);
  const ancestor = new Int32Array(count).fill(-1);
  const idom = new Int32Array(count);
  const bucketHead = new Int32Array(count).fill(-1);
  const bucketNext = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    semi[i] = i;
    label[i] = i;
  }
  const compressStack: number[] = [];
  function evaluate(v: number): number {
    if (ancestor[v] === -1) return v;
    let x = v;
    while (ancestor[ancestor[x]!] !== -1) {
      compressStack.push(x);
      x = ancestor[x]!;
    }
    while (compressStack.length > 0) {
      const y = compressStack.pop()!;
      const a = ancestor[y]!;
      if (semi[label[a]!]! < semi[label[y]!]!) label[y] = label[a]!;
      ancestor[y] = ancestor[a]!;
    }
    return label[v]!;
  }
  for (let w = count - 1; w >= 1; w--) {
    const p = dfnum[parent[vertex[w]!]!]!;
    for (let k = predStart[w]!; k < predStart[w + 1]!; k++) {
      const u = evaluate(preds[k]!);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    bucketNext[w] = bucketHead[semi[w]!]!;
    bucketHead[semi[w]!] = w;
    ancestor[w] = p;
    for (let v = bucketHead[p]!; v !== -1; v = bucketNext[v]!) {
      const u = evaluate(v);
      idom[v] = semi[u]! < semi[v]! ? u : p;
    }
    bucketHead[p] = -1;
  }
  for (let w = 1; w < count; w++) if (idom[w] !== semi[w]) idom[w] = idom[idom[w]!]!;

  // Retained sizes (depth-first numbers), children of the dominator tree as rows.
  const retained = new Float64Array(count);
  for (let w = count - 1; w >= 0; w--) {
    retained[w]! += selfSize(vertex[w]!);
    if (w > 0) retained[idom[w]!]! += retained[w]!;
  }
  const childStart = new Int32Array(count + 1);
  for (let w = 1; w < count; w++) childStart[idom[w]! + 1]! += 1;
  for (let i = 0; i < count; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Int32Array(Math.max(0, count - 1));
  {
    const fill = childStart.slice(0, count);
    for (let w = 1; w < count; w++) children[fill[idom[w]!]!++] = w;
  }

  function describe(v: number): string {
    const type = typeOf(v);
    const name = nameOf(v);
    if (type === 'object') return name;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') return type;
    return `${type} ${name}`.slice(0, 60);
  }
  /** How the dominator reaches its child: the first edge between them, else via another path. */
  function linkName(from: number, to: number): string {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e++) if (edgeUsable(e) && edgeTo(e) === to) return edgeName(e);
    return '~';
  }

  return { n, count, vertex, idom, retained, childStart, children, typeOf, nameOf, describe, linkName };
}

const a = analyse(file);
const { count, vertex, idom, retained, childStart, children, typeOf, nameOf, describe, linkName } = a;
const rootNodes: number[] = [];
for (let w = 0; w < count; w++) if (typeOf(vertex[w]!) === 'object' && rootClasses.has(nameOf(vertex[w]!))) rootNodes.push(w);
// Count each root class separately; nested roots (one dominating another) are counted once, at the outer.
const outer = rootNodes.filter((w) => {
  for (let a = idom[w]!; a > 0; a = idom[a]!) if (rootClasses.has(nameOf(vertex[a]!)) && typeOf(vertex[a]!) === 'object') return false;
  return true;
});
const perClass = new Map<string, number>();
for (const w of rootNodes) perClass.set(nameOf(vertex[w]!), (perClass.get(nameOf(vertex[w]!)) ?? 0) + 1);
const instances = Math.max(...perClass.values(), 1);
let total = 0;
for (const w of outer) total += retained[w]!;
console.log(`${[...perClass].map(([c, k]) => `${k} ${c}`).join(', ')}; ${outer.length} outermost`);
console.log(`retained by the roots: ${(total / instances / 1024).toFixed(1)} KB per connection (÷ ${instances})`);

// Field paths under each root, aggregated over instances.
const byPath = new Map<string, { size: number; count: number }>();
function walk(w: number, path: string, depth: number): void {
  const entry = byPath.get(path) ?? { size: 0, count: 0 };
  entry.size += retained[w]!;
  entry.count++;
  byPath.set(path, entry);
  if (depth >= maxDepth) return;
  const v = vertex[w]!;
  for (let k = childStart[w]!; k < childStart[w + 1]!; k++) {
    const c = children[k]!;
    walk(c, `${path} > ${linkName(v, vertex[c]!)}:${describe(vertex[c]!)}`, depth + 1);
  }
}
for (const w of outer) walk(w, describe(vertex[w]!), 0);
const rows = [...byPath].filter(([, e]) => e.size / instances >= minBytes).sort((a, b) => (a[0] < b[0] ? -1 : 1));
for (const [path, { size, count: k }] of rows) {
  const depth = path.split(' > ').length - 1;
  const last = path.split(' > ').pop()!;
  console.log(`${(size / instances).toFixed(0).padStart(7)} B ${(k / instances).toFixed(1).padStart(5)}x  ${'  '.repeat(depth)}${last}`);
}

// What holds the roots themselves (the first instance's dominator chain), to find the per-connection
// state the endpoint keeps outside them.
if (outer.length > 0) {
  const chain: string[] = [];
  for (let a = outer[0]!; a > 0 && chain.length < 12; a = idom[a]!) chain.push(describe(vertex[a]!));
  console.log(`dominator chain of the first root: ${chain.join(' <- ')}`);
}

// What the connections cost outside the roots: the dominator tree from the synthetic root, with
// the roots' subtrees left out, by path, against the snapshot without connections
// (`<file>.before`, written by connections.bench.ts), divided by the connection count.
const before = `${file}.before`;
if (existsSync(before)) {
  const outsideDepth = Number(process.env.HEAP_OUTSIDE_DEPTH ?? 9);
  const paths = (s: ReturnType<typeof analyse>, skipRoots: boolean): Map<string, number> => {
    const sizes = new Map<string, number>();
    // Iterative: the tree can be deep. Sizes are self sizes summed by the path cut at the depth.
    const stack: [number, string, number][] = [[0, '', 0]];
    while (stack.length > 0) {
      const [w, path, depth] = stack.pop()!;
      const v = s.vertex[w]!;
      if (skipRoots && s.typeOf(v) === 'object' && rootClasses.has(s.nameOf(v))) continue;
      let own = s.retained[w]!;
      if (depth < outsideDepth) {
        for (let k = s.childStart[w]!; k < s.childStart[w + 1]!; k++) {
          const c = s.children[k]!;
          own -= s.retained[c]!;
          stack.push([c, `${path} > ${s.linkName(v, s.vertex[c]!)}:${s.describe(s.vertex[c]!)}`, depth + 1]);
        }
      }
      sizes.set(path, (sizes.get(path) ?? 0) + own);
    }
    return sizes;
  };
  const withRoots = paths(a, true);
  const without = paths(analyse(before), false);
  const diff: [string, number][] = [];
  for (const [path, size] of withRoots) diff.push([path, size - (without.get(path) ?? 0)]);
  for (const [path, size] of without) if (!withRoots.has(path)) diff.push([path, -size]);
  const sum = diff.reduce((t, [, d]) => t + d, 0);
  console.log(`\noutside the roots: ${(sum / instances / 1024).toFixed(1)} KB per connection more than in ${before}; the largest differences (self sizes, by dominator path cut at depth ${outsideDepth}):`);
  for (const [path, d] of diff.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])).slice(0, 25)) {
    if (Math.abs(d) / instances < minBytes / 4) break;
    console.log(`${(d / instances).toFixed(0).padStart(7)} B  ${path.split(' > ').slice(-5).join(' > ')}`);
  }
}
