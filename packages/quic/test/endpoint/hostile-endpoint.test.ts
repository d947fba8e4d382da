/**
 * Issue 12 at the endpoint (real UDP sockets on loopback): what a hostile peer can throw at a
 * listening `QuicEndpoint`, each case bounded in count and time.
 *
 * #1 before the fix (5,000 Initial-shaped datagrams with a random payload): 4,940 server
 * connections, ~17.5 KB of heap each, held for the 30 s idle timeout; valid Initials from many
 * CIDs with the then default Retry policy 'never': one half-open connection each.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { Connection } from '../../src/connection/connection.js';
import { autoSymmetric } from '../../src/crypto/auto.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import { SimRandom } from '../../src/sim/prng.js';
import { retainedBytes } from '../helpers/heap.js';
import { connect, echoServer, roundTrip, withTimeout } from './echo-helpers.js';

const MB = 1 << 20;
const random = new SimRandom(0x12e);

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A socket to throw datagrams from; `replies` counts what comes back by first-byte class. */
async function attacker(): Promise<{ socket: dgram.Socket; send(d: Uint8Array, port: number): void; replies: { retry: number; other: number }; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const replies = { retry: 0, other: 0 };
  socket.on('message', (m) => {
    // Long header, v1 Retry: type bits 0b11.
    if ((m[0]! & 0xf0) === 0xf0 && m.readUInt32BE(1) === 1) replies.retry++;
    else replies.other++;
  });
  return {
    socket,
    send: (d, port) => socket.send(d, port, '127.0.0.1'),
    replies,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/** A client Initial-shaped datagram: a real long header, a random payload. */
function fakeInitial(size: number): Uint8Array {
  const d = random.bytes(size);
  d[0] = 0xc3;
  d.set([0, 0, 0, 1], 1);
  d[5] = 8;
  d[14] = 8;
  d[23] = 0; // no token
  d[24] = 0x40 | ((size - 27) >> 8);
  d[25] = (size - 27) & 0xff;
  return d;
}

/** A real client's first datagram (valid Initial with a ClientHello, its own random DCID). */
function realInitial(): Uint8Array {
  const c = Connection.connect({
    crypto: { ...nobleAsymmetric, ...autoSymmetric },
    random: (n) => random.bytes(n),
    wallClock: () => Date.now(),
    alpnProtocols: ['echo'],
    serverName: 'localhost',
    verification: { mode: 'none' },
    remote: { address: '127.0.0.1', port: 1 },
    now: 0,
  });
  const buf = new Uint8Array(1500);
  const t = c.pollTransmit(0, buf)!;
  return buf.slice(0, t.length);
}

async function sendAll(a: { send(d: Uint8Array, port: number): void }, port: number, datagrams: Iterable<Uint8Array>, batch = 200): Promise<number> {
  let n = 0;
  for (const d of datagrams) {
    a.send(d, port);
    // Let the server's event loop turn now and then so the socket buffers do not overflow.
    if (++n % batch === 0) await tick();
  }
  return n;
}

test('#1: 5,000 Initial-shaped datagrams that never decrypt leave no server state; a live connection is unaffected', async () => {
  const server = await echoServer();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const a = await attacker();
  try {
    const conn = await connect(client, server);
    assert.is(await withTimeout(roundTrip(conn, 1000), 10_000, 'echo before'), 1000);
    const before = retainedBytes();
    await withTimeout(sendAll(a, server.address.port, (function* () {
      for (let i = 0; i < 5000; i++) yield fakeInitial(1200 + (i % 100));
    })()), 60_000, 'flood');
    await new Promise((r) => setTimeout(r, 300));
    const grown = retainedBytes() - before;
    console.log(`#1 garbage Initials: heap +${(grown / MB).toFixed(1)} MB, replies ${JSON.stringify(a.replies)}`);
    assert.ok(grown < 8 * MB, `heap grew ${(grown / MB).toFixed(1)} MB`);
    assert.is(await withTimeout(roundTrip(conn, 1000), 10_000, 'echo after'), 1000);
  } finally {
    await a.close();
    await withTimeout(Promise.all([client.close(), server.close()]), 15_000, 'close');
  }
});

test('#1: 2,000 valid Initials (one CID each): by default the server answers with Retry past 100 handshakes in progress', async () => {
  const server = await echoServer();
  const a = await attacker();
  const initials = Array.from({ length: 2000 }, () => realInitial());
  try {
    const before = retainedBytes();
    await withTimeout(sendAll(a, server.address.port, initials, 50), 60_000, 'flood');
    // Bounded: wait until every Initial was answered or dropped (replies stop coming).
    for (let last = -1, i = 0; i < 100 && last !== a.replies.retry + a.replies.other; i++) {
      last = a.replies.retry + a.replies.other;
      await new Promise((r) => setTimeout(r, 200));
    }
    const grown = retainedBytes() - before;
    console.log(`#1 valid Initials: heap +${(grown / MB).toFixed(1)} MB, replies ${JSON.stringify(a.replies)}`);
    assert.ok(a.replies.retry >= 1000, `${a.replies.retry} Retry packets`);
    assert.ok(grown < 20 * MB, `heap grew ${(grown / MB).toFixed(1)} MB`);
  } finally {
    await a.close();
    await withTimeout(server.close(), 15_000, 'close');
  }
});

test('100,000 random, truncated and mutated datagrams at a listening server: no exception, heap bounded, a live connection unaffected', async () => {
  const server = await echoServer();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const a = await attacker();
  try {
    const conn = await connect(client, server);
    assert.is(await withTimeout(roundTrip(conn, 1000), 10_000, 'echo before'), 1000);
    // The live connection's server CID, so mutated short headers reach it (and fail to open).
    const liveCid = (conn.core as unknown as { peerCids: { currentCid: Uint8Array } }).peerCids.currentCid;
    const seeds = [realInitial(), realInitial(), fakeInitial(1200)];
    const before = retainedBytes();
    const sent = await withTimeout(
      sendAll(a, server.address.port, (function* () {
        for (let i = 0; i < 100_000; i++) {
          const kind = i % 5;
          if (kind === 0) yield random.bytes(1 + random.int(1500));
          else if (kind === 1) {
            const s = seeds[i % seeds.length]!;
            yield s.subarray(0, 1 + random.int(s.length)); // truncated
          } else if (kind === 2) {
            const d = seeds[i % seeds.length]!.slice();
            for (let k = 1 + random.int(4); k > 0; k--) d[random.int(d.length)] = random.bytes(1)[0]!;
            yield d; // mutated
          } else if (kind === 3) {
            const d = random.bytes(20 + random.int(1300));
            d[0] = 0x40 | (d[0]! & 0x3f);
            d.set(liveCid, 1); // short header for the live connection, garbage inside
            yield d;
          } else {
            const d = random.bytes(60 + random.int(1300));
            d[0] = 0xc0 | (random.int(4) << 4) | (d[0]! & 0x0f);
            d.set([0, 0, 0, 1, liveCid.length], 1);
            d.set(liveCid, 6); // long header for the live connection, garbage inside
            yield d;
          }
        }
      })(), 100),
      180_000,
      'flood',
    );
    assert.is(sent, 100_000);
    await new Promise((r) => setTimeout(r, 300));
    const grown = retainedBytes() - before;
    console.log(`100,000 datagrams: heap +${(grown / MB).toFixed(1)} MB, replies ${JSON.stringify(a.replies)}`);
    assert.ok(grown < 16 * MB, `heap grew ${(grown / MB).toFixed(1)} MB`);
    assert.is(await withTimeout(roundTrip(conn, 100_000), 10_000, 'echo after'), 100_000);
  } finally {
    await a.close();
    await withTimeout(Promise.all([client.close(), server.close()]), 15_000, 'close');
  }
});

test.run();
