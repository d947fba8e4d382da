/**
 * The server application of workers.bench.ts, the same in a plain endpoint and in every cluster
 * worker: each bidirectional stream carries a request (the decimal number of bytes wanted),
 * answered with that many bytes, then the stream ends. Handshake-only connections just close.
 */

import type { QuicEndpoint } from '../../packages/quic/src/endpoint/endpoint.js';
import type { QuicStream } from '../../packages/quic/src/endpoint/quic-stream.js';

const CHUNK = new Uint8Array(64 * 1024).fill(0x5a);

async function answer(stream: QuicStream): Promise<void> {
  let request = '';
  for await (const c of stream.readable) request += Buffer.from(c).toString('latin1');
  let left = Number(request);
  const w = stream.writable.getWriter();
  while (left > 0) {
    const n = Math.min(left, CHUNK.length);
    await w.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    left -= n;
  }
  await w.close();
}

/** Serves `endpoint.incoming` until the endpoint closes (also a cluster worker module's default export). */
export default async function serve(endpoint: QuicEndpoint): Promise<void> {
  for await (const conn of endpoint.incoming) {
    void (async () => {
      for await (const s of conn.incomingBidirectionalStreams) void answer(s).catch(() => {});
    })().catch(() => {});
  }
}
