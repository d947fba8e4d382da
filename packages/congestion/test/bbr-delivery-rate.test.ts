import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BbrModel, createRateSample, type DeliveryPacketState, DeliveryRateEstimator, WindowedMaxFilter } from '../src/index.js';

const MDS = 1200;

function packet(pn: number, timeSent: number): DeliveryPacketState {
  return {
    packetNumber: pn,
    timeSent,
    size: MDS,
    delivered: 0,
    deliveredTime: 0,
    firstSentTime: 0,
    appLimited: false,
    txInFlight: 0,
    lost: 0,
  };
}

test('draft "Transmitting a data packet": stamps C state into the packet; idle restarts the intervals', () => {
  const e = new DeliveryRateEstimator();
  const a = packet(0, 5);
  e.onPacketSent(a, 5, MDS); // nothing was in flight: first_send_time = delivered_time = 5
  assert.is(a.firstSentTime, 5);
  assert.is(a.deliveredTime, 5);
  assert.is(a.delivered, 0);
  assert.is(a.txInFlight, MDS);
  assert.is(a.lost, 0);
  const b = packet(1, 7);
  e.onPacketSent(b, 7, 2 * MDS);
  assert.is(b.firstSentTime, 5, 'in flight already: intervals keep their start');
  assert.is(b.txInFlight, 2 * MDS);
});

test('draft GenerateRateSample: rate = delivered / max(send_elapsed, ack_elapsed)', () => {
  const e = new DeliveryRateEstimator();
  // 10 packets sent 1 ms apart from t = 0, acknowledged 2 ms apart from t = 100.
  const ps: DeliveryPacketState[] = [];
  for (let i = 0; i < 10; i++) {
    const p = packet(i, i);
    e.onPacketSent(p, i, (i + 1) * MDS);
    ps.push(p);
  }
  // First ACK (packet 0): delivered 1200 over max(send 0, ack 100 - 0) = 100 ms.
  e.beginAck();
  e.onPacketAcked(ps[0]!, 100);
  assert.ok(e.endAck(50));
  assert.is(e.sample.delivered, MDS);
  assert.is(e.sample.interval, 100);
  assert.is(e.sample.deliveryRate, MDS / 100);
  assert.is(e.sample.rtt, 100);
  // ACK at 118 of packets 1..9: the newest (9, sent at 9) carries the sample. Its P.delivered is
  // 0, P.delivered_time 0, first_send_time 0: send_elapsed 9, ack_elapsed 118.
  e.beginAck();
  for (let i = 1; i < 10; i++) e.onPacketAcked(ps[i]!, 118);
  assert.ok(e.endAck(50));
  const rs = e.sample;
  assert.is(rs.lastAckedPacketNumber, 9);
  assert.is(rs.newlyAcked, 9 * MDS);
  assert.is(rs.delivered, 10 * MDS);
  assert.is(rs.sendElapsed, 9);
  assert.is(rs.ackElapsed, 118);
  assert.is(rs.deliveryRate, (10 * MDS) / 118);
  assert.is(rs.txInFlight, 10 * MDS);
  assert.is(rs.totalDelivered, 10 * MDS);
  assert.is(rs.rtt, 118 - 9);
  // Acknowledging a packet twice changes nothing.
  e.beginAck();
  e.onPacketAcked(ps[3]!, 120);
  assert.not.ok(e.endAck(50));
  assert.is(e.delivered, 10 * MDS);
});

test('draft GenerateRateSample: an interval shorter than min_rtt gives no rate (ACK compression)', () => {
  const e = new DeliveryRateEstimator();
  const a = packet(0, 0);
  e.onPacketSent(a, 0, MDS);
  e.beginAck();
  e.onPacketAcked(a, 30);
  assert.not.ok(e.endAck(40));
  assert.is(e.sample.deliveryRate, 0);
  assert.ok(e.sample.hasData);
  assert.is(e.sample.delivered, MDS);
});

test('draft "Detecting application-limited phases": marked until the bubble is delivered', () => {
  const e = new DeliveryRateEstimator();
  const a = packet(0, 0);
  e.onPacketSent(a, 0, MDS);
  e.markAppLimited(MDS); // C.app_limited = delivered + inflight = 1200
  const b = packet(1, 1);
  e.onPacketSent(b, 1, 2 * MDS);
  assert.ok(b.appLimited);
  e.beginAck();
  e.onPacketAcked(a, 50);
  e.endAck(0);
  assert.is(e.appLimitedUntil, MDS, 'delivered == app_limited: not cleared yet');
  e.beginAck();
  e.onPacketAcked(b, 51);
  e.endAck(0);
  assert.ok(e.sample.isAppLimited);
  assert.is(e.appLimitedUntil, 0, 'bubble acknowledged and gone');
  const c = packet(2, 52);
  e.onPacketSent(c, 52, MDS);
  assert.not.ok(c.appLimited);
  // Never 0 while marking: an idle connection with nothing delivered marks with 1.
  const fresh = new DeliveryRateEstimator();
  fresh.markAppLimited(0);
  assert.is(fresh.appLimitedUntil, 1);
});

