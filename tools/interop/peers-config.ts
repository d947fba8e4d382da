/**
 * The interop matrix's peers, in one place: how to start each implementation as a server and
 * as a client for a test case, and which matrix cases each role takes part in (with a note
 * when a case runs differently from the public runner's, and the reason when it cannot run).
 *
 * Entries:
 * - `purequic` (alias `ours`): `pnpm endpoint` (tools/interop/endpoint.ts), the runner contract.
 * - `quic-go`: quic-go 0.29 from Debian's sources in our hq-interop wrappers (tools/interop/quicgo).
 * - `ngtcp2`: Debian's ngtcp2 0.12 GnuTLS examples (`gtlsserver` / `gtlsclient`). They speak
 *   only HTTP/3 (no hq-interop), so every ngtcp2 cell carries the files over HTTP/3: the
 *   `http3` case itself, and the other cases "over HTTP/3" (noted in the cell).
 * - `aioquic`, `quiche`: built by hand from their public repositories (never in CI, never
 *   committed). Their command lines come from the environment (`AIOQUIC_SERVER_CMD`,
 *   `AIOQUIC_CLIENT_CMD`, `QUICHE_SERVER_CMD`, `QUICHE_CLIENT_CMD`); each is run with `sh -c`
 *   and the runner's variables (ROLE, TESTCASE, REQUESTS, DOWNLOADS, WWW, CERTS, HOST, PORT,
 *   SSLKEYLOGFILE, QLOGDIR), exactly as a runner container is; exit 127 marks a case
 *   unsupported. Without the variable the peer shows as "not installed".
 *
 * - `chromium`, `firefox`: Debian's browsers as HTTP/3 clients (tools/interop/browser-client.ts
 *   drives them; clients only, one page and one connection per run).
 */

import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { browserAvailability, type BrowserName } from '../browsers/harness.js';
import { ngtcp2Peer, PEERS_DIR, quicGoAvailability, quicGoPeer, REPO_ROOT, type PeerLookup } from './peers.js';

export type Role = 'server' | 'client';
/** How files travel: HTTP/0.9 (`hq-interop`, the runner's default) or HTTP/3 (`h3`). */
export type Application = 'hq' | 'h3';

/** What a launch needs to know about the run (paths are absolute). */
export interface LaunchContext {
  role: Role;
  /** The TESTCASE this side is given (the runner's arrangement, e.g. keyupdate's server: transfer). */
  testcase: string;
  /** The matrix case name (e.g. `transferloss` while TESTCASE is `transfer`). */
  matrixCase: string;
  application: Application;
  www: string;
  /** Directory with `cert.pem` (chain, leaf first) and `priv.key`. */
  certs: string;
  /** Client: where files go. */
  downloads: string;
  /** Working directory for the process and its own files (sessions, tokens). */
  logs: string;
  qlogDir: string;
  keyLogFile: string;
  /** Server: the address to listen on; client: the server's address (the relay's). */
  host: string;
  /** Server: the port to listen on (0: the peer picks and prints it); client: the server's. */
  port: number;
  /** Client: the URLs to fetch. */
  urls: string[];
  /** Server: offer `host`:this port as the preferred address (RFC 9000 §9.6; runner `connectionmigration`). */
  preferredPort?: number;
  /** quic-go: initiate a key update every this many packets (our wrappers' flag). */
  quicGoKeyUpdateInterval?: number;
  /** Our crypto provider (`CRYPTO`). */
  crypto?: string;
  /**
   * The WebTransport contract: PROTOCOLS for both sides, and the server's REQUESTS
   * (`endpoint/file`) in the `-send` cases.
   */
  webtransport?: { protocols: string[]; serverRequests: string[] };
}

/** How to start a process, and how the runner knows a server is ready. */
export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /**
   * `listening-line`: the server prints `listening on ADDR:PORT` (port 0 allowed);
   * `udp-bound`: the runner picked the port and waits until a UDP socket is bound to it.
   */
  readiness: 'listening-line' | 'udp-bound';
}

/** One role of a peer. */
export interface PeerRole {
  /**
   * Matrix cases this role takes part in; the value is a note shown in the cell ('' for none).
   * `'*'` means "every case; the process answers 127 for those it lacks" (the runner's probe).
   */
  cases: Record<string, string> | '*';
  /** Why a case cannot run with this role, shown in the cell (cases neither here nor in `cases`: "not implemented"). */
  unsupported?: Record<string, string>;
  /** The application this role uses for a case (default hq, `http3`: h3). */
  application?: (matrixCase: string) => Application;
  launch(context: LaunchContext): Promise<Launch> | Launch;
}

