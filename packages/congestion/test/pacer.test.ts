import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pacer } from '../src/index.js';

const MDS = 1200;

test('unpaced until a rate is known', () => {
  const p = new Pacer({ maxDatagramSize: MDS });
  for (let i = 0; i < 20; i++) {
    assert.is(p.timeUntilSend(0, MDS), 0);
    p.onSent(0, MDS);
  }
});

test('RFC 9002 §7.7: packets are spaced by srtt * size / cwnd / 1.25 after the burst', () => {
  // cwnd 12000, srtt 100 ms: rate = 150 bytes/ms, a 1200-byte packet every 8 ms.
  const p = new Pacer({ maxDatagramSize: MDS, minBurstPackets: 2, burstIntervalMs: 1 });
  p.setWindow(0, 12000, 100);
  assert.is(p.rate, 150);
  assert.is(p.capacity, 2400); // the two-packet floor beats 1 ms of rate (150 bytes)
  // The burst: two packets at once.
  assert.is(p.timeUntilSend(0, MDS), 0);
  p.onSent(0, MDS);
  assert.is(p.timeUntilSend(0, MDS), 0);
  p.onSent(0, MDS);
  // Then one every 8 ms, sending exactly when allowed.
  let now = 0;
  const sendTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const wait = p.timeUntilSend(now, MDS);
    assert.ok(wait > 0, `packet ${i} must wait`);
    now += wait;
    assert.is(p.timeUntilSend(now, MDS), 0);
    p.onSent(now, MDS);
    sendTimes.push(now);
  }
  for (let i = 1; i < sendTimes.length; i++) {
    const gap = sendTimes[i]! - sendTimes[i - 1]!;
    assert.ok(Math.abs(gap - 8) < 1e-9, `gap ${gap}`);
  }
  assert.ok(Math.abs(sendTimes[0]! - 8) < 1e-9);
});

test('§7.7: idle time refills at most one burst', () => {
  const p = new Pacer({ maxDatagramSize: MDS, minBurstPackets: 2, burstIntervalMs: 1 });
  p.setWindow(0, 12000, 100);
  p.onSent(0, MDS);
  p.onSent(0, MDS);
  // After 10 s idle, only two packets go at once.
  const now = 10_000;
  assert.is(p.timeUntilSend(now, MDS), 0);
  p.onSent(now, MDS);
  assert.is(p.timeUntilSend(now, MDS), 0);
  p.onSent(now, MDS);
  assert.ok(p.timeUntilSend(now, MDS) > 0);
});

test('burst grows with the rate (burst interval) but never beyond the window', () => {
  const p = new Pacer({ maxDatagramSize: MDS, minBurstPackets: 2, burstIntervalMs: 2 });
  // cwnd 1.2 MB, srtt 10 ms: rate 150000 bytes/ms; 2 ms of it (300000) is below the window.
  p.setWindow(0, 1_200_000, 10);
  assert.is(p.capacity, 300_000);
  // A tiny srtt makes 2 ms of rate exceed the window: the window bounds the burst.
  p.setWindow(0, 24_000, 0.1);
  assert.is(p.capacity, 24_000);
  const capped = new Pacer({ maxDatagramSize: MDS, maxBurstBytes: 14_720 });
  capped.setWindow(0, 1_200_000, 10);
  assert.is(capped.capacity, 14_720);
});

test('average rate over many packets matches the configured rate', () => {
  const p = new Pacer({ maxDatagramSize: MDS, minBurstPackets: 2, burstIntervalMs: 1 });
  p.setWindow(0, 60_000, 40); // 1875 bytes/ms
  let now = 0;
  let sent = 0;
  for (let i = 0; i < 1000; i++) {
    now += p.timeUntilSend(now, MDS);
    p.onSent(now, MDS);
    sent += MDS;
  }
  // The initial burst (2400 bytes) is sent without waiting.
  const expected = (sent - 2 * MDS) / 1875;
  assert.ok(Math.abs(now - expected) < 1e-6, `${now} vs ${expected}`);
});

test('a send that ignored the pacer leaves a bounded debt', () => {
  const p = new Pacer({ maxDatagramSize: MDS, minBurstPackets: 2, burstIntervalMs: 1 });
  p.setWindow(0, 12000, 100);
  for (let i = 0; i < 50; i++) p.onSent(0, MDS);
  assert.is(p.tokens, -2400);
  assert.is(p.timeUntilSend(0, MDS), (2400 + 1200) / 150);
});

test.run();
