/**
 * `pnpm endpoint`: purequic as a QUIC interop runner endpoint (client or server), configured
 * by the runner's environment variables (see config.ts and tools/interop/README.md).
 *
 * Server: listens on HOST:PORT, serves WWW over hq-interop, prints `listening on ADDR:PORT`
 * once bound and runs until SIGTERM/SIGINT.
 * Client: downloads every REQUESTS URL into DOWNLOADS over ONE connection (all streams at once,
 * at most MAX_CONCURRENT_DOWNLOADS in flight), or one connection per URL for `multiconnect`,
 * or the first URL then the rest on a resumed connection for `resumption` / `zerortt`, then
 * prints `downloaded N files, B bytes in T ms`.
 * Exit status (runner contract): 0 success, 1 failure, 127 unsupported TESTCASE.
 */

import { createPrivateKey } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeClose, QuicEndpoint, TlsCipherSuite, type QuicConnection } from '@purequic/quic';
import { ConfigError, downloadName, readEndpointConfig, urlTarget, type EndpointConfig } from './config.js';
import { H3_ALPN, H3FileClient, startH3FileServer } from './h3-files.js';
import { downloadHq, HQ_ALPN, serveHqConnection } from './hq.js';
import { planTestcase, supportedTestcases, type TestcasePlan } from './testcases.js';
import { runWebTransportEndpoint } from './webtransport-endpoint.js';

/** Exit statuses the runner understands. */
export const ExitCode = { OK: 0, FAILED: 1, UNSUPPORTED: 127 } as const;

/** Open files and in-flight requests a client keeps at most (2,000 at once would exhaust fds). */
const MAX_CONCURRENT_DOWNLOADS = 256;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runner `chacha20`: both sides offer only TLS_CHACHA20_POLY1305_SHA256 (0x1303). */
function cipherSuitesFor(plan: TestcasePlan): TlsCipherSuite[] | undefined {
  return plan.chacha20Only ? [TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256] : undefined;
}

const SUITE_NAMES = new Map<number, string>(Object.entries(TlsCipherSuite).map(([name, code]) => [code, name]));

/**
 * What the facade does not expose yet (the negotiated version and key update counts), read from
 * the connection's sans-IO core for the log lines; see .scratch/interop-requests.md.
 */
interface CoreView {
  version?: number;
  keyUpdate?: { localUpdates?: number; remoteUpdates?: number };
}
const coreView = (connection: QuicConnection): CoreView => connection.core as unknown as CoreView;

/**
 * `alpn=hq-interop cipher=TLS_AES_128_GCM_SHA256 group=x25519 version=00000001 resumed=no
 * early-data=no`: what the handshake settled (tests and people read it).
 */
function describeHandshake(connection: QuicConnection): string {
  const suite = connection.cipherSuite;
  const cipher = suite === undefined ? '-' : (SUITE_NAMES.get(suite) ?? `0x${suite.toString(16)}`);
  const version = coreView(connection).version;
  const versionHex = version === undefined ? '-' : version.toString(16).padStart(8, '0');
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  return (
    `alpn=${connection.alpn ?? '-'} cipher=${cipher} group=${connection.group ?? '-'} version=${versionHex} ` +
    `resumed=${yesNo(connection.resumed)} early-data=${yesNo(connection.earlyDataAccepted)}`
  );
}

/** `key updates: local=N remote=M`: 1-RTT key updates this side started and followed (RFC 9001 §6). */
function describeKeyUpdates(connection: QuicConnection): string {
  const updates = coreView(connection).keyUpdate;
  return `key updates: local=${updates?.localUpdates ?? '-'} remote=${updates?.remoteUpdates ?? '-'}`;
}

async function main(): Promise<number> {
  // The runner keeps its WebTransport images apart: WEBTRANSPORT=1 selects that contract.
  if (process.env.WEBTRANSPORT === '1') return runWebTransportEndpoint(process.env);
  let config: EndpointConfig;
  try {
    config = readEndpointConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return ExitCode.FAILED;
    }
    throw error;
  }
  const plan = planTestcase(config.role, config.testcase);
  if (!plan) {
    log(`unsupported test case: ${config.testcase} (${config.role} supports ${supportedTestcases(config.role).join(', ')})`);
    return ExitCode.UNSUPPORTED;
  }
  return config.role === 'server' ? runServer(config, plan) : runClient(config, plan);
}

type PreferredAddressOption = NonNullable<EndpointConfig['preferredAddress']>;

