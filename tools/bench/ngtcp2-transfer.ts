/**
 * Download measurements with ngtcp2's HTTP/3 examples for transfer.bench.ts: ngtcp2 with
 * itself (the yardstick), our client from `gtlsserver`, and `gtlsclient` from our server. Our
 * side runs in this process and carries the file in the minimal HTTP/3 exchange of
 * tools/interop/h3-minimal.ts. ngtcp2's client reports no timing, so its runs are timed from
 * spawning it to its exit (its start-up, a few ms, included).
 */

import { createSocket } from 'node:dgram';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { QuicEndpoint, type QuicConnection, type SelfSignedCertificate } from '@purequic/quic';
import { encodeFrame, encodeGetRequest, encodeStatus200, H3_NO_ERROR, H3Frame, openControlStream } from '../interop/h3-minimal.js';
import { readAll } from '../interop/hq.js';
import type { Ngtcp2Peer } from '../interop/peers.js';
import { SpawnedProcess } from '../interop/runner.js';

/** One measured download: bytes of file received, and how long it took. */
export type Measurement = { ok: true; bytes: number; elapsedMs: number } | { ok: false; reason: string };

/** Where the run's files are: `www/<name>` holds the file, `downloads/` receives it. */
export interface Ngtcp2BenchSetup {
  peer: Ngtcp2Peer;
  directory: string;
  fileName: string;
  file: Uint8Array;
  certificate: SelfSignedCertificate;
}

const TIMEOUT_MS = 110_000;
const DATA_CHUNK = 64 * 1024;
/** gtlsserver -q prints nothing when ready; clients start after this and retry a few times. */
const SERVER_SETTLE_MS = 300;

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function startNgtcp2Server(setup: Ngtcp2BenchSetup, port: number): SpawnedProcess {
  const { directory } = setup;
  return new SpawnedProcess(setup.peer.server, ['-q', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')], {}, directory);
}

/** Runs gtlsclient against a port and times it; checks the downloaded file's size. */
async function timeNgtcp2Client(setup: Ngtcp2BenchSetup, port: number, downloads: string): Promise<Measurement> {
  const started = performance.now();
  const client = new SpawnedProcess(
    setup.peer.client,
    ['-q', '--exit-on-all-streams-close', `--download=${downloads}`, '--timeout=15s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/${setup.fileName}`],
    {},
    setup.directory,
  );
  const timer = setTimeout(() => void client.stop(), TIMEOUT_MS);
  const code = await client.exited;
  clearTimeout(timer);
  const elapsedMs = performance.now() - started;
  if (code !== 0) return { ok: false, reason: `gtlsclient exited with ${code}: ${client.output.slice(-300)}` };
  const bytes = statSync(join(downloads, setup.fileName), { throwIfNoEntry: false })?.size ?? 0;
  if (bytes !== setup.file.length) return { ok: false, reason: `gtlsclient saved ${bytes} of ${setup.file.length} bytes` };
  return { ok: true, bytes, elapsedMs };
}

/** gtlsclient downloading from gtlsserver. */
export async function ngtcp2FromNgtcp2(setup: Ngtcp2BenchSetup, downloads: string): Promise<Measurement> {
  const port = await freeUdpPort();
  const server = startNgtcp2Server(setup, port);
  try {
    await new Promise((r) => setTimeout(r, SERVER_SETTLE_MS));
    return await timeNgtcp2Client(setup, port, downloads);
  } finally {
    await server.stop();
  }
}

/** Our client (this process) downloading from gtlsserver. */
export async function oursFromNgtcp2(setup: Ngtcp2BenchSetup): Promise<Measurement> {
  const port = await freeUdpPort();
  const server = startNgtcp2Server(setup, port);
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    await new Promise((r) => setTimeout(r, SERVER_SETTLE_MS));
    const started = performance.now();
    let connection: QuicConnection | undefined;
    // Bounded retries while gtlsserver comes up.
    for (let attempt = 0; attempt < 10 && !connection; attempt++) {
      connection = await Promise.race([
        client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000)),
      ]).catch(() => undefined);
    }
    if (!connection) return { ok: false, reason: 'no handshake with gtlsserver' };
    await openControlStream(connection);
    const stream = await connection.openBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(encodeGetRequest(`127.0.0.1:${port}`, `/${setup.fileName}`));
    await writer.close();
    const reader = stream.readable.getReader();
    let received = 0;
    // Bounded by the response (at most the file plus frame overhead, checked below).
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
      if (received > setup.file.length * 2) return { ok: false, reason: 'response larger than twice the file' };
    }
    const elapsedMs = performance.now() - started;
    await connection.close(H3_NO_ERROR, 'done');
    // The response stream carries the file plus a few bytes of HEADERS and DATA framing.
    if (received < setup.file.length) return { ok: false, reason: `received ${received} of ${setup.file.length} bytes` };
    return { ok: true, bytes: setup.file.length, elapsedMs };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  } finally {
    await client.close();
    await server.stop();
  }
}

/** gtlsclient downloading from our server (this process). */
export async function ngtcp2FromOurs(setup: Ngtcp2BenchSetup, downloads: string): Promise<Measurement> {
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    certificatePem: setup.certificate.certificatePem,
    privateKeyPem: setup.certificate.privateKeyPem,
    alpnProtocols: ['h3'],
  });
  const serving = (async () => {
    for await (const connection of server.incoming) {
      void openControlStream(connection).catch(() => undefined);
      void (async () => {
        for await (const stream of connection.incomingBidirectionalStreams) {
          await readAll(stream, 64 * 1024);
          const writer = stream.writable.getWriter();
          await writer.write(encodeStatus200());
          // Bounded by the file size.
          for (let offset = 0; offset < setup.file.length; offset += DATA_CHUNK) {
            await writer.write(encodeFrame(H3Frame.DATA, setup.file.subarray(offset, Math.min(setup.file.length, offset + DATA_CHUNK))));
          }
          await writer.close();
        }
      })().catch(() => undefined);
    }
  })();
  try {
    return await timeNgtcp2Client(setup, server.address.port, downloads);
  } finally {
    await server.close();
    await serving;
  }
}
