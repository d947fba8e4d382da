/**
 * The interop runner's endpoint contract as environment variables, read once into a typed
 * config (kept apart from `endpoint.ts` so that tests can check it without starting anything).
 *
 *   ROLE           client | server (required)
 *   TESTCASE       test case name (required; unknown ones exit 127)
 *   REQUESTS       space-separated URLs (client)
 *   SSLKEYLOGFILE  append TLS secrets here (optional)
 *   QLOGDIR        one qlog file per connection is written here (optional)
 *   WWW            directory to serve (server; default /www)
 *   DOWNLOADS      directory to write files into (client; default /downloads)
 *   CERTS          directory with cert.pem and priv.key (server; default /certs)
 *   HOST, PORT     where the server listens (default :: and 443)
 *   CRYPTO         auto | noble | node: our crypto provider (not a runner variable; default auto)
 *   PREFERRED_ADDRESS  server, TESTCASE connectionmigration: the preferred address(es) to offer,
 *                  `ADDR:PORT` or `[ADDR6]:PORT`, comma-separated (ours; default: see endpoint.ts)
 */

import type { CryptoProviderName } from '@purequic/quic';
import type { InteropRole } from './testcases.js';

export interface EndpointConfig {
  role: InteropRole;
  testcase: string;
  requests: URL[];
  keyLogFile: string | undefined;
  qlogDir: string | undefined;
  www: string;
  downloads: string;
  certs: string;
  host: string;
  port: number;
  crypto: CryptoProviderName;
  /**
   * Ours, not the runner's (`ALPN`): `h3` makes the client fetch over HTTP/3 in a case other
   * than `http3` (cases run with an HTTP/3-only peer). The server accepts both always.
   */
  alpn: 'hq-interop' | 'h3';
  /** Ours (`PREFERRED_ADDRESS`): the server's preferred addresses (RFC 9000 §9.6), one per family at most. */
  preferredAddress: { ipv4?: { address: string; port: number }; ipv6?: { address: string; port: number } } | undefined;
}

/** A configuration mistake: the endpoint prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const CRYPTO_NAMES: readonly CryptoProviderName[] = ['auto', 'noble', 'node'];

/** Reads the runner's environment variables; throws `ConfigError` for invalid values. */
export function readEndpointConfig(env: Record<string, string | undefined>): EndpointConfig {
  const role = env.ROLE;
  if (role !== 'client' && role !== 'server') throw new ConfigError(`ROLE must be client or server, got ${JSON.stringify(role)}`);
  const testcase = env.TESTCASE ?? '';
  if (testcase === '') throw new ConfigError('TESTCASE is not set');
  const requests: URL[] = [];
  for (const word of (env.REQUESTS ?? '').split(/\s+/)) {
    if (word === '') continue;
    let url: URL;
    try {
      url = new URL(word);
    } catch {
      throw new ConfigError(`REQUESTS holds an invalid URL: ${word}`);
    }
    if (url.protocol !== 'https:') throw new ConfigError(`REQUESTS URLs must be https: ${word}`);
    requests.push(url);
  }
  if (role === 'client' && requests.length === 0) throw new ConfigError('REQUESTS is empty');
  const port = Number(env.PORT ?? 443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be 0-65535, got ${env.PORT}`);
  const crypto = (env.CRYPTO ?? 'auto') as CryptoProviderName;
  if (!CRYPTO_NAMES.includes(crypto)) throw new ConfigError(`CRYPTO must be one of ${CRYPTO_NAMES.join(', ')}`);
  const alpn = nonEmpty(env.ALPN) ?? (testcase === 'http3' ? 'h3' : 'hq-interop');
  if (alpn !== 'h3' && alpn !== 'hq-interop') throw new ConfigError(`ALPN must be hq-interop or h3, got ${alpn}`);
  return {
    role,
    testcase,
    requests,
    keyLogFile: nonEmpty(env.SSLKEYLOGFILE),
    qlogDir: nonEmpty(env.QLOGDIR),
    www: nonEmpty(env.WWW) ?? '/www',
    downloads: nonEmpty(env.DOWNLOADS) ?? '/downloads',
    certs: nonEmpty(env.CERTS) ?? '/certs',
    host: nonEmpty(env.HOST) ?? '::',
    port,
    crypto,
    alpn,
    preferredAddress: parsePreferredAddress(nonEmpty(env.PREFERRED_ADDRESS)),
  };
}

/** `PREFERRED_ADDRESS`: `127.0.0.1:4433,[::1]:4433` (port 0: any free port). */
function parsePreferredAddress(value: string | undefined): EndpointConfig['preferredAddress'] {
  if (value === undefined) return undefined;
  const out: NonNullable<EndpointConfig['preferredAddress']> = {};
  for (const item of value.split(',')) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d+)$/.exec(item.trim());
    if (!m) throw new ConfigError(`PREFERRED_ADDRESS holds ${JSON.stringify(item)}: use ADDR:PORT or [ADDR6]:PORT`);
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(`PREFERRED_ADDRESS port ${port} above 65535`);
    if (m[1] !== undefined) out.ipv6 = { address: m[1], port };
    else out.ipv4 = { address: m[2]!, port };
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Where a URL points: host without IPv6 brackets, port (443 when absent). */
export function urlTarget(url: URL): { host: string; port: number } {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 443 : Number(url.port) };
}

/** The file name a download is stored under: the URL path's last segment (runner: same names). */
export function downloadName(url: URL): string | undefined {
  const segments = decodeURIComponent(url.pathname).split('/');
  const last = segments[segments.length - 1] ?? '';
  return last === '' || last === '.' || last === '..' ? undefined : last;
}
