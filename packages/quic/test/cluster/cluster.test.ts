/**
 * `listenCluster` with 2 worker threads on loopback, clients being our own `QuicEndpoint`s:
 * connections spread over both workers and every datagram of a connection reaches the worker
 * that holds it (each answer names its worker; a datagram at the wrong worker would draw a
 * Stateless Reset and kill the connection), through Retry, NEW_TOKEN tokens and session tickets
 * used on the other worker, and a client's migration to a new port. `close()` is bounded and
 * ends every worker thread.
 */

import { randomFill } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listenCluster, type QuicCluster, workerForAddress } from '../../src/cluster/front.js';
import type { Connection } from '../../src/connection/connection.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { withTimeout } from '../endpoint/echo-helpers.js';

const workerModule = new URL('./echo-worker.ts', import.meta.url);
const listen = { host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] };

interface Accepted {
  accepted: number;
  port: number;
}

async function start(extra: Record<string, unknown> = {}): Promise<{ cluster: QuicCluster; accepted: Accepted[] }> {
  const cluster = await withTimeout(listenCluster({ ...listen, workers: 2, workerModule, ...extra }), 60_000, 'listenCluster');
  const accepted: Accepted[] = [];
  for (const w of cluster.workers) w.on('message', (m: Accepted) => accepted.push(m));
  return { cluster, accepted };
}

function connectTo(client: QuicEndpoint, cluster: QuicCluster): Promise<QuicConnection> {
  return withTimeout(
    client.connect({ host: '127.0.0.1', port: cluster.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'none' } }),
    15_000,
    'connect',
  );
}

/** One echo round trip; resolves to the index of the worker that answered. */
async function tagOf(conn: QuicConnection, bytes: number): Promise<number> {
  const s = await conn.openBidirectionalStream();
  const w = s.writable.getWriter();
  const reading = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of s.readable) chunks.push(c);
    return Buffer.concat(chunks);
  })();
  await w.write(new Uint8Array(bytes).fill(3));
  await w.close();
  const echoed = await withTimeout(reading, 15_000, 'echo');
  assert.is(echoed.length, bytes + 1);
  return echoed[0]!;
}

/** A client endpoint whose address hashes to `worker` (its first Initial goes there). */
async function clientFor(worker: number): Promise<QuicEndpoint> {
  for (let i = 0; i < 64; i++) {
    const c = await QuicEndpoint.bind({ host: '127.0.0.1' });
    if (workerForAddress('127.0.0.1', c.address.port, 2) === worker) return c;
    await c.close();
  }
  throw new Error('no port hashing to that worker in 64 tries');
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), what);
}

