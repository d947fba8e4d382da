/**
 * Test harness for paths, migration, PMTUD and ECN: a client and a server Connection on the
 * simulator like `harness.ts`, plus
 *   - a NAT in front of the client as the server sees it: each simulator address of the client
 *     maps to an external address (`nat`); `rebind` changes the mapping (port or address), and
 *     datagrams the server sends to a mapping that no longer exists are dropped (`stale`);
 *   - a second client address (`CLIENT2`, an alias of the client node) it can migrate to,
 *     with its own links;
 *   - ECN codepoints carried both ways (`Transmit.ecn` in, the delivered codepoint out);
 *   - a transfer driver with a progress callback, to act mid-transfer.
 * The recovery invariants and the per-path anti-amplification limit are checked after every
 * event: while the server's active path is unvalidated it never sent more than 3x what it got.
 */

import * as assert from 'uvu/assert';
import { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent, PathAddress, TransportSettings } from '../../src/connection/types.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import type { LinkConfig } from '../../src/sim/link.js';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';
import { payload, sameBytes, seededProvider, TEST_CERT_DER, TEST_CERT_PEM, TEST_KEY_PEM, WALL_CLOCK } from './harness.js';

export const CLIENT = 'client';
export const CLIENT2 = 'client2';
export const SERVER = 'server';
/** The server's second simulator address (its preferred address, `serverPreferred`). */
export const SERVER2 = 'server2';
const SERVER_ADDRESS: PathAddress = { address: SERVER, port: 443 };
/** The preferred address the server offers for SERVER2 (the client sends there). */
export const PREFERRED_ADDRESS: PathAddress = { address: '192.0.2.2', port: 4433, family: 'IPv4' };

export type PathEventHandler = (event: ConnectionEvent, conn: Connection, now: number) => void;

/** A Connection as a simulator node, with address translation both ways. */
export class PathNode implements SimNode {
  conn: Connection | undefined;
  readonly buffer = new Uint8Array(65_536);
  readonly events: ConnectionEvent[] = [];
  onEvent: PathEventHandler = () => {};
  afterEvent: (conn: Connection) => void = () => {};
  /** Datagrams sent to an address nothing maps to any more (a stale NAT mapping). */
  stale = 0;
  /** Datagrams sent per ECN codepoint. */
  readonly sentEcn = [0, 0, 0, 0];
  /** Datagrams received per ECN codepoint. */
  readonly receivedEcn = [0, 0, 0, 0];
  /**
   * Simulator addresses of this node that are extra local addresses of its connection (a
   * server's preferred address): datagrams to them are handed over with that `local`, and
   * datagrams the connection sends from it leave from that simulator address.
   */
  readonly locals = new Map<string, PathAddress>();

  constructor(
    /** The peer address the connection sees for a datagram from simulator address `from`. */
    readonly inbound: (from: string) => PathAddress,
    /** The simulator address a datagram to `remote` goes to, or undefined (dropped). */
    readonly outbound: (remote: PathAddress) => string | undefined,
    readonly create?: (datagram: Uint8Array, from: PathAddress, now: number) => Connection | undefined,
  ) {}

  handleDatagram(data: Uint8Array, from: string, now: number, ecn = 0, to?: string): void {
    const remote = this.inbound(from);
    const local = to === undefined ? undefined : this.locals.get(to);
    if (!this.conn && this.create) {
      if (local) return; // new connections only at the main address
      this.conn = this.create(data, remote, now);
    }
    this.receivedEcn[ecn]!++;
    this.conn?.handleDatagram(data, remote, now, ecn, local);
    this.#drain(now);
  }

  pollTransmit(now: number): SimTransmit | undefined {
    const conn = this.conn;
    if (!conn) return undefined;
    // Bounded: each round consumes one datagram the connection produced.
    for (let i = 0; i < 1000; i++) {
      const t = conn.pollTransmit(now, this.buffer);
      this.afterEvent(conn);
      if (!t) return undefined;
      const to = this.outbound(t.remote);
      if (to === undefined) {
        this.stale++;
        continue;
      }
      this.sentEcn[t.ecn]!++;
      const tx: SimTransmit = { to, data: this.buffer.subarray(0, t.length), ecn: t.ecn };
      if (t.local) tx.from = this.#simAddressOf(t.local);
      return tx;
    }
    return undefined;
  }

