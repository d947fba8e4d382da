import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

for (const cc of ['newreno', 'cubic', 'bbr'] as const) {
  test(`${cc}: a sender held back by flow control does not grow its window without bound (RFC 9002 §7.8)`, () => {
    const window = 64 * 1024;
    const pair = makePair({
      seed: 3,
      link: { delayMs: 10, bandwidthBps: 1e9 },
      // The client's receive window stays at 64 KiB: the server can never have more in flight.
      clientTransport: { initialMaxStreamDataBidiLocal: window, maxStreamWindow: window, initialMaxData: 1 << 20, maxConnectionWindow: 1 << 20 },
      serverTransport: { congestionControl: cc },
    });
    let maxCwnd = 0;
    let maxInFlight = 0;
    const check = pair.serverNode.afterEvent;
    pair.serverNode.afterEvent = (c) => {
      check(c);
      maxCwnd = Math.max(maxCwnd, c.congestion.congestionWindow);
      maxInFlight = Math.max(maxInFlight, c.recovery.bytesInFlight);
    };
    const r = runTransfer(pair, 100, 4 << 20, 120_000);
    assert.ok(r.ok, 'data differs');
    assert.ok(maxInFlight <= window + 4 * 1200, `in flight ${maxInFlight}`);
    // Without app-limited marking slow start doubles the window every RTT for the whole transfer.
    assert.ok(maxCwnd < 8 * window, `${cc} window grew to ${maxCwnd} while at most ${maxInFlight} was in flight`);
  });
}

test.run();
