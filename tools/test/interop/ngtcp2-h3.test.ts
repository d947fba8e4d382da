/**
 * HTTP/3 with ngtcp2 0.12 + nghttp3 (Debian `gtlsclient` / `gtlsserver`), both ways, through
 * @purequic/h3: small and 10 MB GETs, 200 requests in parallel on one connection and a 5 MB POST,
 * every body checked by SHA-256, and the QPACK dynamic table in use in both directions.
 * Skipped (reason printed) when the Debian ngtcp2 packages are absent; CI installs them.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, type SelfSignedCertificate } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { Http3Client, createServer } from '@purequic/h3';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';
import { freeUdpPort, summary, withStepTimeout } from './ngtcp2-helpers.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 HTTP/3 tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

const STEP_TIMEOUT_MS = 90_000;
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

let directory = '';
let certificate: SelfSignedCertificate;
let ten: Uint8Array;
let five: Uint8Array;

test.before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-h3-'));
  mkdirSync(join(directory, 'www'));
  certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
  const random = new SimRandom(33);
  ten = random.bytes(10_000_000);
  five = ten.subarray(0, 5 * 1024 * 1024);
  writeFileSync(join(directory, 'www', 'ten.bin'), ten);
  writeFileSync(join(directory, 'www', 'small.txt'), 'small file from ngtcp2\n');
  writeFileSync(join(directory, 'five.bin'), five);
});

test.after(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> => withStepTimeout(promise, what, STEP_TIMEOUT_MS);

it('our fetch client against the ngtcp2 HTTP/3 server: small, 10 MB, 200 in parallel, 5 MB POST; QPACK dynamic table both ways', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const port = await freeUdpPort();
  const server = new SpawnedProcess(peer.server, ['-q', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')], {}, directory);
  const client = new Http3Client({ ca: certificate.certificatePem, caOnly: true });
  try {
    const base = `https://127.0.0.1:${port}`;
    // gtlsserver -q prints nothing when ready: retry until it answers.
    let first: Response | undefined;
    for (let attempt = 0; attempt < 20 && !first; attempt++) {
      first = await withTimeout(client.fetch(`${base}/small.txt`, { headers: { 'user-agent': 'purequic-interop-test' } }), 'first GET').catch(async () => {
        await new Promise((r) => setTimeout(r, 250));
        return undefined;
      });
    }
    assert.ok(first, `no response from gtlsserver:\n${summary(server.output)}`);
    assert.is(first.status, 200);
    assert.is(await first.text(), 'small file from ngtcp2\n');

    const big = await withTimeout(client.fetch(`${base}/ten.bin`), 'GET ten.bin');
    const body = new Uint8Array(await withTimeout(big.arrayBuffer(), 'body of ten.bin'));
    assert.is(body.length, ten.length);
    assert.is(sha256(body), sha256(ten));

    const many = await withTimeout(
      Promise.all(Array.from({ length: 200 }, (_, i) => client.fetch(`${base}/small.txt?i=${i}`, { headers: { 'user-agent': 'purequic-interop-test', 'x-request': `r${i % 10}` } }).then((r) => r.text()))),
      '200 parallel GETs',
    );
    for (const t of many) assert.is(t, 'small file from ngtcp2\n');

    // ngtcp2's example server reads and discards a request body; the POST shows the upload flows.
    const post = await withTimeout(client.fetch(`${base}/small.txt`, { method: 'POST', body: five }), 'POST 5 MB');
    assert.is(post.status, 200);
    await post.arrayBuffer();

    const origin = await client.connection('127.0.0.1', port);
    const h3 = origin.conn.h3;
    console.log(`  QPACK with nghttp3: we inserted ${h3.encoder.stats.inserts} entries and referenced them ${h3.encoder.stats.dynamicReferences} times; nghttp3 inserted ${h3.decoder.insertCount} into ours`);
    assert.ok(h3.encoder.stats.inserts > 0 && h3.encoder.stats.dynamicReferences > 0, 'our encoder used the dynamic table');
    assert.ok(h3.decoder.insertCount > 0, 'nghttp3 used our decoder\'s dynamic table');
  } finally {
    await client.close();
    await server.stop();
  }
});

it('the ngtcp2 client against our HTTP/3 server: small, 10 MB, 200 in parallel, 5 MB POST hashed; QPACK dynamic table both ways', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const server = await createServer({ host: '127.0.0.1', port: 0, certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem }, async (req, res) => {
    const url = new URL(req.url, 'https://x');
    res.setHeader('server', 'purequic-interop-test');
    res.setHeader('cache-control', 'no-store, private');
    if (req.method === 'POST') {
      const h = createHash('sha256');
      for await (const chunk of req) h.update(chunk);
      res.end(h.digest('hex'));
    } else if (url.pathname === '/ten.bin') {
      res.setHeader('content-length', ten.length);
      for (let o = 0; o < ten.length; o += 64 * 1024) {
        if (!res.write(ten.subarray(o, o + 64 * 1024))) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } else {
      res.end(`small ${url.pathname}\n`);
    }
  });
  const port = server.port;
  const run = async (name: string, args: string[], urls: string[]) => {
    const downloads = join(directory, 'downloads', name);
    mkdirSync(downloads, { recursive: true });
    const client = new SpawnedProcess(peer.client, ['-q', '--no-quic-dump', '--no-http-dump', '--exit-on-all-streams-close', `--download=${downloads}`, '--timeout=30s', ...args, '127.0.0.1', String(port), ...urls], {}, directory);
    try {
      const code = await withTimeout(client.exited, `gtlsclient ${name}`);
      assert.is(code, 0, `gtlsclient ${name} failed:\n${summary(client.output)}`);
    } finally {
      await client.stop();
    }
    return downloads;
  };
  try {
    const a = await run('small', [], [`https://127.0.0.1:${port}/a.txt`]);
    assert.is(readFileSync(join(a, 'a.txt'), 'utf8'), 'small /a.txt\n');

    const b = await run('ten', [], [`https://127.0.0.1:${port}/ten.bin`]);
    assert.is(sha256(readFileSync(join(b, 'ten.bin'))), sha256(ten));

    const before = server.stats.requests;
    const urls = Array.from({ length: 200 }, (_, i) => `https://127.0.0.1:${port}/f${i}.txt`);
    const c = await run('many', [], urls);
    assert.is(readdirSync(c).length, 200);
    for (let i = 0; i < 200; i++) assert.is(readFileSync(join(c, `f${i}.txt`), 'utf8'), `small /f${i}.txt\n`);
    assert.is(server.stats.requests - before, 200);

    const d = await run('post', ['-m', 'POST', '-d', join(directory, 'five.bin')], [`https://127.0.0.1:${port}/upload`]);
    assert.is(readFileSync(join(d, 'upload'), 'utf8'), sha256(five));

    const stats = server.stats;
    console.log(`  QPACK with nghttp3: we inserted ${stats.qpackInsertsSent} entries (${stats.qpackDynamicReferencesSent} references); nghttp3 inserted ${stats.qpackInsertsReceived} into ours`);
    assert.ok(stats.qpackInsertsSent > 0 && stats.qpackDynamicReferencesSent > 0, 'our encoder used the dynamic table');
    assert.ok(stats.qpackInsertsReceived > 0, "nghttp3's encoder used our dynamic table");
  } finally {
    await server.close();
  }
});

test.run();
