/**
 * Retry and 0-RTT together (RFC 9000 §17.2.5.3, RFC 9001 §4.6): a server that demands Retry for
 * every connection and accepts early data; the client's second connection resumes and sends its
 * request in 0-RTT, has it discarded by the Retry, resends it, and still gets its answer.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

async function readAll(stream: QuicStream): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream.readable) text += decoder.decode(chunk, { stream: true });
  return text;
}

async function request(conn: Awaited<ReturnType<QuicEndpoint['connect']>>, message: string): Promise<string> {
  const stream = await conn.openBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode(message));
  await writer.close();
  return readAll(stream);
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)))]).finally(() => clearTimeout(timer));
}

test('Retry + 0-RTT: a resumed connection through a mandatory Retry still delivers its early request', async () => {
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    certificatePem: TEST_CERT_PEM,
    privateKeyPem: TEST_KEY_PEM,
    alpnProtocols: ['echo'],
    retry: 'always',
    earlyData: true,
  });
  const serverSide: { resumed: boolean; earlyData: boolean }[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      serverSide.push({ resumed: conn.resumed, earlyData: conn.earlyDataAccepted });
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void readAll(s).then(async (text) => {
            const w = s.writable.getWriter();
            await w.write(new TextEncoder().encode(`echo: ${text}`));
            await w.close();
          }).catch(() => {});
        }
      })();
    }
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const options = { host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain' as const, trustAnchors: [TEST_CERT_PEM] } };
  try {
    const first = await bounded(client.connect(options), 5000, 'first connect');
    assert.is(await bounded(request(first, 'one'), 5000, 'first request'), 'echo: one');
    assert.is(first.resumed, false);
    await first.close(0, 'done'); // the ticket arrived with the answer (after the handshake)

    // Without this the NEW_TOKEN from the first connection would spare the second its Retry.
    for (let i = 0; i < 16 && client.tokenStore.take(`localhost|${options.port}`) !== undefined; i++);
    const second = await bounded(client.connect({ ...options, earlyData: true }), 5000, 'second connect');
    const core = second.core as unknown as { canSendEarlyData: boolean; retrySourceCid?: Uint8Array };
    assert.ok(core.canSendEarlyData, 'the request goes out in 0-RTT');
    const answer = await bounded(request(second, 'two'), 5000, 'early request');
    await bounded(second.opened, 5000, 'second handshake');
    assert.is(answer, 'echo: two');
    assert.ok(second.resumed, 'the second connection resumed with the ticket');
    assert.ok(core.retrySourceCid, 'the second connection went through a Retry');
    assert.ok(second.earlyDataAccepted, 'the server accepted the 0-RTT resent after the Retry');
    assert.is(serverSide.length, 2);
    assert.ok(serverSide[1]!.resumed);
    await second.close(0, 'done');
  } finally {
    await bounded(Promise.all([client.close(), server.close()]), 10_000, 'close');
  }
});

test.run();
