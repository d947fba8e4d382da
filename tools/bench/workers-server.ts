/**
 * The server process of workers.bench.ts: WORKERS=0 is the plain single-threaded
 * `QuicEndpoint`, WORKERS=N a `listenCluster` of N worker threads behind one front thread.
 * Prints `listening on 127.0.0.1:PORT`; on SIGTERM prints `stats {JSON}` (a cluster's datagram
 * counters) and exits.
 */

import { readFileSync } from 'node:fs';
import { listenCluster } from '../../packages/quic/src/cluster/front.js';
import { QuicEndpoint } from '../../packages/quic/src/endpoint/endpoint.js';
import serve from './workers-app.js';

const workers = Number(process.env.WORKERS ?? 0);
const options = {
  host: '127.0.0.1',
  port: 0,
  certificatePem: readFileSync(process.env.BENCH_CERT!, 'utf8'),
  privateKeyPem: readFileSync(process.env.BENCH_KEY!, 'utf8'),
  alpnProtocols: ['bench'],
  retry: 'never' as const,
  sessionTickets: false,
};

let close: () => Promise<void>;
if (workers === 0) {
  const endpoint = await QuicEndpoint.listen(options);
  void serve(endpoint);
  process.stdout.write(`listening on 127.0.0.1:${endpoint.address.port}\n`);
  close = () => endpoint.close();
} else {
  const cluster = await listenCluster({ ...options, workers, workerModule: new URL('./workers-app.ts', import.meta.url) });
  process.stdout.write(`listening on 127.0.0.1:${cluster.address.port}\n`);
  close = () => {
    const stats = cluster.stats();
    const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
    process.stdout.write(`stats ${JSON.stringify({ datagrams: sum(stats.forwarded) + sum(stats.sent), perWorker: stats.forwarded })}\n`);
    return cluster.close();
  };
}
process.on('SIGTERM', () => void close().then(() => process.exit(0)));