  #simAddressOf(local: PathAddress): string {
    for (const [sim, a] of this.locals) if (a.address === local.address && a.port === local.port) return sim;
    return local.address;
  }

  nextTimeout(): number | undefined {
    return this.conn?.nextTimeout();
  }

  handleTimeout(now: number): void {
    this.conn?.handleTimeout(now);
    this.#drain(now);
  }

  #drain(now: number): void {
    const conn = this.conn;
    if (!conn) return;
    this.afterEvent(conn);
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) {
      this.events.push(e);
      this.onEvent(e, conn, now);
    }
    this.afterEvent(conn);
  }
}

export interface PathPairOptions {
  seed?: number;
  link?: LinkConfig;
  back?: LinkConfig;
  /** Links between CLIENT2 and the server (default: like `link`/`back`). */
  link2?: LinkConfig;
  back2?: LinkConfig;
  clientTransport?: Partial<TransportSettings>;
  serverTransport?: Partial<TransportSettings>;
  /**
   * The server also owns SERVER2 (reached over links like `link`/`back`, or `link3`/`back3`)
   * and offers it as its preferred address (RFC 9000 §9.6) at PREFERRED_ADDRESS.
   */
  serverPreferred?: boolean;
  link3?: LinkConfig;
  back3?: LinkConfig;
  /** Client option (default true). */
  migrateToPreferredAddress?: boolean;
}

export interface PathPair {
  sim: Simulator;
  client: Connection;
  clientNode: PathNode;
  serverNode: PathNode;
  server(): Connection;
  /** The external address the server sees for each client simulator address. */
  nat: Map<string, PathAddress>;
  /** The NAT gives `simAddress` a new external address; the old mapping stops working. */
  rebind(simAddress: string, external: PathAddress): void;
  run(done: () => boolean, maxTimeMs?: number, maxEvents?: number): boolean;
  /** Largest bytes the server sent on an unvalidated active path relative to 3x received (<= 0 is within the limit). */
  worstAmplificationExcess: number;
}

export function makePathPair(options: PathPairOptions = {}): PathPair {
  const seed = options.seed ?? Number(process.env.SIM_SEED ?? 1);
  const sim = new Simulator({ seed });
  const random = new SimRandom(seed ^ 0x5eed);
  const crypto = seededProvider(random);
  const rand = (n: number) => random.bytes(n);
  const link = options.link ?? { delayMs: 10 };
  const back = options.back ?? link;
  // Each link gets its own copy of the settings, so a test can change one link (hook, mtu).
  sim.connect(CLIENT, SERVER, { ...link }, { ...back });
  sim.connect(CLIENT2, SERVER, { ...(options.link2 ?? link) }, { ...(options.back2 ?? back) });
  if (options.serverPreferred) sim.connect(CLIENT, SERVER2, { ...(options.link3 ?? link) }, { ...(options.back3 ?? back) });
  const key = crypto.importSigningKey(TEST_KEY_PEM);

  const nat = new Map<string, PathAddress>([
    [CLIENT, { address: '198.51.100.1', port: 50_000 }],
    [CLIENT2, { address: '198.51.100.2', port: 50_000 }],
  ]);
  const inbound = (from: string): PathAddress => nat.get(from) ?? { address: from, port: 0 };
  const outbound = (remote: PathAddress): string | undefined => {
    for (const [sim, ext] of nat) if (ext.address === remote.address && ext.port === remote.port) return sim;
    return undefined;
  };

  const serverNode = new PathNode(inbound, outbound, (datagram, from, now) => {
    let header;
    try {
      header = parseInvariantHeader(datagram, 8);
    } catch {
      return undefined;
    }
    if (!header.isLong) return undefined;
    return Connection.accept({
      crypto,
      random: rand,
      wallClock: () => WALL_CLOCK,
      alpnProtocols: ['test'],
      transport: options.serverTransport,
      certificateChain: [TEST_CERT_DER],
      key,
      remote: from,
      now,
      originalDcid: header.dcid,
      clientScid: header.scid,
      version: header.version,
      preferredAddress: options.serverPreferred ? { ipv4: PREFERRED_ADDRESS } : undefined,
    });
  });
  if (options.serverPreferred) serverNode.locals.set(SERVER2, PREFERRED_ADDRESS);
  const clientNode = new PathNode(
    (from) => (from === SERVER2 ? PREFERRED_ADDRESS : { address: from, port: 443 }),
    (remote) => (remote.address === SERVER ? SERVER : remote.address === PREFERRED_ADDRESS.address && remote.port === PREFERRED_ADDRESS.port ? SERVER2 : undefined),
  );
  clientNode.conn = Connection.connect({
    crypto,
    random: rand,
    wallClock: () => WALL_CLOCK,
    alpnProtocols: ['test'],
    transport: options.clientTransport,
    serverName: 'localhost',
    verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
    remote: SERVER_ADDRESS,
    now: 0,
    migrateToPreferredAddress: options.migrateToPreferredAddress,
  });
  const pair: PathPair = {
    sim,
    client: clientNode.conn,
    clientNode,
    serverNode,
    server() {
      if (!serverNode.conn) throw new Error('server connection not created yet');
      return serverNode.conn;
    },
    nat,
    rebind(simAddress, external) {
      nat.set(simAddress, external);
    },
    run(done, maxTimeMs = 60_000, maxEvents = 2_000_000) {
      return sim.runUntil(() => done(), { maxTime: sim.now + maxTimeMs, maxEvents }).satisfied;
    },
    worstAmplificationExcess: -Infinity,
  };
  clientNode.afterEvent = (c) => c.recovery.assertInvariants();
  serverNode.afterEvent = (c) => {
    c.recovery.assertInvariants();
    const path = c.paths.active;
    if (!path.validated) {
      // RFC 9000 §9.3/§8.1: never more than 3x what the unvalidated address sent us.
      const excess = path.bytesSent - 3 * path.bytesReceived;
      if (excess > pair.worstAmplificationExcess) pair.worstAmplificationExcess = excess;
    }
  };
  sim.addNode(CLIENT, clientNode);
  sim.alias(CLIENT2, clientNode);
  sim.addNode(SERVER, serverNode);
  if (options.serverPreferred) sim.alias(SERVER2, serverNode);
  return pair;
}

