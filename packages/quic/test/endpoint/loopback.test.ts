import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { readAll, sha256, writeAll } from './echo-helpers.js';

/** Echo server: every bidi stream is answered with its own bytes. */
async function echoServer(host: string) {
  const server = await QuicEndpoint.listen({ host, port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'] });
  void (async () => {
    for await (const conn of server.incoming) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void readAll(s).then((data) => writeAll(s, data)).catch(() => {});
        }
      })();
      void (async () => {
        for await (const d of conn.datagrams) conn.sendDatagram(d);
      })();
    }
  })();
  return server;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

for (const [family, host, connectHost] of [['IPv4', '127.0.0.1', '127.0.0.1'], ['IPv6', '::1', '::1']] as const) {
  test(`${family}: handshake, a 4 MB echo on one stream, 50 parallel small streams, datagrams, close`, async () => {
    const server = await echoServer(host);
    const client = await QuicEndpoint.bind({ host });
    try {
      const conn: QuicConnection = await withTimeout(
        client.connect({ host: connectHost, port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } }),
        5000,
        'connect',
      );
      assert.is(conn.alpn, 'echo');

      const big = new Uint8Array(4 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const s = await conn.openBidirectionalStream();
      const [, echoed] = await withTimeout(Promise.all([writeAll(s, big), readAll(s)]), 30_000, '4 MB echo');
      assert.is(echoed.length, big.length);
      assert.is(sha256(echoed), sha256(big));

      const small = await withTimeout(
        Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const st = await conn.openBidirectionalStream();
            const msg = new TextEncoder().encode(`message ${i}`);
            const [, back] = await Promise.all([writeAll(st, msg), readAll(st)]);
            return new TextDecoder().decode(back);
          }),
        ),
        15_000,
        'parallel streams',
      );
      assert.equal(small, Array.from({ length: 50 }, (_, i) => `message ${i}`));

      assert.ok(conn.maxDatagramSize > 1000);
      const it = conn.datagrams[Symbol.asyncIterator]();
      assert.ok(conn.sendDatagram(new TextEncoder().encode('ping')));
      // Datagrams are unreliable; on loopback one arrives. Bounded by the timeout.
      const echoedDatagram = await withTimeout(it.next(), 5000, 'datagram echo');
      assert.is(new TextDecoder().decode(echoedDatagram.value as Uint8Array), 'ping');

      const reason = await withTimeout(conn.close(7, 'bye'), 5000, 'close');
      assert.equal(reason, { kind: 'application', code: 7, reason: 'bye', remote: false });
    } finally {
      await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'endpoint close');
    }
  });
}

test('close() with open streams in both directions resolves on both endpoints', async () => {
  const server = await echoServer('127.0.0.1');
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'none' } });
  const streams = await Promise.all(Array.from({ length: 5 }, () => conn.openBidirectionalStream()));
  for (const s of streams) await s.writable.getWriter().write(new Uint8Array(1000));
  await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'close with open streams');
  const reason = await conn.closed;
  assert.is(reason.kind, 'application');
});

test('a client offering an unknown ALPN is refused with CRYPTO_ERROR no_application_protocol (0x178)', async () => {
  const server = await echoServer('127.0.0.1');
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['other'], verification: { mode: 'none' } });
    assert.unreachable('connect should fail');
  } catch (e) {
    const err = e as { reason?: { kind: string; code: number; remote: boolean } };
    assert.is(err.reason?.kind, 'transport');
    assert.is(err.reason?.code, 0x178);
    assert.is(err.reason?.remote, true);
  } finally {
    await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'close');
  }
});

test.run();
