// Runs once in each worker thread of examples/cluster.ts, with that worker's endpoint.
import type { QuicConnection, QuicEndpoint } from '@purequic/quic';
import type { ClusterWorkerContext } from '@purequic/quic/cluster';

async function echo(connection: QuicConnection, workerIndex: number): Promise<void> {
  for await (const stream of connection.incomingBidirectionalStreams) {
    const writer = stream.writable.getWriter();
    for await (const chunk of stream.readable) await writer.write(chunk);
    await writer.write(new TextEncoder().encode(` (worker ${workerIndex})`));
    await writer.close();
  }
}

export default async function serve(endpoint: QuicEndpoint, { workerIndex }: ClusterWorkerContext): Promise<void> {
  for await (const connection of endpoint.incoming) void echo(connection, workerIndex).catch(() => {});
}
