/**
 * `QuicEndpoint`: one UDP socket (IPv4 or IPv6, node:dgram) driving many sans-IO connections.
 *
 * This is the only place that touches the network, real timers and the clock. Datagrams are
 * routed by destination connection ID; a server creates a connection for a client's first
 * Initial and answers unknown versions with Version Negotiation (RFC 9000 §6.1). After anything
 * happens, the affected connections are flushed once per event-loop turn: events go to their
 * facades, datagrams to the socket, and one timer is armed for the earliest deadline.
 */

import { randomFillSync } from 'node:crypto';
import type dgram from 'node:dgram';
import { appendFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Connection } from '../connection/connection.js';
import type { ConnectionEvent, PathAddress, TransportSettings } from '../connection/types.js';
import type { PreferredAddressConfig } from '../connection/preferred-address.js';
import { getCryptoProvider } from '../crypto/index.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { MIN_STATELESS_RESET_BYTES } from '../connection/reset-token.js';
import { clientInitialVersion, clientVersions, versionAfterNegotiation } from '../connection/versions.js';
import { ZeroRttReplayCache } from '../connection/zero-rtt.js';
import { quicLbCidFactory, quicLbCidLength } from '../connection/quic-lb.js';
import { SessionTicketKeys } from '../tls/tickets.js';
import { DeadlineQueue } from './deadline-queue.js';
import { StatelessResponder } from './stateless-responder.js';
import { ClientTokenStore } from './token-store.js';
import { QlogFile } from './qlog-file.js';
import { SessionTicketStore } from './ticket-store.js';
import { type ConnectionDriver, ConnectionClosedError, QuicConnection } from './quic-connection.js';
import { type Attempt, DEFAULT_HANDSHAKE_TIMEOUT_MS, formatAddress, QuicConnectError, raceAttempts, resolveAddresses, type ResolvedAddress } from './connect-attempts.js';
import { checkBindOptions, checkConnectOptions, checkListenOptions } from './options.js';
import type { BindOptions, ConnectOptions, EndpointOptions, ListenOptions, ProtocolAttach } from './endpoint-options.js';
import { bindSocket, type DatagramSocket } from './datagram-socket.js';

export type { BindOptions, ConnectOptions, EndpointOptions, ListenOptions, ProtocolAttach } from './endpoint-options.js';
export { bindSocket, type DatagramSocket } from './datagram-socket.js';

/** Largest datagram we build (and the receive buffer we hand to connections). */
const SEND_BUFFER_SIZE = 1500;
/** Bytes of one send slab (see QuicEndpoint.#sendSlab): ~180 datagrams of 1,452 bytes. */
const SEND_SLAB_SIZE = 256 * 1024;
/** Datagrams sent per connection per flush before yielding to the event loop. */
const MAX_TRANSMITS_PER_FLUSH = 256;
/** `close()` waits at most this long for connections to finish closing. */
const CLOSE_TIMEOUT_MS = 3_000;

interface Entry {
  core: Connection;
  facade: QuicConnection;
  routes: Set<string>;
  announcedIncoming: boolean;
  /** Client: the server NEW_TOKEN tokens are kept under. */
  tokenKey?: string;
  /** The peer's reset tokens indexed for this connection (map keys of `#resetTokens`). */
  resetTokens: string[];
  /** Client: where this connection's tickets are stored (server name or host, and port). */
  ticketServer?: string;
  qlog?: QlogFile;
  /** Client handshake attempt: told when sending to its server fails (the socket's error). */
  onSendError?: (error: NodeJS.ErrnoException) => void;
  /** Passed to every `socket.send` of this connection (made once, not per datagram). */
  sendCallback: (error: Error | null) => void;
  /** CIDs the peer retired, still routed here until `until` (ms) for packets in flight (oldest first). */
  retiring: { key: string; until: number }[];
}

/** Retired CIDs kept routed per connection at most (older ones stop routing at once). */
const MAX_RETIRING_ROUTES = 8;

/** Peer reset tokens indexed per connection at most (older ones are unindexed first). */
const MAX_INDEXED_RESET_TOKENS = 16;

/** Tokens are kept per server name (or address) and port (RFC 9000 §8.1.3). */
function serverKeyOf(options: { host: string; port: number; serverName?: string }): string {
  return `${options.serverName ?? options.host}|${options.port}`;
}

