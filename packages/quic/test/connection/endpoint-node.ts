/**
 * A simulator node that behaves like `QuicEndpoint` (one address, many connections, routing by
 * connection ID, the same `StatelessResponder` for Version Negotiation, Retry, INVALID_TOKEN and
 * Stateless Reset, NEW_TOKEN issued and stored), so endpoint-level behaviour runs on virtual
 * time, seeded, with loss and tampering from link hooks.
 */

import { Connection } from '../../src/connection/connection.js';
import { MIN_STATELESS_RESET_BYTES } from '../../src/connection/reset-token.js';
import type { ConnectionEvent, TransportSettings } from '../../src/connection/types.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { type RetryPolicy, StatelessResponder, type UnroutedDecision } from '../../src/endpoint/stateless-responder.js';
import { ClientTokenStore } from '../../src/endpoint/token-store.js';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';
import type { LinkConfig } from '../../src/sim/link.js';
import { seededProvider, TEST_CERT_DER, TEST_CERT_PEM, TEST_KEY_PEM, WALL_CLOCK } from './harness.js';

export const CLIENT_ADDR = 'client';
export const SERVER_ADDR = 'server';

const CID_LENGTH = 8;

function key(cid: Uint8Array): string {
  return Buffer.from(cid).toString('hex');
}

export interface SimEndpointOptions {
  address: string;
  crypto: CryptoProvider;
  random: (n: number) => Uint8Array;
  staticKey: Uint8Array;
  server?: { retry?: RetryPolicy; versions?: number[]; transport?: Partial<TransportSettings> };
  /** Tokens' wall clock = WALL_CLOCK + virtual now + this (tests move it to expire tokens). */
  clockOffsetMs?: number;
}

interface Conn {
  conn: Connection;
  events: ConnectionEvent[];
  tokenKey?: string;
  handshaking: boolean;
}

export class SimEndpoint implements SimNode {
  readonly responder: StatelessResponder;
  readonly tokenStore = new ClientTokenStore();
  readonly decisions: UnroutedDecision['action'][] = [];
  readonly replies: string[] = [];
  clockOffsetMs: number;
  conns: Conn[] = [];
  #routes = new Map<string, Conn>();
  #resetTokens = new Map<string, Conn>();
  #pendingReplies: SimTransmit[] = [];
  readonly #buffer = new Uint8Array(2048);
  #now = 0;

