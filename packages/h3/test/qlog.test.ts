/**
 * HTTP/3 in the connection's qlog (draft-ietf-quic-qlog-h3-events-13): a page load shows the
 * parameters of both sides, every stream's type, the HEADERS and DATA frames created and parsed
 * with their decoded fields, and the QPACK dynamic-table inserts; nothing is built without a qlog.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QlogEvent } from '@purequic/quic/sans-io';
import { makeH3Pair, readAll, req } from './sim-harness.js';

test('a request with a body, twice: parameters, stream types, frames both ways, QPACK inserts', () => {
  const clientEvents: QlogEvent[] = [];
  const h = makeH3Pair({ clientOptions: { qlog: { onEvent: (e) => clientEvents.push(e) } } });
  h.onServerEvent = (e) => {
    if (e.type === 'body-readable') readAll(h.server(), e.streamId);
    if (e.type === 'request') {
      h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }, { name: 'x-served-by', value: 'qlog-test-server' }], false);
      h.server().sendData(e.streamId, new TextEncoder().encode('body bytes'), true);
    }
  };
  let done = 0;
  h.onClientEvent = (e) => {
    if (e.type === 'body-readable' && readAll(h.client, e.streamId).fin) done++;
  };
  for (let i = 0; i < 2; i++) {
    h.client.sendRequest(req(`/page${i}`, 'GET', [['user-agent', 'qlog-test-agent/1.0']]), true);
    assert.ok(h.run(() => done === i + 1));
  }
  const names = (n: string) => clientEvents.filter((e) => e.name === n);
  const params = names('http3:parameters_set');
  assert.equal(params.map((e) => e.data.initiator).sort(), ['local', 'remote']);
  assert.ok(params.every((e) => typeof e.data.max_field_section_size === 'number'));
  const types = names('http3:stream_type_set').map((e) => `${e.data.initiator} ${e.data.stream_type}`);
  for (const t of ['local control', 'local qpack_encode', 'local qpack_decode', 'remote control', 'remote qpack_encode', 'remote qpack_decode', 'local request']) assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
  const created = names('http3:frame_created').map((e) => e.data as { stream_id: number; frame: { frame_type: string; headers?: { name: string; value: string }[] } });
  const parsed = names('http3:frame_parsed').map((e) => e.data as { stream_id: number; frame: { frame_type: string; headers?: { name: string; value: string }[] } });
  assert.ok(created.some((c) => c.frame.frame_type === 'settings'));
  assert.ok(parsed.some((c) => c.frame.frame_type === 'settings'));
  const sentHeaders = created.filter((c) => c.frame.frame_type === 'headers');
  assert.is(sentHeaders.length, 2);
  assert.ok(sentHeaders[1]!.frame.headers!.some((f) => f.name === ':path' && f.value === '/page1'));
  const gotHeaders = parsed.filter((c) => c.frame.frame_type === 'headers');
  assert.ok(gotHeaders.every((c) => c.frame.headers!.some((f) => f.name === 'x-served-by')));
  assert.is(parsed.filter((c) => c.frame.frame_type === 'data').length, 2);
  // The repeated user-agent is inserted by our encoder; the server's repeated field by its.
  const inserts = names('qpack:dynamic_table_updated').filter((e) => e.data.update_type === 'inserted');
  assert.ok(inserts.some((e) => e.data.owner === 'local'), 'our encoder inserted');
  assert.ok(inserts.some((e) => e.data.owner === 'remote'), "the peer's encoder inserted into our decoder");
  // Times are the connection's clock, in order.
  for (let i = 1; i < clientEvents.length; i++) assert.ok(clientEvents[i]!.time >= clientEvents[i - 1]!.time);
});

test('without a qlog, HTTP/3 builds no event', () => {
  const h = makeH3Pair();
  assert.is(h.client.qlog.on, false);
  h.client.sendRequest(req('/'), true);
  h.onServerEvent = (e) => {
    if (e.type === 'request') h.server().sendHeaders(e.streamId, [{ name: ':status', value: '204' }], true);
  };
  assert.ok(h.run(() => h.clientEvents.some((e) => e.type === 'response')));
});

test.run();
