/**
 * The tiny runner's lossy relay: the burst-loss model hits its long-run rate with bursts no longer
 * than asked, and a relay on loopback forwards both ways, dropping what its counters say.
 */

import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BurstLoss, LossyRelay } from '../interop/lossy-relay.js';

test('BurstLoss: long-run rate within 10% of the target, bursts of at most maxBurst', () => {
  for (const [rate, maxBurst] of [
    [0.02, 3],
    [0.3, 3],
    [0.1, 1],
  ] as const) {
    const loss = new BurstLoss({ rate, maxBurst, seed: 5 }, 0);
    const draws = 200_000;
    let dropped = 0;
    let run = 0;
    let longest = 0;
    for (let i = 0; i < draws; i++) {
      if (loss.drop()) {
        dropped++;
        run++;
        longest = Math.max(longest, run);
      } else {
        run = 0;
      }
    }
    const measured = dropped / draws;
    assert.ok(Math.abs(measured - rate) < rate * 0.1, `rate ${rate}: measured ${measured}`);
    assert.ok(longest <= maxBurst, `rate ${rate}: burst of ${longest} > ${maxBurst}`);
    if (maxBurst > 1) assert.ok(longest > 1, 'bursts longer than one datagram happen');
  }
});

test('BurstLoss: same seed and stream, same decisions; the two directions differ', () => {
  const sequence = (stream: number): string => {
    const loss = new BurstLoss({ rate: 0.3, maxBurst: 3, seed: 9 }, stream);
    return Array.from({ length: 200 }, () => (loss.drop() ? '1' : '0')).join('');
  };
  assert.is(sequence(0), sequence(0));
  assert.is.not(sequence(0), sequence(1));
});

function bind(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

test('LossyRelay: forwards client->server and back, drops exactly what it counts', async () => {
  const server = createSocket('udp4');
  const serverPort = await bind(server);
  let serverReceived = 0;
  server.on('message', (msg, rinfo) => {
    serverReceived++;
    server.send(msg, rinfo.port, rinfo.address); // echo
  });
  const relay = await LossyRelay.start('127.0.0.1', { address: '127.0.0.1', port: serverPort }, { rate: 0.2, maxBurst: 3, seed: 3 });
  const client = createSocket('udp4');
  await bind(client);
  let clientReceived = 0;
  client.on('message', () => clientReceived++);
  const count = 500;
  try {
    for (let i = 0; i < count; i++) {
      client.send(Uint8Array.of(i & 0xff), relay.port, '127.0.0.1');
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5)); // keep loopback buffers from overflowing
    }
    // Bounded wait for the echoes to settle.
    for (let i = 0; i < 100 && serverReceived + relay.statistics.toServer.dropped < count; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    const s = relay.statistics;
    assert.is(s.toServer.forwarded + s.toServer.dropped, count);
    assert.is(serverReceived, s.toServer.forwarded);
    assert.is(s.toClient.forwarded + s.toClient.dropped, serverReceived);
    assert.is(clientReceived, s.toClient.forwarded);
    assert.ok(s.toServer.dropped > 0 && s.toClient.dropped > 0, JSON.stringify(s));
  } finally {
    client.close();
    await relay.close();
    server.close();
  }
});

test.run();
