/**
 * The `purequic` command as a user runs it: `serve DIR` prints its URL and certificate, `get`
 * downloads from it like curl (-o, -i, -H, -d, exit codes), and the server never leaves its root.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'tools', 'cli', 'bin.mjs');
const dir = mkdtempSync(join(tmpdir(), 'purequic-cli-'));
const www = join(dir, 'www');
let server: ChildProcess;
let url = '';
let certPath = '';
let printedHash = '';

function run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

test.before(async () => {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(www);
  writeFileSync(join(www, 'index.html'), '<!doctype html><title>hi</title><p>hello from purequic serve</p>\n');
  writeFileSync(join(www, 'data.bin'), createHash('sha256').update('seed').digest().subarray(0, 32).toString('hex').repeat(70_000));
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  server = spawn(process.execPath, [cli, 'serve', www, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  let out = '';
  server.stdout!.on('data', (d: Buffer) => (out += d));
  server.stderr!.on('data', (d: Buffer) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/try: .*--cacert (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  url = /URL: (\S+)/.exec(out)?.[1] ?? '';
  certPath = /--cacert (\S+)/.exec(out)?.[1] ?? '';
  printedHash = /SHA-256: ([0-9a-f]{64})/.exec(out)?.[1] ?? '';
  if (!url || !certPath) throw new Error(`serve did not start:\n${out}`);
});

test.after(async () => {
  if (server && server.exitCode === null) {
    const closed = new Promise((r) => server.once('close', r));
    server.kill('SIGTERM');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000))]);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('serve prints the SHA-256 of its certificate', () => {
  const der = new X509Certificate(readFileSync(certPath, 'utf8')).raw;
  assert.is(printedHash, createHash('sha256').update(der).digest('hex'));
});

test('get -i prints the status and headers, then the page', async () => {
  const r = await run(['get', url, '--cacert', certPath, '-i']);
  assert.is(r.code, 0, r.stderr);
  const text = r.stdout.toString();
  assert.match(text, /^HTTP\/3 200\n/);
  assert.match(text, /content-type: text\/html; charset=utf-8\n/);
  assert.match(text, /hello from purequic serve/);
});

test('get -o FILE writes a binary body intact', async () => {
  const out = join(dir, 'out.bin');
  const r = await run(['get', `${url}data.bin`, '--cacert', certPath, '-o', out]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(www, 'data.bin'))));
});

test('exit code 22 on a 404; the root cannot be left; POST is refused with 405', async () => {
  const nf = await run(['get', `${url}missing`, '--cacert', certPath]);
  assert.is(nf.code, 22);
  const up = await run(['get', `${url}..%2Fsecret.txt`, '--cacert', certPath]);
  assert.not.match(up.stdout.toString(), /outside the root/);
  assert.is(up.code, 22);
  const post = await run(['get', url, '--cacert', certPath, '-d', 'x=1', '-H', 'x-test: 1']);
  assert.is(post.code, 22);
});

test('an untrusted certificate is refused; -k accepts it', async () => {
  const strict = await run(['get', url]);
  assert.is.not(strict.code, 0);
  const insecure = await run(['get', url, '-k']);
  assert.is(insecure.code, 0, insecure.stderr);
});

test('usage errors exit 2 with the usage text', async () => {
  const r = await run(['fly']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /usage:/);
});

test.run();
