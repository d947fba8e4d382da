/**
 * The client process of workers.bench.ts: CLIENTS client endpoints (each its own port, so first
 * Initials spread over the cluster's workers by address hash) against PORT.
 *
 *   KIND=handshakes  each endpoint connects, closes and connects again (no resumption) for
 *                    BENCH_TIME_MS after a warm-up
 *   KIND=transfer    each endpoint opens one connection and downloads BYTES on one stream,
 *                    all at once
 *
 * The window's CPU-seconds of this process and of SERVER_PID are read from /proc at its edges.
 * Prints one JSON line: { count, bytes, seconds, clientCpu, serverCpu, serverMainCpu, total }:
 * serverMainCpu is the server's main thread alone (a cluster's front), total the handshakes or
 * bytes including the warm-up (to relate the server's datagram counters to).
 */

import { QuicEndpoint } from '../../packages/quic/src/endpoint/endpoint.js';
import type { QuicConnection } from '../../packages/quic/src/endpoint/quic-connection.js';
import { processCpuSeconds, threadCpuSeconds } from './process-cpu.js';

const port = Number(process.env.PORT);
const serverPid = Number(process.env.SERVER_PID);
const kind = process.env.KIND;
const clients = Number(process.env.CLIENTS ?? 8);
const runMs = Number(process.env.BENCH_TIME_MS ?? 3000);
const bytes = Number(process.env.BYTES ?? 25_000_000);
const connectOptions = { host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['bench'], verification: { mode: 'none' as const }, resume: false, handshakeTimeoutMs: 20_000 };

const endpoints = await Promise.all(Array.from({ length: clients }, () => QuicEndpoint.bind({ host: '127.0.0.1' })));

function cpu(): { client: number; server: number; main: number } {
  return { client: processCpuSeconds(process.pid)!, server: processCpuSeconds(serverPid)!, main: threadCpuSeconds(serverPid, serverPid)! };
}

async function handshakeLoop(endpoint: QuicEndpoint, until: number): Promise<number> {
  let n = 0;
  while (performance.now() < until) {
    const conn = await endpoint.connect(connectOptions);
    void conn.close(0, '');
    n++;
  }
  return n;
}

async function download(conn: QuicConnection, size: number): Promise<number> {
  const s = await conn.openBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(Buffer.from(String(size)));
  await w.close();
  let got = 0;
  for await (const c of s.readable) got += c.length;
  return got;
}

let result: { count: number; bytes: number; seconds: number; clientCpu: number; serverCpu: number; serverMainCpu: number; total: number };
if (kind === 'handshakes') {
  const warm = await Promise.all(endpoints.map((e) => handshakeLoop(e, performance.now() + 500)));
  const before = cpu();
  const start = performance.now();
  const counts = await Promise.all(endpoints.map((e) => handshakeLoop(e, start + runMs)));
  const seconds = (performance.now() - start) / 1000;
  const after = cpu();
  const count = counts.reduce((a, b) => a + b, 0);
  const total = count + warm.reduce((a, b) => a + b, 0);
  result = { count, bytes: 0, seconds, clientCpu: after.client - before.client, serverCpu: after.server - before.server, serverMainCpu: after.main - before.main, total };
} else {
  const conns = await Promise.all(endpoints.map((e) => e.connect(connectOptions)));
  await Promise.all(conns.map((c) => download(c, 100_000))); // warm-up
  const before = cpu();
  const start = performance.now();
  const got = await Promise.all(conns.map((c) => download(c, bytes)));
  const seconds = (performance.now() - start) / 1000;
  const after = cpu();
  const sum = got.reduce((a, b) => a + b, 0);
  const total = sum + conns.length * 100_000;
  result = { count: conns.length, bytes: sum, seconds, clientCpu: after.client - before.client, serverCpu: after.server - before.server, serverMainCpu: after.main - before.main, total };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await Promise.all(endpoints.map((e) => e.close()));
process.exit(0);
