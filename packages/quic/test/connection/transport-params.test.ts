/**
 * Transport parameter edge values (RFC 9000 §18.2) over a real transfer: zero-length
 * connection IDs (§5.1: nothing more to issue, §19.15), the smallest CID limit, extreme
 * ack_delay_exponent / max_ack_delay, the smallest max_udp_payload_size, tiny windows.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TransportSettings } from '../../src/connection/types.js';
import { makePair, type Pair } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

const SEED = Number(process.env.SIM_SEED ?? 1);

function transferWith(client: Partial<TransportSettings>, server: Partial<TransportSettings>, seed: number, lossRate = 0): Pair {
  const pair = makePair({ seed, link: { delayMs: 10, bandwidthBps: 50e6, lossRate }, clientTransport: client, serverTransport: server });
  const r = runTransfer(pair, 200_000, 300_000, 60_000);
  assert.not.ok(pair.client.isClosed, `client closed: ${JSON.stringify(pair.client.closeReason)}`);
  assert.not.ok(pair.server().isClosed, `server closed: ${JSON.stringify(pair.server().closeReason)}`);
  assert.ok(r.ok, 'transfer intact');
  return pair;
}

test('zero-length connection IDs on the client: no NEW_CONNECTION_ID towards it is needed, the transfer works', () => {
  const pair = transferWith({ localConnectionIdLength: 0 }, {}, SEED);
  assert.is(pair.server().peerCids.currentCid.length, 0);
});

test('zero-length connection IDs on the server', () => {
  const pair = transferWith({}, { localConnectionIdLength: 0 }, SEED + 1);
  assert.is(pair.client.peerCids.currentCid.length, 0);
});

test('zero-length connection IDs on both sides, with loss', () => {
  transferWith({ localConnectionIdLength: 0 }, { localConnectionIdLength: 0 }, SEED + 2, 0.05);
});

test('the smallest active_connection_id_limit (2) and 20-byte connection IDs', () => {
  transferWith({ activeConnectionIdLimit: 2, localConnectionIdLength: 20 }, { activeConnectionIdLimit: 2, localConnectionIdLength: 20 }, SEED + 3, 0.05);
});

test('ack_delay_exponent 20 and max_ack_delay 1000 ms on one side, 0 and 1 ms on the other', () => {
  transferWith({ ackDelayExponent: 20, maxAckDelayMs: 1000 }, { ackDelayExponent: 0, maxAckDelayMs: 1 }, SEED + 4, 0.05);
});

test('max_udp_payload_size 1200 on both sides', () => {
  transferWith({ maxUdpPayloadSize: 1200 }, { maxUdpPayloadSize: 1200 }, SEED + 5, 0.05);
});

test('tiny windows: 1500-byte stream and 3000-byte connection windows', () => {
  const tiny = { initialMaxData: 3000, maxConnectionWindow: 3000, initialMaxStreamDataBidiLocal: 1500, initialMaxStreamDataBidiRemote: 1500, initialMaxStreamDataUni: 1500, maxStreamWindow: 1500 };
  transferWith(tiny, tiny, SEED + 6, 0.05);
});

test('idle timeout disabled on both sides (0): the connection stays up through a long quiet period', () => {
  const pair = transferWith({ maxIdleTimeoutMs: 0 }, { maxIdleTimeoutMs: 0 }, SEED + 7);
  pair.run(() => false, 120_000);
  assert.not.ok(pair.client.isClosed || pair.server().isClosed);
});

test.run();
