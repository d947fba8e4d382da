import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { RecvState, RecvStateMachine, recvStateName } from '../../src/stream/recv-state.js';
import { expectQuicError } from './expect-error.js';

const R = RecvState;

test('RFC 9000 §3.2: Recv -> Size Known -> Data Recvd -> Data Read', () => {
  const m = new RecvStateMachine();
  assert.is(m.state, R.RECV);
  assert.ok(m.wantsFlowControlUpdates);
  assert.not.ok(m.onAllDataReceived(), 'needs the size first');
  assert.ok(m.onFinalSizeKnown());
  assert.not.ok(m.wantsFlowControlUpdates, 'no MAX_STREAM_DATA once the size is known');
  assert.ok(m.onAllDataReceived());
  assert.not.ok(m.onAllDataReceived());
  assert.ok(m.onAllDataRead());
  assert.is(recvStateName(m.state), 'Data Read');
  assert.ok(m.isTerminal);
});

test('RFC 9000 §3.2: RESET_STREAM in Recv or Size Known -> Reset Recvd -> Reset Read', () => {
  for (const sizeKnown of [false, true]) {
    const m = new RecvStateMachine();
    if (sizeKnown) m.onFinalSizeKnown();
    assert.ok(m.onReset(4));
    assert.is(m.state, R.RESET_RECVD);
    assert.is(m.resetErrorCode, 4);
    assert.not.ok(m.onReset(4), 'a retransmitted reset changes nothing');
    assert.ok(m.onResetRead());
    assert.is(m.state, R.RESET_READ);
    assert.not.ok(m.onReset(4));
  }
});

test('RFC 9000 §3.2: a reset after all data arrived is suppressed (stays Data Recvd)', () => {
  const m = new RecvStateMachine();
  m.onFinalSizeKnown();
  m.onAllDataReceived();
  assert.not.ok(m.onReset(4));
  assert.is(m.state, R.DATA_RECVD);
  assert.is(m.resetErrorCode, 4);
  assert.ok(m.onAllDataRead());
});

test('draft reliable-stream-reset §5: a changed reset error code is STREAM_STATE_ERROR', () => {
  const m = new RecvStateMachine();
  m.onReset(4, 10);
  const e = expectQuicError(() => m.onReset(5, 5), TransportErrorCode.STREAM_STATE_ERROR);
  assert.ok(QuicError.is(e));
});

test('RESET_STREAM_AT: Size Known with the reliable size; lower sizes apply, higher are ignored', () => {
  const m = new RecvStateMachine();
  assert.ok(m.onReset(4, 100));
  assert.is(m.state, R.SIZE_KNOWN);
  assert.is(m.reliableSize, 100);
  assert.not.ok(m.onReset(4, 150), 'increase ignored');
  assert.is(m.reliableSize, 100);
  assert.ok(m.onReset(4, 60));
  assert.is(m.reliableSize, 60);
  assert.ok(m.onAllDataReceived());
  assert.ok(m.onAllDataRead());
  assert.is(m.state, R.DATA_READ);
});

test('RESET_STREAM after RESET_STREAM_AT interrupts delivery', () => {
  const m = new RecvStateMachine();
  m.onReset(4, 100);
  assert.ok(m.onReset(4, 0));
  assert.is(m.state, R.RESET_RECVD);
});

test('RFC 9000 §3.5: STOP_SENDING once, only in Recv/Size Known; resent on loss until reset', () => {
  const m = new RecvStateMachine();
  assert.ok(m.stopSending(9));
  assert.ok(m.stopSendingPending);
  assert.not.ok(m.stopSending(10), 'idempotent');
  assert.is(m.stopSendingErrorCode, 9);
  assert.not.ok(m.wantsFlowControlUpdates);
  m.onStopSendingSent();
  assert.ok(m.onStopSendingLost());
  m.onStopSendingSent();
  m.onReset(1);
  assert.not.ok(m.onStopSendingLost(), 'unnecessary once the peer reset');

  const done = new RecvStateMachine();
  done.onFinalSizeKnown();
  done.onAllDataReceived();
  assert.not.ok(done.stopSending(9), 'all data is here: no STOP_SENDING');
  assert.not.ok(done.stopSendingPending);
});

