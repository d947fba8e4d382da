/**
 * qlog from the sans-IO connection: the events a transfer produces (in order and in number,
 * against the connection's own counters) and their JSON-SEQ serialization.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QlogEvent } from '../../src/qlog/events.js';
import { JsonSeqQlogWriter, parseJsonSeq, qlogFileHeader, RECORD_SEPARATOR } from '../../src/qlog/json-seq.js';
import { makePair } from './harness.js';
import { runTransfer } from './transfer-helpers.js';

function collect(into: QlogEvent[]) {
  return { onEvent: (e: QlogEvent) => into.push(e) };
}

function count(events: QlogEvent[], name: string, match: (d: Record<string, unknown>) => boolean = () => true): number {
  return events.filter((e) => e.name === name && match(e.data)).length;
}

test('a transfer under loss with key updates produces the expected qlog event sequence on both sides', () => {
  const clientEvents: QlogEvent[] = [];
  const serverEvents: QlogEvent[] = [];
  const transport = { keyUpdateIntervalPackets: 300 };
  const pair = makePair({
    seed: 8,
    link: { delayMs: 10, lossRate: 0.03, bandwidthBps: 50e6 },
    clientTransport: transport,
    serverTransport: transport,
    clientOptions: { qlog: collect(clientEvents) },
    serverOptions: { qlog: collect(serverEvents) },
  });
  const r = runTransfer(pair, 20_000, 1 << 20, 120_000);
  assert.ok(r.ok, 'transfer failed');
  const client = pair.client;
  const server = pair.server();
  client.close(0, 'done', pair.sim.now);
  // The close may be lost (3% loss): the server then ends by idle timeout; both log connection_closed.
  assert.ok(pair.run(() => client.isTerminated && server.isTerminated, 60_000), 'connections did not end');

  for (const [events, conn, role] of [
    [clientEvents, client, 'client'],
    [serverEvents, server, 'server'],
  ] as const) {
    // Start: connection_started, then our own parameters.
    assert.is(events[0]?.name, 'quic:connection_started', role);
    assert.is(events[1]?.name, 'quic:parameters_set', role);
    assert.is(events[1]?.data.initiator, 'local');
    assert.is(count(events, 'quic:parameters_set', (d) => d.initiator === 'remote'), 1, `${role} remote parameters`);
    // Every packet sent, received, lost or dropped is there exactly once.
    assert.is(count(events, 'quic:packet_sent'), conn.stats.packetsSent, `${role} packet_sent`);
    assert.is(count(events, 'quic:packet_received'), conn.stats.packetsReceived, `${role} packet_received`);
    assert.is(count(events, 'quic:packet_lost'), conn.stats.packetsLost, `${role} packet_lost`);
    assert.is(count(events, 'quic:packet_dropped'), conn.droppedPackets, `${role} packet_dropped`);
    assert.ok(conn.stats.packetsLost > 0, 'the loss path was not exercised');
    // Keys: initial/handshake/1-RTT from TLS, then the updates, both directions each.
    assert.ok(count(events, 'quic:key_updated', (d) => d.trigger === 'tls') >= 4);
    assert.is(count(events, 'quic:key_updated', (d) => d.trigger === 'local_update'), 2 * conn.keyUpdate.localUpdates);
    assert.is(count(events, 'quic:key_updated', (d) => d.trigger === 'remote_update'), 2 * conn.keyUpdate.remoteUpdates);
    // Recovery: metrics with an RTT and a window, a congestion state, loss recovery entered.
    assert.ok(events.some((e) => e.name === 'quic:recovery_metrics_updated' && typeof e.data.smoothed_rtt === 'number'));
    assert.ok(events.some((e) => e.name === 'quic:recovery_metrics_updated' && typeof e.data.congestion_window === 'number'));
    assert.ok(count(events, 'quic:congestion_state_updated', (d) => d.new === 'recovery') > 0, `${role} never in recovery`);
    // The end: connection_closed, and time never goes back.
    assert.is(count(events, 'quic:connection_closed'), 1);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.time >= events[i - 1]!.time, `${role}: time went back at ${i}`);
  }
  assert.ok(client.keyUpdate.localUpdates + server.keyUpdate.localUpdates > 0);
  assert.is(count(serverEvents, 'quic:stream_state_updated', (d) => d.new === 'open'), 1);
  assert.is(clientEvents.find((e) => e.name === 'quic:connection_closed')?.data.initiator, 'local');
  const serverClosed = serverEvents.find((e) => e.name === 'quic:connection_closed')!.data;
  assert.ok(serverClosed.initiator === 'remote' || serverClosed.trigger === 'idle_timeout', JSON.stringify(serverClosed));
  // Sent frames carry their values: every frame kind has a name, flow-control frames their
  // limit, CID frames their sequence number.
  const sentFrames = (events: QlogEvent[]) => events.filter((e) => e.name === 'quic:packet_sent').flatMap((e) => e.data.frames as Record<string, unknown>[]);
  const allSent = [...sentFrames(clientEvents), ...sentFrames(serverEvents)];
  assert.equal(allSent.filter((f) => f.frame_type === 'unknown'), [], 'every sent frame named');
  const maxStreamData = allSent.filter((f) => f.frame_type === 'max_stream_data');
  assert.ok(maxStreamData.length > 0 && maxStreamData.every((f) => typeof f.maximum === 'number' && typeof f.stream_id === 'number'), JSON.stringify(maxStreamData[0]));
  const newCids = allSent.filter((f) => f.frame_type === 'new_connection_id');
  assert.ok(newCids.length > 0 && newCids.every((f) => typeof f.sequence_number === 'number' && (f.sequence_number as number) >= 1), JSON.stringify(newCids[0]));
  // The first packet the client sends is an Initial carrying CRYPTO.
  const firstSent = clientEvents.find((e) => e.name === 'quic:packet_sent')!;
  assert.equal((firstSent.data.header as { packet_type: string }).packet_type, 'initial');
  assert.ok((firstSent.data.frames as { frame_type: string }[]).some((f) => f.frame_type === 'crypto'));
});

test('without an observer the connection holds no qlog state', () => {
  const pair = makePair({ seed: 9 });
  assert.ok(pair.run(() => pair.client.isHandshakeComplete, 5_000));
  assert.is(pair.client.qlog, undefined);
  const events: QlogEvent[] = [];
  pair.client.setQlogObserver(collect(events));
  assert.is(events[0]?.name, 'quic:connection_started');
  pair.client.setQlogObserver(undefined);
  assert.is(pair.client.qlog, undefined);
});

test('JSON-SEQ: RS before every record, header first with the schema fields early, each record parses', () => {
  let text = '';
  const events: QlogEvent[] = [];
  const writer = new JsonSeqQlogWriter((chunk) => (text += chunk), { vantagePoint: 'server', groupId: 'abcd', wallClockTime: '2026-06-01T00:00:00.000Z' });
  const pair = makePair({ seed: 10, serverOptions: { qlog: { onEvent: (e) => (events.push(e), writer.onEvent(e)) } } });
  assert.ok(pair.run(() => pair.client.isHandshakeComplete, 5_000));
  assert.ok(text.startsWith(RECORD_SEPARATOR + '{"file_schema":"urn:ietf:params:qlog:file:sequential"'));
  assert.ok(text.indexOf('"serialization_format":"application/qlog+json-seq"') < 256);
  const records = text.split(RECORD_SEPARATOR).slice(1);
  assert.is(records.length, events.length + 1);
  for (const r of records) assert.ok(r.endsWith('\n'));
  const parsed = parseJsonSeq(text) as Record<string, unknown>[];
  const header = parsed[0] as { trace: { vantage_point: { type: string }; common_fields: { group_id: string; reference_time: { clock_type: string } } } };
  assert.is(header.trace.vantage_point.type, 'server');
  assert.is(header.trace.common_fields.group_id, 'abcd');
  assert.is(header.trace.common_fields.reference_time.clock_type, 'monotonic');
  assert.equal(parsed.slice(1), JSON.parse(JSON.stringify(events)));
  assert.ok(qlogFileHeader({ vantagePoint: 'client' }).endsWith('\n'));
});

test.run();
