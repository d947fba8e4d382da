/**
 * Active client migration on real loopback sockets (RFC 9000 §9.2): mid-transfer the client
 * endpoint binds a new socket and migrates the connection to it; the transfer completes and
 * the server ends up sending to the new port.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { readAll, sha256, writeAll } from './echo-helpers.js';

test('the client migrates to a new socket mid-echo: the echo completes, the server follows to the new port', async () => {
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] });
  const serverConns: QuicConnection[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      serverConns.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void readAll(s).then((d) => writeAll(s, d)).catch(() => {});
      })();
    }
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } });
    const data = new Uint8Array(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 1) & 0xff;
    const s = await conn.openBidirectionalStream();
    let migrating: Promise<boolean> | undefined;
    const [, echoed] = await Promise.all([
      writeAll(s, data),
      readAll(s, (total) => {
        if (!migrating && total >= 1 << 20) migrating = client.migrate(conn);
      }),
    ]);
    assert.ok(await migrating!, 'migration started');
    assert.is(sha256(echoed), sha256(data));
    // Let the validation round trips finish (bounded wait).
    const core = conn.core as Connection;
    for (let i = 0; i < 100 && core.paths.active.local === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const local = core.paths.active.local;
    assert.ok(local, 'the client moved to its new socket');
    assert.is.not(local!.port, client.address.port);
    // The server moves with the client's next non-probing packet from the new socket (a ping).
    const probe = await conn.openBidirectionalStream();
    const [, pong] = await Promise.all([writeAll(probe, new Uint8Array([1, 2, 3])), readAll(probe)]);
    assert.is(pong.length, 3);
    const remote = serverConns[0]!.remoteAddress;
    assert.is(remote.port, local!.port, 'the server sends to the new port');
    assert.not.ok(await client.migrate(serverConns[0]!), 'not a connection of this endpoint');
    conn.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
