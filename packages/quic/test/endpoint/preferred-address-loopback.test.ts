/**
 * The server's preferred address (RFC 9000 §9.6) on real loopback sockets: our server listens
 * on one port and offers another; our client moves there after the handshake (IPv4, and a
 * dual-stack client that sees IPv4-mapped addresses), the echo completes intact, the server
 * answers from the preferred port; with `migrateToPreferredAddress: false` it stays.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { type QuicLbConfig, quicLbServerId } from '../../src/connection/quic-lb.js';
import { type ListenOptions, QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { readAll, sha256, writeAll } from './echo-helpers.js';

/** An echo server offering an IPv4 preferred address; `extra` adds listen options. */
async function echoServer(extra: Partial<ListenOptions> = {}): Promise<{ server: QuicEndpoint; conns: QuicConnection[] }> {
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    certificatePem: TEST_CERT_PEM,
    privateKeyPem: TEST_KEY_PEM,
    alpnProtocols: ['echo'],
    preferredAddress: { ipv4: { address: '127.0.0.1', port: 0 } },
    ...extra,
  });
  const conns: QuicConnection[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      conns.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void readAll(s).then((d) => writeAll(s, d)).catch(() => {});
      })();
    }
  })();
  return { server, conns };
}

/** Waits (bounded) until `done()` holds. */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  return done();
}

for (const clientHost of ['127.0.0.1', '::']) {
  test(`a client bound to ${clientHost} moves to the preferred port; a 3 MB echo completes intact`, async () => {
    const { server, conns } = await echoServer();
    const preferredPort = server.preferredAddress!.ipv4!.port;
    assert.is.not(preferredPort, server.address.port);
    const client = await QuicEndpoint.bind({ host: clientHost });
    try {
      const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } });
      const data = new Uint8Array(3 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 0xff;
      const s = await conn.openBidirectionalStream();
      const [, echoed] = await Promise.all([writeAll(s, data), readAll(s)]);
      assert.is(sha256(echoed), sha256(data));
      const core = conn.core as Connection;
      assert.ok(await until(() => core.remoteAddress.port === preferredPort), `the client sends to the preferred port (now ${core.remoteAddress.port})`);
      assert.is(core.remoteAddress.address, clientHost === '::' ? '::ffff:127.0.0.1' : '127.0.0.1');
      // The server moved its side of the path to the preferred socket (§9.6.2) and validated it.
      const serverCore = conns[0]!.core as Connection;
      assert.ok(await until(() => serverCore.paths.active.local?.port === preferredPort && serverCore.paths.active.validated), 'server answers from the preferred port');
      // A later exchange runs on the new path.
      const again = await conn.openBidirectionalStream();
      const [, pong] = await Promise.all([writeAll(again, new Uint8Array([1, 2, 3])), readAll(again)]);
      assert.equal(pong, new Uint8Array([1, 2, 3]));
      conn.close(0, 'done');
    } finally {
      await client.close();
      await server.close();
    }
  });
}

test('migrateToPreferredAddress: false keeps the client on the address it connected to', async () => {
  const { server } = await echoServer();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await client.connect({
      host: '127.0.0.1',
      port: server.address.port,
      serverName: 'localhost',
      alpnProtocols: ['echo'],
      verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
      migrateToPreferredAddress: false,
    });
    const s = await conn.openBidirectionalStream();
    const [, echoed] = await Promise.all([writeAll(s, new Uint8Array(200_000).fill(7)), readAll(s)]);
    assert.is(echoed.length, 200_000);
    const core = conn.core as Connection;
    assert.ok(core.peerParams?.preferredAddress, 'the server offered one');
    assert.is(core.remoteAddress.port, server.address.port);
    assert.is(core.paths.candidates.length, 0, 'nothing probed');
    conn.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
  }
});

test('with QUIC-LB connection IDs, the preferred address CID (sequence 1) carries the server ID too', async () => {
  const config: QuicLbConfig = { configRotation: 1, serverIdLength: 2, nonceLength: 5, lengthSelfEncoding: true };
  const serverId = new Uint8Array([0x12, 0x34]);
  const { server } = await echoServer({ quicLb: { config, serverId } });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } });
    const offered = (conn.core as Connection).peerParams!.preferredAddress!;
    assert.equal(quicLbServerId(config, offered.connectionId), serverId);
    const s = await conn.openBidirectionalStream();
    const [, echoed] = await Promise.all([writeAll(s, new Uint8Array(100_000).fill(3)), readAll(s)]);
    assert.is(echoed.length, 100_000);
    assert.ok(await until(() => (conn.core as Connection).remoteAddress.port === server.preferredAddress!.ipv4!.port), 'moved to the preferred port');
    conn.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
  }
});

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    const endpoint = await p;
    await (endpoint as QuicEndpoint).close();
  } catch (e) {
    assert.ok(e instanceof TypeError, String(e));
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${message}`);
}

test('listen rejects a preferred address it cannot offer', async () => {
  const base = { host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] };
  await rejects(QuicEndpoint.listen({ ...base, preferredAddress: { ipv4: { address: '0.0.0.0', port: 0 } } }), /specific IPv4/);
  await rejects(QuicEndpoint.listen({ ...base, preferredAddress: { ipv6: { address: '127.0.0.1', port: 0 } } }), /specific IPv6/);
  await rejects(QuicEndpoint.listen({ ...base, preferredAddress: {} }), /needs ipv4 or ipv6/);
  await rejects(QuicEndpoint.listen({ ...base, transport: { localConnectionIdLength: 0 }, preferredAddress: { ipv4: { address: '127.0.0.1', port: 0 } } }), /non-zero-length/);
});

test.run();
