/**
 * More interop-runner cases against quic-go 0.29 (see quic-go.test.ts for the setup): the
 * runner's transfer file set, multiconnect (how the runner runs handshakeloss), key updates
 * initiated by quic-go in either role, IPv6, parallel connections, and our endpoint on each
 * crypto provider.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RUNNER_FILES } from '../../interop/runner.js';
import { buildQuicGoPeer, expectTransfer, quicGoLocalKeyUpdates, quicGoTest, tail } from './quic-go-helpers.js';

const it = quicGoTest('quic-go runner-case interop tests');

test.before(buildQuicGoPeer);

it('transfer: the runner file set (2, 3 and 5 MiB in parallel) both ways', async () => {
  await expectTransfer('quic-go', 'purequic', 'transfer', RUNNER_FILES.transfer!, 5);
  await expectTransfer('purequic', 'quic-go', 'transfer', RUNNER_FILES.transfer!, 6);
});

it('multiconnect: a new connection per file, both ways (the runner runs handshakeloss this way)', async () => {
  const one = await expectTransfer('quic-go', 'purequic', 'multiconnect', RUNNER_FILES.multiconnect!, 11);
  assert.is(one.serverLog.match(/handshake complete/g)?.length, RUNNER_FILES.multiconnect!.length);
  const two = await expectTransfer('purequic', 'quic-go', 'multiconnect', RUNNER_FILES.multiconnect!, 12);
  assert.is(two.serverLog.match(/handshake complete/g)?.length, RUNNER_FILES.multiconnect!.length);
});

// quic-go initiates a key update only after receiving a packet protected with its current keys
// (RFC 9001 §6.1 / §6.2): every update after the first proves that we followed the previous one.
it('keyupdate: the quic-go client updates keys every 100 packets; our server follows (RFC 9001 §6.2)', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'keyupdate', RUNNER_FILES.keyupdate!, 13, { serverTestcase: 'transfer' });
  const updates = quicGoLocalKeyUpdates(result.clientLog);
  assert.ok(updates >= 2, `quic-go initiated ${updates} key updates:\n${tail(result.clientLog)}`);
});

it('keyupdate: the quic-go server updates keys every 100 packets; our client follows (RFC 9001 §6.2)', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'handshake', RUNNER_FILES.keyupdate!, 14, { quicGoKeyUpdateInterval: 100 });
  const updates = quicGoLocalKeyUpdates(result.serverLog);
  assert.ok(updates >= 2, `quic-go initiated ${updates} key updates:\n${tail(result.serverLog)}`);
});

it('ipv6: the runner transfer behaviour over ::1, both ways', async () => {
  const files = [
    { name: 'v6-small.bin', size: 5 * 1024 },
    { name: 'v6-large.bin', size: 1_000_000 },
  ];
  const down = await expectTransfer('quic-go', 'purequic', 'transfer', files, 17, { ipv6: true });
  assert.match(down.serverLog, /handshake complete: remote=\[?::1\]?:\d+/);
  const up = await expectTransfer('purequic', 'quic-go', 'transfer', files, 18, { ipv6: true });
  assert.match(up.serverLog, /handshake complete: remote=::1:\d+/);
});

it('parallel connections: 8 quic-go clients at once, 2 MB each, from our server', async () => {
  const result = await expectTransfer('purequic', 'quic-go', 'transfer', [{ name: 'shared.bin', size: 2_000_000 }], 19, { parallelClients: 8 });
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 8);
});

it('parallel connections: 4 of our clients at once, 2 MB each, from the quic-go server', async () => {
  const result = await expectTransfer('quic-go', 'purequic', 'transfer', [{ name: 'shared.bin', size: 2_000_000 }], 20, { parallelClients: 4 });
  assert.is(result.serverLog.match(/handshake complete/g)?.length, 4);
});

for (const crypto of ['noble', 'node'] as const) {
  it(`crypto provider ${crypto}: 1 MB each way with quic-go (our endpoint with CRYPTO=${crypto})`, async () => {
    const files = [{ name: `${crypto}.bin`, size: 1_000_000 }];
    const down = await expectTransfer('quic-go', 'purequic', 'handshake', files, 15, { crypto });
    assert.is(down.clientReport?.bytes, 1_000_000);
    const up = await expectTransfer('purequic', 'quic-go', 'handshake', files, 16, { crypto });
    assert.is(up.clientReport?.bytes, 1_000_000);
  });
}

test.run();
