import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SendState, SendStateMachine, sendStateName } from '../../src/stream/send-state.js';

const S = SendState;

test('RFC 9000 §3.1: Ready -> Send -> Data Sent -> Data Recvd', () => {
  const m = new SendStateMachine();
  assert.is(m.state, S.READY);
  assert.ok(m.canSendNewData);
  assert.ok(m.onStreamFrameSent());
  assert.not.ok(m.onStreamFrameSent());
  assert.is(m.state, S.SEND);
  assert.ok(m.onFinSent());
  assert.is(m.state, S.DATA_SENT);
  assert.not.ok(m.canSendNewData);
  assert.ok(m.mayCarryData, 'retransmissions continue in Data Sent');
  assert.ok(m.onAllDataAcked());
  assert.is(sendStateName(m.state), 'Data Recvd');
  assert.ok(m.isTerminal);
});

test('RFC 9000 §3.1: reset from Send -> Reset Sent -> Reset Recvd once the frame is acked', () => {
  const m = new SendStateMachine();
  m.onStreamFrameSent();
  assert.ok(m.reset(7));
  assert.is(m.state, S.RESET_SENT);
  assert.ok(m.resetFramePending);
  assert.not.ok(m.mayCarryData);
  m.onResetFrameSent();
  assert.not.ok(m.resetFramePending);
  assert.ok(m.onResetFrameLost());
  assert.ok(m.resetFramePending, 'lost reset is resent');
  m.onResetFrameSent();
  assert.ok(m.onResetFrameAcked());
  assert.is(m.state, S.RESET_RECVD);
  assert.is(m.resetErrorCode, 7);
  assert.not.ok(m.onResetFrameLost(), 'a late loss report after the ack changes nothing');
});

test('RFC 9000 §3.1: a reset may be the first frame (Ready -> Reset Sent)', () => {
  const m = new SendStateMachine();
  assert.ok(m.reset(1));
  assert.is(m.state, S.RESET_SENT);
});

test('RFC 9000 §3.5: STOP_SENDING resets with the peer\'s code; later resets keep it', () => {
  const m = new SendStateMachine();
  m.onStreamFrameSent();
  assert.ok(m.onStopSending(0x42));
  assert.is(m.resetErrorCode, 0x42);
  assert.is(m.stopSendingErrorCode, 0x42);
  assert.not.ok(m.reset(9));
  assert.not.ok(m.onStopSending(0x43));
  assert.is(m.resetErrorCode, 0x42);
  assert.is(m.stopSendingErrorCode, 0x42);
});

test('STOP_SENDING after all data is acknowledged needs no reset', () => {
  const m = new SendStateMachine();
  m.onFinSent();
  m.onAllDataAcked();
  assert.not.ok(m.onStopSending(1));
  assert.is(m.state, S.DATA_RECVD);
  assert.not.ok(m.resetFramePending);
});

test('reliable reset: Data Sent until frame and owed data are both acked (draft §6)', () => {
  const m = new SendStateMachine();
  m.onStreamFrameSent();
  assert.ok(m.reset(5, 100));
  assert.is(m.state, S.DATA_SENT);
  assert.is(m.reliableSize, 100);
  m.onResetFrameSent();
  assert.not.ok(m.onAllDataAcked(), 'the frame is not acked yet');
  assert.ok(m.onResetFrameAcked(100));
  assert.is(m.state, S.DATA_RECVD);
  assert.is(m.resetErrorCode, 5);
});

test('reliable reset: the size only shrinks; an ack of an older larger frame does not count', () => {
  const m = new SendStateMachine();
  m.reset(5, 100);
  m.onResetFrameSent();
  assert.not.ok(m.reset(5, 200), 'cannot grow');
  assert.ok(m.reset(6, 50), 'shrinks; the first error code stays');
  assert.is(m.resetErrorCode, 5);
  assert.is(m.reliableSize, 50);
  m.onResetFrameSent();
  assert.not.ok(m.onResetFrameAcked(100));
  assert.not.ok(m.onResetFrameLost(100), 'loss of the old frame needs no resend');
  assert.ok(m.onResetFrameLost(50));
  m.onResetFrameSent();
  m.onAllDataAcked();
  assert.ok(m.onResetFrameAcked(50));
  assert.is(m.state, S.DATA_RECVD);
});

