/**
 * Runs every package's uvu suites (files `*.test.ts` under `packages/<name>/test` and `tools/test`)
 * and prints one closing line `N passed, N failed` summed over all of them.
 *
 * Each test file runs in its own Node process, so a crash or leaked handle in one file cannot hide
 * the results of another, and a file that hangs is killed after its time bound and counted failed.
 *
 *   pnpm test                 every suite: unit, vector, fuzz, simulation, loopback, and interop
 *                             (interop suites print why and run nothing when a peer is absent;
 *                             .ci/run installs the peers, so CI runs them all)
 *   pnpm test:interop         only the suites under an `interop/` directory
 *   pnpm test -- --unit       everything but those
 *   pnpm test -- quic varint  only files whose path contains every given word
 *   pnpm test -- --dir=PATH   search PATH (repeatable) instead of packages/<name>/test and tools/test
 *   pnpm test -- --fail-on-skip   exit 1 when any test was skipped (on by default when CI=true)
 *
 * Counting: uvu's "Total" never includes a skipped test, so a file's failures are Total - Passed;
 * a file whose process exits non-zero (crash, hook error, time bound) counts at least one failure
 * even when its numbers add up. In CI every interop peer is installed (.ci/run), so a skip there
 * means a broken install and fails the run.
 */

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
const onlyInterop = args.includes('--interop');
const onlyUnit = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
const dirs = args.filter((a) => a.startsWith('--dir=')).map((a) => a.slice('--dir='.length));
const failOnSkip = args.includes('--fail-on-skip') || process.env.CI === 'true';
/** Preloaded into every test process: prints an error thrown in a `test.before` hook (uvu drops it). */
const hooksPreload = join(root, 'tools', 'test-hooks.ts');
/** Per-file time bound; a file that needs longer is a bug in the file. */
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 240_000);

function findTests(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
}

const files: string[] = [];
if (dirs.length > 0) {
  for (const dir of dirs) findTests(resolve(dir), files);
} else {
  for (const pkg of readdirSync(join(root, 'packages')).sort()) findTests(join(root, 'packages', pkg, 'test'), files);
  findTests(join(root, 'tools', 'test'), files);
}

const selected = files.filter((f) => {
  const rel = relative(root, f);
  const isInterop = rel.split('/').includes('interop');
  if ((onlyInterop && !isInterop) || (onlyUnit && isInterop)) return false;
  return filters.every((w) => rel.includes(w));
});

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ok: boolean;
  ms: number;
}

const uvuBin = join(root, 'node_modules', 'uvu', 'bin.js');
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@purequic/source', '--import', 'tsx', '--import', pathToFileURL(hooksPreload).href, uvuBin, '-c', join(file, '..'), `^${escapeRegExp(file.split('/').pop()!)}$`],
      { cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[run-tests] killed after ${FILE_TIMEOUT_MS} ms\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const clean = output.replace(ANSI, '');
      resolve({ file, ...countResults(clean, code, signal), output: clean, ms: performance.now() - started });
    });
  });
}

/**
 * A file's counts from uvu's summary and its exit status. uvu counts a skipped test in "Skipped"
 * only, never in "Total", so failed = Total - Passed (subtracting the skips too would let each skip
 * cancel a real failure). A non-zero exit is a failure even when every counted test passed.
 */
function countResults(
  output: string,
  code: number | null,
  signal: NodeJS.Signals | null = null,
): { passed: number; failed: number; skipped: number; ok: boolean } {
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
  const passedCount = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const counted = Number.isFinite(total) && Number.isFinite(passedCount);
  const passed = counted ? passedCount : 0;
  let failed = counted ? Math.max(0, total - passedCount) : 1;
  const exitedCleanly = code === 0 && signal === null;
  if (!exitedCleanly && failed === 0) failed = 1; // crashed outside any test, or was killed
  return { passed, failed, skipped, ok: exitedCleanly && failed === 0 && counted };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function main(): Promise<void> {
  if (selected.length === 0) {
    console.log(`no test files matched${filters.length ? ` (${filters.join(' ')})` : ''}`);
    console.log('0 passed, 0 failed');
    process.exit(onlyInterop ? 0 : 1);
  }
  const parallel = Math.max(1, Math.min(Number(process.env.TEST_PARALLEL ?? cpus().length), 4));
  const results: FileResult[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < selected.length) {
      const file = selected[next++]!;
      const r = await runFile(file);
      results.push(r);
      const status = r.ok ? 'ok  ' : 'FAIL';
      const skip = r.skipped ? `, ${r.skipped} skipped` : '';
      console.log(`${status} ${relative(root, file)}  ${r.passed} passed, ${r.failed} failed${skip}  (${(r.ms / 1000).toFixed(1)} s)`);
      if (!r.ok || process.env.TEST_VERBOSE) console.log(indent(r.output.trim()));
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  const skipped = results.reduce((s, r) => s + r.skipped, 0);
  console.log('');
  console.log(`${results.length} files`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (failOnSkip && skipped > 0) {
    console.log(`${skipped} skipped: failing because ${process.env.CI === 'true' ? 'CI=true' : '--fail-on-skip'} (CI installs every peer, so a skip is a broken install)`);
    process.exit(1);
  }
  process.exit(failed === 0 ? 0 : 1);
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

void main();
