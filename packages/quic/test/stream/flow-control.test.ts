import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportErrorCode } from '../../src/errors.js';
import { ReceiveWindow, SendCredit } from '../../src/stream/flow-control.js';
import { LocalStreamLimit, RemoteStreamLimit } from '../../src/stream/stream-limits.js';
import { expectQuicError } from './expect-error.js';

test('SendCredit: consumes up to the limit; MAX_* that do not increase are ignored (§4.1)', () => {
  const c = new SendCredit(100);
  c.consume(60);
  assert.is(c.available, 40);
  assert.not.ok(c.onMaxUpdate(90));
  assert.not.ok(c.onMaxUpdate(100));
  assert.is(c.limit, 100);
  assert.ok(c.onMaxUpdate(150));
  assert.is(c.available, 90);
  assert.throws(() => c.consume(91), RangeError);
});

test('SendCredit: *_BLOCKED once per limit, again after loss or at a new limit (§4.1)', () => {
  const c = new SendCredit(10);
  assert.not.ok(c.shouldSendBlocked(true), 'credit left');
  c.consume(10);
  assert.not.ok(c.shouldSendBlocked(false), 'no data waiting');
  assert.ok(c.shouldSendBlocked(true));
  c.onBlockedSent();
  assert.not.ok(c.shouldSendBlocked(true), 'only once at this limit');
  c.onBlockedLost(10);
  assert.ok(c.shouldSendBlocked(true), 'lost: send again');
  c.onBlockedSent();
  c.onMaxUpdate(20);
  c.onBlockedLost(10);
  assert.not.ok(c.shouldSendBlocked(true), 'unblocked');
  c.consume(10);
  assert.ok(c.shouldSendBlocked(true), 'blocked at the new limit');
  c.onBlockedSent();
  c.onBlockedLost(10);
  assert.not.ok(c.shouldSendBlocked(true), 'loss of the old frame does not matter');
});

test('ReceiveWindow: data beyond the advertised limit is FLOW_CONTROL_ERROR (§4.1)', () => {
  const w = new ReceiveWindow({ initialWindow: 1000 });
  w.onReceived(1000);
  w.onReceived(500);
  assert.is(w.received, 1000, 'lower totals (reordering) are ignored');
  expectQuicError(() => w.onReceived(1001), TransportErrorCode.FLOW_CONTROL_ERROR);
  const conn = new ReceiveWindow({ initialWindow: 100 });
  conn.onReceivedBytes(60);
  conn.onReceivedBytes(40);
  expectQuicError(() => conn.onReceivedBytes(1), TransportErrorCode.FLOW_CONTROL_ERROR);
});

test('ReceiveWindow: an update is due after half the window is consumed (§4.2)', () => {
  const w = new ReceiveWindow({ initialWindow: 1000 });
  w.onReceived(1000);
  w.onConsumed(499, 0, 100);
  assert.not.ok(w.updatePending);
  w.onConsumed(1, 0, 100);
  assert.ok(w.updatePending);
  assert.is(w.takeUpdate(), 1500);
  assert.not.ok(w.updatePending);
  w.onReceived(1500);
  expectQuicError(() => w.onReceived(1501), TransportErrorCode.FLOW_CONTROL_ERROR);
});

test('ReceiveWindow: a lost update is resent only if it is still the current limit', () => {
  const w = new ReceiveWindow({ initialWindow: 100 });
  w.onConsumed(60, 0, 0);
  const first = w.takeUpdate();
  w.onUpdateLost(first);
  assert.ok(w.updatePending);
  assert.is(w.takeUpdate(), first, 'same value resent');
  w.onConsumed(60, 0, 0);
  const second = w.takeUpdate();
  assert.ok(second > first);
  w.onUpdateLost(first);
  assert.not.ok(w.updatePending, 'superseded');
});

/**
 * A sender that always uses all credit, and a receiver whose application reads `readPerRtt`
 * bytes each round trip; updates reach the sender one RTT later. Returns the final window.
 */