export interface PeerEntry {
  name: string;
  aliases: string[];
  /** One line for the README's peer list. */
  description: string;
  /** Whether it can run here (building it first if need be), or why not. */
  available(): Promise<PeerLookup<true>>;
  server?: PeerRole;
  client?: PeerRole;
}

const ENDPOINT_SCRIPT = join(REPO_ROOT, 'tools', 'interop', 'endpoint.ts');

/** QUIC v2 (RFC 9369): the Debian quic-go and ngtcp2 know only the draft codepoint 0x709a50c4. */
const NO_V2 = 'knows only the draft v2 codepoint 0x709a50c4, not RFC 9369';
/** Every endpoint here sends through node:dgram or plain sockets that set no ECN bits. */
export const ECN_REASON =
  'node:dgram can neither set the ECN bits of outgoing datagrams nor read them on incoming ones (no IP_TOS / IP_RECVTOS control), so the relay cannot see or keep ECT marks';

/** The WebTransport runner's cases (matrix-cases.ts), by matrix name. */
const WT_CASES = ['wt-handshake', ...['unidirectional', 'bidirectional', 'datagram'].flatMap((m) => [`wt-transfer-${m}-receive`, `wt-transfer-${m}-send`])];
const NO_WEBTRANSPORT = (peer: string): Record<string, string> => Object.fromEntries(WT_CASES.map((c) => [c, `${peer} has no WebTransport`]));

/** The cases our endpoint runs (client and server), with notes. */
const OUR_CASES: Record<string, string> = {
  handshake: '',
  transfer: '',
  longrtt: '',
  chacha20: '',
  multiplexing: '',
  retry: '',
  resumption: '',
  zerortt: '',
  http3: '',
  blackhole: '',
  keyupdate: '',
  amplificationlimit: '',
  handshakeloss: '',
  transferloss: '',
  handshakecorruption: '',
  transfercorruption: '',
  ipv6: '',
  v2: '',
  'rebind-port': '',
  'rebind-addr': '',
  connectionmigration: '',
  goodput: '',
  crosstraffic: '',
  ...Object.fromEntries(WT_CASES.map((c) => [c, ''])),
};

/** Our endpoint bundled into one JavaScript file (`bundleOurEndpoint`), or undefined: run it through tsx. */
let ourEndpointBundle: string | undefined;

/**
 * Bundles `pnpm endpoint` (its TypeScript and the workspace packages' sources) into one ES module
 * with esbuild, the transformer tsx itself uses, so that each of the matrix's many endpoint
 * processes starts in ~0.5 s instead of ~1.8 s of loading TypeScript through tsx. Same code,
 * same conditions; written to INTEROP_PEERS_DIR (gitignored), rebuilt on every call.
 */
export async function bundleOurEndpoint(): Promise<string> {
  const requireHere = createRequire(import.meta.url);
  // esbuild comes with tsx (a dev dependency); resolve it from there.
  const requireFromTsx = createRequire(requireHere.resolve('tsx/package.json'));
  const esbuild = (await import(requireFromTsx.resolve('esbuild'))) as {
    build(options: Record<string, unknown>): Promise<{ errors: unknown[] }>;
  };
  mkdirSync(PEERS_DIR, { recursive: true });
  const outfile = join(PEERS_DIR, `purequic-endpoint.${process.pid}.mjs`);
  await esbuild.build({
    entryPoints: [ENDPOINT_SCRIPT],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@purequic/source'],
    outfile,
    logLevel: 'error',
    // Bundled CommonJS dependencies may call require(): give the module one.
    banner: { js: "import { createRequire as __pqCreateRequire } from 'node:module'; const require = __pqCreateRequire(import.meta.url);" },
    absWorkingDir: dirname(ENDPOINT_SCRIPT),
  });
  ourEndpointBundle = outfile;
  return outfile;
}

/** Back to running our endpoint through tsx (and forget the bundle). */
export function unbundleOurEndpoint(): void {
  ourEndpointBundle = undefined;
}

