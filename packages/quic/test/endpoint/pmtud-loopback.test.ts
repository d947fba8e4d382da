/**
 * DPLPMTUD on real loopback sockets: with max_udp_payload_size 65,527 on both sides the
 * connection probes up to 65,527-byte datagrams (loopback's MTU is 65,536), and with the
 * defaults it settles at 1,452 bytes. A DATAGRAM's room shows the size in use.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

async function readAll(stream: QuicStream): Promise<number> {
  let total = 0;
  for await (const c of stream.readable) total += c.length;
  return total;
}

async function writeAll(stream: QuicStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  const w = stream.writable.getWriter();
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, i + chunk));
  await w.close();
}

async function transferAndMeasure(maxUdpPayloadSize: number | undefined): Promise<{ client: number; bytes: number }> {
  const transport = maxUdpPayloadSize ? { maxUdpPayloadSize } : undefined;
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['sink'], transport });
  void (async () => {
    for await (const conn of server.incoming) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void readAll(s).then(() => writeAll(s, new Uint8Array(4 << 20)));
      })();
    }
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1', transport });
  try {
    const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['sink'], verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] } });
    const s = await conn.openBidirectionalStream();
    const [, bytes] = await Promise.all([writeAll(s, new Uint8Array(1 << 20)), readAll(s)]);
    const size = conn.maxDatagramSize;
    conn.close(0, 'done');
    return { client: size, bytes };
  } finally {
    await client.close();
    await server.close();
  }
}

test('loopback with max_udp_payload_size 65,527: datagrams grow to the loopback size', async () => {
  const r = await transferAndMeasure(65_527);
  assert.is(r.bytes, 4 << 20);
  // 65,527 minus the short header (1 + 8-byte CID + 4-byte PN), the AEAD tag and the frame header.
  assert.ok(r.client > 65_000, `DATAGRAM room ${r.client}`);
});

test('defaults: 1,452-byte datagrams on loopback', async () => {
  const r = await transferAndMeasure(undefined);
  assert.is(r.bytes, 4 << 20);
  assert.ok(r.client > 1400 && r.client < 1452, `DATAGRAM room ${r.client}`);
});

test.run();
