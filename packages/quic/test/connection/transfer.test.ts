import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

const MB = 1 << 20;

test('1 MB each way on a clean 20 ms RTT path arrives byte-identical', () => {
  const pair = makePair({ link: { delayMs: 10, bandwidthBps: 100e6 } });
  const r = runTransfer(pair, MB, MB);
  assert.is(r.receivedByServer.length, MB);
  assert.is(r.receivedByClient.length, MB);
  assert.ok(r.ok, 'data differs');
});

test('10 MB download under 5% random loss in both directions arrives byte-identical', () => {
  const pair = makePair({ seed: 5, link: { delayMs: 10, lossRate: 0.05, bandwidthBps: 200e6 } });
  const r = runTransfer(pair, 1000, 10 * MB, 600_000);
  assert.is(r.receivedByClient.length, 10 * MB);
  assert.ok(r.ok, 'data differs');
  console.log(`    5% loss: ${(r.virtualMs / 1000).toFixed(1)} virtual s`);
});

test('10 MB download under reordering (10% of datagrams held back 15 ms) arrives byte-identical', () => {
  const pair = makePair({ seed: 6, link: { delayMs: 10, reorderRate: 0.1, reorderDelayMs: 15, bandwidthBps: 200e6 } });
  const r = runTransfer(pair, 1000, 10 * MB, 600_000);
  assert.ok(r.ok, 'data differs');
  console.log(`    reordering: ${(r.virtualMs / 1000).toFixed(1)} virtual s`);
});

test('10 MB download over a 100 ms RTT path arrives byte-identical', () => {
  const pair = makePair({ seed: 7, link: { delayMs: 50, bandwidthBps: 200e6 } });
  const r = runTransfer(pair, 1000, 10 * MB, 600_000);
  assert.ok(r.ok, 'data differs');
  console.log(`    100 ms RTT: ${(r.virtualMs / 1000).toFixed(1)} virtual s`);
});

for (const cc of ['newreno', 'cubic', 'bbr'] as const) {
  test(`${cc}: 4 MB download through a 20 Mbit/s bottleneck with 1% loss arrives byte-identical`, () => {
    const transport = { congestionControl: cc };
    const pair = makePair({ seed: 9, link: { delayMs: 20, lossRate: 0.01, bandwidthBps: 20e6, bufferBytes: 100_000 }, clientTransport: transport, serverTransport: transport });
    const r = runTransfer(pair, 1000, 4 * MB, 600_000);
    assert.ok(r.ok, 'data differs');
    console.log(`    ${cc}: ${(r.virtualMs / 1000).toFixed(1)} virtual s, ${((4 * 8) / (r.virtualMs / 1000)).toFixed(1)} Mbit/s`);
  });
}

test.run();