/**
 * The preferred address when PREFERRED_ADDRESS does not say (runner `connectionmigration`): the
 * listen address itself when it is a specific one, else this host's first non-internal IPv4 and
 * IPv6 (not link-local) addresses, as a runner container's `server4`/`server6`; any free port.
 */
function defaultPreferredAddress(host: string): PreferredAddressOption {
  const family = isIP(host);
  if (family === 4 && host !== '0.0.0.0') return { ipv4: { address: host, port: 0 } };
  if (family === 6 && host !== '::') return { ipv6: { address: host, port: 0 } };
  const out: PreferredAddressOption = {};
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4' && !out.ipv4) out.ipv4 = { address: a.address, port: 0 };
      if (a.family === 'IPv6' && !out.ipv6 && !a.address.toLowerCase().startsWith('fe80')) out.ipv6 = { address: a.address, port: 0 };
    }
  }
  return out.ipv4 || out.ipv6 ? out : { ipv4: { address: '127.0.0.1', port: 0 } };
}

/** `preferred address: ADDR:PORT ...` (the bound ports), for the runner and people reading logs. */
function logPreferredAddress(offered: PreferredAddressOption | undefined): void {
  if (!offered) return;
  const items: string[] = [];
  if (offered.ipv4) items.push(`${offered.ipv4.address}:${offered.ipv4.port}`);
  if (offered.ipv6) items.push(`[${offered.ipv6.address}]:${offered.ipv6.port}`);
  log(`preferred address: ${items.join(' ')}`);
}

