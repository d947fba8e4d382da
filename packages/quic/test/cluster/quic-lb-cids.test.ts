/**
 * `QuicEndpoint.listen({ quicLb })`: every connection ID the server issues is a QUIC-LB
 * plaintext CID carrying its server ID (draft-ietf-quic-load-balancers-19 §5.2): the Retry's
 * SCID, the handshake SCID and every NEW_CONNECTION_ID, so a router can read the server ID from
 * every datagram of the connection, before and after the client migrates. Bad options throw.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { type QuicLbConfig, quicLbServerId } from '../../src/connection/quic-lb.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { connect, echo, roundTrip, withTimeout } from '../endpoint/echo-helpers.js';

const config: QuicLbConfig = { configRotation: 2, serverIdLength: 2, nonceLength: 7, lengthSelfEncoding: true };
const serverId = new Uint8Array([0xab, 0x5c]);
const base = { host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] };

function carriesServerId(cid: Uint8Array): boolean {
  const id = quicLbServerId(config, cid);
  return cid.length === 10 && id !== undefined && id[0] === 0xab && id[1] === 0x5c;
}

test('Retry SCID, handshake SCID and every NEW_CONNECTION_ID carry the server ID, also after the client migrates', async () => {
  const server = await QuicEndpoint.listen({ ...base, retry: 'always', quicLb: { config, serverId } });
  const accepted: QuicConnection[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      accepted.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void echo(s).catch(() => {});
      })();
    }
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await connect(client, server);
    assert.is(await withTimeout(roundTrip(conn, 5000), 10_000, 'echo'), 5000);
    const serverCore = accepted[0]!.core as Connection;
    assert.ok(serverCore.retrySourceCid, 'the connection went through Retry');
    assert.ok(carriesServerId(serverCore.retrySourceCid!), 'Retry SCID');
    assert.ok(carriesServerId(serverCore.localHandshakeCid), 'handshake SCID');
    const issued = [...serverCore.localCids.all()];
    assert.ok(issued.length > 1, `NEW_CONNECTION_ID issued (${issued.length} CIDs)`);
    for (const { cid } of issued) assert.ok(carriesServerId(cid), 'issued CID');
    // The client sends to our CIDs only, and after migrating to one from NEW_CONNECTION_ID.
    const clientCore = conn.core as Connection;
    assert.ok(carriesServerId(clientCore.peerCids.currentCid), 'the client addresses the handshake CID');
    const before = clientCore.peerCids.currentSequence;
    assert.ok(await client.migrate(conn), 'migration started');
    assert.is(await withTimeout(roundTrip(conn, 3000), 10_000, 'echo after migration'), 3000);
    assert.ok(clientCore.peerCids.currentSequence > before, 'a fresh CID after migrating');
    assert.ok(carriesServerId(clientCore.peerCids.currentCid), 'the fresh CID carries the server ID');
    conn.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
  }
});

test('quicLb and sessionTicketSecret are checked like the other options', async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ quicLb: 'yes' }, /options\.quicLb must be an object/],
    [{ quicLb: { config: { ...config, configRotation: 7 }, serverId } }, /config rotation must be 0-6/],
    [{ quicLb: { config: { ...config, nonceLength: 2 }, serverId } }, /nonce length must be 4-18/],
    [{ quicLb: { config, serverId: new Uint8Array(3) } }, /server ID must be 2 bytes/],
    [{ quicLb: { config, serverId: [1, 2] } }, /serverId must be a Uint8Array/],
    [{ quicLb: { config: { ...config, lengthSelfEncoding: 1 }, serverId } }, /lengthSelfEncoding must be a boolean/],
    [{ quicLb: { config, serverId }, transport: { localConnectionIdLength: 8 } }, /disagrees with options\.quicLb/],
    [{ sessionTicketSecret: new Uint8Array(5) }, /sessionTicketSecret must be a Uint8Array of 32 bytes/],
  ];
  for (const [extra, message] of bad) {
    try {
      await QuicEndpoint.listen({ ...base, ...extra } as never);
      assert.unreachable(`accepted ${JSON.stringify(Object.keys(extra))}`);
    } catch (e) {
      assert.ok(e instanceof TypeError || e instanceof RangeError, String(e));
      assert.match((e as Error).message, message);
      assert.match((e as Error).message, /^QuicEndpoint\.listen: /);
    }
  }
  // A matching explicit length is fine.
  const ok = await QuicEndpoint.listen({ ...base, quicLb: { config, serverId }, transport: { localConnectionIdLength: 10 } });
  await ok.close();
});

test('endpoints sharing a sessionTicketSecret resume each other\'s tickets', async () => {
  const secret = new Uint8Array(32).fill(9);
  const a = await QuicEndpoint.listen({ ...base, sessionTicketSecret: secret });
  const b = await QuicEndpoint.listen({ ...base, sessionTicketSecret: secret });
  const c = await QuicEndpoint.listen({ ...base, sessionTicketSecret: new Uint8Array(32).fill(1) });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const opts = { host: '127.0.0.1', serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'none' as const } };
  try {
    const first = await client.connect({ ...opts, port: a.address.port });
    // Wait (bounded) for the ticket, then move it to b's and c's address.
    const key = (p: number): string => `localhost:${p}`;
    for (let i = 0; i < 200 && client.sessionTickets.count(key(a.address.port)) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const ticket = client.sessionTickets.take(key(a.address.port), Date.now());
    assert.ok(ticket, 'a ticket from a');
    client.sessionTickets.add(key(b.address.port), ticket!);
    client.sessionTickets.add(key(c.address.port), ticket!);
    const onB = await client.connect({ ...opts, port: b.address.port });
    const onC = await client.connect({ ...opts, port: c.address.port });
    assert.ok((onB.core as Connection).tls.resumed, 'b resumed a\'s ticket');
    assert.not.ok((onC.core as Connection).tls.resumed, 'c (another secret) did not');
    for (const conn of [first, onB, onC]) conn.close(0, 'done');
  } finally {
    await client.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test.run();