test('24 clients: connections spread over both workers, each served by one worker throughout', async () => {
  const { cluster, accepted } = await start();
  const clients: QuicEndpoint[] = [];
  try {
    for (let i = 0; i < 24; i++) clients.push(await QuicEndpoint.bind({ host: '127.0.0.1' }));
    const results = await Promise.all(
      clients.map(async (client) => {
        const conn = await connectTo(client, cluster);
        const tags = [await tagOf(conn, 20_000), await tagOf(conn, 100), await tagOf(conn, 5000)];
        conn.close(0, 'done');
        return { port: client.address.port, tags };
      }),
    );
    const perWorker = [0, 0];
    for (const r of results) {
      assert.ok(r.tags.every((t) => t === r.tags[0]), `one worker answered every stream of a connection: ${r.tags}`);
      // The first Initial went by the address hash; so did the connection, and it stayed there.
      assert.is(r.tags[0], workerForAddress('127.0.0.1', r.port, 2));
      perWorker[r.tags[0]!]!++;
    }
    assert.ok(perWorker[0]! > 0 && perWorker[1]! > 0, `both workers served connections: ${perWorker}`);
    await waitFor(() => accepted.length === 24, 'every worker reported its connections');
    for (const r of results) assert.equal(accepted.filter((a) => a.port === r.port).map((a) => a.accepted), [r.tags[0]]);
    const stats = cluster.stats();
    for (const w of [0, 1]) {
      assert.ok(stats.byServerId[w]! > 0, 'datagrams routed by the server ID in their CID');
      assert.is(stats.forwarded[w], stats.byServerId[w]! + stats.byAddressHash[w]!);
      assert.ok(stats.sent[w]! > 0);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await withTimeout(cluster.close(), 15_000, 'cluster.close');
  }
});

test('Retry on every worker; a NEW_TOKEN token and a session ticket from one worker are good on the other', async () => {
  const { cluster, accepted } = await start({ retry: 'always' });
  const clients: QuicEndpoint[] = [];
  try {
    const first = await clientFor(0);
    clients.push(first);
    const conn = await connectTo(first, cluster);
    assert.is(await tagOf(conn, 1000), 0);
    assert.is.not((conn.core as Connection).initialToken, undefined, 'went through Retry');
    const tokenKey = `localhost|${cluster.address.port}`;
    const ticketKey = `localhost:${cluster.address.port}`;
    await waitFor(() => first.tokenStore.count(tokenKey) > 0 && first.sessionTickets.count(ticketKey) > 0, 'NEW_TOKEN and a ticket from worker 0');
    // A second client whose first Initial goes to worker 1, carrying worker 0's token and ticket.
    const second = await clientFor(1);
    clients.push(second);
    second.tokenStore.add(tokenKey, first.tokenStore.take(tokenKey)!);
    second.sessionTickets.add(ticketKey, first.sessionTickets.take(ticketKey, Date.now())!);
    const other = await connectTo(second, cluster);
    assert.is(await tagOf(other, 1000), 1, 'served by worker 1');
    assert.ok(other.resumed, 'worker 1 resumed the ticket worker 0 issued');
    const otherCore = other.core as Connection;
    // No Retry: the client's Initial token is still worker 0's NEW_TOKEN token (a Retry would replace it).
    assert.is(otherCore.retrySourceCid, undefined, 'no Retry: the NEW_TOKEN token validated the address on worker 1');
    // And a third client with no token is retried by worker 1 and served.
    const third = await clientFor(1);
    clients.push(third);
    const retried = await connectTo(third, cluster);
    assert.is(await tagOf(retried, 1000), 1);
    await waitFor(() => accepted.length === 3, 'three connections reported');
    for (const c of [conn, other, retried]) c.close(0, 'done');
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await withTimeout(cluster.close(), 15_000, 'cluster.close');
  }
});

test('clients migrating to a new port stay on their worker', async () => {
  const { cluster } = await start();
  const clients: QuicEndpoint[] = [];
  try {
    for (let i = 0; i < 6; i++) clients.push(await QuicEndpoint.bind({ host: '127.0.0.1' }));
    await Promise.all(
      clients.map(async (client) => {
        const conn = await connectTo(client, cluster);
        const worker = await tagOf(conn, 2000);
        const core = conn.core as Connection;
        assert.ok(await client.migrate(conn), 'migration started');
        await waitFor(() => core.paths.active.local !== undefined, 'moved to the new socket');
        // The new port may hash to the other worker: the CID's server ID still routes here.
        assert.is(await tagOf(conn, 30_000), worker, 'same worker after migrating');
        assert.is(await tagOf(conn, 10), worker);
        conn.close(0, 'done');
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await withTimeout(cluster.close(), 15_000, 'cluster.close');
  }
});

test('a worker that dies: new clients all go to the live one, its connections carry on', async () => {
  const { cluster } = await start();
  const clients: QuicEndpoint[] = [];
  try {
    const survivor = await clientFor(1);
    clients.push(survivor);
    const kept = await connectTo(survivor, cluster);
    assert.is(await tagOf(kept, 100), 1);
    const dead = cluster.workers[0]!;
    const exited = new Promise((resolve) => dead.once('exit', resolve));
    dead.postMessage('exit');
    await withTimeout(exited, 10_000, 'worker 0 exit');
    // Clients whose first Initial would have gone to worker 0 are served by worker 1.
    for (let i = 0; i < 3; i++) {
      const client = await clientFor(0);
      clients.push(client);
      const conn = await connectTo(client, cluster);
      assert.is(await tagOf(conn, 1000), 1);
      conn.close(0, 'done');
    }
    assert.is(await tagOf(kept, 5000), 1, 'the live worker\'s connection is unaffected');
    kept.close(0, 'done');
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await withTimeout(cluster.close(), 15_000, 'cluster.close');
  }
});

test('close() with open connections is bounded, tells the clients and leaves no thread', async () => {
  // Start libuv's thread pool first (randomFill runs on it), so only worker threads come and go.
  await new Promise((resolve) => randomFill(new Uint8Array(8), resolve));
  const threads = (): number => readdirSync('/proc/self/task').length;
  const { cluster } = await start();
  const before = threads();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await connectTo(client, cluster);
    await tagOf(conn, 100);
    const workers = cluster.workers;
    assert.ok(workers.every((w) => w.threadId > 0));
    const closing = cluster.close();
    assert.is(cluster.close(), closing, 'idempotent');
    await withTimeout(closing, 10_000, 'cluster.close');
    const reason = await withTimeout(conn.closed, 10_000, 'client learns of the close');
    assert.ok('remote' in reason && reason.remote, `the worker sent CONNECTION_CLOSE (${JSON.stringify(reason)})`);
    assert.ok(workers.every((w) => w.threadId === -1), 'every worker thread has ended');
    assert.ok(threads() <= before - 2, `worker threads gone (${before} -> ${threads()})`);
  } finally {
    await client.close();
  }
});

test.run();
