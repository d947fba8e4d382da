/**
 * `listenCluster`'s checks and failures: bad options throw before anything starts; a worker
 * module that cannot serve makes `listenCluster` reject, with every thread ended and the port
 * released.
 */

import { randomFill } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenCluster } from '../../src/cluster/front.js';
import type { Connection } from '../../src/connection/connection.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { withTimeout } from '../endpoint/echo-helpers.js';

const listen = { host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] };
const echoWorker = new URL('./echo-worker.ts', import.meta.url);

test('bad options are refused before a thread starts', async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ workers: 0, workerModule: echoWorker }, /options\.workers must be an integer from 1 to 256/],
    [{ workers: 2.5, workerModule: echoWorker }, /options\.workers/],
    [{ workers: 300, workerModule: echoWorker }, /from 1 to 256/],
    [{ workers: 2 }, /options\.workerModule/],
    [{ workers: 2, workerModule: echoWorker, protocol: () => {} }, /cannot cross threads/],
    [{ workers: 2, workerModule: echoWorker, crypto: {} }, /provider name/],
    [{ workers: 2, workerModule: echoWorker, alpnProtocols: [] }, /alpnProtocols/],
    [{ workers: 2, workerModule: echoWorker, quicLb: { configRotation: 0, serverIdLength: 1, nonceLength: 2, lengthSelfEncoding: true } }, /nonce length/],
    [{ workers: 2, workerModule: echoWorker, quicLb: { configRotation: 0, serverIdLength: 7, nonceLength: 4, lengthSelfEncoding: true } }, /serverIdLength must be at most 6/],
    [{ workers: 2, workerModule: echoWorker, firstServerId: 256 }, /firstServerId must be an integer from 0 to 255/],
    [{ workers: 2, workerModule: echoWorker, firstServerId: 255 }, /workers must be an integer from 1 to 1,/],
  ];
  for (const [extra, message] of bad) {
    try {
      await listenCluster({ ...listen, ...extra } as never);
      assert.unreachable(`accepted ${JSON.stringify(Object.keys(extra))}`);
    } catch (e) {
      assert.ok(e instanceof TypeError || e instanceof RangeError, String(e));
      assert.match((e as Error).message, message);
    }
  }
});

test('firstServerId: the workers issue CIDs with IDs from there, and are routed by them', async () => {
  const cluster = await withTimeout(listenCluster({ ...listen, workers: 2, workerModule: echoWorker, firstServerId: 40 }), 60_000, 'listenCluster');
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await withTimeout(
      client.connect({ host: '127.0.0.1', port: cluster.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'none' } }),
      15_000,
      'connect',
    );
    const s = await conn.openBidirectionalStream();
    const w = s.writable.getWriter();
    await w.write(new Uint8Array(3000));
    await w.close();
    const chunks: Uint8Array[] = [];
    for await (const c of s.readable) chunks.push(c);
    const worker = chunks[0]![0]!;
    const cid = (conn.core as Connection).peerCids.currentCid;
    assert.is(cid[1], 40 + worker, 'server ID = firstServerId + worker index');
    assert.ok(cluster.stats().byServerId[worker]! > 0, 'routed by it');
    conn.close(0, 'done');
  } finally {
    await client.close();
    await withTimeout(cluster.close(), 15_000, 'cluster.close');
  }
});

test('a worker module without a default export: listenCluster rejects, no thread left, port free', async () => {
  // Start libuv's thread pool first (randomFill runs on it), so only worker threads come and go.
  await new Promise((resolve) => randomFill(new Uint8Array(8), resolve));
  const threads = (): number => readdirSync('/proc/self/task').length;
  const before = threads();
  // A port to reuse afterwards: bind, note, release.
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  try {
    await withTimeout(listenCluster({ ...listen, port, workers: 2, workerModule: new URL('./no-default-worker.ts', import.meta.url) }), 60_000, 'listenCluster');
    assert.unreachable('started');
  } catch (e) {
    assert.match((e as Error).message, /has no default export function/);
  }
  assert.ok(threads() <= before, `threads ${before} -> ${threads()}`);
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind(port, '127.0.0.1', resolve);
  });
  await new Promise<void>((resolve) => again.close(() => resolve()));
});

test.run();