async function runServer(config: EndpointConfig, plan: TestcasePlan): Promise<number> {
  const certificatePem = readFileSync(join(config.certs, 'cert.pem'), 'utf8');
  // The runner's priv.key may be SEC1 ("EC PRIVATE KEY"); our endpoint takes PKCS#8.
  const privateKeyPem = createPrivateKey(readFileSync(join(config.certs, 'priv.key'))).export({ type: 'pkcs8', format: 'pem' }).toString();
  const listen = {
    host: config.host,
    port: config.port,
    certificatePem,
    privateKeyPem,
    crypto: config.crypto,
    transport: plan.transport,
    keyLogFile: config.keyLogFile,
    qlogDir: config.qlogDir,
    cipherSuites: cipherSuitesFor(plan),
    retry: plan.retry ? ('always' as const) : ('never' as const),
    versions: plan.versions,
    earlyData: plan.earlyData,
    preferredAddress: plan.preferredAddress ? (config.preferredAddress ?? defaultPreferredAddress(config.host)) : undefined,
  };
  // Each connection's closing line; the process exits only after they are written (a stop that
  // closes the connections would otherwise race their log lines).
  const endings = new Set<Promise<void>>();
  const watch = (connection: QuicConnection): void => {
    // `closed` resolves as the connection starts closing: the line is written then, not after
    // the closing period (RFC 9000 §10.2), which a stopping runner may not wait for.
    const ending = connection.closed.then((reason) => {
      // The peer's address at the end: another one than at the handshake after a migration.
      const last = connection.remoteAddress;
      log(`connection ended: ${describeClose(reason)}; ${describeKeyUpdates(connection)}; remote=${last.address}:${last.port}`);
    });
    endings.add(ending);
    void ending.finally(() => endings.delete(ending));
  };
  const announce = (connection: QuicConnection): void => {
    const remote = connection.remoteAddress;
    log(`handshake complete: remote=${remote.address}:${remote.port} ${describeHandshake(connection)}`);
  };
  const serve = async (close: () => Promise<void>, address: { address: string; port: number }): Promise<void> => {
    log(`listening on ${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`);
    const stop = (): void => {
      void close()
        .then(() => Promise.race([Promise.allSettled(endings), new Promise((resolve) => setTimeout(resolve, 1000))]))
        .then(() => process.exit(ExitCode.OK));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  };

  if (config.alpn === H3_ALPN) {
    // HTTP/3 (the `http3` case, and every case with an h3-only client): @purequic/h3.
    const { host, port, certificatePem: cert, privateKeyPem: key, ...quic } = listen;
    const server = await startH3FileServer(
      { host, port, certificatePem: cert, privateKeyPem: key, quic },
      {
        root: config.www,
        log,
        onConnection: (connection) => {
          connection.opened.then(() => announce(connection), () => {});
          watch(connection);
        },
      },
    );
    logPreferredAddress(listen.preferredAddress);
    await serve(() => server.close(), server.address);
    await new Promise(() => {}); // serves until SIGTERM/SIGINT
  }

  const server = await QuicEndpoint.listen({ ...listen, alpnProtocols: [HQ_ALPN] });
  logPreferredAddress(server.preferredAddress);
  await serve(() => server.close(), server.address);
  for await (const connection of server.incoming) {
    announce(connection);
    void serveHqConnection(connection, { root: config.www, log });
    watch(connection);
  }
  return ExitCode.OK;
}

interface Download {
  url: URL;
  destination: string;
}

async function runClient(config: EndpointConfig, plan: TestcasePlan): Promise<number> {
  const downloads: Download[] = [];
  for (const url of config.requests) {
    const name = downloadName(url);
    if (name === undefined) {
      process.stderr.write(`no file name in ${url.href}\n`);
      return ExitCode.FAILED;
    }
    downloads.push({ url, destination: join(config.downloads, name) });
  }
  if (plan.resumption !== 'none' && downloads.length < 2) {
    process.stderr.write(`${config.testcase} needs at least 2 URLs (one per connection)\n`);
    return ExitCode.FAILED;
  }
  mkdirSync(config.downloads, { recursive: true });
  const started = performance.now();
  let bytes = 0;
  let client: ClientSide | undefined;
  try {
    client = await ClientSide.open(config, plan, downloads);
    if (plan.connectionPerRequest) {
      for (const download of downloads) bytes += await client.download([download], 'fresh');
    } else if (plan.resumption !== 'none') {
      // Runner resumption / zerortt: the first file on a first connection, which leaves a
      // session ticket in the endpoint's store; the rest on a second one that resumes with it.
      bytes += await client.download(downloads.slice(0, 1), 'fresh');
      bytes += await client.download(downloads.slice(1), plan.resumption);
    } else {
      bytes = await client.download(downloads, 'fresh');
    }
  } catch (error) {
    process.stderr.write(`download failed: ${(error as Error).message}\n`);
    return ExitCode.FAILED;
  } finally {
    await client?.close();
  }
  log(`downloaded ${downloads.length} files, ${bytes} bytes in ${Math.round(performance.now() - started)} ms`);
  return ExitCode.OK;
}

/** How a client connection starts: without a ticket, resumed, or resumed with 0-RTT requests. */
type ConnectionStart = 'fresh' | 'resume' | 'early-data';

/**
 * connect()'s bound on a handshake (the library's default is 10 s): the runner's handshakeloss
 * and handshakecorruption lose 30% of the datagrams in bursts, and PTO backoff (RFC 9002 §6.2.1)
 * can take a handshake past 10 s; the runner allows 300 s for 50 of them. quic-go's wrappers
 * wait 30 s.
 */
const HANDSHAKE_TIMEOUT_MS = 60_000;

/** How long the client tries to start its migration (it needs a confirmed handshake). */
const MIGRATION_WAIT_MS = 3_000;

/** A session ticket arrives shortly after the handshake; wait at most this long for one. */
const TICKET_WAIT_MS = 5_000;

/**
 * The client's single endpoint (one UDP socket): every connection of a run goes through it, so
 * session tickets and NEW_TOKEN tokens from one connection are there for the next.
 */
class ClientSide {
  private constructor(
    readonly config: EndpointConfig,
    readonly plan: TestcasePlan,
    readonly endpoint: QuicEndpoint,
    readonly address: string,
    readonly port: number,
    readonly serverName: string | undefined,
  ) {}

  /** Binds the endpoint for the server all URLs name (they must name one). */
  static async open(config: EndpointConfig, plan: TestcasePlan, downloads: Download[]): Promise<ClientSide> {
    const first = downloads[0]!.url;
    const target = urlTarget(first);
    for (const d of downloads) {
      const t = urlTarget(d.url);
      if (t.host !== target.host || t.port !== target.port) throw new Error(`all URLs must name one server (${first.host} vs ${d.url.host})`);
    }
    const address = isIP(target.host) ? target.host : (await lookup(target.host)).address;
    const endpoint = await QuicEndpoint.bind({
      host: isIP(address) === 6 ? '::' : '0.0.0.0',
      crypto: config.crypto,
      keyLogFile: config.keyLogFile,
      qlogDir: config.qlogDir,
    });
    // RFC 6066 §3: SNI carries host names only, never IP literals.
    return new ClientSide(config, plan, endpoint, address, target.port, isIP(target.host) ? undefined : target.host);
  }

  /** Where the endpoint files this server's session tickets (`serverName ?? host` and port). */
  get ticketKey(): string {
    return `${this.serverName ?? this.address}:${this.port}`;
  }

  /** Downloads `downloads` over one new connection (all at once); resolves with the bytes. */
  async download(downloads: Download[], start: ConnectionStart): Promise<number> {
    let connection: QuicConnection | undefined;
    let h3: H3FileClient | undefined;
    try {
      connection = await this.endpoint.connect({
        // HTTP/3 through @purequic/h3, attached before the connection's first event.
        ...(this.config.alpn === H3_ALPN ? { protocol: (quic: QuicConnection) => void (h3 = new H3FileClient(quic)) } : {}),
        host: this.address,
        port: this.port,
        serverName: this.serverName,
        alpnProtocols: [this.config.alpn],
        // Runner certificates are throwaway; the handshake signature is still checked.
        verification: { mode: 'none' },
        transport: this.plan.transport,
        cipherSuites: cipherSuitesFor(this.plan),
        versions: this.plan.versions,
        resume: start !== 'fresh',
        earlyData: start === 'early-data',
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      });
      const conn = connection;
      // With 0-RTT, connect() resolved before the handshake: the requests below go as 0-RTT.
      const announced = conn.opened.then(() => {
        log(`handshake complete: ${describeHandshake(conn)}`);
        // RFC 9001 §6.1: updateKeys() waits for the handshake to be confirmed if need be.
        if (this.plan.initiateKeyUpdate) log(`key update ${conn.updateKeys() ? 'started' : 'requested'}`);
        if (this.plan.migrate) void this.migrateSoon(conn);
      });
      announced.catch(() => undefined); // a failed handshake fails the downloads too; reported there
      const total = await downloadAll(conn, downloads, h3);
      await announced;
      if (start !== 'fresh') checkResumed(conn, start);
      if (this.plan.resumption !== 'none' && start === 'fresh') await this.waitForTicket();
      log(describeKeyUpdates(conn));
      await conn.close(0, 'done');
      return total;
    } catch (error) {
      await connection?.close(1, 'download failed');
      throw error;
    }
  }

  /**
   * Active migration to a new local port (RFC 9000 §9.2) as soon as it is allowed: the
   * handshake must be confirmed (HANDSHAKE_DONE, one round trip after completion) and the
   * server must have given us a spare connection ID.
   */
  async migrateSoon(connection: QuicConnection): Promise<void> {
    const deadline = performance.now() + MIGRATION_WAIT_MS;
    // Bounded by the deadline: one attempt every 10 ms.
    while (performance.now() < deadline) {
      if (await this.endpoint.migrate(connection)) {
        log('migration: probing a new path from a new local port');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    log(`migration: not possible within ${MIGRATION_WAIT_MS} ms`);
  }

  /** The server's NewSessionTicket comes after the handshake; the next connection needs it. */
  async waitForTicket(): Promise<void> {
    const deadline = performance.now() + TICKET_WAIT_MS;
    // Bounded by the deadline: polls every 10 ms.
    while (this.endpoint.sessionTickets.count(this.ticketKey) === 0) {
      if (performance.now() > deadline) throw new Error(`no session ticket from the server within ${TICKET_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** The runner checks the second connection resumed (and used 0-RTT): say so plainly if not. */
function checkResumed(connection: QuicConnection, start: ConnectionStart): void {
  if (!connection.resumed) throw new Error('the second connection did not resume the session');
  if (start === 'early-data' && !connection.earlyDataAccepted) throw new Error('the server did not accept 0-RTT (the requests were resent in 1-RTT)');
}

/** Every download on `connection`, at most MAX_CONCURRENT_DOWNLOADS at once; resolves with the bytes. */
async function downloadAll(connection: QuicConnection, downloads: Download[], h3: H3FileClient | undefined): Promise<number> {
  let total = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    // Bounded by the download list: each turn takes the next entry.
    while (next < downloads.length) {
      const d = downloads[next++]!;
      const received = h3 ? await h3.download(d.url.host, d.url.pathname, d.destination) : await downloadHq(connection, d.url.pathname, d.destination);
      total += received; // after the await: `total += await ...` would read `total` too early
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_DOWNLOADS, downloads.length) }, worker));
  return total;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.FAILED);
  },
);
