/**
 * The interop runner's WebTransport contract (`WEBTRANSPORT=1 pnpm endpoint`,
 * tools/interop/webtransport-endpoint.ts): our client against our server, in-process, for
 * handshake (negotiated_protocol.txt on both sides) and transfer-{unidirectional,bidirectional,
 * datagram}-{receive,send}, files compared byte for byte.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runWebTransportEndpoint } from '../../../tools/interop/webtransport-endpoint.js';
import { generateWebTransportCertificate } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wt-runner-'));
const cert = await generateWebTransportCertificate();
mkdirSync(join(root, 'certs'));
writeFileSync(join(root, 'certs', 'cert.pem'), cert.certificatePem);
writeFileSync(join(root, 'certs', 'priv.key'), cert.privateKeyPem);
const files: Record<string, Uint8Array> = {
  'wt1/small.txt': new TextEncoder().encode('small file\n'),
  'wt1/big.bin': new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff),
  'wt2/other.txt': new TextEncoder().encode('other endpoint\n'),
  'wt1/dgram.txt': new TextEncoder().encode('fits in a datagram'),
};
for (const side of ['server-www', 'client-www']) {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(root, side, name.split('/')[0]!), { recursive: true });
    writeFileSync(join(root, side, name), body);
  }
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function run(testcase: string, names: string[], requester: 'client' | 'server'): Promise<{ server: number; client: number; dir: string; log: string[] }> {
  const dir = join(root, testcase);
  const log: string[] = [];
  const abort = new AbortController();
  let port!: number;
  let serverDone!: Promise<number>;
  const listening = new Promise<void>((r) => {
    const server = runWebTransportEndpoint(
      {
        ROLE: 'server',
        TESTCASE: testcase,
        HOST: '127.0.0.1',
        PORT: '0',
        CERTS: join(root, 'certs'),
        WWW: join(root, 'server-www'),
        DOWNLOADS: join(dir, 'server-downloads'),
        PROTOCOLS: 'wt-interop-2 wt-interop-1',
        REQUESTS: requester === 'server' ? names.join(' ') : '',
      },
      { signal: abort.signal, log: (l) => log.push(`server: ${l}`), onListening: (p) => ((port = p), r()) },
    );
    serverDone = server;
  });
  await bounded(listening, 5000, 'server listening');
  const endpoints = [...new Set(names.map((n) => n.split('/')[0]))];
  const urls = requester === 'client' ? names.map((n) => `https://127.0.0.1:${port}/${n}`) : endpoints.map((e) => `https://127.0.0.1:${port}/${e}/`);
  const client = await bounded(
    runWebTransportEndpoint(
      {
        ROLE: 'client',
        TESTCASE: testcase,
        WWW: join(root, 'client-www'),
        DOWNLOADS: join(dir, 'client-downloads'),
        PROTOCOLS: 'wt-interop-1 wt-interop-3',
        REQUESTS: urls.join(' '),
      },
      { log: (l) => log.push(`client: ${l}`) },
    ),
    20_000,
    `${testcase} client`,
  );
  abort.abort();
  const server = await bounded(serverDone, 10_000, `${testcase} server`);
  return { server, client, dir, log };
}

test('handshake: both sides agree on the protocol and write negotiated_protocol.txt', async () => {
  const r = await run('handshake', ['wt1/', 'wt2/'], 'client');
  assert.is(r.client, 0, r.log.join('\n'));
  assert.is(r.server, 0, r.log.join('\n'));
  assert.is(readFileSync(join(r.dir, 'client-downloads', 'negotiated_protocol.txt'), 'utf8'), 'wt-interop-1');
  assert.is(readFileSync(join(r.dir, 'server-downloads', 'negotiated_protocol.txt'), 'utf8'), 'wt-interop-1');
});

for (const mode of ['unidirectional', 'bidirectional', 'datagram'] as const) {
  for (const direction of ['receive', 'send'] as const) {
    const testcase = `transfer-${mode}-${direction}`;
    test(`${testcase}: files arrive intact`, async () => {
      const names = mode === 'datagram' ? ['wt1/dgram.txt', 'wt2/other.txt'] : ['wt1/small.txt', 'wt1/big.bin', 'wt2/other.txt'];
      const requester = direction === 'receive' ? 'client' : 'server';
      const r = await run(testcase, names, requester);
      assert.is(r.client, 0, r.log.join('\n'));
      assert.is(r.server, 0, r.log.join('\n'));
      const into = join(r.dir, requester === 'client' ? 'client-downloads' : 'server-downloads');
      for (const n of names) assert.equal(new Uint8Array(readFileSync(join(into, n))), files[n], n);
    });
  }
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
