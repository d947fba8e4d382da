/**
 * `pnpm endpoint`: purequic as a QUIC interop runner endpoint (client or server), configured
 * by the runner's environment variables (see config.ts and tools/interop/README.md).
 *
 * Server: listens on HOST:PORT, serves WWW over hq-interop, prints `listening on ADDR:PORT`
 * once bound and runs until SIGTERM/SIGINT.
 * Client: downloads every REQUESTS URL into DOWNLOADS over ONE connection (all streams at once,
 * at most MAX_CONCURRENT_DOWNLOADS in flight), or one connection per URL for `multiconnect`,
 * then prints `downloaded N files, B bytes in T ms`.
 * Exit status (runner contract): 0 success, 1 failure, 127 unsupported TESTCASE.
 */

import { createPrivateKey } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeClose, QuicEndpoint, TlsCipherSuite, type QuicConnection } from '@purequic/quic';
import { ConfigError, downloadName, readEndpointConfig, urlTarget, type EndpointConfig } from './config.js';
import { downloadHq, HQ_ALPN, serveHqConnection } from './hq.js';
import { planTestcase, supportedTestcases, type TestcasePlan } from './testcases.js';

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

/** `alpn=hq-interop cipher=TLS_AES_128_GCM_SHA256 group=x25519`: what the handshake settled. */
function describeHandshake(connection: QuicConnection): string {
  const suite = connection.cipherSuite;
  const cipher = suite === undefined ? '-' : (SUITE_NAMES.get(suite) ?? `0x${suite.toString(16)}`);
  return `alpn=${connection.alpn ?? '-'} cipher=${cipher} group=${connection.group ?? '-'}`;
}

async function main(): Promise<number> {
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
  if (config.qlogDir) {
    // The runner always sets QLOGDIR; qlog output comes later. Creating it keeps the runner's
    // log collection happy.
    mkdirSync(config.qlogDir, { recursive: true });
  }
  return config.role === 'server' ? runServer(config, plan) : runClient(config, plan);
}

async function runServer(config: EndpointConfig, plan: TestcasePlan): Promise<number> {
  const certificatePem = readFileSync(join(config.certs, 'cert.pem'), 'utf8');
  // The runner's priv.key may be SEC1 ("EC PRIVATE KEY"); our endpoint takes PKCS#8.
  const privateKeyPem = createPrivateKey(readFileSync(join(config.certs, 'priv.key'))).export({ type: 'pkcs8', format: 'pem' }).toString();
  const server = await QuicEndpoint.listen({
    host: config.host,
    port: config.port,
    certificatePem,
    privateKeyPem,
    alpnProtocols: [HQ_ALPN],
    crypto: config.crypto,
    transport: plan.transport,
    keyLogFile: config.keyLogFile,
    cipherSuites: cipherSuitesFor(plan),
  });
  const { address, port } = server.address;
  log(`listening on ${address.includes(':') ? `[${address}]` : address}:${port}`);
  const stop = (): void => {
    void server.close().then(() => process.exit(ExitCode.OK));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for await (const connection of server.incoming) {
    const remote = connection.remoteAddress;
    log(`handshake complete: remote=${remote.address}:${remote.port} ${describeHandshake(connection)}`);
    void serveHqConnection(connection, { root: config.www, log }).then(async () => {
      log(`connection ended: ${describeClose(await connection.closed)}`);
    });
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
  mkdirSync(config.downloads, { recursive: true });
  const started = performance.now();
  let bytes = 0;
  try {
    if (plan.connectionPerRequest) {
      for (const download of downloads) {
        const received = await downloadOverOneConnection(config, plan, [download]);
        bytes += received;
      }
    } else {
      bytes = await downloadOverOneConnection(config, plan, downloads);
    }
  } catch (error) {
    process.stderr.write(`download failed: ${(error as Error).message}\n`);
    return ExitCode.FAILED;
  }
  log(`downloaded ${downloads.length} files, ${bytes} bytes in ${Math.round(performance.now() - started)} ms`);
  return ExitCode.OK;
}

/** One connection to the first URL's authority; every download on it. Resolves with the bytes. */
async function downloadOverOneConnection(config: EndpointConfig, plan: TestcasePlan, downloads: Download[]): Promise<number> {
  const first = downloads[0]!.url;
  const target = urlTarget(first);
  for (const d of downloads) {
    const t = urlTarget(d.url);
    if (t.host !== target.host || t.port !== target.port) throw new Error(`all URLs must name one server (${first.host} vs ${d.url.host})`);
  }
  const address = isIP(target.host) ? target.host : (await lookup(target.host)).address;
  const endpoint = await QuicEndpoint.bind({ host: isIP(address) === 6 ? '::' : '0.0.0.0', crypto: config.crypto, keyLogFile: config.keyLogFile });
  let connection: QuicConnection | undefined;
  try {
    connection = await endpoint.connect({
      host: address,
      port: target.port,
      // RFC 6066 §3: SNI carries host names only, never IP literals.
      serverName: isIP(target.host) ? undefined : target.host,
      alpnProtocols: [HQ_ALPN],
      // Runner certificates are throwaway; the handshake signature is still checked.
      verification: { mode: 'none' },
      transport: plan.transport,
      cipherSuites: cipherSuitesFor(plan),
    });
    const conn = connection;
    log(`handshake complete: ${describeHandshake(conn)}`);
    let total = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      // Bounded by the download list: each turn takes the next entry.
      while (next < downloads.length) {
        const d = downloads[next++]!;
        const received = await downloadHq(conn, d.url.pathname, d.destination);
        total += received; // after the await: `total += await ...` would read `total` too early

      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_DOWNLOADS, downloads.length) }, worker));
    await conn.close(0, 'done');
    return total;
  } catch (error) {
    await connection?.close(1, 'download failed');
    throw error;
  } finally {
    await endpoint.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.FAILED);
  },
);
