import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

const HOST = '127.0.0.1';

async function readAll(stream: QuicStream): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream.readable) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

async function echo(conn: QuicConnection, text: string): Promise<string> {
  const s = await conn.openBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  return readAll(s);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

function serve(server: QuicEndpoint): void {
  void (async () => {
    for await (const conn of server.incoming) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void readAll(s)
            .then(async (text) => {
              const w = s.writable.getWriter();
              await w.write(new TextEncoder().encode(text));
              await w.close();
            })
            .catch(() => {});
        }
      })();
    }
  })();
}

function listen(extra: Partial<Parameters<typeof QuicEndpoint.listen>[0]> = {}) {
  return QuicEndpoint.listen({ host: HOST, port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'], ...extra });
}

function connectTo(client: QuicEndpoint, port: number, versions?: number[]) {
  return withTimeout(client.connect({ host: HOST, port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] }, versions }), 5000, 'connect');
}

/** Waits (bounded: 300 turns of 10 ms) until `done()`. */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return done();
}

test("loopback: retry 'always', then NEW_TOKEN lets the second connection skip the Retry", async () => {
  const server = await listen({ retry: 'always' });
  serve(server);
  const client = await QuicEndpoint.bind({ host: HOST });
  const tokenKey = `localhost|${server.address.port}`;
  try {
    const first = await connectTo(client, server.address.port);
    assert.ok((first.core as Connection).retrySourceCid, 'the first connection went through a Retry');
    assert.is(await withTimeout(echo(first, 'one'), 5000, 'echo'), 'one');
    assert.ok(await until(() => client.tokenStore.count(tokenKey) === 1), 'NEW_TOKEN arrived');
    const second = await connectTo(client, server.address.port);
    assert.is((second.core as Connection).retrySourceCid, undefined, 'no Retry with a NEW_TOKEN token');
    assert.is(await withTimeout(echo(second, 'two'), 5000, 'echo'), 'two');
  } finally {
    await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'close');
  }
});

test('loopback: a server restarted on the same port with the same key resets the old connection', async () => {
  const statelessResetKey = new Uint8Array(32).fill(42);
  const server = await listen({ statelessResetKey });
  serve(server);
  const port = server.address.port;
  const client = await QuicEndpoint.bind({ host: HOST });
  let restarted: QuicEndpoint | undefined;
  try {
    const conn = await connectTo(client, port);
    assert.is(await withTimeout(echo(conn, 'before'), 5000, 'echo'), 'before');
    await server.abort();
    restarted = await listen({ port, statelessResetKey });
    serve(restarted);
    const s = await conn.openBidirectionalStream();
    void s.writable.getWriter().write(new TextEncoder().encode('after the crash')).catch(() => {});
    const reason = await withTimeout(conn.closed, 5000, 'reset');
    assert.equal(reason, { kind: 'stateless-reset' });
    // The restarted server still serves new connections.
    const fresh = await connectTo(client, port);
    assert.is(await withTimeout(echo(fresh, 'again'), 5000, 'echo'), 'again');
  } finally {
    await withTimeout(Promise.all([client.close(), restarted?.close()]), 10_000, 'close');
  }
});

test('loopback: QUIC v2, Version Negotiation to a v2-only server, compatible v1 -> v2', async () => {
  const v2only = await listen({ versions: [QUIC_V2] });
  const prefersV2 = await listen({ versions: [QUIC_V2, QUIC_V1] });
  serve(v2only);
  serve(prefersV2);
  const client = await QuicEndpoint.bind({ host: HOST });
  try {
    const direct = await connectTo(client, v2only.address.port, [QUIC_V2]);
    assert.is((direct.core as Connection).version, QUIC_V2);
    assert.is(await withTimeout(echo(direct, 'v2'), 5000, 'echo'), 'v2');
    const negotiated = await connectTo(client, v2only.address.port, [QUIC_V1, QUIC_V2]);
    assert.is((negotiated.core as Connection).version, QUIC_V2);
    assert.ok((negotiated.core as Connection).reactedToVersionNegotiation);
    const compatible = await connectTo(client, prefersV2.address.port, [QUIC_V1, QUIC_V2]);
    assert.is((compatible.core as Connection).version, QUIC_V2);
    assert.is((compatible.core as Connection).originalVersion, QUIC_V1);
    assert.is(await withTimeout(echo(compatible, 'switched'), 5000, 'echo'), 'switched');
    try {
      await connectTo(client, v2only.address.port, [QUIC_V1]);
      assert.unreachable('no common version');
    } catch (e) {
      assert.is((e as { reason?: { kind: string } }).reason?.kind, 'version-negotiation');
    }
  } finally {
    await withTimeout(Promise.all([client.close(), v2only.close(), prefersV2.close()]), 10_000, 'close');
  }
});

test.run();
