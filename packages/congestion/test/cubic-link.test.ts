import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Cubic, HyStartPhase, NewReno } from '../src/index.js';
import { goodput, type LinkConfig, meanOver, runLink } from './helpers/fake-link.js';

// 10 Mbit/s (1250 bytes/ms), 40 ms: BDP = 50,000 bytes (about 42 datagrams); buffer = 1 BDP.
const LINK: LinkConfig = { rateBytesPerMs: 1250, rttMs: 40, bufferBytes: 50_000 };
const BDP = LINK.rateBytesPerMs * LINK.rttMs;

test('fake link: NewReno fills the pipe; its window saws between about BDP and BDP + buffer', () => {
  const cc = new NewReno();
  const trace = runLink(cc, LINK, 20_000);
  const meanCwnd = meanOver(trace, trace.cwnd, 10_000, 20_000);
  assert.ok(meanCwnd > 0.9 * BDP && meanCwnd < 2.1 * BDP, `mean cwnd ${meanCwnd} vs BDP ${BDP}`);
  const rate = goodput(trace, 10_000, 19_999);
  assert.ok(rate > 0.9 * LINK.rateBytesPerMs, `goodput ${rate}`);
  assert.ok(trace.lostPackets > 0 && trace.lostPackets < 0.02 * trace.sentPackets);
});

test('fake link: CUBIC fills the pipe with its window between BDP and BDP + buffer', () => {
  const cc = new Cubic();
  const trace = runLink(cc, LINK, 20_000);
  const meanCwnd = meanOver(trace, trace.cwnd, 10_000, 20_000);
  assert.ok(meanCwnd > 0.9 * BDP && meanCwnd < 2.1 * BDP, `mean cwnd ${meanCwnd} vs BDP ${BDP}`);
  const rate = goodput(trace, 10_000, 19_999);
  assert.ok(rate > 0.95 * LINK.rateBytesPerMs, `goodput ${rate}`);
  // beta 0.7 keeps CUBIC's window higher on average than NewReno's 0.5 on the same path.
  const reno = runLink(new NewReno(), LINK, 20_000);
  assert.ok(meanCwnd > meanOver(reno, reno.cwnd, 10_000, 20_000));
});

test('fake link: HyStart++ leaves slow start on the queueing delay, before the deep buffer overflows', () => {
  // A buffer of 4 BDP: plain slow start doubles into it until it overflows; HyStart++ sees the
  // RTT grow first. (CSS then still grows the window by up to 1.25^5, so it may overflow later.)
  const deep: LinkConfig = { ...LINK, bufferBytes: 4 * BDP };
  const withHs = new Cubic();
  let exitAt = -1;
  let firstLossAt = -1;
  const t1 = runLink(withHs, deep, 3_000, (now, trace) => {
    if (exitAt < 0 && withHs.hystart!.phase !== HyStartPhase.SLOW_START) exitAt = now;
    if (firstLossAt < 0 && trace.lostPackets > 0) firstLossAt = now;
  });
  assert.ok(exitAt > 0, 'HyStart++ left slow start');
  assert.ok(firstLossAt < 0 || exitAt < firstLossAt, `exit at ${exitAt} ms, first loss at ${firstLossAt} ms`);
  assert.ok(withHs.slowStartThreshold < Infinity);
  const plain = runLink(new Cubic({ hystart: false }), deep, 3_000);
  assert.ok(t1.lostPackets < plain.lostPackets, `losses with HyStart++ ${t1.lostPackets}, without ${plain.lostPackets}`);
});

test.run();
