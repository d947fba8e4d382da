/**
 * The loopback UDP proxy (tools/interop/udp-proxy.ts) between our client and server endpoints
 * on real sockets: NAT port rebinding and address rebinding mid-transfer. The old upstream
 * socket closes at each rebind, so the echo only completes if the server followed the client
 * to its new address (RFC 9000 §9.3) and validated it.
 */

import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../packages/quic/src/endpoint/endpoint.js';
import type { QuicConnection } from '../../packages/quic/src/endpoint/quic-connection.js';
import type { QuicStream } from '../../packages/quic/src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../../packages/quic/test/connection/harness.js';
import { UdpProxy } from '../interop/udp-proxy.js';

async function readAll(stream: QuicStream, onChunk: (total: number) => void = () => {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of stream.readable) {
    chunks.push(c);
    total += c.length;
    onChunk(total);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function writeAll(stream: QuicStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  const w = stream.writable.getWriter();
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, i + chunk));
  await w.close();
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

test('port then address rebinding through the proxy mid-transfer: echoes complete, the server follows', async () => {
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
  const proxy = await UdpProxy.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: server.address.port } });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await withTimeout(
      client.connect({ host: '127.0.0.1', port: proxy.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } }),
      5000,
      'connect',
    );
    const data = new Uint8Array(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 0xff;

    for (const mode of ['port', 'address'] as const) {
      const s = await conn.openBidirectionalStream();
      let rebound: Promise<void> | undefined;
      const [, echoed] = await withTimeout(
        Promise.all([
          writeAll(s, data),
          readAll(s, (total) => {
            if (!rebound && total >= 1 << 20) rebound = proxy.rebind(mode);
          }),
        ]),
        30_000,
        `echo across a ${mode} rebinding`,
      );
      await rebound;
      assert.ok(rebound, 'rebound mid-transfer');
      assert.is(sha256(echoed), sha256(data));
      const upstream = proxy.stats.upstreamAddresses[proxy.stats.upstreamAddresses.length - 1]!;
      const remote = serverConns[0]!.remoteAddress;
      assert.is(`${remote.address}:${remote.port}`, upstream, `the server sends to the new ${mode}`);
    }
    assert.is(proxy.stats.rebinds, 2);
    assert.ok(serverConns[0]!.remoteAddress.address.startsWith('127.0.0.') && serverConns[0]!.remoteAddress.address !== '127.0.0.1');
    conn.close(0, 'done');
  } finally {
    proxy.close();
    await client.close();
    await server.close();
  }
});

test.run();
