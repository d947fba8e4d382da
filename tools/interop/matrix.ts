/**
 * `pnpm interop`: the interop matrix. Runs every client x server x test case (filters take
 * comma-separated names), one cell at a time, printing a progress line per cell, and writes
 * `interop-results/matrix.md` and `interop-results/matrix.json`; each cell's logs, qlogs and
 * TLS key logs stay beside them in `interop-results/cells/<client>__<server>__<case>/logs`.
 *
 *   pnpm interop [--client ours,quic-go] [--server ngtcp2] [--test handshake,transfer]
 *                [--scale runner|quick] [--out interop-results] [--seed 1]
 *
 * Peers and what they support: peers-config.ts. Cases and their checks: matrix-cases.ts.
 */

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { findCase, MATRIX_CASES, type MatrixCase, type Scale } from './matrix-cases.js';
import { REPO_ROOT } from './peers.js';
import { bundleOurEndpoint, findPeer, PEERS, roleSupports, unbundleOurEndpoint, type Application, type PeerEntry, type PeerRole } from './peers-config.js';
import { killAllSpawned, runInterop } from './runner.js';

export type CellResult = 'pass' | 'fail' | 'unsupported' | 'not-installed';

export interface MatrixCell {
  client: string;
  server: string;
  test: string;
  result: CellResult;
  /** Why it failed, is unsupported or not installed. */
  reason?: string;
  /** How the cell differs from the public runner's (e.g. over HTTP/3). */
  note?: string;
  /** Measurements: the figure (e.g. `8200 kbit/s`). */
  figure?: string;
  durationMs: number;
  /** Logs, qlogs, key logs of the cell, relative to the results directory. */
  directory?: string;
}

export interface MatrixReport {
  generated: string;
  scale: Scale;
  machine: { cpus: number; loadAverage: number[] };
  clients: string[];
  servers: string[];
  tests: string[];
  cells: MatrixCell[];
}

export interface MatrixOptions {
  clients: string[];
  servers: string[];
  tests: string[];
  scale: Scale;
  /** Results directory (matrix.md, matrix.json, cells/). */
  out: string;
  seed: number;
  /** One progress line per cell; default stdout. */
  progress?: (line: string) => void;
  /** Keep every cell's files (default: only failed cells keep their www and downloads). */
  keepAll?: boolean;
  /** Cells at once (default 1). */
  jobs?: number;
  /** Run our endpoint through tsx instead of a bundle built at the start (slower starts). */
  noBundle?: boolean;
}

/** Names from a comma-separated filter, resolved to peer names (aliases allowed); throws on an unknown one. */
export function resolvePeers(filter: string | undefined): string[] {
  if (filter === undefined || filter === '' || filter === 'all') return PEERS.map((p) => p.name);
  return filter.split(',').map((name) => {
    const peer = findPeer(name.trim());
    if (!peer) throw new Error(`unknown peer ${name} (known: ${PEERS.map((p) => [p.name, ...p.aliases].join('/')).join(', ')})`);
    return peer.name;
  });
}

/** Case names from a comma-separated filter (abbreviations allowed); throws on an unknown one. */
export function resolveTests(filter: string | undefined): string[] {
  if (filter === undefined || filter === '' || filter === 'all') return MATRIX_CASES.map((c) => c.name);
  return filter.split(',').map((name) => {
    const found = findCase(name.trim());
    if (!found) throw new Error(`unknown test ${name} (known: ${MATRIX_CASES.map((c) => c.name).join(', ')})`);
    return found.name;
  });
}

function applications(role: PeerRole, test: string): Application[] {
  const chosen = role.application?.(test);
  // A role without a preference speaks hq-interop, and HTTP/3 only in `http3`.
  if (chosen) return [chosen];
  return test === 'http3' ? ['h3'] : ['hq'];
}