function runTransfer(w: ReceiveWindow, rttMs: number, rounds: number, readPerRtt: number): number {
  let senderLimit = w.limit;
  let sent = 0;
  let read = 0;
  for (let r = 0; r < rounds; r++) {
    const now = r * rttMs;
    sent = senderLimit;
    w.onReceived(sent);
    const n = Math.min(readPerRtt, sent - read);
    // The application reads in 10 slices over the round trip.
    for (let i = 0; i < 10; i++) w.onConsumed(n / 10, now + (i * rttMs) / 10, rttMs);
    read += n;
    if (w.updatePending) senderLimit = w.takeUpdate();
  }
  return w.window;
}

test('auto-tuning: a window drained faster than 2 RTTs doubles up to the maximum', () => {
  const w = new ReceiveWindow({ initialWindow: 16_384, maxWindow: 1_048_576 });
  const window = runTransfer(w, 50, 40, Number.POSITIVE_INFINITY);
  assert.is(window, 1_048_576, 'reaches the maximum');
});

test('auto-tuning: a slow reader does not grow the window', () => {
  const w = new ReceiveWindow({ initialWindow: 16_384, maxWindow: 1_048_576 });
  // A quarter window per RTT: a full window takes 4 RTTs.
  assert.is(runTransfer(w, 50, 40, 4096), 16_384);
});

test('auto-tuning: without a maximum the window stays fixed; ensureWindow raises it', () => {
  const w = new ReceiveWindow({ initialWindow: 1000 });
  assert.is(runTransfer(w, 10, 20, Number.POSITIVE_INFINITY), 1000);
  w.ensureWindow(5000);
  assert.is(w.window, 5000);
  assert.ok(w.updatePending);
  w.ensureWindow(10);
  assert.is(w.window, 5000);
});

test('LocalStreamLimit: opens up to MAX_STREAMS, STREAMS_BLOCKED once per limit (§4.6)', () => {
  const l = new LocalStreamLimit(2);
  assert.is(l.tryOpen(), 0);
  assert.is(l.tryOpen(), 1);
  assert.is(l.tryOpen(), undefined);
  assert.ok(l.shouldSendBlocked(true));
  l.onBlockedSent();
  assert.not.ok(l.shouldSendBlocked(true));
  l.onBlockedLost(2);
  assert.ok(l.shouldSendBlocked(true));
  assert.not.ok(l.onMaxStreams(1), 'decrease ignored');
  assert.ok(l.onMaxStreams(3));
  assert.is(l.tryOpen(), 2);
  assert.is(l.available, 0);
  expectQuicError(() => l.onMaxStreams(2 ** 60 + 2 ** 10), TransportErrorCode.FRAME_ENCODING_ERROR);
  assert.ok(l.onMaxStreams(2 ** 60));
});

test('RemoteStreamLimit: STREAM_LIMIT_ERROR beyond our limit; lower streams open implicitly (§3.2, §4.6)', () => {
  const l = new RemoteStreamLimit(4);
  assert.is(l.onPeerStream(2), 3, 'opens 0, 1, 2');
  assert.is(l.onPeerStream(1), 0);
  assert.is(l.onPeerStream(3), 1);
  expectQuicError(() => l.onPeerStream(4), TransportErrorCode.STREAM_LIMIT_ERROR);
});

test('RemoteStreamLimit: credit comes back as streams close', () => {
  const l = new RemoteStreamLimit(4);
  l.onPeerStream(3);
  l.onStreamClosed();
  assert.not.ok(l.updatePending, 'one of four freed: not yet');
  l.onStreamClosed();
  assert.ok(l.updatePending);
  assert.is(l.takeUpdate(), 6);
  l.onPeerStream(5);
  expectQuicError(() => l.onPeerStream(6), TransportErrorCode.STREAM_LIMIT_ERROR);
  l.onUpdateLost(6);
  assert.ok(l.updatePending);
  assert.is(l.takeUpdate(), 6);
  for (let i = 0; i < 10; i++) l.onStreamClosed();
  assert.is(l.closed, 6, 'cannot close more than were opened');
});

test('RemoteStreamLimit: a window of one sends an update for every closed stream', () => {
  const l = new RemoteStreamLimit(1);
  for (let i = 0; i < 5; i++) {
    l.onPeerStream(i);
    expectQuicError(() => l.onPeerStream(i + 1), TransportErrorCode.STREAM_LIMIT_ERROR);
    l.onStreamClosed();
    assert.ok(l.updatePending);
    assert.is(l.takeUpdate(), i + 2);
  }
});

test.run();
