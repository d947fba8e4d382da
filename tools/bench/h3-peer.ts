/**
 * The processes the HTTP/3 benchmark starts (one role each, so each side's CPU is its own):
 *
 *   h3-peer.ts server PORT_FILE           our HTTP/3 server: /bytes/N (N bytes), /1k (1 KB)
 *   h3-peer.ts h2server PORT_FILE         node:http2 over TLS with the same routes
 *   h3-peer.ts get URL                    one GET with our client; prints {bytes, ms, cpuMs}
 *   h3-peer.ts many URL N INFLIGHT        N GETs, INFLIGHT at a time, ours; prints {requests, ms, cpuMs}
 *   h3-peer.ts h2many URL N INFLIGHT      the same with node:http2's client
 *   h3-peer.ts idle URL N                 N connections with one request each, kept open until stdin ends
 *
 * Servers print their port on stdout as JSON and, on SIGTERM, their CPU and memory figures.
 */

import { connect as h2connect, createSecureServer } from 'node:http2';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { Http3Client, createServer } from '@purequic/h3';

const [mode, ...args] = process.argv.slice(2);
const CHUNK = new Uint8Array(64 * 1024).fill(0x61);
const ONE_K = new Uint8Array(1024).fill(0x62);

function report(extra: Record<string, unknown>): void {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers, ...extra }));
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function ourServer(): Promise<void> {
  const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1'] });
  const server = await createServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, maxConcurrentRequests: 1000 }, async (req, res) => {
    if (req.url === '/1k') {
      res.end(ONE_K);
      return;
    }
    const n = Number(req.url.split('/')[2] ?? 0);
    res.setHeader('content-length', n);
    for (let sent = 0; sent < n; sent += CHUNK.length) {
      if (!res.write(CHUNK.subarray(0, Math.min(CHUNK.length, n - sent)))) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
  gc();
  const base = process.memoryUsage();
  console.log(JSON.stringify({ port: server.port, cert: cert.certificatePem }));
  process.on('message', (m) => {
    if (m === 'measure') {
      gc();
      const mem = process.memoryUsage();
      process.send!({ heapDelta: mem.heapUsed - base.heapUsed, abDelta: mem.arrayBuffers - base.arrayBuffers, connections: server.connectionCount });
    }
  });
  process.on('SIGTERM', () => {
    report({});
    void server.close().then(() => process.exit(0));
  });
}

async function h2Server(): Promise<void> {
  const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1'] });
  const server = createSecureServer({ cert: cert.certificatePem, key: cert.privateKeyPem, settings: { maxConcurrentStreams: 1000 } }, (req, res) => {
    if (req.url === '/1k') res.end(ONE_K);
    else res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port, cert: cert.certificatePem }));
  process.on('SIGTERM', () => {
    report({});
    process.exit(0);
  });
}

async function pool(total: number, inflight: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < total) await one(next++);
    }),
  );
}

async function main(): Promise<void> {
  switch (mode) {
    case 'server':
      return ourServer();
    case 'h2server':
      return h2Server();
    case 'get': {
      const client = new Http3Client({ insecure: true });
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await client.fetch(args[0]!);
      let bytes = 0;
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      console.log(JSON.stringify({ bytes, ms, cpuMs: (cpu.user + cpu.system) / 1000 }));
      await client.close();
      return;
    }
    case 'many': {
      const client = new Http3Client({ insecure: true });
      await (await client.fetch(args[0]!)).arrayBuffer(); // connection up
      const n = Number(args[1]);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await pool(n, Number(args[2]), async () => {
        await (await client.fetch(args[0]!)).arrayBuffer();
      });
      const cpu = process.cpuUsage(cpu0);
      console.log(JSON.stringify({ requests: n, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
      await client.close();
      return;
    }
    case 'h2many': {
      const url = new URL(args[0]!);
      const session = h2connect(url.origin, { rejectUnauthorized: false });
      const get = () =>
        new Promise<void>((resolve, reject) => {
          const s = session.request({ ':path': url.pathname });
          s.on('data', () => {});
          s.on('end', resolve);
          s.on('error', reject);
        });
      await get();
      const n = Number(args[1]);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await pool(n, Number(args[2]), get);
      const cpu = process.cpuUsage(cpu0);
      console.log(JSON.stringify({ requests: n, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
      session.close();
      return;
    }
    case 'idle': {
      const n = Number(args[1]);
      const clients: Http3Client[] = [];
      for (let i = 0; i < n; i++) {
        const c = new Http3Client({ insecure: true });
        await (await c.fetch(args[0]!)).arrayBuffer();
        clients.push(c);
      }
      console.log(JSON.stringify({ open: n }));
      process.stdin.resume();
      await new Promise((r) => process.stdin.once('end', r));
      await Promise.all(clients.map((c) => c.close()));
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

await main();