function ourLaunch(context: LaunchContext): Launch {
  const env: Record<string, string> = {
    ROLE: context.role,
    TESTCASE: context.testcase,
    SSLKEYLOGFILE: context.keyLogFile,
    QLOGDIR: context.qlogDir,
    CRYPTO: context.crypto ?? 'auto',
  };
  if (context.role === 'server') Object.assign(env, { WWW: context.www, CERTS: context.certs, HOST: context.host, PORT: String(context.port) });
  if (context.role === 'server' && context.preferredPort !== undefined) env.PREFERRED_ADDRESS = hostPort(context.host, context.preferredPort);
  else Object.assign(env, { REQUESTS: context.urls.join(' '), DOWNLOADS: context.downloads });
  // Ours, not the runner's: fetch over HTTP/3 in a case other than `http3` (with an h3-only peer).
  if (context.application === 'h3') env.ALPN = 'h3';
  // The runner keeps WebTransport in images of its own; WEBTRANSPORT=1 selects that contract.
  if (context.webtransport) {
    Object.assign(env, { WEBTRANSPORT: '1', PROTOCOLS: context.webtransport.protocols.join(' '), DOWNLOADS: context.downloads });
    if (context.role === 'server') env.REQUESTS = context.webtransport.serverRequests.join(' ');
    else env.WWW = context.www;
  }
  const args = ourEndpointBundle ? [ourEndpointBundle] : ['--conditions=@purequic/source', '--import', 'tsx', ENDPOINT_SCRIPT];
  return { command: process.execPath, args, env, cwd: REPO_ROOT, readiness: 'listening-line' };
}

const ours: PeerEntry = {
  name: 'purequic',
  aliases: ['ours'],
  description: 'this repository: `pnpm endpoint` (tools/interop/endpoint.ts)',
  available: () => Promise.resolve({ ok: true, peer: true }),
  server: {
    cases: OUR_CASES,
    unsupported: { ecn: ECN_REASON },
    application: (c) => (c === 'http3' ? 'h3' : 'hq'),
    launch: ourLaunch,
  },
  client: {
    cases: OUR_CASES,
    unsupported: { ecn: ECN_REASON },
    application: (c) => (c === 'http3' ? 'h3' : 'hq'),
    launch: ourLaunch,
  },
};

/** Cases our quic-go wrappers run: what quic-go 0.29 implements of the runner's list. */
const QUIC_GO_COMMON: Record<string, string> = {
  handshake: '',
  transfer: '',
  longrtt: '',
  chacha20: '',
  multiplexing: '',
  retry: '',
  resumption: '',
  zerortt: '',
  // quic-go's http3 package (server: net/http's file server) in our wrappers.
  http3: '',
  blackhole: '',
  keyupdate: '',
  amplificationlimit: '',
  handshakeloss: '',
  transferloss: '',
  handshakecorruption: '',
  transfercorruption: '',
  ipv6: '',
  goodput: '',
  crosstraffic: '',
};

function quicGoLaunch(context: LaunchContext): Promise<Launch> {
  return quicGoPeer().then((lookup) => {
    if (!lookup.ok) throw new Error(lookup.reason);
    const flags = context.quicGoKeyUpdateInterval ? ['-key-update-interval', String(context.quicGoKeyUpdateInterval)] : [];
    const env = { TESTCASE: context.testcase, SSLKEYLOGFILE: context.keyLogFile };
    if (context.role === 'server') {
      const listen = context.host.includes(':') ? `[${context.host}]:${context.port}` : `${context.host}:${context.port}`;
      const args = [...flags, '-listen', listen, '-www', context.www, '-cert', join(context.certs, 'cert.pem'), '-key', join(context.certs, 'priv.key')];
      return { command: lookup.peer.server, args, env, cwd: context.logs, readiness: 'listening-line' as const };
    }
    return { command: lookup.peer.client, args: [...flags, '-downloads', context.downloads, ...context.urls], env, cwd: context.logs, readiness: 'listening-line' as const };
  });
}

const QUIC_GO_UNSUPPORTED: Record<string, string> = {
  v2: `quic-go 0.29 ${NO_V2}`,
  ecn: ECN_REASON,
  ...NO_WEBTRANSPORT('quic-go 0.29'),
};

