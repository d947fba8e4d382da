/**
 * HTTP/3 over a pair of sans-IO QUIC connections on the simulator (virtual time, seeded), with
 * the events of each side recorded. The QUIC pair comes from the quic package's test harness.
 */

import type { Connection } from '@purequic/quic/sans-io';
import { H3Connection, type H3ConnectionOptions, type H3Event } from '../src/index.js';
import { makePair, type Pair, type PairOptions } from '../../quic/test/connection/harness.js';

export interface H3Pair {
  pair: Pair;
  client: H3Connection;
  server(): H3Connection;
  clientEvents: H3Event[];
  serverEvents: H3Event[];
  /** Runs the simulation until `done` (or a bound); returns whether `done` held. */
  run(done: () => boolean, maxTimeMs?: number): boolean;
  now(): number;
  /** Called for each H3 event as it is polled (after it is recorded). */
  onClientEvent: (e: H3Event) => void;
  onServerEvent: (e: H3Event) => void;
}

export interface H3PairOptions extends PairOptions {
  client?: Partial<H3ConnectionOptions>;
  serverH3?: Partial<H3ConnectionOptions>;
  /** The client side speaks raw QUIC (tests write HTTP/3 bytes by hand); `client` is unused. */
  rawClient?: boolean;
}

export function makeH3Pair(options: H3PairOptions = {}): H3Pair {
  const pair = makePair({
    alpn: ['h3'],
    clientTransport: { maxDatagramFrameSize: 1200, ...options.clientTransport },
    serverTransport: { maxDatagramFrameSize: 1200, ...options.serverTransport },
    ...options,
  });
  let seed = 1;
  const random = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    return out;
  };
  const client = new H3Connection(pair.client, { role: 'client', random, datagrams: true, ...options.client });
  let server: H3Connection | undefined;
  const clientEvents: H3Event[] = [];
  const serverEvents: H3Event[] = [];
  const h: H3Pair = {
    pair,
    client,
    server() {
      if (!server) throw new Error('no server connection yet');
      return server;
    },
    clientEvents,
    serverEvents,
    run: (done, maxTimeMs = 30_000) => pair.run(done, maxTimeMs),
    now: () => pair.sim.now,
    onClientEvent: () => {},
    onServerEvent: () => {},
  };
  pair.clientNode.onEvent = (e, _conn, now) => {
    if (options.rawClient) return;
    client.handleQuicEvent(e, now);
    for (let x = client.pollEvent(); x; x = client.pollEvent()) {
      clientEvents.push(x);
      h.onClientEvent(x);
    }
  };
  pair.serverNode.onEvent = (e, conn: Connection, now) => {
    server ??= new H3Connection(conn, { role: 'server', random, datagrams: true, enableConnectProtocol: true, ...options.serverH3 });
    server.handleQuicEvent(e, now);
    for (let x = server.pollEvent(); x; x = server.pollEvent()) {
      serverEvents.push(x);
      h.onServerEvent(x);
    }
  };
  // Ready to use: the handshake is done and (unless the client is raw) SETTINGS went both ways.
  const ready = h.run(() =>
    server !== undefined && pair.client.isHandshakeComplete && (options.rawClient === true || (client.peerSettings !== undefined && server.peerSettings !== undefined)),
  );
  if (!ready) throw new Error('HTTP/3 pair did not get ready');
  return h;
}

/** Drains the events an application call queued on `h3` into `into`. */
export function drain(h3: H3Connection, into: H3Event[], onEvent?: (e: H3Event) => void): void {
  for (let x = h3.pollEvent(); x; x = h3.pollEvent()) {
    into.push(x);
    onEvent?.(x);
  }
}

/** Reads everything readable of a body now; returns the bytes and whether it ended. */
export function readAll(h3: H3Connection, streamId: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (let i = 0; i < 100_000; i++) {
    const r = h3.readBody(streamId);
    if (!r) break;
    if (r.data.length > 0) parts.push(r.data.slice());
    if (r.fin) {
      fin = true;
      break;
    }
  }
  let size = 0;
  for (const p of parts) size += p.length;
  const data = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, fin };
}

export const req = (path = '/', method = 'GET', extra: [string, string][] = []) => [
  { name: ':method', value: method },
  { name: ':scheme', value: 'https' },
  { name: ':authority', value: 'localhost' },
  { name: ':path', value: path },
  ...extra.map(([name, value]) => ({ name, value })),
];