test('connection close ends the receiving part from any state, idempotently', () => {
  const preps: ((m: RecvStateMachine) => unknown)[] = [
    () => {},
    (m) => m.onFinalSizeKnown(),
    (m) => m.onReset(1),
    (m) => {
      m.onFinalSizeKnown();
      m.onAllDataReceived();
    },
  ];
  for (const prep of preps) {
    const m = new RecvStateMachine();
    prep(m);
    assert.ok(m.onConnectionClosed());
    assert.ok(m.isTerminal);
    assert.not.ok(m.onConnectionClosed());
    assert.not.ok(m.stopSending(1));
    assert.not.ok(m.onReset(1));
  }
});

const ALLOWED = new Set([
  `${R.RECV}>${R.SIZE_KNOWN}`, `${R.RECV}>${R.RESET_RECVD}`, `${R.RECV}>${R.RESET_READ}`,
  `${R.SIZE_KNOWN}>${R.DATA_RECVD}`, `${R.SIZE_KNOWN}>${R.RESET_RECVD}`, `${R.SIZE_KNOWN}>${R.RESET_READ}`,
  `${R.DATA_RECVD}>${R.DATA_READ}`, `${R.DATA_RECVD}>${R.RESET_READ}`,
  `${R.RESET_RECVD}>${R.RESET_READ}`,
]);

const EVENTS: [string, (m: RecvStateMachine) => unknown][] = [
  ['finalSize', (m) => m.onFinalSizeKnown()],
  ['allReceived', (m) => m.onAllDataReceived()],
  ['allRead', (m) => m.onAllDataRead()],
  ['reset', (m) => m.onReset(1)],
  ['resetAt10', (m) => m.onReset(1, 10)],
  ['resetAt5', (m) => m.onReset(1, 5)],
  ['resetRead', (m) => m.onResetRead()],
  ['stopSending', (m) => m.stopSending(2)],
  ['stopSent', (m) => m.onStopSendingSent()],
  ['stopLost', (m) => m.onStopSendingLost()],
  ['close', (m) => m.onConnectionClosed()],
];
const IDEMPOTENT = new Set(['finalSize', 'allReceived', 'allRead', 'reset', 'resetAt10', 'resetAt5', 'resetRead', 'stopSending', 'close']);

test('every interleaving of up to 5 receive-side events is safe and idempotent', () => {
  const n = EVENTS.length;
  const total = n ** 5;
  let sequences = 0;
  for (let code = 0; code < total; code++) {
    const m = new RecvStateMachine();
    const names: string[] = [];
    let c = code;
    for (let step = 0; step < 5; step++) {
      const [name, apply] = EVENTS[c % n] as [string, (m: RecvStateMachine) => unknown];
      c = Math.floor(c / n);
      names.push(name);
      const before = m.state;
      const wasTerminal = m.isTerminal;
      apply(m);
      const after = m.state;
      if (before !== after) assert.ok(ALLOWED.has(`${before}>${after}`), `${names.join(',')}: ${recvStateName(before)} -> ${recvStateName(after)}`);
      if (wasTerminal) assert.is(after, before, `${names.join(',')}: terminal state left`);
      if (IDEMPOTENT.has(name)) {
        const snapshot = [m.state, m.resetErrorCode, m.reliableSize, m.stopSendingPending];
        assert.is(apply(m), false, `${names.join(',')}: repeating ${name} changed something`);
        assert.equal([m.state, m.resetErrorCode, m.reliableSize, m.stopSendingPending], snapshot);
      }
    }
    sequences++;
  }
  assert.is(sequences, total);
});

test.run();
