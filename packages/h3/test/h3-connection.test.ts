/**
 * The sans-IO HTTP/3 connection over simulated QUIC: requests and responses, bodies, trailers,
 * interim responses, SETTINGS and the QPACK dynamic table, GOAWAY, the slow-loris bound,
 * datagrams, Extended CONNECT and extension streams.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { H3ErrorCode, SettingId, type H3Event } from '../src/index.js';
import { drain, makeH3Pair, readAll, req } from './sim-harness.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function ofType<T extends H3Event['type']>(events: H3Event[], type: T): Extract<H3Event, { type: T }>[] {
  return events.filter((e): e is Extract<H3Event, { type: T }> => e.type === type);
}

test('GET with a response body and trailers; SETTINGS seen both ways', () => {
  const h = makeH3Pair();
  assert.is(h.client.peerSettings!.get(SettingId.ENABLE_CONNECT_PROTOCOL), 1);
  assert.is(h.client.peerSettings!.get(SettingId.H3_DATAGRAM), 1);
  const id = h.client.sendRequest(req('/hello'), true)!;
  assert.is(id, 0);
  h.onServerEvent = (e) => {
    if (e.type === 'body-readable') readAll(h.server(), e.streamId); // a GET's empty body, to its end
    if (e.type !== 'request') return;
    assert.is(e.head.method, 'GET');
    assert.is(e.head.path, '/hello');
    h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }, { name: 'content-type', value: 'text/plain' }], false);
    h.server().sendData(e.streamId, text('hello '), false);
    h.server().sendData(e.streamId, text('world'), false);
    h.server().sendHeaders(e.streamId, [{ name: 'x-checksum', value: 'abc' }], true);
  };
  let body = '';
  let fin = false;
  h.onClientEvent = (e) => {
    if (e.type === 'body-readable') {
      const r = readAll(h.client, e.streamId);
      body += str(r.data);
      fin ||= r.fin;
    }
  };
  assert.ok(h.run(() => fin));
  const response = ofType(h.clientEvents, 'response')[0]!;
  assert.is(response.head.status, 200);
  assert.equal(response.head.fields, [{ name: 'content-type', value: 'text/plain' }]);
  assert.is(body, 'hello world');
  assert.equal(ofType(h.clientEvents, 'trailers')[0]!.fields, [{ name: 'x-checksum', value: 'abc' }]);
  // Both directions done: the stream state is released on both sides.
  assert.ok(h.run(() => h.client.openRequestCount === 0 && h.server().openRequestCount === 0));
});

test('POST body reaches the server in order; content-length is enforced', () => {
  const h = makeH3Pair();
  const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const id = h.client.sendRequest(req('/upload', 'POST', [['content-length', String(payload.length)]]), false)!;
  // Chunks as an application would write them.
  for (let o = 0; o < payload.length; o += 50_000) h.client.sendData(id, payload.subarray(o, o + 50_000), o + 50_000 >= payload.length);
  const got: Uint8Array[] = [];
  let fin = false;
  h.onServerEvent = (e) => {
    if (e.type === 'body-readable') {
      const r = readAll(h.server(), e.streamId);
      got.push(r.data);
      if (r.fin && !fin) {
        fin = true;
        h.server().sendHeaders(e.streamId, [{ name: ':status', value: '204' }], true);
      }
    }
  };
  assert.ok(h.run(() => fin && ofType(h.clientEvents, 'response').length === 1));
  const all = Buffer.concat(got);
  assert.is(all.length, payload.length);
  assert.ok(Buffer.from(payload).equals(all));

  // A body longer than its content-length is malformed: that stream only is reset.
  const bad = h.client.sendRequest(req('/bad', 'POST', [['content-length', '3']]), false)!;
  h.client.sendData(bad, text('too long'), true);
  assert.ok(h.run(() => ofType(h.serverEvents, 'stream-error').length === 1 && ofType(h.clientEvents, 'stream-reset').length === 1));
  assert.is(ofType(h.serverEvents, 'stream-error')[0]!.code, H3ErrorCode.MESSAGE_ERROR);
  assert.is(ofType(h.clientEvents, 'stream-reset')[0]!.code, H3ErrorCode.MESSAGE_ERROR);
  assert.not.ok(h.pair.client.isClosed);
});

test('interim 103 then the final response', () => {
  const h = makeH3Pair();
  h.client.sendRequest(req('/'), true);
  h.onServerEvent = (e) => {
    if (e.type !== 'request') return;
    h.server().sendHeaders(e.streamId, [{ name: ':status', value: '103' }, { name: 'link', value: '</a.css>; rel=preload' }], false);
    h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }], true);
  };
  assert.ok(h.run(() => ofType(h.clientEvents, 'response').length === 1));
  const interim = ofType(h.clientEvents, 'informational');
  assert.is(interim.length, 1);
  assert.is(interim[0]!.head.status, 103);
});

test('repeated fields across requests are indexed in the QPACK dynamic table both ways', () => {
  const h = makeH3Pair();
  const extra: [string, string][] = [['user-agent', 'purequic-test/1.0 (a fairly long user agent string)'], ['x-session', 'abcdef0123456789']];
  h.onServerEvent = (e) => {
    if (e.type === 'request') h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }, { name: 'server', value: 'purequic-test-server/1.0' }, { name: 'cache-control', value: 'private, max-age=12345' }], true);
  };
  for (let round = 0; round < 5; round++) {
    h.client.sendRequest(req(`/r${round}`, 'GET', extra), true);
    assert.ok(h.run(() => ofType(h.clientEvents, 'response').length === round + 1));
  }
  assert.ok(h.client.encoder.stats.inserts > 0, 'client inserted entries');
  assert.ok(h.client.encoder.stats.dynamicReferences > 0, 'client referenced them');
  assert.ok(h.server().encoder.stats.inserts > 0, 'server inserted entries');
  assert.ok(h.server().encoder.stats.dynamicReferences > 0, 'server referenced them');
  for (const r of ofType(h.serverEvents, 'request')) assert.equal(r.head.fields.map((f) => f.value), extra.map(([, v]) => v));
});

test('malformed requests reset only their stream with H3_MESSAGE_ERROR', () => {
  const h = makeH3Pair();
  const cases = [
    [{ name: ':method', value: 'GET' }, { name: ':path', value: '/' }, { name: ':authority', value: 'x' }], // no :scheme
    [...req('/'), { name: 'bad name', value: 'x' }], // a space in a name
    [...req('/'), { name: 'connection', value: 'close' }], // connection-specific
    [{ name: 'a', value: 'b' }, ...req('/')], // pseudo after regular
    [...req('/'), { name: ':method', value: 'GET' }], // repeated pseudo
    [...req('/'), { name: 'x', value: 'a\r\nb' }], // CR LF in a value
  ];
  for (const fields of cases) h.client.sendRequest(fields, true);
  assert.ok(h.run(() => ofType(h.serverEvents, 'stream-error').length === cases.length));
  for (const e of ofType(h.serverEvents, 'stream-error')) assert.is(e.code, H3ErrorCode.MESSAGE_ERROR);
  assert.is(ofType(h.serverEvents, 'request').length, 0);
  // The connection still serves a good request.
  h.client.sendRequest(req('/ok'), true);
  assert.ok(h.run(() => ofType(h.serverEvents, 'request').length === 1));
});

test('DATA before HEADERS closes the connection with H3_FRAME_UNEXPECTED', () => {
  const h = makeH3Pair();
  const id = h.pair.client.openStream('bidi')!;
  h.pair.client.writeStream(id, new Uint8Array([0x00, 0x02, 0x61, 0x62]), true);
  assert.ok(h.run(() => h.pair.client.isClosed));
  const reason = h.pair.client.closeReason!;
  assert.is(reason.kind, 'application');
  assert.is((reason as { code: number }).code, H3ErrorCode.FRAME_UNEXPECTED);
});

test('critical stream rules: a second control stream, a missing SETTINGS, a closed control stream', () => {
  // A second control stream (ours is already open): H3_STREAM_CREATION_ERROR.
  {
    const h = makeH3Pair();
    const id = h.pair.client.openStream('uni')!;
    h.pair.client.writeStream(id, new Uint8Array([0x00, 0x04, 0x00]), false);
    assert.ok(h.run(() => h.pair.client.isClosed));
    assert.is((h.pair.client.closeReason as { code: number }).code, H3ErrorCode.STREAM_CREATION_ERROR);
  }
  // The first control frame is not SETTINGS: H3_MISSING_SETTINGS. Send it on a control stream
  // of a raw client (no H3 layer on the client side).
  {
    const h = makeH3Pair({ rawClient: true });
    const id = h.pair.client.openStream('uni')!;
    h.pair.client.writeStream(id, new Uint8Array([0x00, 0x07, 0x01, 0x00]), false); // GOAWAY(0) first
    assert.ok(h.run(() => h.pair.client.isClosed));
    assert.is((h.pair.client.closeReason as { code: number }).code, H3ErrorCode.MISSING_SETTINGS);
  }
  // The peer's control stream ends: H3_CLOSED_CRITICAL_STREAM.
  {
    const h = makeH3Pair({ rawClient: true });
    const id = h.pair.client.openStream('uni')!;
    h.pair.client.writeStream(id, new Uint8Array([0x00, 0x04, 0x00]), true);
    assert.ok(h.run(() => h.pair.client.isClosed));
    assert.is((h.pair.client.closeReason as { code: number }).code, H3ErrorCode.CLOSED_CRITICAL_STREAM);
  }
  // A second SETTINGS frame: H3_FRAME_UNEXPECTED; a duplicate setting: H3_SETTINGS_ERROR.
  for (const [bytes, code] of [
    [[0x00, 0x04, 0x00, 0x04, 0x00], H3ErrorCode.FRAME_UNEXPECTED],
    [[0x00, 0x04, 0x04, 0x06, 0x01, 0x06, 0x02], H3ErrorCode.SETTINGS_ERROR],
    [[0x00, 0x04, 0x02, 0x02, 0x00], H3ErrorCode.SETTINGS_ERROR], // HTTP/2 SETTINGS_ENABLE_PUSH
    [[0x00, 0x04, 0x00, 0x01, 0x00], H3ErrorCode.FRAME_UNEXPECTED], // HEADERS on the control stream
  ] as [number[], number][]) {
    const h = makeH3Pair({ rawClient: true });
    const id = h.pair.client.openStream('uni')!;
    h.pair.client.writeStream(id, new Uint8Array(bytes), false);
    assert.ok(h.run(() => h.pair.client.isClosed));
    assert.is((h.pair.client.closeReason as { code: number }).code, code, `bytes ${bytes}`);
  }
});

test('unknown stream types, frame types and settings are ignored; GREASE goes out', () => {
  const h = makeH3Pair({ rawClient: true });
  const control = h.pair.client.openStream('uni')!;
  // SETTINGS with an unknown id, then an unknown frame type (0x21, GREASE) of 3 bytes.
  h.pair.client.writeStream(control, new Uint8Array([0x00, 0x04, 0x02, 0x21, 0x05, 0x21, 0x03, 1, 2, 3]), false);
  const unknown = h.pair.client.openStream('uni')!;
  h.pair.client.writeStream(unknown, new Uint8Array([0x21, 9, 9, 9]), true);
  const r = h.pair.client.openStream('bidi')!;
  // An unknown frame before HEADERS on a request stream is skipped too.
  const enc = new Uint8Array([0x21, 0x02, 7, 7]);
  h.pair.client.writeStream(r, enc, false);
  h.run(() => false, 200);
  assert.not.ok(h.pair.client.isClosed);
  assert.ok(h.server().peerSettings!.has(0x21));
});

test('GOAWAY: requests below the id finish, later ones are refused with H3_REQUEST_REJECTED', () => {
  const h = makeH3Pair();
  const first = h.client.sendRequest(req('/a'), true)!;
  assert.ok(h.run(() => ofType(h.serverEvents, 'request').length === 1));
  h.server().goaway();
  assert.ok(h.run(() => ofType(h.clientEvents, 'goaway').length === 1));
  assert.is(ofType(h.clientEvents, 'goaway')[0]!.id, first + 4);
  // Our client opens no new request after GOAWAY.
  assert.is(h.client.sendRequest(req('/b'), true), undefined);
  // A raw request beyond the id is refused.
  const late = h.pair.client.openStream('bidi')!;
  h.pair.client.writeStream(late, new Uint8Array([0x01, 0x00]), true);
  h.server().sendHeaders(first, [{ name: ':status', value: '200' }], true);
  assert.ok(h.run(() => ofType(h.clientEvents, 'response').length === 1));
  assert.ok(h.run(() => h.pair.clientNode.events.some((e) => e.type === 'stream-reset' && e.streamId === late && e.errorCode === H3ErrorCode.REQUEST_REJECTED)));
});

test('GOAWAY with extension streams: a WebTransport stream may still open (handed over), a request is still refused', () => {
  const types = { uni: [0x54], bidi: [0x41] };
  const h = makeH3Pair({ client: { extensionStreamTypes: types }, serverH3: { extensionStreamTypes: types } });
  const first = h.client.sendRequest(req('/a'), true)!;
  assert.ok(h.run(() => ofType(h.serverEvents, 'request').length === 1));
  h.server().goaway();
  assert.ok(h.run(() => ofType(h.clientEvents, 'goaway').length === 1));
  // draft-ietf-webtrans-http3 §4.5: sessions go on after GOAWAY, with new streams.
  const wt = h.client.openExtensionStream(true, new Uint8Array([0x40, 0x41, first]))!;
  h.pair.client.writeStream(wt, new Uint8Array([1, 2, 3]), true);
  const late = h.pair.client.openStream('bidi')!;
  h.pair.client.writeStream(late, new Uint8Array([0x01, 0x02, 0x00, 0x00]), true); // HEADERS: an empty QPACK section
  assert.ok(h.run(() => ofType(h.serverEvents, 'extension-stream').length === 1), 'extension stream handed over');
  assert.is(ofType(h.serverEvents, 'extension-stream')[0]!.streamId, wt);
  assert.ok(h.run(() => h.pair.clientNode.events.some((e) => e.type === 'stream-reset' && e.streamId === late && e.errorCode === H3ErrorCode.REQUEST_REJECTED)), 'late request refused');
  assert.is(ofType(h.serverEvents, 'request').length, 1);
});

test('a request whose headers never come is reset after the header timeout (slow loris)', () => {
  const h = makeH3Pair({ serverH3: { requestHeadersTimeoutMs: 2_000 } });
  const id = h.pair.client.openStream('bidi')!;
  h.pair.client.writeStream(id, new Uint8Array([0x01, 0x10, 0x00]), false); // HEADERS header, 16 bytes promised, 1 sent
  assert.ok(h.run(() => h.pair.serverNode.conn !== undefined && h.server().nextTimeout() !== undefined));
  const at = h.server().nextTimeout()!;
  h.run(() => h.now() >= at, 5_000);
  h.server().handleTimeout(h.now());
  drain(h.server(), h.serverEvents);
  const errors = ofType(h.serverEvents, 'stream-error');
  assert.is(errors.length, 1);
  assert.is(errors[0]!.code, H3ErrorCode.REQUEST_INCOMPLETE);
  assert.ok(h.run(() => h.pair.clientNode.events.some((e) => e.type === 'stream-reset' && e.streamId === id)));
});

test('HTTP Datagrams carry the quarter stream id; Extended CONNECT and extension streams are handed over', () => {
  const h = makeH3Pair({ client: { extensionStreamTypes: { uni: [0x54], bidi: [0x41] } }, serverH3: { extensionStreamTypes: { uni: [0x54], bidi: [0x41] } } });
  assert.ok(h.client.peerEnablesConnectProtocol);
  const connect = [
    { name: ':method', value: 'CONNECT' },
    { name: ':protocol', value: 'webtransport' },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: 'localhost' },
    { name: ':path', value: '/wt' },
  ];
  const sid = h.client.sendRequest(connect, false)!;
  h.onServerEvent = (e) => {
    if (e.type === 'request') h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }], false);
  };
  assert.ok(h.run(() => ofType(h.clientEvents, 'response').length === 1));
  assert.is(ofType(h.serverEvents, 'request')[0]!.head.protocol, 'webtransport');
  assert.ok(h.client.sendDatagram(sid, text('ping')));
  assert.ok(h.run(() => ofType(h.serverEvents, 'datagram').length === 1));
  const d = ofType(h.serverEvents, 'datagram')[0]!;
  assert.is(d.streamId, sid);
  assert.is(str(d.payload), 'ping');
  // A bidi stream with signal 0x41 and a uni stream of type 0x54, each bound to the session.
  const bidi = h.client.openExtensionStream(true, new Uint8Array([0x40, 0x41, sid]))!;
  h.pair.client.writeStream(bidi, text('abc'), true);
  const uni = h.client.openExtensionStream(false, new Uint8Array([0x40, 0x54, sid]))!;
  h.pair.client.writeStream(uni, text('xyz'), true);
  assert.ok(h.run(() => ofType(h.serverEvents, 'extension-stream').length === 2));
  const streams = ofType(h.serverEvents, 'extension-stream');
  const b = streams.find((s) => s.bidi)!;
  assert.is(b.streamId, bidi);
  assert.is(b.signal, 0x41);
  assert.is(b.sessionId, sid);
  const u = streams.find((s) => !s.bidi)!;
  assert.is(u.signal, 0x54);
  assert.is(u.sessionId, sid);
  // What was read past the header is handed over with the event, the rest stays in QUIC.
  const rest = (s: { streamId: number; data: Uint8Array }) => {
    let all = str(s.data);
    for (let r = h.pair.server().readStream(s.streamId); r && (r.data.length > 0 || r.fin); r = h.pair.server().readStream(s.streamId)) {
      all += str(r.data);
      if (r.fin) break;
    }
    return all;
  };
  assert.is(rest(b), 'abc');
  assert.is(rest(u), 'xyz');
});

test('a CONNECT with :protocol is malformed when Extended CONNECT was not enabled', () => {
  const h = makeH3Pair({ serverH3: { enableConnectProtocol: false } });
  h.client.sendRequest(
    [
      { name: ':method', value: 'CONNECT' },
      { name: ':protocol', value: 'websocket' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'localhost' },
      { name: ':path', value: '/' },
    ],
    false,
  );
  assert.ok(h.run(() => ofType(h.serverEvents, 'stream-error').length === 1));
  assert.is(ofType(h.serverEvents, 'stream-error')[0]!.code, H3ErrorCode.MESSAGE_ERROR);
});

test('client cancel: H3_REQUEST_CANCELLED reaches the server; every close path is idempotent', () => {
  const h = makeH3Pair();
  const id = h.client.sendRequest(req('/slow'), true)!;
  assert.ok(h.run(() => ofType(h.serverEvents, 'request').length === 1));
  h.client.cancel(id, H3ErrorCode.REQUEST_CANCELLED);
  h.client.cancel(id, H3ErrorCode.REQUEST_CANCELLED);
  h.client.resetStream(id, 1);
  h.client.stopSending(id, 1);
  assert.ok(h.run(() => ofType(h.serverEvents, 'stop-sending').length === 1));
  assert.is(ofType(h.serverEvents, 'stop-sending')[0]!.code, H3ErrorCode.REQUEST_CANCELLED);
  h.server().cancel(id);
  h.server().resetStream(id, 5);
  h.client.close();
  h.client.close();
  assert.ok(h.run(() => h.pair.client.isClosed && h.server().isClosed));
  assert.is(h.client.openRequestCount, 0);
});

test.run();
