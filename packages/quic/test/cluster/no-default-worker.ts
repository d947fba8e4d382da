/** A worker module without a default export: `listenCluster` must reject (cluster-start.test.ts). */
export const notAHandler = 1;
