/**
 * What a peer sends right before it closes the connection is not lost: a stream's data and FIN
 * that arrived before the peer's CONNECTION_CLOSE stay readable through the QuicStream after
 * `closed` resolved (connection/streams.ts keeps them until read or until the connection
 * terminates). The server application here accepts and reads the stream only after the close:
 * before, the read failed with the close error and the bytes were gone.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

test('a stream written and finished just before the peer closes is read whole after the close', async () => {
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['t'] });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const accepted = (async (): Promise<QuicConnection> => {
      for await (const conn of server.incoming) return conn;
      throw new Error('no connection');
    })();
    const conn = await withTimeout(
      client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['t'], verification: { mode: 'none' } }),
      10_000,
      'connect',
    );
    const serverConn = await withTimeout(accepted, 10_000, 'accept');
    const message = new TextEncoder().encode('last words before the close');
    const stream = await conn.openUnidirectionalStream();
    const writer = stream.writable.getWriter();
    // Sent and acknowledged (close() is abrupt: it would drop bytes not yet sent, RFC 9000
    // §10.2), then the close, all before the server application has looked at the stream.
    await writer.write(message);
    await writer.close();
    await withTimeout(stream.finished(), 10_000, 'stream acknowledged');
    await conn.close(0x42, 'done');
    const reason = await withTimeout(serverConn.closed, 10_000, 'server sees the close');
    assert.equal(reason, { kind: 'application', code: 0x42, reason: 'done', remote: true });
    // Only now does the server application look at its streams.
    const received: Uint8Array[] = [];
    for await (const s of serverConn.incomingUnidirectionalStreams) {
      for await (const chunk of s.readable) received.push(chunk);
    }
    assert.is(received.length > 0 ? new TextDecoder().decode(Buffer.concat(received)) : '(nothing)', 'last words before the close');
  } finally {
    await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'endpoints close');
  }
});

test.run();
