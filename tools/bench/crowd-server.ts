/**
 * The server process of connections.bench.ts: a purequic server (from the checkout named by
 * CROWD_ROOT, this one by default) that accepts every connection and keeps it, echoing any
 * bidirectional stream the client opens, and otherwise idle. It prints
 * `listening on 127.0.0.1:PORT`; on the IPC message `measure` it collects garbage (it runs with
 * --expose-gc) and answers with its memory and how many connections it holds; on
 * `{ snapshot: path }` it writes a heap snapshot there.
 */

import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.CROWD_ROOT ?? join(import.meta.dirname, '..', '..');
const quic = (await import(pathToFileURL(join(root, 'packages', 'quic', 'src', 'index.ts')).href)) as typeof import('@purequic/quic');
const server = await quic.QuicEndpoint.listen({
  host: '127.0.0.1',
  port: 0,
  certificatePem: readFileSync(process.env.CROWD_CERT!, 'utf8'),
  privateKeyPem: readFileSync(process.env.CROWD_KEY!, 'utf8'),
  alpnProtocols: ['bench'],
  // Idle connections must stay for the measurement (the client keeps them alive the same way).
  transport: { maxIdleTimeoutMs: 120_000 },
  // CROWD_MAX_HANDSHAKES: the cap on handshakes in progress (the endpoint's default otherwise).
  ...(process.env.CROWD_MAX_HANDSHAKES ? { maxHandshakesInProgress: Number(process.env.CROWD_MAX_HANDSHAKES) } : {}),
});
const held = new Set<unknown>();
process.stdout.write(`listening on 127.0.0.1:${server.address.port}\n`);
process.on('message', (message) => {
  if (typeof message === 'object' && message !== null && 'snapshot' in message) {
    // A heap snapshot for a closer look at what an idle connection holds (BENCH_IDLE_SNAPSHOT).
    process.send!({ snapshot: writeHeapSnapshot(String(message.snapshot)) });
    return;
  }
  if (message !== 'measure') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.send!({ heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss, connections: held.size });
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
interface EchoStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}
/**
 * Echoes every bidirectional stream the client opens (the idle case exchanges one per
 * connection). One stream per call, so that no suspended frame keeps the last stream alive
 * while the loop waits for the next one (a `for await` loop variable would).
 */
async function echoNext(streams: AsyncIterator<EchoStream>): Promise<boolean> {
  const next = await streams.next();
  if (next.done) return false;
  void next.value.readable.pipeTo(next.value.writable).catch(() => {});
  return true;
}
async function echo(connection: { incomingBidirectionalStreams: AsyncIterable<EchoStream> }): Promise<void> {
  const streams = connection.incomingBidirectionalStreams[Symbol.asyncIterator]();
  try {
    // Bounded by the streams the client opens; ends when the connection closes.
    while (await echoNext(streams));
  } catch {
    // the connection closed
  }
}
for await (const connection of server.incoming) {
  held.add(connection);
  void connection.closed.then(() => held.delete(connection));
  void echo(connection);
}