/** Queue feeding `for await (const conn of endpoint.incoming)`. */
class IncomingQueue implements AsyncIterable<QuicConnection> {
  private readonly items: QuicConnection[] = [];
  private readonly waiters: ((r: IteratorResult<QuicConnection>) => void)[] = [];
  private ended = false;
  push(c: QuicConnection): void {
    const w = this.waiters.shift();
    if (w) w({ value: c, done: false });
    else this.items.push(c);
  }
  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }
  [Symbol.asyncIterator](): AsyncIterator<QuicConnection> {
    return {
      next: () => {
        const c = this.items.shift();
        if (c) return Promise.resolve({ value: c, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: async () => ({ value: undefined, done: true }),
    };
  }
}

function pemBlocks(pem: string, label: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  for (let m = re.exec(pem); m !== null; m = re.exec(pem)) {
    const b = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    out.push(new Uint8Array(b.buffer, b.byteOffset, b.length));
  }
  return out;
}

function randomBytes(n: number): Uint8Array {
  return randomFillSync(new Uint8Array(n));
}

/** Map key of a CID: one latin1 character per byte. */
function cidKey(cid: Uint8Array): string {
  return Buffer.from(cid.buffer, cid.byteOffset, cid.length).toString('latin1');
}

/**
 * One UDP socket serving many QUIC connections: `QuicEndpoint.listen` for a server (connections
 * arrive on `incoming`), `QuicEndpoint.bind` then `connect` for a client. `close()` ends them all.
 */
export class QuicEndpoint implements ConnectionDriver {
  readonly #socket: DatagramSocket;
  readonly #crypto: CryptoProvider;
  readonly #options: EndpointOptions;
  readonly #server: ListenOptions | undefined;
  readonly #serverKey: ReturnType<CryptoProvider['importSigningKey']> | undefined;
  readonly #serverChain: Uint8Array[];
  readonly #routes = new Map<string, Entry>();
  readonly #entries = new Set<Entry>();
  readonly #byFacade = new Map<QuicConnection, Entry>();
  readonly #deadlines = new DeadlineQueue<Entry>();
  readonly #dirty = new Set<Entry>();
  readonly #incoming = new IncomingQueue();
  readonly #statelessResetKey: Uint8Array;
  readonly #responder: StatelessResponder;
  /** Server connections whose handshake is in progress (for the Retry policy). */
  readonly #handshaking = new Set<Entry>();
  /** Peer stateless reset tokens -> the connection they belong to (RFC 9000 §10.3.1). */
  readonly #resetTokens = new Map<string, Entry>();
  /** Client: NEW_TOKEN tokens per server, for later connections (RFC 9000 §8.1.3). */
  readonly tokenStore = new ClientTokenStore();
  readonly #tickets = new SessionTicketStore();
  readonly #ticketKeys: SessionTicketKeys | undefined;
  readonly #replayCache = new ZeroRttReplayCache();
  readonly #qlogCloses = new Set<Promise<void>>();
  readonly #cidLength: number;
  /** Server: makes the connection IDs it issues (QUIC-LB); random when undefined. */
  readonly #newCid: (() => Uint8Array) | undefined;
  /** Server: the transport settings of accepted connections (CID length set by `quicLb`). */
  readonly #serverTransport: Partial<TransportSettings> | undefined;
  /** Sockets bound for client migration (RFC 9000 §9.2) and a server's preferred addresses (§9.6), by "address|port". */
  readonly #migrationSockets = new Map<string, dgram.Socket>();
  /** Server: the preferred addresses' sockets by the local address object their datagrams carry. */
  readonly #preferredSockets = new Map<PathAddress, dgram.Socket>();
  /** Server: what connections offer in preferred_address (the bound addresses). */
  #preferredAddress: PreferredAddressConfig | undefined;
  #flushScheduled = false;
  /**
   * Datagrams are built one after another in this slab and sent from where they lie: node:dgram
   * keeps a reference to what it is given until the datagram has left, so no byte of a slab is
   * ever written twice; a full slab is simply replaced (and collected once its last datagram is
   * out). Against a copy into a fresh Buffer per datagram: no copy, and one allocation per
   * ~180 full-size datagrams instead of one 8 KB pool slab per 5.
   */
  #sendSlab: Buffer = Buffer.allocUnsafe(SEND_SLAB_SIZE);
  #sendSlabUsed = 0;
  #lastRemote: PathAddress | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closing = false;
  #closed: Promise<void> | undefined;

  private constructor(socket: DatagramSocket, options: EndpointOptions, server: ListenOptions | undefined) {
    this.#socket = socket;
    this.#options = options;
    this.#server = server;
    const crypto = options.crypto ?? 'auto';
    this.#crypto = typeof crypto === 'string' ? getCryptoProvider(crypto) : crypto;
    this.#cidLength = options.transport?.localConnectionIdLength ?? 8;
    const lb = server?.quicLb;
    if (lb) {
      this.#newCid = quicLbCidFactory(lb.config, lb.serverId, randomBytes);
      this.#cidLength = quicLbCidLength(lb.config);
      this.#serverTransport = { ...server.transport, localConnectionIdLength: this.#cidLength };
    } else {
      this.#serverTransport = server?.transport;
    }
    this.#statelessResetKey = options.statelessResetKey ?? randomBytes(32);
    this.#responder = new StatelessResponder({
      crypto: this.#crypto,
      random: randomBytes,
      staticKey: this.#statelessResetKey,
      cidLength: this.#cidLength,
      newConnectionId: this.#newCid,
      isServer: server !== undefined,
      retry: server?.retry,
      maxHandshakesInProgress: server?.maxHandshakesInProgress,
      versions: server?.versions,
    });
    this.#serverChain = server ? pemBlocks(server.certificatePem, 'CERTIFICATE') : [];
    this.#serverKey = server ? this.#crypto.importSigningKey(server.privateKeyPem) : undefined;
    if (server && this.#serverChain.length === 0) throw new TypeError('certificatePem holds no CERTIFICATE block');
    if (server && server.sessionTickets !== false) this.#ticketKeys = new SessionTicketKeys({ crypto: this.#crypto, random: randomBytes, secret: server.sessionTicketSecret });
    if (options.qlogDir) mkdirSync(options.qlogDir, { recursive: true });
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', () => {
      // Every send carries a callback (send errors go to their connection, see #add) and every
      // address is resolved before use (no lookup inside send), so what reaches here is a receive
      // error. node:dgram reports ICMP errors only on connected sockets; this one serves many
      // peers unconnected, so an unreachable port shows only as silence: the handshake timeout
      // (connect's handshakeTimeoutMs) bounds it, and established connections' loss recovery copes.
      // (A second socket on the same port, connected to the server, does get ECONNREFUSED for the
      // first socket's datagrams, but sharing the port needs SO_REUSEADDR, which would let any
      // local process bind it too and take this endpoint's datagrams: not worth a faster error.)
    });
  }

  /** A server endpoint: accepts connections on host:port ('::' = dual-stack by default). */
  static async listen(options: ListenOptions): Promise<QuicEndpoint> {
    checkListenOptions(options);
    const socket = await bindSocket(options.host ?? '::', options.port);
    const endpoint = new QuicEndpoint(socket, options, options);
    if (options.preferredAddress) {
      try {
        await endpoint.#bindPreferred(options.preferredAddress);
      } catch (e) {
        await endpoint.abort();
        throw e;
      }
    }
    return endpoint;
  }

  /**
   * Binds the preferred address sockets (RFC 9000 §9.6): their datagrams reach the same
   * connections (routed by CID) with that local address, so a connection's paths there are
   * its own and it answers from there (§9.6.2, §8.2.2).
   */
  async #bindPreferred(config: NonNullable<ListenOptions['preferredAddress']>): Promise<void> {
    const offered: PreferredAddressConfig = {};
    for (const family of ['ipv4', 'ipv6'] as const) {
      const want = config[family];
      if (!want) continue;
      const socket = await bindSocket(want.address, want.port, family === 'ipv6');
      const bound = socket.address();
      const local: PathAddress = { address: bound.address, port: bound.port, family: bound.family as 'IPv4' | 'IPv6' };
      socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo, local));
      socket.on('error', () => {});
      this.#migrationSockets.set(`${local.address}|${local.port}`, socket);
      this.#preferredSockets.set(local, socket);
      offered[family] = local;
    }
    this.#preferredAddress = offered;
  }

  /** Server: the preferred addresses offered to clients (with the ports bound), if any. */
  get preferredAddress(): PreferredAddressConfig | undefined {
    return this.#preferredAddress;
  }

  /**
   * A server endpoint over a socket of the caller's (`host` and `port` are ignored): how a
   * cluster worker serves datagrams its front thread received (`@purequic/quic/cluster`).
   */
  static listenOn(socket: DatagramSocket, options: Omit<ListenOptions, 'port'> & { port?: number }): QuicEndpoint {
    checkListenOptions(options, false);
    return new QuicEndpoint(socket, options, options as ListenOptions);
  }

  /** A client endpoint on an ephemeral (or given) port. */
  static async bind(options: BindOptions = {}): Promise<QuicEndpoint> {
    checkBindOptions(options);
    const socket = await bindSocket(options.host ?? '::', options.port ?? 0);
    return new QuicEndpoint(socket, options, undefined);
  }

  get address(): { address: string; port: number; family: string } {
    return this.#socket.address();
  }

  /** The client's session tickets per server (filled as servers send them; used by `connect`). */
  get sessionTickets(): SessionTicketStore {
    return this.#tickets;
  }

  /** Connections accepted by a server endpoint, once their handshake completed. */
  get incoming(): AsyncIterable<QuicConnection> {
    return this.#incoming;
  }

  /**
   * Opens a connection; resolves when the handshake completes. Rejects with a `TypeError` for
   * bad options; the resolver's error (code 'ENOTFOUND', ...) for a name that does not resolve; a
   * `QuicConnectError` when no handshake completed within `handshakeTimeoutMs` (code
   * 'ETIMEDOUT') or sending failed (the socket's code); a `ConnectionClosedError` when the server
   * answered and the handshake failed (e.g. its certificate is not trusted). A host name is
   * resolved and its addresses tried Happy Eyeballs style (RFC 8305), IPv6 and IPv4.
   *
   * With `earlyData` and a ticket that allows it, resolves at once so that streams and datagrams
   * go out as 0-RTT; `opened` then resolves with the handshake (see the 'early-data' caveat on
   * rejection in `ConnectionEvent`).
   */
  async connect(options: ConnectOptions): Promise<QuicConnection> {
    checkConnectOptions(options);
    if (this.#closing) throw new Error('endpoint is closing');
    const versions = clientVersions(options.versions);
    const initialVersion = clientInitialVersion(versions, options.initialVersion);
    const local = this.#socket.address();
    const addresses = await resolveAddresses(options.host, local.family, local.address, options.lookup);
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    return raceAttempts(addresses, options.port, (address) => this.#attempt(options, address, versions, initialVersion), timeoutMs);
  }

  /**
   * One address: a handshake, and (RFC 9000 §6.2) one more in a version the server offered if it
   * answers with Version Negotiation.
   */
  #attempt(options: ConnectOptions, address: ResolvedAddress, versions: number[], initialVersion: number): Attempt<QuicConnection> {
    let current: Entry | undefined;
    let abandoned = false;
    let heard = false;
    const track = (entry: Entry): Entry => {
      current = entry;
      return entry;
    };
    const once = async (version: number, reacted: boolean): Promise<QuicConnection> => {
      const entry = track(this.#startClient(options, address, versions, version, reacted));
      const failed = new Promise<never>((_, reject) => {
        entry.onSendError = (error) => {
          const to = formatAddress(address.address, options.port);
          reject(new QuicConnectError(`cannot send to ${to}: ${error.message}`, error.code ?? 'ERR_SOCKET_SEND', [to], { cause: error }));
        };
      });
      try {
        await Promise.race([entry.core.canSendEarlyData ? Promise.resolve() : entry.facade.opened, failed]);
      } catch (e) {
        heard ||= entry.core.bytesReceived > 0;
        if (entry.core.bytesReceived === 0) this.#drop(entry);
        throw e;
      } finally {
        entry.onSendError = undefined;
      }
      return entry.facade;
    };
    const result = (async () => {
      try {
        return await once(initialVersion, false);
      } catch (e) {
        const reason = e instanceof ConnectionClosedError ? e.reason : undefined;
        if (reason?.kind !== 'version-negotiation' || abandoned) throw e;
        const next = versionAfterNegotiation(versions, reason.versions, initialVersion);
        if (next === undefined) throw e;
        heard = false; // the Version Negotiation packet was an answer, but not this attempt's
        return once(next, true);
      }
    })();
    return {
      result,
      heardFromPeer: () => heard || (current !== undefined && current.core.bytesReceived > 0),
      abandon: () => {
        abandoned = true;
        if (current === undefined) return;
        // Silence so far: drop it without a word. Otherwise close politely (the server has state).
        if (current.core.bytesReceived === 0) this.#drop(current);
        else void current.facade.close(0, 'connection attempt abandoned');
      },
    };
  }

  /**
   * Forgets a client attempt that never heard from its server (nothing to tell the server); its
   * facade learns it is closed. Idempotent.
   */
  #drop(entry: Entry): void {
    if (!this.#entries.has(entry)) return;
    this.#remove(entry);
    if (!entry.core.isClosed) entry.facade.onEvent({ type: 'closed', reason: { kind: 'transport', code: 0, reason: 'connection attempt abandoned', remote: false } });
  }

  #startClient(options: ConnectOptions, address: ResolvedAddress, versions: number[], version: number, reactedToVersionNegotiation: boolean): Entry {
    if (this.#closing) throw new Error('endpoint is closing');
    const family = this.#socket.address().family;
    // A dual-stack IPv6 socket reaches IPv4 peers at their IPv4-mapped address.
    const host = family === 'IPv6' && address.family === 4 ? `::ffff:${address.address}` : address.address;
    const keyLogFile = options.keyLogFile ?? this.#options.keyLogFile;
    const tokenKey = serverKeyOf(options);
    const ticketServer = `${options.serverName ?? options.host}:${options.port}`;
    const sessionTicket = options.resume === false ? undefined : this.#tickets.take(ticketServer, Date.now());
    const qlog = this.#options.qlogDir ? new QlogFile() : undefined;
    const core = Connection.connect({
      crypto: this.#crypto,
      random: randomBytes,
      wallClock: Date.now,
      alpnProtocols: options.alpnProtocols,
      transport: { ...this.#options.transport, ...options.transport },
      serverName: options.serverName,
      verification: options.verification,
      cipherSuites: options.cipherSuites ?? this.#options.cipherSuites,
      groups: options.groups ?? this.#options.groups,
      keyLog: keyLogFile ? (line) => appendFileSync(keyLogFile, line + '\n') : undefined,
      remote: { address: host, port: options.port },
      now: this.now(),
      statelessResetKey: this.#statelessResetKey,
      token: this.tokenStore.take(tokenKey),
      versions,
      version,
      reactedToVersionNegotiation,
      sessionTicket,
      earlyData: options.earlyData,
      migrateToPreferredAddress: options.migrateToPreferredAddress,
      qlog,
    });
    const entry = this.#add(core, qlog, options.protocol);
    entry.tokenKey = tokenKey;
    entry.ticketServer = ticketServer;
    this.flush(entry.facade);
    return entry;
  }

  /**
   * Active migration of a client connection (RFC 9000 §9.2): binds a new socket (same host, a
   * new port) and probes the path from it with PATH_CHALLENGE; the connection moves there once
   * the server answers (its 'path' event), or stays if the probe fails. Resolves to false when
   * the connection cannot migrate now (a server connection, handshake not confirmed, the peer
   * disabled active migration, or no spare peer connection ID).
   */
  async migrate(connection: QuicConnection): Promise<boolean> {
    const entry = this.#byFacade.get(connection);
    if (!entry || this.#closing || entry.core.isServer) return false;
    const socket = await bindSocket(this.#socket.address().address, 0);
    const bound = socket.address();
    if (!entry.core.migrate({ address: bound.address, port: bound.port, family: bound.family as 'IPv4' | 'IPv6' }, this.now())) {
      socket.close();
      return false;
    }
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', () => {});
    this.#migrationSockets.set(`${bound.address}|${bound.port}`, socket);
    this.#markDirty(entry);
    return true;
  }

  /** Closes every connection (application code 0) and the socket. Idempotent; always resolves. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    this.#incoming.end();
    const pending = [...this.#entries].map((e) => e.facade.close(0, 'endpoint closing'));
    this.#closed = (async () => {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(pending).then(() => this.#waitTerminated()),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timeout);
      for (const entry of this.#entries) if (entry.qlog) this.#qlogCloses.add(entry.qlog.close());
      await Promise.all(this.#qlogCloses);
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      for (const extra of this.#migrationSockets.values()) extra.close();
      this.#migrationSockets.clear();
      await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    })();
    return this.#closed;
  }

  /**
   * Drops every connection without a word and closes the socket, as a crash would: peers learn
   * of it only by timeout or, after a restart with the same `statelessResetKey`, by Stateless
   * Reset (RFC 9000 §10.3). For tests and emergencies; `close()` is the graceful way.
   */
  abort(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    this.#incoming.end();
    for (const entry of [...this.#entries]) {
      this.#remove(entry);
      // Local applications still learn that their connections are gone.
      if (!entry.core.isClosed) entry.facade.onEvent({ type: 'closed', reason: { kind: 'transport', code: 0, reason: 'endpoint aborted', remote: false } });
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const extra of this.#migrationSockets.values()) extra.close();
    this.#migrationSockets.clear();
    this.#closed = new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    return this.#closed;
  }

  // ------------------------------------------------------------------ driver

  now(): number {
    return performance.now();
  }

  /** Marks a connection for processing at the end of this event-loop turn. */
  flush(connection: QuicConnection): void {
    const entry = this.#byFacade.get(connection);
    if (!entry) return;
    this.#markDirty(entry);
  }

  #markDirty(entry: Entry): void {
    this.#dirty.add(entry);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushDirty());
    }
  }

  #flushDirty(): void {
    this.#flushScheduled = false;
    // Bounded: each connection is processed once per turn; new marks schedule another turn.
    const batch = [...this.#dirty];
    this.#dirty.clear();
    for (const entry of batch) this.#process(entry);
    this.#armTimer();
  }

  #process(entry: Entry): void {
    const core = entry.core;
    const now = this.now();
    for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) this.#dispatch(entry, e);
    let sent = 0;
    // DPLPMTUD may grow datagrams up to our max_udp_payload_size (65,527 for loopback benchmarks):
    // each datagram is built in place in the send slab, with room for that largest size.
    const size = Math.max(SEND_BUFFER_SIZE, core.settings.maxUdpPayloadSize);
    for (; sent < MAX_TRANSMITS_PER_FLUSH; sent++) {
      const slab = this.#sendSlabFor(size);
      const at = this.#sendSlabUsed;
      const t = core.pollTransmit(now, slab.subarray(at, at + size));
      if (!t) break;
      this.#sendSlabUsed = at + t.length;
      // A migrating client sends some datagrams from the socket of its new local address.
      const socket = t.local === undefined ? this.#socket : (this.#preferredSockets.get(t.local) ?? this.#migrationSockets.get(`${t.local.address}|${t.local.port}`) ?? this.#socket);
      // The callback only matters while a client handshake listens for send errors; without
      // one node:dgram skips a completion callback per datagram.
      socket.send(slab, at, t.length, t.remote.port, t.remote.address, entry.onSendError === undefined ? undefined : entry.sendCallback);
    }
    if (sent === MAX_TRANSMITS_PER_FLUSH) this.#markDirty(entry); // more to send: next turn
    while (entry.retiring.length > 0 && entry.retiring[0]!.until <= now) this.#unroute(entry, entry.retiring.shift()!.key);
    // Events raised while sending (e.g. closed) are dispatched now too.
    for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) this.#dispatch(entry, e);
    if (core.isTerminated) {
      this.#remove(entry);
      return;
    }
    this.#deadlines.set(entry, core.nextTimeout());
  }

  /** The send slab, replaced first if fewer than `size` bytes are left in it. */
  #sendSlabFor(size: number): Buffer {
    if (this.#sendSlab.length - this.#sendSlabUsed < size) {
      this.#sendSlab = Buffer.allocUnsafe(Math.max(SEND_SLAB_SIZE, size));
      this.#sendSlabUsed = 0;
    }
    return this.#sendSlab;
  }

  #dispatch(entry: Entry, e: ConnectionEvent): void {
    if (e.type === 'cid-route') {
      const key = cidKey(e.cid);
      if (e.active) {
        this.#routes.set(key, entry);
        entry.routes.add(key);
      } else if (this.#routes.get(key) === entry) {
        // Packets sent to it before the peer retired it may still arrive (reordered, or on a
        // slower old path after a migration): route them here for 3 PTOs rather than answer
        // them with a Stateless Reset, which a peer may wrongly act on (RFC 9000 §10.3.1 says
        // it must not check retired CIDs' tokens; ngtcp2 0.12 does after moving to a
        // preferred address).
        entry.retiring.push({ key, until: this.now() + 3 * entry.core.ptoMs() });
        if (entry.retiring.length > MAX_RETIRING_ROUTES) this.#unroute(entry, entry.retiring.shift()!.key);
      }
      return;
    }
    if (e.type === 'peer-reset-token') {
      const key = cidKey(e.token);
      this.#resetTokens.set(key, entry);
      entry.resetTokens.push(key);
      if (entry.resetTokens.length > MAX_INDEXED_RESET_TOKENS) this.#unindexResetToken(entry, entry.resetTokens.shift()!);
      return;
    }
    if (e.type === 'new-token') {
      if (entry.tokenKey !== undefined) this.tokenStore.add(entry.tokenKey, e.token);
      return;
    }
    if (e.type === 'handshake-complete' && entry.core.isServer) {
      this.#handshaking.delete(entry);
      // RFC 9000 §8.1.3: a token for the client's next connection, so it needs no Retry then.
      entry.core.sendNewToken(this.#responder.tokens.mintNewToken(entry.core.remoteAddress, Date.now()));
    }
    if (e.type === 'session-ticket' && entry.ticketServer) this.#tickets.add(entry.ticketServer, e.ticket);
    entry.facade.onEvent(e);
    if (e.type === 'handshake-complete' && entry.core.isServer && !entry.announcedIncoming) {
      entry.announcedIncoming = true;
      // A connection a protocol layer took over (HTTP/3) is that layer's to announce.
      if (!this.#closing && !entry.facade.eventsTaken) this.#incoming.push(entry.facade);
    }
  }

  #unroute(entry: Entry, key: string): void {
    // Not if the CID became active again meanwhile (it cannot: sequence numbers are never reused).
    if (this.#routes.get(key) === entry) this.#routes.delete(key);
    entry.routes.delete(key);
  }

  #armTimer(): void {
    const at = this.#deadlines.peekTime();
    if (at === undefined) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer && at >= this.#timerAt) return; // an earlier timer is armed; it re-arms
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, at - this.now()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.now();
    // Node timers may fire up to ~1 ms early relative to performance.now(): allow that slack.
    for (const entry of this.#deadlines.popDue(now + 1)) {
      // A timer may fire up to ~1 ms before its deadline: run it at the deadline then, but never
      // jump further (a stale queue entry must not advance a connection to a later deadline,
      // e.g. the end of its closing period before its CONNECTION_CLOSE went out).
      const due = entry.core.nextTimeout();
      entry.core.handleTimeout(due !== undefined && due > now && due <= now + 1 ? due : now);
      this.#dirty.add(entry);
    }
    this.#flushDirty();
  }

  // ------------------------------------------------------------------ receive

  /** `local`: set for datagrams to a server's preferred address (RFC 9000 §9.6). */
  #onMessage(msg: Buffer, rinfo: { address: string; port: number; family: string }, local?: PathAddress): void {
    if (msg.length === 0) return;
    const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    const first = data[0]!;
    let entry: Entry | undefined;
    if ((first & 0x80) === 0) {
      if (data.length < 1 + this.#cidLength) return;
      entry = this.#routes.get(msg.toString('latin1', 1, 1 + this.#cidLength));
      if (!entry) entry = this.#resetTarget(data) ?? (local === undefined ? this.#answerUnrouted(data, rinfo) : undefined);
    } else {
      if (data.length < 7) return;
      const dcidLength = data[5]!;
      if (data.length < 6 + dcidLength) return;
      entry = this.#routes.get(msg.toString('latin1', 6, 6 + dcidLength));
      // New connections start at the main address only (the preferred one is for moving to).
      if (!entry && local === undefined) entry = this.#accept(data, rinfo);
    }
    if (!entry) return;
    // Events of earlier datagrams of this batch go out first to a protocol layer, which reads
    // stream data synchronously in its handler: data that arrived before a CONNECTION_CLOSE in
    // the same batch is read before the close discards it. A QuicStream reader reads in a
    // microtask, after this datagram (and any close in it) was processed, so waking it here
    // would not save that data; it is woken once per batch (#process) instead of once per
    // datagram, which cut its reads from ~1 per 2.7 packets to ~1 per batch.
    if (entry.facade.eventsTaken && this.#dirty.has(entry)) for (let e = entry.core.pollEvent(); e !== undefined; e = entry.core.pollEvent()) this.#dispatch(entry, e);
    // Datagrams come in runs from one peer: reuse its address object (never mutated; paths
    // and connections only keep references) instead of one more per datagram.
    let remote = this.#lastRemote;
    if (remote === undefined || remote.port !== rinfo.port || remote.address !== rinfo.address || remote.family !== rinfo.family) {
      remote = { address: rinfo.address, port: rinfo.port, family: rinfo.family as 'IPv4' | 'IPv6' };
      this.#lastRemote = remote;
    }
    entry.core.handleDatagram(data, remote, this.now(), 0, local);
    this.#markDirty(entry);
  }

  /**
   * A short-header datagram for no known CID may be a Stateless Reset for one of our connections
   * (its "CID" is random, RFC 9000 §10.3.1): the connection whose peer token it ends with.
   */
  #resetTarget(data: Uint8Array): Entry | undefined {
    if (data.length < MIN_STATELESS_RESET_BYTES) return undefined;
    const entry = this.#resetTokens.get(cidKey(data.subarray(data.length - 16)));
    // The connection checks the token is one of its active ones (not retired) in constant time.
    return entry !== undefined && entry.core.matchesStatelessReset(data) ? entry : undefined;
  }

  #unindexResetToken(entry: Entry, key: string): void {
    if (this.#resetTokens.get(key) === entry) this.#resetTokens.delete(key);
  }

  /** Stateless answers (Version Negotiation, Retry, INVALID_TOKEN, Stateless Reset); never a connection. */
  #answerUnrouted(data: Uint8Array, rinfo: { address: string; port: number }): undefined {
    if (this.#closing) return undefined;
    const remote: PathAddress = { address: rinfo.address, port: rinfo.port };
    const decision = this.#responder.handle(data, remote, this.now(), Date.now(), this.#handshaking.size);
    if (decision.action === 'reply') this.#socket.send(decision.datagram, 0, decision.datagram.length, rinfo.port, rinfo.address);
    return undefined;
  }

  /** A long header packet for no known connection: a new client, or a version to negotiate. */
  #accept(data: Uint8Array, rinfo: { address: string; port: number }): Entry | undefined {
    const server = this.#server;
    if (!server || this.#closing) return undefined;
    const remote: PathAddress = { address: rinfo.address, port: rinfo.port };
    const decision = this.#responder.handle(data, remote, this.now(), Date.now(), this.#handshaking.size);
    if (decision.action === 'reply') this.#socket.send(decision.datagram, 0, decision.datagram.length, rinfo.port, rinfo.address);
    if (decision.action !== 'accept') return undefined;
    const keyLogFile = server.keyLogFile;
    const qlog = this.#options.qlogDir ? new QlogFile() : undefined;
    const core = Connection.accept({
      crypto: this.#crypto,
      random: randomBytes,
      wallClock: Date.now,
      alpnProtocols: server.alpnProtocols,
      transport: this.#serverTransport,
      newConnectionId: this.#newCid,
      certificateChain: this.#serverChain,
      key: this.#serverKey!,
      cipherSuites: server.cipherSuites,
      groups: server.groups,
      keyLog: keyLogFile ? (line) => appendFileSync(keyLogFile, line + '\n') : undefined,
      remote,
      now: this.now(),
      originalDcid: decision.dcid,
      clientScid: decision.clientScid,
      version: decision.version,
      statelessResetKey: this.#statelessResetKey,
      retry: decision.retry,
      addressValidated: decision.addressValidated,
      initialKeys: decision.initialKeys,
      versions: server.versions,
      sessionTicketKeys: this.#ticketKeys,
      earlyData: server.earlyData === true && this.#ticketKeys !== undefined,
      earlyDataFilter: (context) => this.#replayCache.accept(context),
      preferredAddress: this.#preferredAddress,
      qlog,
    });
    const entry = this.#add(core, qlog);
    this.#handshaking.add(entry);
    // Route the Initial's DCID right away: the events that announce it are dispatched later.
    const key = cidKey(decision.dcid);
    this.#routes.set(key, entry);
    entry.routes.add(key);
    return entry;
  }

  #add(core: Connection, qlog?: QlogFile, protocol?: ProtocolAttach): Entry {
    const facade = new QuicConnection(core, this);
    (protocol ?? this.#options.protocol)?.(facade);
    const entry: Entry = { core, facade, routes: new Set(), announcedIncoming: false, resetTokens: [], qlog, sendCallback: () => {}, retiring: [] };
    // A send error during a client's handshake (no route, a forbidden address) ends the attempt
    // at once with the socket's code; later ones are left to loss recovery, as a lost datagram.
    entry.sendCallback = (error) => {
      if (error !== null && entry.onSendError !== undefined) entry.onSendError(error as NodeJS.ErrnoException);
    };
    if (qlog && this.#options.qlogDir) qlog.open(this.#options.qlogDir, core.originalDcid, core.role, Date.now());
    this.#entries.add(entry);
    this.#byFacade.set(facade, entry);
    // Route our CIDs now, before the first datagram comes back.
    for (const e of core.events) if (e.type === 'cid-route' && e.active) {
      const key = cidKey(e.cid);
      this.#routes.set(key, entry);
      entry.routes.add(key);
    }
    return entry;
  }

  #remove(entry: Entry): void {
    for (const key of entry.routes) if (this.#routes.get(key) === entry) this.#routes.delete(key);
    entry.routes.clear();
    for (const key of entry.resetTokens) this.#unindexResetToken(entry, key);
    entry.resetTokens.length = 0;
    this.#entries.delete(entry);
    this.#handshaking.delete(entry);
    this.#byFacade.delete(entry.facade);
    this.#deadlines.delete(entry);
    this.#dirty.delete(entry);
    if (entry.qlog) {
      const done = entry.qlog.close();
      this.#qlogCloses.add(done);
      void done.then(() => this.#qlogCloses.delete(done));
    }
    for (const w of this.#terminatedWaiters.splice(0)) w();
  }

  readonly #terminatedWaiters: (() => void)[] = [];

  async #waitTerminated(): Promise<void> {
    // Bounded by CLOSE_TIMEOUT_MS in close(): each removal wakes us to check again.
    while (this.#entries.size > 0) {
      await new Promise<void>((resolve) => this.#terminatedWaiters.push(resolve));
    }
  }
}

export { ConnectionClosedError, QuicConnectError };