const quicGo: PeerEntry = {
  name: 'quic-go',
  aliases: [],
  description: 'quic-go 0.29 (Debian golang-github-lucas-clemente-quic-go-dev) in our hq-interop wrappers, tools/interop/quicgo',
  available: async () => {
    const availability = quicGoAvailability();
    if (!availability.ok) return availability;
    const built = await quicGoPeer();
    return built.ok ? { ok: true, peer: true } : built;
  },
  server: {
    cases: QUIC_GO_COMMON,
    unsupported: {
      ...QUIC_GO_UNSUPPORTED,
      'rebind-port': 'quic-go 0.29 as a server does not follow a client\'s new address (no path validation)',
      'rebind-addr': 'quic-go 0.29 as a server does not follow a client\'s new address (no path validation)',
      connectionmigration: 'quic-go 0.29 cannot offer a preferred_address (no server option for it)',
    },
    launch: quicGoLaunch,
  },
  client: {
    cases: { ...QUIC_GO_COMMON, 'rebind-port': '', 'rebind-addr': '' },
    unsupported: { ...QUIC_GO_UNSUPPORTED, connectionmigration: 'quic-go 0.29 reads preferred_address but never moves there ("We don\'t support connection migration yet", connection.go)' },
    launch: quicGoLaunch,
  },
};

const OVER_H3 = 'over HTTP/3: ngtcp2 0.12 speaks no hq-interop';
/** ngtcp2's cases: all carried over HTTP/3. */
const NGTCP2_CASES: Record<string, string> = {
  handshake: OVER_H3,
  transfer: OVER_H3,
  longrtt: OVER_H3,
  chacha20: OVER_H3,
  multiplexing: OVER_H3,
  retry: OVER_H3,
  resumption: OVER_H3,
  zerortt: OVER_H3,
  http3: '',
  blackhole: OVER_H3,
  keyupdate: OVER_H3,
  amplificationlimit: OVER_H3,
  handshakeloss: OVER_H3,
  transferloss: OVER_H3,
  handshakecorruption: OVER_H3,
  transfercorruption: OVER_H3,
  ipv6: OVER_H3,
  'rebind-port': OVER_H3,
  'rebind-addr': OVER_H3,
  connectionmigration: OVER_H3,
  goodput: OVER_H3,
  crosstraffic: OVER_H3,
};

/** GnuTLS priority string allowing only TLS 1.3 with ChaCha20-Poly1305 (ngtcp2's gtls examples take one). */
const CHACHA20 = 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305';

