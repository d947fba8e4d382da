/**
 * The demo and the client as a user runs them (issue 14): `pnpm start` stopped with Ctrl-C (SIGINT
 * to the terminal's process group) or SIGTERM exits 0, pnpm prints no ELIFECYCLE, and the
 * temporary folder is gone; `pnpm client` refuses to write a binary body to a terminal (a real
 * pseudo-terminal, from util-linux `script`) and writes it with `--out FILE`.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDemoServer } from '../demo/demo-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BOUND_MS = 60_000;

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `pnpm start` on a free port, in its own process group (as a terminal's foreground job). */
function pnpmStart(): Started {
  const child = spawn('pnpm', ['start'], { cwd: root, env: { ...process.env, PORT: '0', CI: undefined }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

async function waitFor(started: Started, text: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!started.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${BOUND_MS} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms`)), BOUND_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

function demoFolder(output: string): { dir: string; pid: number } {
  const m = /(\S*purequic-demo-(\d+)-[^/\s]+)\//.exec(output);
  assert.ok(m, output);
  return { dir: m![1]!, pid: Number(m![2]) };
}

for (const how of ['Ctrl-C (SIGINT to the process group)', 'SIGTERM to the demo process'] as const) {
  test(`pnpm start, then ${how}: exit 0, no ELIFECYCLE, temporary folder removed`, async () => {
    const started = pnpmStart();
    try {
      await waitFor(started, 'Ctrl-C to stop.');
      const { dir, pid } = demoFolder(started.output());
      assert.ok(existsSync(dir), 'the folder exists while serving');
      if (how.startsWith('Ctrl-C')) process.kill(-started.child.pid!, 'SIGINT');
      else process.kill(pid, 'SIGTERM');
      const { code } = await bounded(started.exited, 'exit');
      assert.is(code, 0, started.output());
      assert.not.match(started.output(), 'ELIFECYCLE');
      assert.not.ok(existsSync(dir), `${dir} is left behind`);
    } finally {
      try {
        process.kill(-started.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return bounded(
    new Promise((resolve) => {
      const child = spawn(command, args, { cwd: root, env: { ...process.env, CI: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    }),
    command,
  );
}

test('pnpm client: refuses binary output to a terminal; --out FILE writes the body', async () => {
  const server = await startDemoServer({ host: '::', port: 0 });
  const scratch = mkdtempSync(join(tmpdir(), 'purequic-client-'));
  try {
    const url = `https://localhost:${server.port}/1mb.bin`;
    // `script` runs the command on a pseudo-terminal (stdout is a TTY) and returns its status.
    const onTty = await run('script', ['-qec', `pnpm --silent client ${url} --ca ${server.certificatePath}`, '/dev/null']);
    assert.is(onTty.code, 1, onTty.out);
    assert.match(onTty.out, 'binary output can mess up your terminal, not written');
    assert.match(onTty.out, 'Use --out FILE');
    assert.ok(onTty.out.length < 2000, 'no binary was written');
    const file = join(scratch, '1mb.bin');
    const saved = await run('pnpm', ['--silent', 'client', url, '--ca', server.certificatePath, '--out', file]);
    assert.is(saved.code, 0, saved.out);
    assert.equal(new Uint8Array(readFileSync(file)), new Uint8Array(readFileSync(join(server.root, '1mb.bin'))));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await server.close();
  }
  assert.not.ok(existsSync(server.root), 'close() removed the demo folder');
});

test.run();
