/**
 * `pnpm bench -- webtransport`: WebTransport figures, our client and our server in this process
 * (loopback). Nothing is asserted; figures are printed with the load average.
 *
 * - stream: one bidirectional stream, WT_BENCH_MB (100) MB client -> server, MB/s.
 * - datagrams: 1,000-byte datagrams for ~2 s, sent and received per second (drops counted).
 * - sessions: connect + accept + one echo + close, on one pooled connection, sessions/s.
 * - idle: heap per idle session after gc (100 sessions on one connection), KB.
 * - ws: the same 100 MB over a WebSocket (`ws` on `node:https`, TLS over TCP), in messages of
 *   64 KB, and the ratio of our stream's MB/s to it, measured in the same run.
 */

import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { WebSocket, WebSocketServer } from 'ws';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebTransport, createWebTransportServer, generateWebTransportCertificate, type WebTransportBidirectionalStream } from '@purequic/webtransport';

const MB = Number(process.env.WT_BENCH_MB ?? 100);

async function heapAfterGc(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

export default async function run(filter?: string): Promise<void> {
  const want = (name: string) => filter === undefined || name.includes(filter);
  const cert = await generateWebTransportCertificate();
  const server = await createWebTransportServer({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
  let datagramsIn = 0;
  void (async () => {
    for await (const s of server) {
      s.accept();
      void (async () => {
        for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
          void (async () => {
            let n = 0;
            for await (const c of bs.readable as unknown as AsyncIterable<Uint8Array>) n += c.length;
            const w = bs.writable.getWriter();
            await w.write(new TextEncoder().encode(String(n)));
            await w.close();
          })().catch(() => {});
        }
      })().catch(() => {});
      void (async () => {
        const r = s.datagrams.readable.getReader();
        for (;;) {
          const { done } = await r.read();
          if (done) return;
          datagramsIn++;
        }
      })().catch(() => {});
    }
  })();
  const url = `https://127.0.0.1:${server.port}/bench`;
  const hashes = [{ algorithm: 'sha-256', value: cert.sha256 }];
  const rows: string[] = [];
  let streamMBps = NaN;
  try {
    if (want('stream') || want('datagrams')) {
      const wt = new WebTransport(url, { serverCertificateHashes: hashes });
      await wt.ready;
      if (want('stream')) {
        const chunk = new Uint8Array(64 * 1024);
        const total = MB * 1024 * 1024;
        const bs = await wt.createBidirectionalStream();
        const w = bs.writable.getWriter();
        const t = performance.now();
        for (let sent = 0; sent < total; sent += chunk.length) await w.write(chunk);
        await w.close();
        let answer = '';
        for await (const c of bs.readable as unknown as AsyncIterable<Uint8Array>) answer += new TextDecoder().decode(c);
        const s = (performance.now() - t) / 1000;
        streamMBps = total / 1e6 / s;
        rows.push(`stream      ${MB} MB in ${s.toFixed(2)} s = ${streamMBps.toFixed(1)} MB/s (server counted ${answer} bytes)`);
      }
      if (want('datagrams')) {
        const dw = wt.datagrams.writable.getWriter();
        const d = new Uint8Array(1000);
        const before = datagramsIn;
        const t = performance.now();
        let sent = 0;
        while (performance.now() - t < 2000) {
          for (let i = 0; i < 64; i++, sent++) await dw.write(d);
          await new Promise((r) => setImmediate(r));
        }
        await new Promise((r) => setTimeout(r, 200));
        const s = (performance.now() - t) / 1000;
        const st = await wt.getStats();
        rows.push(`datagrams   1,000 B: ${(sent / s).toFixed(0)}/s written, ${((datagramsIn - before) / s).toFixed(0)}/s received, ${st.datagrams.droppedOutgoing} dropped at the sender`);
      }
      wt.close();
      await wt.closed;
    }
    if (want('sessions')) {
      const anchor = new WebTransport(url, { allowPooling: true, insecure: true });
      await anchor.ready;
      const one = async () => {
        const wt = new WebTransport(url, { allowPooling: true, insecure: true });
        await wt.ready;
        const bs = await wt.createBidirectionalStream();
        const w = bs.writable.getWriter();
        await w.write(new Uint8Array(8));
        await w.close();
        for await (const _ of bs.readable as unknown as AsyncIterable<Uint8Array>) void _;
        wt.close();
        await wt.closed;
      };
      const n = 1000;
      const t = performance.now();
      for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, one));
      const s = (performance.now() - t) / 1000;
      rows.push(`sessions    ${(n / s).toFixed(0)}/s (connect + accept + one echo + close, 20 at a time, one connection)`);
      anchor.close();
      await anchor.closed;
    }
    if (want('idle')) {
      const base = await heapAfterGc();
      const idle = Array.from({ length: 100 }, () => new WebTransport(url, { allowPooling: true, insecure: true }));
      await Promise.all(idle.map((w) => w.ready));
      const used = (await heapAfterGc()) - base;
      rows.push(`idle        ${(used / 100 / 1024).toFixed(1)} KB of heap per idle session (both sides, 100 on one connection)`);
      for (const w of idle) w.close();
      await Promise.all(idle.map((w) => w.closed));
    }
    if (want('ws')) {
      const wsMBps = await wsThroughput(cert.certificatePem, cert.privateKeyPem);
      rows.push(`ws          ${MB} MB over WebSocket/TLS (node:https + ws) = ${wsMBps.toFixed(1)} MB/s; our stream / ws: ${(streamMBps / wsMBps).toFixed(2)}`);
    }
  } finally {
    await server.close();
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const r of rows) console.log(r);
}

/** MB/s of MB megabytes client -> server over one WebSocket on TLS, 64 KB messages. */
async function wsThroughput(certificatePem: string, privateKeyPem: string): Promise<number> {
  const https = createHttpsServer({ cert: certificatePem, key: privateKeyPem });
  const wss = new WebSocketServer({ server: https });
  const total = MB * 1024 * 1024;
  wss.on('connection', (socket) => {
    let n = 0;
    socket.on('message', (data: Buffer) => {
      n += data.length;
      if (n >= total) socket.send(String(n));
    });
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const port = (https.address() as AddressInfo).port;
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const chunk = new Uint8Array(64 * 1024);
  const done = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  const t = performance.now();
  for (let sent = 0; sent < total; sent += chunk.length) {
    ws.send(chunk);
    // Back-pressure as an application would: wait while much is buffered.
    while (ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setImmediate(r));
  }
  await done;
  const seconds = (performance.now() - t) / 1000;
  ws.close();
  wss.close();
  await new Promise((r) => https.close(r));
  return total / 1e6 / seconds;
}
