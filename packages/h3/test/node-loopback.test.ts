/**
 * The node:dgram HTTP/3 server and fetch client against each other on loopback: small and large
 * bodies checked by hash, uploads, many requests in parallel on one connection, aborts both
 * ways, trailers, the fetch-style `serve`, limits, and a graceful close with GOAWAY.
 */

import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { Http3Client, Http3RequestError, createServer, serve, type Http3Server } from '../src/index.js';

const cert = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const big = new Uint8Array(10 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 10)) & 0xff);

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

async function rejects(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

let server: Http3Server;
let client: Http3Client;
let base: string;
const cancelled: string[] = [];

test.before(async () => {
  server = await createServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, maxRequestBodySize: 8 * 1024 * 1024 }, async (req, res) => {
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/hello') {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.headers['x-name'] ?? ''}`);
    } else if (url.pathname === '/big') {
      res.setHeader('content-length', big.length);
      for (let o = 0; o < big.length; o += 64 * 1024) {
        if (!res.write(big.subarray(o, o + 64 * 1024))) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } else if (url.pathname === '/echo-hash') {
      const h = createHash('sha256');
      let n = 0;
      for await (const chunk of req) {
        h.update(chunk);
        n += chunk.length;
      }
      res.addTrailers({ 'x-bytes': String(n) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(h.digest('hex'));
    } else if (url.pathname === '/hang') {
      req.signal.addEventListener('abort', () => cancelled.push(url.search));
      res.writeHead(200);
      res.write('partial');
    } else if (url.pathname === '/throw') {
      throw new Error('handler failure (expected by the test)');
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  base = `https://127.0.0.1:${server.port}`;
  client = new Http3Client({ ca: cert.certificatePem, caOnly: true });
});

test.after(async () => {
  await bounded(client.close(), 5_000, 'client close');
  await bounded(server.close(), 8_000, 'server close');
});

test('GET small, with a request header; 404', async () => {
  const r = await bounded(client.fetch(`${base}/hello`, { headers: { 'x-name': 'ada' } }), 10_000, 'GET /hello');
  assert.is(r.status, 200);
  assert.is(r.headers.get('content-type'), 'text/plain');
  assert.is(await r.text(), 'hello GET ada');
  const nf = await bounded(client.fetch(`${base}/nope`), 10_000, 'GET /nope');
  assert.is(nf.status, 404);
  assert.is(await nf.text(), 'not found');
});

test('10 MB download intact', async () => {
  const r = await bounded(client.fetch(`${base}/big`), 60_000, 'GET /big');
  assert.is(r.headers.get('content-length'), String(big.length));
  const body = new Uint8Array(await bounded(r.arrayBuffer(), 60_000, 'body of /big'));
  assert.is(body.length, big.length);
  assert.is(sha256(body), sha256(big));
});

test('5 MB upload hashed by the server; trailers sent', async () => {
  const upload = big.subarray(0, 5 * 1024 * 1024);
  const r = await bounded(client.fetch(`${base}/echo-hash`, { method: 'POST', body: upload }), 60_000, 'POST');
  assert.is(r.status, 200);
  assert.is(await r.text(), sha256(upload));
});

test('200 requests in parallel on one connection', async () => {
  const results = await bounded(Promise.all(Array.from({ length: 200 }, (_, i) => client.fetch(`${base}/hello`, { headers: { 'x-name': `n${i}` } }).then((r) => r.text()))), 60_000, '200 parallel');
  results.forEach((t, i) => assert.is(t, `hello GET n${i}`));
  assert.is(server.connectionCount, 1);
});

test('AbortSignal cancels the request; the server handler sees it aborted', async () => {
  const ac = new AbortController();
  const r = await bounded(client.fetch(`${base}/hang?abort1`, { signal: ac.signal }), 10_000, 'GET /hang');
  const reader = r.body!.getReader();
  const first = await reader.read();
  assert.is(new TextDecoder().decode(first.value), 'partial');
  ac.abort();
  await rejects(() => reader.read());
  const until = Date.now() + 20_000;
  while (!cancelled.includes('?abort1') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cancelled.includes('?abort1'));
  // The connection keeps working.
  assert.is(await (await client.fetch(`${base}/hello`)).text(), 'hello GET ');
});

test('a throwing handler gives 500; an oversized upload is refused with 413', async () => {
  const r = await bounded(client.fetch(`${base}/throw`), 10_000, 'GET /throw');
  assert.is(r.status, 500);
  const big413 = await bounded(client.fetch(`${base}/echo-hash`, { method: 'POST', body: new Uint8Array(9 * 1024 * 1024), headers: { 'content-length': String(9 * 1024 * 1024) } }), 30_000, 'POST 9 MB');
  assert.is(big413.status, 413);
});

test('serve(): a fetch-style handler with Request and Response', async () => {
  const s = await serve({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem }, async (request) => {
    const body = request.method === 'POST' ? await request.text() : '';
    return new Response(`${request.method} ${new URL(request.url).pathname} ${body}`, { status: 201, headers: { 'x-served-by': 'serve' } });
  });
  try {
    const r = await bounded(client.fetch(`https://127.0.0.1:${s.port}/path`, { method: 'POST', body: 'data' }), 10_000, 'serve POST');
    assert.is(r.status, 201);
    assert.is(r.headers.get('x-served-by'), 'serve');
    assert.is(await r.text(), 'POST /path data');
  } finally {
    await bounded(s.close(), 8_000, 'serve close');
  }
});

test('close(): GOAWAY lets the request in flight finish; the client then connects anew', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const slowEntered = new Promise<void>((r) => (entered = r));
  const s = await createServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem }, async (req, res) => {
    if (req.url === '/slow') {
      entered();
      await gate;
    }
    res.end(`done ${req.url}`);
  });
  const c = new Http3Client({ ca: cert.certificatePem, caOnly: true });
  try {
    assert.is(await (await c.fetch(`https://127.0.0.1:${s.port}/first`)).text(), 'done /first');
    const slow = c.fetch(`https://127.0.0.1:${s.port}/slow`).then((r) => r.text());
    slow.catch(() => {}); // observed below; never an unhandled rejection meanwhile
    // The request is in the server's hands before GOAWAY goes out, so it is below GOAWAY's id.
    await bounded(slowEntered, 10_000, 'the slow request reaching its handler');
    const closing = s.close();
    release();
    assert.is(await bounded(slow, 10_000, 'slow'), 'done /slow');
    await bounded(closing, 10_000, 'server close');
    // The server is gone: a new request fails instead of hanging.
    await rejects(() => bounded(c.fetch(`https://127.0.0.1:${s.port}/after`), 20_000, 'after close'));
  } finally {
    await bounded(c.close(), 5_000, 'client close');
  }
});

test('certificate verification is on by default', async () => {
  const strict = new Http3Client({ connect: { handshakeTimeoutMs: 5_000 } as never });
  try {
    const err = await bounded(strict.fetch(`${base}/hello`).then(() => undefined, (e: unknown) => e), 20_000, 'untrusted');
    assert.ok(err instanceof Error, 'a self-signed certificate is refused');
    assert.not.ok(err instanceof Http3RequestError && err.code === 0x100);
  } finally {
    await strict.close();
  }
});

test.run();
