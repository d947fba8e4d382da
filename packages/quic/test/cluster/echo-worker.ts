/**
 * The worker module of the cluster tests: an echo server whose answers start with the index of
 * the worker that served them, and which reports each accepted connection (worker, client port)
 * through `parentPort`. The message 'exit' from the test ends the worker thread, as a crash would.
 */

import { parentPort } from 'node:worker_threads';
import type { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import type { ClusterWorkerContext } from '../../src/cluster/worker.js';

async function echoTagged(s: QuicStream, workerIndex: number): Promise<void> {
  const w = s.writable.getWriter();
  await w.write(new Uint8Array([workerIndex]));
  for await (const c of s.readable) await w.write(c);
  await w.close();
}

export default async function serve(endpoint: QuicEndpoint, { workerIndex }: ClusterWorkerContext): Promise<void> {
  parentPort?.on('message', (m) => {
    if (m === 'exit') process.exit(1);
  });
  for await (const conn of endpoint.incoming) {
    parentPort?.postMessage({ accepted: workerIndex, port: conn.remoteAddress.port });
    void (async () => {
      for await (const s of conn.incomingBidirectionalStreams) void echoTagged(s, workerIndex).catch(() => {});
    })().catch(() => {});
  }
}
