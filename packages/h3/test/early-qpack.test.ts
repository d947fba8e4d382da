/**
 * A server answering 0-RTT requests before its handshake completes (RFC 9001 §4.1.1: it may send
 * 1-RTT data then) can already insert into the peer's QPACK table; those encoder instructions
 * must reach the encoder stream once it opens, after its type byte (found with ngtcp2's 0-RTT
 * client, whose decoder otherwise waited for them forever).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SansIoConnection } from '@purequic/quic/sans-io';
import { H3Connection, QpackEncoder, encodeFrame, encodeSettings } from '../src/index.js';
import { FakeQuic } from './fake-quic.js';

test('QPACK encoder instructions written before the handshake completes go out after the stream type', () => {
  const quic = new FakeQuic('server');
  const h3 = new H3Connection(quic as unknown as SansIoConnection, { role: 'server', random: (n) => new Uint8Array(n) });
  // 0-RTT: the client's control stream (SETTINGS with a QPACK table) and two requests.
  quic.inbound.set(2, { chunks: [new Uint8Array([0x00]), encodeSettings([[0x01, 4096], [0x07, 16]])], fin: false });
  h3.handleQuicEvent({ type: 'stream-opened', streamId: 2, direction: 'uni' }, 0);
  const enc = new QpackEncoder();
  for (const id of [0, 4]) {
    quic.inbound.set(id, { chunks: [encodeFrame(0x01, enc.encode(id, [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: `/${id}` }]))], fin: true });
    h3.handleQuicEvent({ type: 'stream-opened', streamId: id, direction: 'bidi' }, 0);
  }
  // The server answers both with a repeated field: the second answer gets it inserted.
  for (const id of [0, 4]) h3.sendHeaders(id, [{ name: ':status', value: '200' }, { name: 'x-repeated-field', value: 'a value worth indexing' }], true);
  assert.ok(h3.encoder.stats.inserts > 0, 'the encoder inserted before the handshake completed');
  h3.handleQuicEvent({ type: 'handshake-complete', alpn: 'h3' }, 1);
  // Our encoder stream: server-initiated unidirectional (id % 4 == 3), type 0x02 first, then
  // the instructions (Set Dynamic Table Capacity 0x3f..., Insert ...).
  const encoderStream = [...quic.written.entries()].find(([id, bytes]) => id % 4 === 3 && bytes[0] === 0x02);
  assert.ok(encoderStream, 'an encoder stream was opened');
  assert.ok(encoderStream![1].length > 10, `it carries the instructions (${encoderStream![1].length} bytes)`);
  assert.is(encoderStream![1][1]! & 0xe0, 0x20, 'Set Dynamic Table Capacity follows the type byte');
});

test.run();
