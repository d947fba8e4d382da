/** What a cluster's worker module sees and exports (see `listenCluster`). */

import type { ListenOptions, QuicEndpoint } from '../endpoint/endpoint.js';

/** Given to the worker module with its endpoint. */
export interface ClusterWorkerContext {
  /** This worker's number, 0 to `workers - 1` (its QUIC-LB server ID is `firstServerId` + this). */
  readonly workerIndex: number;
  readonly workers: number;
  /** The server ID bytes in every connection ID this worker issues. */
  readonly serverId: Uint8Array;
  /** `ClusterOptions.workerData`, cloned. */
  readonly workerData: unknown;
}

/**
 * The module `ClusterOptions.workerModule` names. Its default export is called once per worker
 * with the worker's listening `QuicEndpoint`: serve `endpoint.incoming` there as in a
 * single-threaded server. `listenOptions` adds options that cannot cross threads, such as
 * `protocol` (an HTTP/3 layer) or a crypto provider object.
 *
 * ```ts
 * // worker.ts
 * import type { QuicEndpoint } from '@purequic/quic';
 * import type { ClusterWorkerContext } from '@purequic/quic/cluster';
 * export default async function serve(endpoint: QuicEndpoint, { workerIndex }: ClusterWorkerContext) {
 *   for await (const connection of endpoint.incoming) handle(connection, workerIndex);
 * }
 * ```
 */
export interface ClusterWorkerModule {
  default: (endpoint: QuicEndpoint, context: ClusterWorkerContext) => void | Promise<void>;
  listenOptions?: Partial<ListenOptions> | ((context: ClusterWorkerContext) => Partial<ListenOptions> | Promise<Partial<ListenOptions>>);
}
