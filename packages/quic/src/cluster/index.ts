/**
 * `@purequic/quic/cluster`: one QUIC server on several cores (worker threads behind one UDP
 * socket, routed by QUIC-LB connection IDs), and the QUIC-LB pieces a load balancer needs.
 */

export { listenCluster, QuicCluster, DEFAULT_CLUSTER_QUIC_LB, type ClusterOptions, type ClusterStats } from './front.js';
export type { ClusterWorkerContext, ClusterWorkerModule } from './worker.js';
export { VirtualSocket } from './virtual-socket.js';
export { type QuicLbConfig, QUIC_LB_UNROUTABLE, quicLbCidFactory, quicLbCidLength, quicLbServerId, quicLbServerIdAt } from '../connection/quic-lb.js';