/** `127.0.0.1:443` or `[::1]:443`. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function ngtcp2Launch(context: LaunchContext): Launch {
  const lookup = ngtcp2Peer();
  if (!lookup.ok) throw new Error(lookup.reason);
  // GnuTLS writes the TLS secrets where SSLKEYLOGFILE says.
  const env = { SSLKEYLOGFILE: context.keyLogFile };
  const ciphers = context.testcase === 'chacha20' ? [`--ciphers=${CHACHA20}`] : [];
  // -q: ngtcp2 logs a few lines per packet otherwise (megabytes for a transfer).
  const quiet = ['-q', '--no-quic-dump', '--no-http-dump'];
  if (context.role === 'server') {
    // --preferred-ipv4-addr / --preferred-ipv6-addr: ngtcp2 binds the address and offers it.
    const preferred = context.preferredPort === undefined ? [] : [`--preferred-ipv${context.host.includes(':') ? 6 : 4}-addr=${hostPort(context.host, context.preferredPort)}`];
    const args = [...quiet, ...ciphers, ...preferred, ...(context.testcase === 'retry' ? ['-V'] : []), '-d', context.www, '--qlog-dir', context.qlogDir, context.host, String(context.port), join(context.certs, 'priv.key'), join(context.certs, 'cert.pem')];
    return { command: lookup.peer.server, args, env, cwd: context.logs, readiness: 'udp-bound' };
  }
  const base = [...ciphers, '--exit-on-all-streams-close', `--download=${context.downloads}`, '--timeout=30s', '--handshake-timeout=60s', '--qlog-dir', context.qlogDir];
  // keyupdate: the client updates keys early (within the first MB); not quiet, so that its
  // "key update confirmed" line shows the server followed.
  const keyUpdate = context.testcase === 'keyupdate' ? ['--key-update=50ms', '--no-quic-dump', '--no-http-dump'] : quiet;
  const run = (extra: string[], urls: string[]): string => [lookup.peer.client, ...keyUpdate, ...base, ...extra, context.host, String(context.port), ...urls].map(shellQuote).join(' ');
  const session = [`--session-file=${join(context.logs, 'session.pem')}`, `--tp-file=${join(context.logs, 'tp.txt')}`];
  let script: string;
  switch (context.testcase) {
    case 'resumption':
    case 'zerortt': {
      // The runner's two connections: the first URL, then the rest resuming (with 0-RTT for zerortt).
      const second = context.testcase === 'resumption' ? [...session, '--disable-early-data'] : session;
      script = `${run(session, context.urls.slice(0, 1))} && ${run(second, context.urls.slice(1))}`;
      break;
    }
    case 'multiconnect':
      // One connection per URL, one after another.
      script = context.urls.map((u) => run([], [u])).join(' && ');
      break;
    case 'connectionmigration':
      // ngtcp2's client moves to a new local address after a while (its active migration).
      script = run(['--change-local-addr=100ms'], context.urls);
      break;
    default:
      script = run([], context.urls);
  }
  return { command: '/bin/sh', args: ['-c', script], env, cwd: context.logs, readiness: 'udp-bound' };
}

const ngtcp2: PeerEntry = {
  name: 'ngtcp2',
  aliases: [],
  description: 'ngtcp2 0.12 (Debian ngtcp2-server / ngtcp2-client: gtlsserver, gtlsclient), HTTP/3 only',
  available: () => {
    const lookup = ngtcp2Peer();
    return Promise.resolve(lookup.ok ? { ok: true, peer: true } : lookup);
  },
  server: {
    cases: NGTCP2_CASES,
    unsupported: {
      v2: `ngtcp2 0.12 ${NO_V2}`,
      ecn: ECN_REASON,
      ...NO_WEBTRANSPORT('ngtcp2 0.12'),
    },
    application: () => 'h3',
    launch: ngtcp2Launch,
  },
  client: {
    cases: NGTCP2_CASES,
    unsupported: { v2: `ngtcp2 0.12 ${NO_V2}`, ecn: ECN_REASON, ...NO_WEBTRANSPORT('ngtcp2 0.12') },
    application: () => 'h3',
    launch: ngtcp2Launch,
  },
};

const BROWSER_CLIENT_SCRIPT = join(REPO_ROOT, 'tools', 'interop', 'browser-client.ts');
const ONE_CONNECTION = 'a page opens one connection: the runner\'s second (resumed / 0-RTT) connection needs a browser session kept across runs';

/** A browser as an HTTP/3 client of the matrix: every case over HTTP/3, launched by browser-client.ts. */
function browserPeer(name: BrowserName, description: string): PeerEntry {
  const cases: Record<string, string> = {};
  for (const c of ['handshake', 'transfer', 'longrtt', 'multiplexing', 'retry', 'blackhole', 'amplificationlimit', 'handshakeloss', 'transferloss', 'handshakecorruption', 'transfercorruption', 'goodput', 'crosstraffic']) cases[c] = 'over HTTP/3';
  cases.http3 = '';
  // WebTransport from the page (W3C API): the handshake and the cases where the client asks.
  for (const c of WT_CASES) if (!c.endsWith('-send')) cases[c] = '';
  const rebinding = 'the relay would have to rebind the browser\'s path; not tried';
  return {
    name,
    aliases: [],
    description,
    available: () => {
      const found = browserAvailability(name);
      return Promise.resolve(found.ok ? { ok: true, peer: true } : { ok: false, reason: found.reason });
    },
    client: {
      cases,
      unsupported: {
        chacha20: 'a browser offers its own cipher suites; a page cannot restrict them',
        keyupdate: 'a browser updates keys on its own schedule; a page cannot ask for it',
        resumption: ONE_CONNECTION,
        zerortt: ONE_CONNECTION,
        ecn: ECN_REASON,
        v2: `${name} offers QUIC v1 only`,
        ipv6: 'browser-client.ts forces QUIC on 127.0.0.1 only',
        'rebind-port': rebinding,
        'rebind-addr': rebinding,
        connectionmigration: 'browsers do not migrate on their own',
        ...Object.fromEntries(WT_CASES.filter((c) => c.endsWith('-send')).map((c) => [c, 'not built: the page would have to serve the files the server asks for'])),
      },
      application: () => 'h3',
      launch: (context) => ({
        command: process.execPath,
        args: ['--conditions=@purequic/source', '--import', 'tsx', BROWSER_CLIENT_SCRIPT],
        env: {
          BROWSER: name,
          TESTCASE: context.testcase,
          REQUESTS: context.urls.join(' '),
          DOWNLOADS: context.downloads,
          CERTS: context.certs,
          ...(context.webtransport ? { WEBTRANSPORT: '1', PROTOCOLS: context.webtransport.protocols.join(' ') } : {}),
        },
        cwd: REPO_ROOT,
        readiness: 'listening-line',
      }),
    },
  };
}

