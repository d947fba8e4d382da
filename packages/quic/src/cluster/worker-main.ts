/**
 * The bootstrap of every cluster worker (started by front.ts): a `QuicEndpoint` over a virtual
 * socket with this worker's QUIC-LB server ID, then the application's worker module, whose
 * default export receives the endpoint.
 */

import { workerData } from 'node:worker_threads';
import { QuicEndpoint } from '../endpoint/endpoint.js';
import type { ClusterWorkerContext, ClusterWorkerModule } from './worker.js';
import type { FromWorker, ToWorker, WorkerStart } from './protocol.js';
import { VirtualSocket } from './virtual-socket.js';

const start = workerData as WorkerStart;
const port = start.port;

function post(message: FromWorker): void {
  if (message.t === 'd') port.postMessage(message, [message.buffer]);
  else port.postMessage(message);
}

async function main(): Promise<void> {
  const socket = new VirtualSocket(start.local, (batch) => post({ t: 'd', ...batch }));
  const context: ClusterWorkerContext = {
    workerIndex: start.index,
    workers: start.workers,
    serverId: start.serverId,
    workerData: start.workerData,
  };
  const mod = (await import(start.moduleUrl)) as ClusterWorkerModule;
  if (typeof mod.default !== 'function') throw new TypeError(`worker module ${start.moduleUrl} has no default export function`);
  const extra = typeof mod.listenOptions === 'function' ? await mod.listenOptions(context) : (mod.listenOptions ?? {});
  const endpoint = QuicEndpoint.listenOn(socket, { ...start.listen, ...extra, quicLb: { config: start.config, serverId: start.serverId } });
  port.on('message', (m: ToWorker) => {
    if (m.t === 'd') socket.deliver(m);
    else if (m.t === 'close') void endpoint.close().then(() => post({ t: 'closed' }));
  });
  // The application's handler may run for the endpoint's life (for await over incoming): not awaited.
  void Promise.resolve(mod.default(endpoint, context)).catch((e: unknown) => {
    console.error(`purequic cluster worker ${start.index}: worker module failed:`, e);
  });
  post({ t: 'ready' });
}

main().catch((e: unknown) => post({ t: 'error', message: e instanceof Error ? e.message : String(e) }));