  constructor(readonly options: SimEndpointOptions) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.responder = new StatelessResponder({
      crypto: options.crypto,
      random: options.random,
      staticKey: options.staticKey,
      cidLength: CID_LENGTH,
      isServer: options.server !== undefined,
      retry: options.server?.retry,
      versions: options.server?.versions,
    });
  }

  wallClock(): number {
    return WALL_CLOCK + this.#now + this.clockOffsetMs;
  }

  /** Loses every connection's state (a crash and restart with the same static key). */
  restart(): void {
    this.conns = [];
    this.#routes.clear();
    this.#resetTokens.clear();
    this.#pendingReplies = [];
  }

  /** Starts a client connection to `to`, with a stored NEW_TOKEN token if it has one. */
  connect(
    to: string,
    now: number,
    extra: { versions?: number[]; version?: number; reactedToVersionNegotiation?: boolean; token?: Uint8Array; transport?: Partial<TransportSettings> } = {},
  ): Conn {
    const tokenKey = `${to}`;
    const conn = Connection.connect({
      crypto: this.options.crypto,
      random: this.options.random,
      wallClock: () => this.wallClock(),
      alpnProtocols: ['test'],
      serverName: 'localhost',
      verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
      remote: { address: to, port: 443 },
      now,
      statelessResetKey: this.options.staticKey,
      token: extra.token ?? this.tokenStore.take(tokenKey),
      transport: extra.transport,
      versions: extra.versions,
      version: extra.version,
      reactedToVersionNegotiation: extra.reactedToVersionNegotiation,
    });
    const c: Conn = { conn, events: [], tokenKey, handshaking: false };
    this.#add(c);
    return c;
  }

  #add(c: Conn): void {
    this.conns.push(c);
    this.#drain(c);
  }

  #drain(c: Conn): void {
    for (let e = c.conn.pollEvent(); e !== undefined; e = c.conn.pollEvent()) {
      c.events.push(e);
      if (e.type === 'cid-route') {
        if (e.active) this.#routes.set(key(e.cid), c);
        else if (this.#routes.get(key(e.cid)) === c) this.#routes.delete(key(e.cid));
      } else if (e.type === 'peer-reset-token') {
        this.#resetTokens.set(key(e.token), c);
      } else if (e.type === 'new-token' && c.tokenKey !== undefined) {
        this.tokenStore.add(c.tokenKey, e.token);
      } else if (e.type === 'handshake-complete' && c.conn.isServer) {
        c.handshaking = false;
        c.conn.sendNewToken(this.responder.tokens.mintNewToken(c.conn.remoteAddress, this.wallClock()));
      }
    }
  }

  handleDatagram(data: Uint8Array, from: string, now: number): void {
    this.#now = now;
    let c: Conn | undefined;
    if ((data[0]! & 0x80) === 0) {
      c = this.#routes.get(key(data.subarray(1, 1 + CID_LENGTH)));
      if (!c && data.length >= MIN_STATELESS_RESET_BYTES) {
        // As QuicEndpoint: the last 16 bytes looked up among the peers' tokens, then confirmed by the connection.
        const byToken = this.#resetTokens.get(key(data.subarray(data.length - 16)));
        if (byToken?.conn.matchesStatelessReset(data)) c = byToken;
      }
    } else if (data.length >= 6 && data.length >= 6 + data[5]!) {
      c = this.#routes.get(key(data.subarray(6, 6 + data[5]!)));
    }
    if (!c) {
      const handshaking = this.conns.filter((x) => x.handshaking).length;
      const d = this.responder.handle(data, { address: from, port: 443 }, now, this.wallClock(), handshaking);
      this.decisions.push(d.action);
      if (d.action === 'reply') {
        this.replies.push(d.what);
        this.#pendingReplies.push({ to: from, data: d.datagram });
        return;
      }
      if (d.action === 'drop' || !this.options.server) return;
      const conn = Connection.accept({
        crypto: this.options.crypto,
        random: this.options.random,
        wallClock: () => this.wallClock(),
        alpnProtocols: ['test'],
        transport: this.options.server.transport,
        certificateChain: [TEST_CERT_DER],
        key: this.options.crypto.importSigningKey(TEST_KEY_PEM),
        remote: { address: from, port: 443 },
        now,
        originalDcid: d.dcid,
        clientScid: d.clientScid,
        version: d.version,
        statelessResetKey: this.options.staticKey,
        retry: d.retry,
        addressValidated: d.addressValidated,
        initialKeys: d.initialKeys,
        versions: this.options.server.versions,
      });
      c = { conn, events: [], handshaking: true };
      this.#routes.set(key(d.dcid), c);
      this.#add(c);
    }
    c.conn.handleDatagram(data, { address: from, port: 443 }, now);
    this.#drain(c);
  }

  pollTransmit(now: number): SimTransmit | undefined {
    this.#now = now;
    const reply = this.#pendingReplies.shift();
    if (reply) return reply;
    for (const c of this.conns) {
      const t = c.conn.pollTransmit(now, this.#buffer);
      this.#drain(c);
      c.conn.recovery.assertInvariants();
      if (t) return { to: t.remote.address, data: this.#buffer.subarray(0, t.length) };
    }
    return undefined;
  }

  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const c of this.conns) {
      const n = c.conn.nextTimeout();
      if (n !== undefined && (t === undefined || n < t)) t = n;
    }
    return t;
  }

  handleTimeout(now: number): void {
    this.#now = now;
    for (const c of this.conns) {
      const n = c.conn.nextTimeout();
      if (n !== undefined && n <= now) {
        c.conn.handleTimeout(now);
        this.#drain(c);
      }
    }
  }
}

export interface EndpointPair {
  sim: Simulator;
  client: SimEndpoint;
  server: SimEndpoint;
  serverKey: Uint8Array;
  run(done: () => boolean, maxTimeMs?: number): boolean;
}

/** A client and a server endpoint on the simulator, seeded. */
export function makeEndpointPair(
  options: {
    seed?: number;
    link?: LinkConfig;
    back?: LinkConfig;
    retry?: RetryPolicy;
    serverVersions?: number[];
    serverTransport?: Partial<TransportSettings>;
  } = {},
): EndpointPair {
  const seed = options.seed ?? Number(process.env.SIM_SEED ?? 1);
  const sim = new Simulator({ seed });
  const random = new SimRandom(seed ^ 0x7e57);
  const crypto = seededProvider(random);
  const rand = (n: number) => random.bytes(n);
  const link = options.link ?? { delayMs: 10 };
  sim.connect(CLIENT_ADDR, SERVER_ADDR, link, options.back ?? link);
  const serverKey = rand(32);
  const client = new SimEndpoint({ address: CLIENT_ADDR, crypto, random: rand, staticKey: rand(32) });
  const server = new SimEndpoint({
    address: SERVER_ADDR,
    crypto,
    random: rand,
    staticKey: serverKey,
    server: { retry: options.retry, versions: options.serverVersions, transport: options.serverTransport },
  });
  sim.addNode(CLIENT_ADDR, client);
  sim.addNode(SERVER_ADDR, server);
  return {
    sim,
    client,
    server,
    serverKey,
    run(done, maxTimeMs = 30_000) {
      return sim.runUntil(() => done(), { maxTime: sim.now + maxTimeMs, maxEvents: 1_000_000 }).satisfied;
    },
  };
}