test('reliable reset then STOP_SENDING: a plain RESET_STREAM (draft §7)', () => {
  const m = new SendStateMachine();
  m.reset(5, 100);
  assert.ok(m.onStopSending(8));
  assert.is(m.state, S.RESET_SENT);
  assert.is(m.reliableSize, 0);
  assert.is(m.resetErrorCode, 5);
});

test('connection close ends any open stream and is idempotent', () => {
  for (const prep of [(_: SendStateMachine) => {}, (m: SendStateMachine) => m.onFinSent(), (m: SendStateMachine) => m.reset(1)]) {
    const m = new SendStateMachine();
    prep(m);
    assert.ok(m.onConnectionClosed());
    assert.ok(m.isTerminal);
    assert.not.ok(m.resetFramePending);
    assert.not.ok(m.onConnectionClosed());
    assert.not.ok(m.reset(3));
    assert.not.ok(m.onStopSending(3));
  }
});

// Every sequence of up to 5 events, in every order: nothing throws, each transition is one the
// RFC (or a connection close) allows, terminal states stay put, and repeating an event at once
// changes nothing.
const ALLOWED = new Set([
  `${S.READY}>${S.SEND}`, `${S.READY}>${S.DATA_SENT}`, `${S.READY}>${S.RESET_SENT}`, `${S.READY}>${S.RESET_RECVD}`,
  `${S.SEND}>${S.DATA_SENT}`, `${S.SEND}>${S.RESET_SENT}`, `${S.SEND}>${S.RESET_RECVD}`,
  `${S.DATA_SENT}>${S.DATA_RECVD}`, `${S.DATA_SENT}>${S.RESET_SENT}`, `${S.DATA_SENT}>${S.RESET_RECVD}`,
  `${S.RESET_SENT}>${S.RESET_RECVD}`,
]);

const EVENTS: [string, (m: SendStateMachine) => unknown][] = [
  ['streamFrameSent', (m) => m.onStreamFrameSent()],
  ['finSent', (m) => m.onFinSent()],
  ['allDataAcked', (m) => m.onAllDataAcked()],
  ['reset', (m) => m.reset(1)],
  ['resetAt10', (m) => m.reset(1, 10)],
  ['resetAt5', (m) => m.reset(2, 5)],
  ['stopSending', (m) => m.onStopSending(3)],
  ['resetSent', (m) => m.onResetFrameSent()],
  ['resetLost', (m) => m.onResetFrameLost(m.reliableSize ?? 0)],
  ['resetAcked', (m) => m.onResetFrameAcked(m.reliableSize ?? 0)],
  ['close', (m) => m.onConnectionClosed()],
];
const IDEMPOTENT = new Set(['reset', 'resetAt10', 'resetAt5', 'stopSending', 'close', 'streamFrameSent', 'finSent', 'resetAcked']);

test('every interleaving of up to 5 send-side events is safe and idempotent', () => {
  let sequences = 0;
  const n = EVENTS.length;
  const total = n ** 5;
  for (let code = 0; code < total; code++) {
    const m = new SendStateMachine();
    const names: string[] = [];
    let c = code;
    for (let step = 0; step < 5; step++) {
      const [name, apply] = EVENTS[c % n] as [string, (m: SendStateMachine) => unknown];
      c = Math.floor(c / n);
      names.push(name);
      const before = m.state;
      const wasTerminal = m.isTerminal;
      const resetCode = m.resetErrorCode;
      apply(m);
      const after = m.state;
      if (before !== after) assert.ok(ALLOWED.has(`${before}>${after}`), `${names.join(',')}: ${sendStateName(before)} -> ${sendStateName(after)}`);
      if (wasTerminal) assert.is(after, before, `${names.join(',')}: terminal state left`);
      if (resetCode !== undefined) assert.is(m.resetErrorCode, resetCode, `${names.join(',')}: reset code changed`);
      if (IDEMPOTENT.has(name)) {
        const snapshot = [m.state, m.resetErrorCode, m.reliableSize, m.resetFramePending];
        assert.is(apply(m), false, `${names.join(',')}: repeating ${name} changed something`);
        assert.equal([m.state, m.resetErrorCode, m.reliableSize, m.resetFramePending], snapshot);
      }
    }
    sequences++;
  }
  assert.is(sequences, total);
});

test.run();
