/**
 * Documentation cannot drift from the code (issue 14): every ```ts block in README.md and in the
 * packages' READMEs is, character for character, a file under examples/, and every file under
 * examples/ runs to completion the way README.md says to run it, both from where it is and copied
 * to another folder of the checkout (a user's script anywhere in the clone imports `@purequic/*`).
 */

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examplesDir = join(root, 'examples');
/** What each example prints when it worked (a line of its output). */
const EXPECTED_OUTPUT: Record<string, string> = {
  'echo.ts': 'echoed: hello over QUIC',
  'http3.ts': '200 hello over HTTP/3, you asked for /greeting',
  'webtransport-echo.ts': 'echoed: hello over WebTransport',
  'cluster.ts': 'echoed by the cluster: hello 0 (worker',
};
const RUN_BOUND_MS = 60_000;

function readmes(): string[] {
  const list = [join(root, 'README.md')];
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    try {
      readFileSync(join(root, 'packages', pkg, 'README.md'));
      list.push(join(root, 'packages', pkg, 'README.md'));
    } catch {
      // a package without a README
    }
  }
  return list;
}

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

/** Every .ts file under examples/, subfolders included (a subfolder holds an example's parts, e.g. a worker module). */
function exampleSources(dir = examplesDir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...exampleSources(join(dir, entry.name)));
    else if (entry.name.endsWith('.ts')) out.push(join(dir, entry.name));
  }
  return out;
}

test('every ```ts block of the READMEs is a file under examples/, character for character', () => {
  const files = new Map(exampleSources().map((f) => [readFileSync(f, 'utf8'), f]));
  let blocks = 0;
  for (const readme of readmes()) {
    for (const block of tsBlocks(readFileSync(readme, 'utf8'))) {
      blocks++;
      const first = block.split('\n')[0];
      assert.ok(files.has(block), `${relative(root, readme)}: the block starting "${first}" is not the exact text of a file under examples/`);
    }
  }
  assert.ok(blocks >= 2, `found ${blocks} blocks (README.md and packages/quic/README.md have one each)`);
  assert.ok(examples.every((f) => f in EXPECTED_OUTPUT), `an example without an expected output line: ${examples.join(', ')}`);
});

function runExample(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // README.md: node --conditions=@purequic/source --import tsx examples/<file>
    const child = spawn(process.execPath, ['--conditions=@purequic/source', '--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[test] killed after ${RUN_BOUND_MS} ms (the example did not finish: something is left open)`;
      child.kill('SIGKILL');
    }, RUN_BOUND_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

for (const example of examples) {
  test(`examples/${example} runs to completion and prints what it should`, async () => {
    const { code, out } = await runExample(join('examples', example));
    assert.is(code, 0, out);
    assert.ok(out.includes(EXPECTED_OUTPUT[example] ?? "(no expected output)"), `examples/${example} printed:\n${out}`);
  });
}

test('an example copied to another folder of the checkout still imports @purequic/quic', async () => {
  const elsewhere = join(root, '.scratch', `readme-example-${process.pid}`, 'deeper');
  mkdirSync(elsewhere, { recursive: true });
  try {
    const copy = join(elsewhere, 'echo.ts');
    copyFileSync(join(examplesDir, 'echo.ts'), copy);
    const { code, out } = await runExample(relative(root, copy));
    assert.is(code, 0, out);
    assert.match(out, EXPECTED_OUTPUT['echo.ts']!);
  } finally {
    rmSync(join(root, '.scratch', `readme-example-${process.pid}`), { recursive: true, force: true });
  }
});

test.run();
