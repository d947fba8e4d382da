/**
 * The tiny runner's lossy relay: the burst-loss model hits its long-run rate with bursts no longer
 * than asked, and a relay on loopback forwards both ways, dropping what its counters say.
 */

import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
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

/** Linux's count of UDP datagrams the kernel dropped because a socket's receive buffer was full. */
function udpReceiveBufferErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return undefined;
  }
}

/** Waits (polling every few ms, at most `ms`) until `done()`; returns whether it became true. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

// This test once failed in a loaded full run (the relay had seen 484 of 500, "passed alone"). It
// sent 500 datagrams in bursts of 50 with 5 ms pauses and then waited at most 1.1 s, so two things
// can lose count under load: a socket whose process is descheduled overflows its receive buffer and
// the kernel drops datagrams no counter here sees (/proc/net/snmp RcvbufErrors; this machine shows
// such drops), or the relay had simply not read them yet when the wait ran out. Now at most WINDOW
// datagrams are ever queued at any socket (the client waits for the relay to have decided on each
// before sending further), the waits are for exact counts (bounded at 10 s, not a timing
// assertion), and a failure prints the kernel's drop count so the cause is never a guess again.
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
  const WINDOW = 8;
  const s = relay.statistics;
  const relaySaw = (): number => s.toServer.forwarded + s.toServer.dropped;
  const kernelDropsBefore = udpReceiveBufferErrors();
  try {
    for (let i = 0; i < count; i++) {
      const caughtUp = await until(() => relaySaw() >= i - WINDOW, 10_000);
      const kernelDrops = (udpReceiveBufferErrors() ?? 0) - (kernelDropsBefore ?? 0);
      assert.ok(caughtUp, `the relay saw ${relaySaw()} of ${i} sent (kernel UDP receive-buffer drops meanwhile: ${kernelDrops})`);
      client.send(Uint8Array.of(i & 0xff), relay.port, '127.0.0.1');
    }
    // Every datagram's fate is settled once each hop's receiver has seen what the hop forwarded.
    const settled = await until(
      () =>
        relaySaw() === count &&
        serverReceived === s.toServer.forwarded &&
        s.toClient.forwarded + s.toClient.dropped === serverReceived &&
        clientReceived === s.toClient.forwarded,
      10_000,
    );
    const kernelDrops = (udpReceiveBufferErrors() ?? 0) - (kernelDropsBefore ?? 0);
    const state = `${JSON.stringify({ ...s, serverReceived, clientReceived })}, kernel UDP receive-buffer drops meanwhile: ${kernelDrops}`;
    assert.ok(settled, state);
    assert.is(relaySaw(), count, state);
    assert.is(serverReceived, s.toServer.forwarded, state);
    assert.is(s.toClient.forwarded + s.toClient.dropped, serverReceived, state);
    assert.is(clientReceived, s.toClient.forwarded, state);
    assert.ok(s.toServer.dropped > 0 && s.toClient.dropped > 0, state);
  } finally {
    client.close();
    await relay.close();
    server.close();
  }
});

test.run();
