/**
 * Test harness: a client and a server Connection on the deterministic network simulator.
 * Everything random is seeded (connection IDs, TLS randoms, key shares; ECDSA signatures are
 * deterministic with noble), so a seed replays a run byte for byte. After every event the
 * loss-recovery invariants are checked (bytes in flight == sum of in-flight packet sizes, each
 * packet released once).
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { autoSymmetric } from '../../src/crypto/auto.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { PrivateKeyInfo } from '../../src/crypto/key-info.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { type AcceptOptions, type ConnectOptions, Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent, TransportSettings } from '../../src/connection/types.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import type { LinkConfig } from '../../src/sim/link.js';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const TEST_CERT_PEM = readFileSync(fixtures + 'test-server.cert.pem', 'utf8');
export const TEST_KEY_PEM = readFileSync(fixtures + 'test-server.key.pem', 'utf8');
export const WALL_CLOCK = Date.UTC(2026, 5, 1);

export const CLIENT = 'client';
export const SERVER = 'server';

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
export const TEST_CERT_DER = pemToDer(TEST_CERT_PEM);

/**
 * A provider whose key shares come from `random` and whose ECDSA signatures are plain RFC 6979
 * (the production provider hedges them with fresh randomness), so handshakes replay exactly.
 */
export function seededProvider(random: SimRandom): CryptoProvider {
  return {
    ...nobleAsymmetric,
    ...autoSymmetric,
    generateKeyShare: (group) => nobleAsymmetric.importKeyShare(group, random.bytes(32)),
    sign: (key, scheme, data) => {
      const info = (key as { info?: PrivateKeyInfo }).info;
      if (info?.kind === 'ec' && info.curve === 'P-256' && scheme === 'ecdsa_secp256r1_sha256') {
        return p256.sign(sha256(data), info.d, { prehash: false, format: 'der', extraEntropy: false });
      }
      return nobleAsymmetric.sign(key, scheme, data);
    },
  };
}

export type EventHandler = (event: ConnectionEvent, conn: Connection, now: number) => void;

/** Wraps a Connection as a simulator node; `onEvent` sees every event after each input. */
class ConnectionNode implements SimNode {
  conn: Connection | undefined;
  readonly buffer = new Uint8Array(65_536);
  readonly events: ConnectionEvent[] = [];
  onEvent: EventHandler = () => {};
  /** Called after every input so tests can assert invariants continuously. */
  afterEvent: (conn: Connection) => void = () => {};

  constructor(
    readonly peer: string,
    readonly create?: (datagram: Uint8Array, from: string, now: number) => Connection | undefined,
  ) {}

  handleDatagram(data: Uint8Array, from: string, now: number): void {
    if (!this.conn && this.create) this.conn = this.create(data, from, now);
    this.conn?.handleDatagram(data, { address: from, port: 443 }, now);
    this.#drain(now);
  }

  pollTransmit(now: number): SimTransmit | undefined {
    const conn = this.conn;
    if (!conn) return undefined;
    const t = conn.pollTransmit(now, this.buffer);
    this.afterEvent(conn);
    return t ? { to: this.peer, data: this.buffer.subarray(0, t.length) } : undefined;
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

export interface PairOptions {
  seed?: number;
  link?: LinkConfig;
  back?: LinkConfig;
  clientTransport?: Partial<TransportSettings>;
  serverTransport?: Partial<TransportSettings>;
  alpn?: string[];
  serverAlpn?: string[];
  /** The server's certificate chain (default: the test certificate alone), e.g. to make its flight large. */
  serverCertificateChain?: Uint8Array[];
  /** Check bytes-in-flight invariants after every event (default true). */
  checkInvariants?: boolean;
  /** Extra client / server options (session tickets, 0-RTT, ...), spread over the defaults. */
  clientOptions?: Partial<ConnectOptions>;
  serverOptions?: Partial<AcceptOptions>;
}

export interface Pair {
  sim: Simulator;
  client: Connection;
  clientNode: ConnectionNode;
  serverNode: ConnectionNode;
  server(): Connection;
  /** Runs until `done()` or the limits; returns whether it held. */
  run(done: () => boolean, maxTimeMs?: number, maxEvents?: number): boolean;
}

export function makePair(options: PairOptions = {}): Pair {
  const seed = options.seed ?? Number(process.env.SIM_SEED ?? 1);
  const sim = new Simulator({ seed });
  const random = new SimRandom(seed ^ 0x5eed);
  const crypto = seededProvider(random);
  const rand = (n: number) => random.bytes(n);
  const link = options.link ?? { delayMs: 10 };
  sim.connect(CLIENT, SERVER, link, options.back ?? link);
  const key = crypto.importSigningKey(TEST_KEY_PEM);

  const serverNode = new ConnectionNode(CLIENT, (datagram, from, now) => {
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
      alpnProtocols: options.serverAlpn ?? options.alpn ?? ['test'],
      transport: options.serverTransport,
      certificateChain: options.serverCertificateChain ?? [TEST_CERT_DER],
      key,
      remote: { address: from, port: 443 },
      now,
      originalDcid: header.dcid,
      clientScid: header.scid,
      version: header.version,
      ...options.serverOptions,
    });
  });
  const clientNode = new ConnectionNode(SERVER);
  clientNode.conn = Connection.connect({
    crypto,
    random: rand,
    wallClock: () => WALL_CLOCK,
    alpnProtocols: options.alpn ?? ['test'],
    transport: options.clientTransport,
    serverName: 'localhost',
    verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
    remote: { address: SERVER, port: 443 },
    now: 0,
    ...options.clientOptions,
  });
  if (options.checkInvariants !== false) {
    const check = (c: Connection) => c.recovery.assertInvariants();
    clientNode.afterEvent = check;
    serverNode.afterEvent = check;
  }
  sim.addNode(CLIENT, clientNode);
  sim.addNode(SERVER, serverNode);
  return {
    sim,
    client: clientNode.conn,
    clientNode,
    serverNode,
    server() {
      if (!serverNode.conn) throw new Error('server connection not created yet');
      return serverNode.conn;
    },
    run(done, maxTimeMs = 60_000, maxEvents = 2_000_000) {
      return sim.runUntil(() => done(), { maxTime: sim.now + maxTimeMs, maxEvents }).satisfied;
    },
  };
}

/** Deterministic pseudo-random payload of `size` bytes. */
export function payload(size: number, seed = 7): Uint8Array {
  return new SimRandom(seed).bytes(size);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
