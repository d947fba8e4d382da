/**
 * Issue 12 #5: QuicConnection kept a facade (QuicStream + two WHATWG streams) for every stream
 * for the connection's life. After 2,000 finished streams, 4,000 QuicStream (both endpoints)
 * were alive while the core's stream maps were empty (~11 KB per stream), so a peer could grow
 * a server's memory without limit by opening and finishing streams as MAX_STREAMS credit
 * returned. A finished and consumed stream is now released: counted here with WeakRefs after a
 * forced GC (deterministic: a facade the connection still maps is reachable, one it dropped is
 * not, as the test holds no reference).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicStream } from '../../src/endpoint/quic-stream.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';
import { fullGc } from '../helpers/heap.js';

const STREAMS = 2000;
const BATCH = 50;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function drain(stream: QuicStream): Promise<number> {
  let n = 0;
  for await (const c of stream.readable) n += c.length;
  return n;
}

async function send(stream: QuicStream, bytes: number): Promise<void> {
  const w = stream.writable.getWriter();
  await w.write(new Uint8Array(bytes));
  await w.close();
  await stream.finished();
}

test('#5: 2,000 streams opened, finished and read leave no stream facade alive on either side', async () => {
  const live: WeakRef<QuicStream>[] = [];
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['t'] });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const serverDone: Promise<void>[] = [];
  const serverErrors: unknown[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          live.push(new WeakRef(s));
          // Recorded, not left to reject unobserved when the endpoints close at the end.
          serverDone.push(drain(s).then(() => send(s, 10)).catch((e: unknown) => void serverErrors.push(e)));
        }
      })();
      void (async () => {
        for await (const s of conn.incomingUnidirectionalStreams) {
          live.push(new WeakRef(s));
          serverDone.push(drain(s).then(() => undefined).catch((e: unknown) => void serverErrors.push(e)));
        }
      })();
    }
  })();
  try {
    const conn = await withTimeout(
      client.connect({ host: '127.0.0.1', port: server.address.port, serverName: 'localhost', alpnProtocols: ['t'], verification: { mode: 'none' } }),
      5000,
      'connect',
    );
    await withTimeout(
      (async () => {
        for (let done = 0; done < STREAMS; done += BATCH) {
          await Promise.all(
            Array.from({ length: BATCH }, async (_, i) => {
              if ((done + i) % 4 === 3) {
                const u = await conn.openUnidirectionalStream();
                live.push(new WeakRef(u));
                await send(u, 20);
                return;
              }
              const s = await conn.openBidirectionalStream();
              live.push(new WeakRef(s));
              await Promise.all([send(s, 20), drain(s)]);
            }),
          );
        }
        await Promise.all(serverDone);
      })(),
      120_000,
      `${STREAMS} streams`,
    );
    serverDone.length = 0;
    assert.equal(serverErrors, [], 'every server stream completed');
    // Let the last acknowledgements (FIN of the server's replies) arrive.
    await new Promise((r) => setTimeout(r, 200));
    fullGc();
    await new Promise((r) => setTimeout(r, 0));
    fullGc();
    const alive = live.filter((w) => w.deref() !== undefined).length;
    console.log(`stream facades alive: ${alive} of ${live.length}`);
    assert.is(live.length, 2 * STREAMS);
    assert.ok(alive <= 2 * BATCH, `${alive} of ${live.length} stream facades still alive`);
    // The connection still works after all of that.
    const s = await conn.openBidirectionalStream();
    const [, n] = await withTimeout(Promise.all([send(s, 5), drain(s)]), 5000, 'one more stream');
    assert.is(n, 10);
  } finally {
    await withTimeout(Promise.all([client.close(), server.close()]), 10_000, 'close');
  }
});

test.run();