export interface PathTransferResult {
  ok: boolean;
  receivedByClient: number;
  virtualMs: number;
}

function collect(conn: Connection, id: number, chunks: Uint8Array[], progress: (n: number) => void): boolean {
  // Bounded by the bytes buffered.
  for (let r = conn.readStream(id); r !== undefined; r = conn.readStream(id)) {
    if (r.data.length) {
      chunks.push(r.data.slice());
      progress(r.data.length);
    }
    if (r.fin) return true;
  }
  return false;
}

/**
 * The client sends a 1,000-byte request on a bidi stream, the server answers `downloadBytes`;
 * `onProgress(received, now)` runs whenever the client read more, to act mid-transfer.
 */
export function runDownload(
  pair: PathPair,
  downloadBytes: number,
  onProgress: (received: number, now: number) => void = () => {},
  maxTimeMs = 600_000,
): PathTransferResult {
  const request = payload(1000, 11);
  const download = payload(downloadBytes, 12);
  const chunks: Uint8Array[] = [];
  const requestChunks: Uint8Array[] = [];
  let received = 0;
  let clientDone = false;
  let serverGot = false;
  let offset = 0;
  const pump = (conn: Connection, id: number): void => {
    if (offset > download.length) return;
    offset += conn.writeStream(id, download.subarray(offset), true);
    if (offset === download.length) offset = download.length + 1;
  };
  let serverStream = -1;
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-readable' && !serverGot) {
      serverGot = collect(conn, e.streamId, requestChunks, () => {});
      if (serverGot) {
        serverStream = e.streamId;
        pump(conn, serverStream);
      }
    }
    if (e.type === 'stream-writable' && serverStream >= 0) pump(conn, serverStream);
  };
  pair.clientNode.onEvent = (e, conn, now) => {
    if (e.type === 'handshake-complete') {
      const id = conn.openStream('bidi');
      assert.ok(id !== undefined, 'could not open a stream');
      conn.writeStream(id!, request, true);
    }
    if (e.type === 'stream-readable' && !clientDone) {
      clientDone = collect(conn, e.streamId, chunks, (n) => {
        received += n;
        onProgress(received, now);
      });
    }
  };
  const start = pair.sim.now;
  const ok = pair.run(() => clientDone, maxTimeMs, 20_000_000);
  const all = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const requestOk = requestChunks.length > 0 && sameBytes(requestChunks.reduce((a, c) => new Uint8Array([...a, ...c]), new Uint8Array(0)), request);
  return { ok: ok && requestOk && sameBytes(all, download), receivedByClient: received, virtualMs: pair.sim.now - start };
}
