/**
 * The protocol core without Node: two `WtConnection`s over a pair of sans-IO HTTP/3 connections
 * on the QUIC simulator (virtual time, seeded). A session is requested and accepted, a stream
 * and a datagram cross, the close capsule carries its code and reason, and nothing is left.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { H3Event } from '@purequic/h3';
import { makeH3Pair } from '../../h3/test/sim-harness.js';
import { WT_BIDI_SIGNAL, WT_UNI_STREAM_TYPE, WtConnection, webTransportSettings, type WtCloseInfo, type WtSessionCore, type WtStreamCore } from '../src/index.js';

const types = { uni: [WT_UNI_STREAM_TYPE], bidi: [WT_BIDI_SIGNAL] };

function setup() {
  const h = makeH3Pair({
    client: { extraSettings: webTransportSettings(), extensionStreamTypes: types },
    serverH3: { extraSettings: webTransportSettings(), extensionStreamTypes: types },
  });
  const requests: WtSessionCore[] = [];
  const client = new WtConnection(h.client, { role: 'client', flush: () => {} });
  let server: WtConnection | undefined;
  const route = (wt: () => WtConnection) => (e: H3Event) => void wt().handleEvent(e);
  h.onClientEvent = route(() => client);
  h.onServerEvent = route(() => {
    server ??= new WtConnection(h.server(), { role: 'server', flush: () => {}, onSessionRequest: (s) => requests.push(s) });
    return server;
  });
  return { h, client, server: () => server!, requests };
}

function listen(session: WtSessionCore) {
  const log = { ready: 0, closed: undefined as WtCloseInfo | undefined, streams: [] as WtStreamCore[], datagrams: [] as string[] };
  session.listener = {
    onReady: () => log.ready++,
    onClosed: (info) => (log.closed = info),
    onDraining: () => {},
    onStream: (s) => log.streams.push(s),
    onDatagram: (d) => log.datagrams.push(new TextDecoder().decode(d)),
    onCredit: () => {},
  };
  return log;
}

test('session, stream, datagram and close on virtual time', () => {
  const { h, client, server, requests } = setup();
  assert.is(client.peerVersion(), 'h3');
  const cs = client.connect('localhost', '/sim', { protocols: ['p1'] })!;
  const clog = listen(cs);
  assert.ok(h.run(() => requests.length === 1));
  const ss = requests[0]!;
  const slog = listen(ss);
  assert.equal(ss.offeredProtocols, ['p1']);
  assert.ok(ss.accept({ protocol: 'p1' }));
  assert.ok(h.run(() => clog.ready === 1));
  assert.is(cs.protocol, 'p1');
  assert.ok(cs.flowControl && ss.flowControl);
  // A bidi stream with data and FIN.
  const st = cs.openStream(true)!;
  assert.is(st.write(new TextEncoder().encode('over the simulator'), true), 18);
  assert.ok(h.run(() => slog.streams.length === 1));
  let got = '';
  let fin = false;
  assert.ok(
    h.run(() => {
      for (let r = slog.streams[0]!.read(); r; r = slog.streams[0]!.read()) {
        got += new TextDecoder().decode(r.data);
        fin ||= r.fin;
      }
      return fin;
    }),
  );
  assert.is(got, 'over the simulator');
  slog.streams[0]!.write(new Uint8Array(0), true);
  // A datagram.
  assert.ok(cs.sendDatagram(new TextEncoder().encode('dgram')));
  assert.ok(h.run(() => slog.datagrams.length === 1));
  assert.is(slog.datagrams[0], 'dgram');
  // Close with a code and reason.
  ss.close(77, 'sim close');
  assert.ok(h.run(() => clog.closed !== undefined));
  assert.equal(clog.closed, { kind: 'closed', code: 77, reason: 'sim close', byPeer: true });
  assert.equal(slog.closed, { kind: 'closed', code: 77, reason: 'sim close', byPeer: false });
  assert.ok(h.run(() => client.sessions.size === 0 && server().sessions.size === 0));
  assert.is(client.streamCount, 0);
  assert.is(server().streamCount, 0);
  // Idempotent.
  ss.close(1, 'again');
  cs.close(2, 'again');
  ss.reject(500);
});

test('a session request rejected with 403: the client sees the status', () => {
  const { h, client, requests } = setup();
  const cs = client.connect('localhost', '/no')!;
  const clog = listen(cs);
  assert.ok(h.run(() => requests.length === 1));
  requests[0]!.reject(403);
  assert.ok(h.run(() => clog.closed !== undefined));
  assert.is(clog.closed!.kind, 'aborted');
  assert.is((clog.closed as { status?: number }).status, 403);
});

test.run();
