/**
 * The test runner itself (tools/run-tests.ts), run as `pnpm test` runs it, over throwaway uvu
 * files written at test time into .scratch/ (outside every directory the real runner searches).
 * Each case is one a user hit: skips cancelling real failures in the total, a crash after skips
 * printed as "-2 failed", an error in a `test.before` hook swallowed, and skips passing in CI.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = join(root, '.scratch', `run-tests-fixtures-${process.pid}`);

const HEAD = `import { test } from 'uvu';\nimport * as assert from 'uvu/assert';\n`;
const FILES = {
  twoFailures: `${HEAD}test('a', () => assert.is(1, 2));\ntest('b', () => assert.is(1, 3));\ntest.run();\n`,
  passAndTwoSkips: `${HEAD}test('p', () => assert.ok(true));\ntest.skip('s1', () => {});\ntest.skip('s2', () => {});\ntest.run();\n`,
  skipsThenCrash: `${HEAD}test.skip('s1', () => {});\ntest.skip('s2', () => {});\ntest.run();\nsetTimeout(() => { throw new Error('crashed after the summary'); }, 20);\n`,
  beforeHookThrows: `${HEAD}test.before(async () => { throw new Error('the peer build failed: go not found'); });\ntest('x', () => assert.ok(true));\ntest('y', () => assert.ok(true));\ntest.run();\n`,
  passesThenExits3: `${HEAD}test('p', () => assert.ok(true));\ntest.run();\nprocess.on('exit', () => { process.exitCode = 3; });\n`,
  allPass: `${HEAD}test('p', () => assert.ok(true));\ntest('q', () => assert.ok(true));\ntest.run();\n`,
};

/** Writes the named fixtures into a fresh directory of their own and returns it. */
function fixture(caseName: string, names: (keyof typeof FILES)[]): string {
  const dir = join(scratch, caseName);
  mkdirSync(dir, { recursive: true });
  for (const name of names) writeFileSync(join(dir, `${name}.test.ts`), FILES[name]);
  return dir;
}

interface Run {
  code: number | null;
  out: string;
  /** The closing "N passed, N failed[, N skipped]" line. */
  total: string;
}

/** Runs the runner the way `pnpm test` does, over one directory; CI is unset unless given. */
function runTests(dir: string, env: Record<string, string> = {}, flags: string[] = []): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('CI' in env)) delete childEnv.CI;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@purequic/source', '--import', 'tsx', join(root, 'tools', 'run-tests.ts'), `--dir=${dir}`, ...flags],
      { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = /^-?\d+ passed, -?\d+ failed.*$/m.exec(out)?.[0] ?? '(no total line)';
      resolve({ code, out, total });
    });
  });
}

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

test('a file with 2 failures beside one with 1 pass and 2 skips: 2 failed, exit 1 (skips cancel no failure)', async () => {
  const run = await runTests(fixture('cancel', ['twoFailures', 'passAndTwoSkips']));
  assert.is(run.total, '1 passed, 2 failed, 2 skipped', run.out);
  assert.is(run.code, 1, run.out);
});

test('a file that only skips and then crashes: 1 failed, never a negative count', async () => {
  const run = await runTests(fixture('crash', ['skipsThenCrash']));
  assert.is(run.total, '0 passed, 1 failed, 2 skipped', run.out);
  assert.match(run.out, 'crashed after the summary');
  assert.is(run.code, 1);
});

test('an error thrown in test.before is printed, and the suite counts as failed', async () => {
  const run = await runTests(fixture('hook', ['beforeHookThrows']));
  assert.match(run.out, '[run-tests] error thrown in test.before:');
  assert.match(run.out, 'Error: the peer build failed: go not found');
  assert.is(run.total, '0 passed, 2 failed', run.out);
  assert.is(run.code, 1);
});

test('a file whose tests pass but whose process exits non-zero is a failure', async () => {
  const run = await runTests(fixture('exit', ['passesThenExits3', 'allPass']));
  assert.is(run.total, '3 passed, 1 failed', run.out);
  assert.match(run.out, 'FAIL ');
  assert.is(run.code, 1);
});

test('skips pass locally but fail the run when CI=true (or --fail-on-skip); no skips pass in CI', async () => {
  const dir = fixture('skips', ['passAndTwoSkips']);
  const local = await runTests(dir);
  assert.is(local.total, '1 passed, 0 failed, 2 skipped', local.out);
  assert.is(local.code, 0, local.out);
  const ci = await runTests(dir, { CI: 'true' });
  assert.is(ci.total, '1 passed, 0 failed, 2 skipped', ci.out);
  assert.match(ci.out, '2 skipped: failing because CI=true');
  assert.is(ci.code, 1);
  const flag = await runTests(dir, {}, ['--fail-on-skip']);
  assert.is(flag.code, 1, flag.out);
  const clean = await runTests(fixture('clean', ['allPass']), { CI: 'true' });
  assert.is(clean.total, '2 passed, 0 failed', clean.out);
  assert.is(clean.code, 0, clean.out);
});

test.run();