test('draft RS.lost and P.lost: losses between a packet\'s send and its ACK', () => {
  const e = new DeliveryRateEstimator();
  const ps: DeliveryPacketState[] = [];
  for (let i = 0; i < 5; i++) {
    const p = packet(i, i);
    e.onPacketSent(p, i, (i + 1) * MDS);
    ps.push(p);
  }
  e.beginAck();
  assert.is(e.onPacketLost(ps[0]!), MDS, 'C.lost - P.lost including itself');
  assert.is(e.onPacketLost(ps[1]!), 2 * MDS);
  e.onPacketAcked(ps[4]!, 60);
  e.endAck(10);
  assert.is(e.sample.lost, 2 * MDS);
  assert.is(e.sample.newlyLost, 2 * MDS);
  assert.is(e.sample.totalLost, 2 * MDS);
  // A packet sent after those losses starts from C.lost = 2400.
  const late = packet(5, 61);
  e.onPacketSent(late, 61, 3 * MDS);
  assert.is(late.lost, 2 * MDS);
});

test('draft "BBR.max_bw Max Filter": windowed max over cycles, window 2 = current and previous', () => {
  const f = new WindowedMaxFilter(2);
  assert.is(f.update(100, 0), 100);
  assert.is(f.update(50, 1), 100, 'previous cycle still counts');
  assert.is(f.update(30, 2), 50, 'the cycle-0 sample aged out');
  assert.is(f.update(0, 3), 30, 'the cycle-1 sample aged out');
  assert.is(f.update(0, 4), 0, 'everything aged out');
  assert.is(f.update(80, 4), 80, 'a new maximum replaces all');
  assert.is(f.update(90, 4), 90);
  assert.is(f.update(70, 5), 90);
  assert.is(f.update(60, 6), 70);
  // Window 1: only the current time unit.
  const one = new WindowedMaxFilter(1);
  one.update(100, 0);
  assert.is(one.update(10, 1), 10);
});

test('draft UpdateMaxBw: app-limited samples count only above max_bw; the window advances per ProbeBW cycle', () => {
  const m = new BbrModel(0);
  const rs = createRateSample();
  rs.hasData = true;
  const feed = (rate: number, appLimited: boolean) => {
    rs.priorDelivered = rs.totalDelivered;
    rs.totalDelivered += MDS;
    rs.deliveryRate = rate;
    m.updateMaxBw(rs, appLimited);
  };
  feed(100, false);
  assert.is(m.maxBw, 100);
  feed(300, true);
  assert.is(m.maxBw, 300, 'an app-limited sample above the estimate raises it');
  feed(50, false);
  feed(200, true);
  assert.is(m.maxBw, 300);
  assert.is(m.roundCount, 4, 'each sample here ends a round');
  m.advanceMaxBwFilter(); // cycle 1: cycle-0 samples still count
  feed(120, false);
  assert.is(m.maxBw, 300);
  m.advanceMaxBwFilter(); // cycle 2: cycle-0 samples aged out; 120 from cycle 1 remains
  assert.is(m.maxBw, 120);
  m.advanceMaxBwFilter();
  assert.is(m.maxBw, 0);
  feed(80, true);
  assert.is(m.maxBw, 80);
});

test('windowed max filter matches a brute-force sliding maximum on seeded data', () => {
  let x = 12345;
  const rand = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
  for (const win of [1, 2, 5, 10]) {
    const f = new WindowedMaxFilter(win);
    const samples: Array<[number, number]> = [];
    let t = 0;
    for (let i = 0; i < 2000; i++) {
      if (rand() < 0.3) t++;
      const v = Math.floor(rand() * 1000);
      samples.push([t, v]);
      const got = f.update(v, t);
      // The Nichols filter is an approximation from below only in sub-window choices; its best
      // is always a sample inside the window and at least the newest sample.
      let trueMax = 0;
      for (const [st, sv] of samples) if (t - st < win && sv > trueMax) trueMax = sv;
      assert.ok(got <= trueMax, `win ${win} step ${i}: ${got} > ${trueMax}`);
      assert.ok(got >= v);
      assert.ok(samples.some(([st, sv]) => sv === got && t - st < win), 'best is a sample in the window');
    }
  }
});

test.run();
