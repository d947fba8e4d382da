/** Messages between a cluster's front thread and its workers (front.ts, worker-main.ts). */

import type { MessagePort } from 'node:worker_threads';
import type { QuicLbConfig } from '../connection/quic-lb.js';
import type { ListenOptions } from '../endpoint/endpoint.js';
import type { DatagramBatch } from './batch.js';

/** The worker's `workerData`. */
export interface WorkerStart {
  port: MessagePort;
  index: number;
  workers: number;
  serverId: Uint8Array;
  config: QuicLbConfig;
  listen: Omit<ListenOptions, 'quicLb' | 'protocol'>;
  moduleUrl: string;
  local: { address: string; port: number; family: string };
  workerData: unknown;
}

/** Front to worker: a batch of received datagrams, or close the endpoint. */
export type ToWorker = ({ t: 'd' } & DatagramBatch) | { t: 'close' };

/** Worker to front: a batch to send, started, failed to start, or closed. */
export type FromWorker = ({ t: 'd' } & DatagramBatch) | { t: 'ready' } | { t: 'error'; message: string } | { t: 'closed' };