/** Our endpoint fetches and serves over either application; the others have one per case. */
function commonApplication(server: PeerEntry, client: PeerEntry, test: string): Application | undefined {
  const flexible = (p: PeerEntry): boolean => p.name === 'purequic' && test !== 'http3';
  const s = flexible(server) ? (['hq', 'h3'] as Application[]) : applications(server.server!, test);
  const c = flexible(client) ? (['hq', 'h3'] as Application[]) : applications(client.client!, test);
  return s.find((a) => c.includes(a));
}

/** Runs the matrix; resolves with the report (also written to `out`). */
export async function runMatrix(options: MatrixOptions): Promise<MatrixReport> {
  const progress = options.progress ?? ((line: string) => process.stdout.write(`${line}\n`));
  const out = resolve(options.out);
  mkdirSync(join(out, 'cells'), { recursive: true });
  const usesOurs = [...options.clients, ...options.servers].includes('purequic');
  const bundle = usesOurs && !options.noBundle ? await bundleOurEndpoint() : undefined;
  try {
    return await runCells(options, out, progress);
  } finally {
    unbundleOurEndpoint();
    if (bundle) rmSync(bundle, { force: true });
  }
}

async function runCells(options: MatrixOptions, out: string, progress: (line: string) => void): Promise<MatrixReport> {
  const availability = new Map<string, { ok: boolean; reason?: string }>();
  for (const name of new Set([...options.clients, ...options.servers])) {
    const lookup = await findPeer(name)!.available();
    availability.set(name, lookup.ok ? { ok: true } : { ok: false, reason: lookup.reason });
  }
  const plan: { client: string; server: string; test: string }[] = [];
  for (const client of options.clients) for (const server of options.servers) for (const test of options.tests) plan.push({ client, server, test });
  const cells: MatrixCell[] = new Array<MatrixCell>(plan.length);
  const total = plan.length;
  let next = 0;
  let done = 0;
  // Cells run `jobs` at a time (default 1); each has its own directory, ports and bound.
  const worker = async (): Promise<void> => {
    // Bounded by the plan: each turn takes the next cell.
    while (next < plan.length) {
      const i = next++;
      const { client: clientName, server: serverName, test } = plan[i]!;
      const started = performance.now();
      const cell = await runCell(clientName, serverName, findCase(test)!, availability, options, out);
      cell.durationMs = Math.round(performance.now() - started);
      cells[i] = cell;
      done++;
      const detail = cell.figure ?? (cell.result === 'pass' ? '' : (cell.reason ?? ''));
      progress(
        `[${String(done).padStart(String(total).length)}/${total}] ${clientName} -> ${serverName} ${test}: ${cell.result}` +
          `${detail ? ` (${oneLine(detail, 140)})` : ''}${cell.result === 'pass' || cell.result === 'fail' ? ` ${(cell.durationMs / 1000).toFixed(1)} s` : ''}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs ?? 1) }, worker));
  const report: MatrixReport = {
    generated: new Date().toISOString(),
    scale: options.scale,
    machine: { cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) },
    clients: options.clients,
    servers: options.servers,
    tests: options.tests,
    cells,
  };
  writeFileSync(join(out, 'matrix.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'matrix.md'), `${matrixMarkdown(report)}\n`);
  return report;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

async function runCell(clientName: string, serverName: string, matrixCase: MatrixCase, availability: Map<string, { ok: boolean; reason?: string }>, options: MatrixOptions, out: string): Promise<MatrixCell> {
  const base = { client: clientName, server: serverName, test: matrixCase.name, durationMs: 0 };
  for (const [role, name] of [['client', clientName], ['server', serverName]] as const) {
    const a = availability.get(name)!;
    if (!a.ok) return { ...base, result: 'not-installed', reason: `${name}: ${a.reason}` };
    if (!findPeer(name)![role]) return { ...base, result: 'not-installed', reason: `${name} has no ${role} here` };
  }
  if (matrixCase.impossible) return { ...base, result: 'unsupported', reason: matrixCase.impossible };
  const client = findPeer(clientName)!;
  const server = findPeer(serverName)!;
  const notes: string[] = [];
  for (const [role, peer] of [['server', server], ['client', client]] as const) {
    const support = roleSupports(peer[role], matrixCase.name);
    if (!support.ok) return { ...base, result: 'unsupported', reason: `${peer.name} ${role}: ${support.reason}` };
    if (support.note && !notes.includes(support.note)) notes.push(support.note);
  }
  const application = commonApplication(server, client, matrixCase.name);
  if (!application) return { ...base, result: 'unsupported', reason: `no common application: ${server.name} serves ${applications(server.server!, matrixCase.name).join('/')}, ${client.name} fetches ${applications(client.client!, matrixCase.name).join('/')}` };
  const directory = join(out, 'cells', `${clientName}__${serverName}__${matrixCase.name}`);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const arrangement = matrixCase.arrange(options.scale, options.seed);
  const outcome = await runInterop({
    ...arrangement,
    server: server.name,
    client: client.name,
    matrixCase: matrixCase.name,
    application,
    seed: options.seed,
    observeWire: true,
    directory,
    timeoutMs: matrixCase.timeoutMs[options.scale],
  });
  writeFileSync(join(directory, 'server.log'), outcome.serverLog);
  writeFileSync(join(directory, 'client.log'), outcome.clientLog);
  const cell: MatrixCell = { ...base, result: 'fail', directory: relative(out, directory) };
  if (notes.length > 0) cell.note = notes.join('; ');
  if (outcome.unsupported) {
    cell.result = 'unsupported';
    cell.reason = `${outcome.unsupported === 'server' ? server.name : client.name} ${outcome.unsupported} exited 127 for this test case`;
  } else {
    const problems = outcome.ok ? matrixCase.check(outcome, arrangement) : outcome.problems;
    if (problems.length === 0) {
      cell.result = 'pass';
      const figure = matrixCase.figure?.(outcome, arrangement);
      if (figure) cell.figure = figure;
    } else {
      cell.reason = problems.join('; ');
    }
  }
  writeFileSync(join(directory, 'result.json'), `${JSON.stringify({ ...cell, relay: outcome.relay, rebinds: outcome.rebinds }, null, 2)}\n`);
  // The served files and downloads are large and regenerated from the seed: keep only the logs
  // (and everything for a failed cell, to look at).
  if (cell.result !== 'fail' && !options.keepAll) {
    for (const sub of ['www', 'downloads', 'certs']) rmSync(join(directory, sub), { recursive: true, force: true });
  }
  return cell;
}

const SYMBOL: Record<CellResult, string> = { pass: '✓', fail: '✗', unsupported: '–', 'not-installed': '·' };

/** The report as Markdown: one row per client -> server pair, one column per case, then the reasons. */
export function matrixMarkdown(report: MatrixReport): string {
  const cases = report.tests.map((t) => findCase(t)!);
  const lines: string[] = [];
  lines.push(`Scale \`${report.scale}\`, ${report.generated.slice(0, 10)}; ✓ pass, ✗ fail, – unsupported, · not installed; measurements give the figure.`);
  lines.push('');
  lines.push(`| client → server | ${cases.map((c) => c.abbreviation).join(' | ')} |`);
  lines.push(`|---|${cases.map(() => ':-:').join('|')}|`);
  const byKey = new Map(report.cells.map((c) => [`${c.client}|${c.server}|${c.test}`, c]));
  const noted = new Map<string, string[]>();
  const mark = (text: string | undefined, where: string): void => {
    if (!text) return;
    const list = noted.get(text) ?? [];
    list.push(where);
    noted.set(text, list);
  };
  for (const client of report.clients) {
    for (const server of report.servers) {
      const row = cases.map((c) => {
        const cell = byKey.get(`${client}|${server}|${c.name}`);
        if (!cell) return ' ';
        const where = `${client} → ${server} ${c.abbreviation}`;
        if (cell.result !== 'pass' && cell.result !== 'not-installed') mark(`${cell.result === 'fail' ? 'fails' : cell.result}: ${cell.reason ?? ''}`, where);
        if (cell.note) mark(`note: ${cell.note}`, where);
        return cell.result === 'pass' && cell.figure ? cell.figure.replace(' kbit/s', 'k') : SYMBOL[cell.result];
      });
      // A pair whose peer is absent is one line, not a row of dots.
      if (row.every((r) => r === SYMBOL['not-installed'])) continue;
      lines.push(`| ${client} → ${server} | ${row.join(' | ')} |`);
    }
  }
  const absent = new Map<string, string>();
  for (const cell of report.cells) {
    if (cell.result !== 'not-installed' || !cell.reason) continue;
    const name = cell.reason.split(':')[0]!;
    absent.set(name, cell.reason.slice(name.length + 1).trim());
  }
  lines.push('');
  if (absent.size > 0) lines.push(`Not installed here: ${[...absent].map(([name, why]) => `${name} (${why})`).join('; ')}.`, '');
  lines.push(`Cases: ${cases.map((c) => `${c.abbreviation} ${c.name}`).join(', ')}. Measurements (kbit/s): ${cases.filter((c) => c.kind === 'measurement').map((c) => c.abbreviation).join(', ') || 'none'}.`);
  lines.push('');
  for (const [text, where] of [...noted.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const places = where.length > 12 ? `${where.slice(0, 12).join(', ')} and ${where.length - 12} more` : where.join(', ');
    lines.push(`- ${oneLine(text, 400)} (${places})`);
  }
  return lines.join('\n');
}

/**
 * The expected matrix (tools/interop/expected-matrix.json) a report gives: per `client -> server`
 * pair, each test case's result; measurements and pairs with an absent peer are left out.
 */
export function expectedFromReport(report: MatrixReport, seed: number): { scale: Scale; seed: number; pairs: Record<string, Record<string, CellResult>> } {
  const pairs: Record<string, Record<string, CellResult>> = {};
  for (const cell of report.cells) {
    if (cell.result === 'not-installed' || findCase(cell.test)!.kind === 'measurement') continue;
    (pairs[`${cell.client} -> ${cell.server}`] ??= {})[cell.test] = cell.result;
  }
  return { scale: report.scale, seed, pairs };
}

async function cli(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const option = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    if (i >= 0) return args[i + 1];
    return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  if (args.includes('--help')) {
    process.stdout.write(
      `pnpm interop [--client a,b] [--server a,b] [--test t1,t2] [--scale runner|quick] [--out DIR] [--seed N] [--keep] [--no-bundle] [--jobs N] [--write-expected FILE]\n` +
        `peers: ${PEERS.map((p) => [p.name, ...p.aliases].join('/')).join(', ')}\ntests: ${MATRIX_CASES.map((c) => c.name).join(', ')}\n`,
    );
    return 0;
  }
  // Ctrl-C: peers started in their own process groups would outlive us otherwise.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllSpawned();
      process.exit(130);
    });
  }
  const scale = (option('scale') ?? 'runner') as Scale;
  if (scale !== 'runner' && scale !== 'quick') throw new Error('--scale must be runner or quick');
  const report = await runMatrix({
    clients: resolvePeers(option('client')),
    servers: resolvePeers(option('server')),
    tests: resolveTests(option('test')),
    scale,
    out: option('out') ?? join(REPO_ROOT, 'interop-results'),
    seed: Number(option('seed') ?? 1),
    keepAll: args.includes('--keep'),
    noBundle: args.includes('--no-bundle'),
    jobs: Number(option('jobs') ?? 1),
  });
  const expectedOut = option('write-expected');
  if (expectedOut) writeFileSync(expectedOut, `${JSON.stringify(expectedFromReport(report, Number(option('seed') ?? 1)), null, 2)}\n`);
  const count = (r: CellResult): number => report.cells.filter((c) => c.result === r).length;
  const out = resolve(option('out') ?? join(REPO_ROOT, 'interop-results'));
  process.stdout.write(`${count('pass')} pass, ${count('fail')} fail, ${count('unsupported')} unsupported, ${count('not-installed')} not installed; ${join(out, 'matrix.md')}\n`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