/** A peer built by hand whose command lines come from `<PREFIX>_SERVER_CMD` / `<PREFIX>_CLIENT_CMD`. */
function environmentPeer(name: string, prefix: string, description: string): PeerEntry {
  const variable = (role: Role): string => `${prefix}_${role.toUpperCase()}_CMD`;
  const role = (r: Role): PeerRole => ({
    cases: '*',
    unsupported: { ecn: ECN_REASON },
    application: (c) => (c === 'http3' ? 'h3' : 'hq'),
    launch: (context) => {
      const command = process.env[variable(r)];
      if (!command) throw new Error(`${variable(r)} is not set`);
      const env: Record<string, string> = {
        ROLE: r,
        TESTCASE: context.testcase,
        SSLKEYLOGFILE: context.keyLogFile,
        QLOGDIR: context.qlogDir,
        WWW: context.www,
        CERTS: context.certs,
        DOWNLOADS: context.downloads,
        REQUESTS: context.urls.join(' '),
        HOST: context.host,
        PORT: String(context.port),
        // Ours, not the runner's: the matrix case, for what TESTCASE cannot tell apart
        // (connectionmigration's client is given `transfer`), so the command can answer 127.
        MATRIX_CASE: context.matrixCase,
      };
      // WebTransport cells give TESTCASE the runner's WebTransport names (`handshake` too):
      // WEBTRANSPORT=1 tells them from the QUIC ones, as for our endpoint.
      if (context.webtransport) {
        Object.assign(env, { WEBTRANSPORT: '1', PROTOCOLS: context.webtransport.protocols.join(' ') });
        if (r === 'server') env.REQUESTS = context.webtransport.serverRequests.join(' ');
      }
      return { command: '/bin/sh', args: ['-c', command], env, cwd: context.logs, readiness: 'udp-bound' };
    },
  });
  return {
    name,
    aliases: [],
    description,
    available: () =>
      Promise.resolve(
        process.env[variable('server')] || process.env[variable('client')]
          ? { ok: true, peer: true }
          : { ok: false, reason: `set ${variable('server')} / ${variable('client')} to run it (built by hand, never in CI)` },
      ),
    get server() {
      return process.env[variable('server')] ? role('server') : undefined;
    },
    get client() {
      return process.env[variable('client')] ? role('client') : undefined;
    },
  };
}

/** Every peer the matrix knows, in table order. */
export const PEERS: readonly PeerEntry[] = [
  ours,
  quicGo,
  ngtcp2,
  browserPeer('chromium', 'Chromium (Debian `chromium`) as an HTTP/3 client, driven by playwright-core (tools/interop/browser-client.ts)'),
  browserPeer('firefox', 'Firefox ESR (Debian `firefox-esr`) as an HTTP/3 client, driven by puppeteer-core (tools/interop/browser-client.ts)'),
  environmentPeer('aioquic', 'AIOQUIC', 'aioquic (Python), built by hand; command lines from AIOQUIC_SERVER_CMD / AIOQUIC_CLIENT_CMD'),
  environmentPeer('quiche', 'QUICHE', 'quiche (Rust), built by hand; command lines from QUICHE_SERVER_CMD / QUICHE_CLIENT_CMD'),
];

/** A peer by name or alias. */
export function findPeer(name: string): PeerEntry | undefined {
  return PEERS.find((p) => p.name === name || p.aliases.includes(name));
}

/** Whether `role` of a peer runs `matrixCase`: a note, or the reason it does not. */
export function roleSupports(role: PeerRole | undefined, matrixCase: string): { ok: true; note: string } | { ok: false; reason: string } {
  if (!role) return { ok: false, reason: 'no such role' };
  const unsupported = role.unsupported?.[matrixCase];
  if (unsupported !== undefined) return { ok: false, reason: unsupported };
  if (role.cases === '*') return { ok: true, note: '' };
  const note = role.cases[matrixCase];
  return note === undefined ? { ok: false, reason: 'not implemented' } : { ok: true, note };
}

/** A free UDP port on `host` (bound and released; the peer binds it right after). */
export async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether some UDP socket on this machine is bound to local `port` (Linux /proc/net/udp{,6}). */
export function udpPortBound(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // Lines: "  sl  local_address rem_address ..." with local_address as HEXADDR:HEXPORT.
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local?.endsWith(`:${hexPort}`)) return true;
    }
  }
  return false;
}
