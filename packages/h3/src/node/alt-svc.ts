/**
 * Alt-Svc (RFC 7838) for HTTP/3 (RFC 9114 §3.1.1): browsers reach an HTTP/3 server only after an
 * HTTPS (TCP) response from the same origin advertised it with `alt-svc: h3=":PORT"`. These
 * helpers run our HTTP/3 server beside a `node:https` or `node:http2` server on the same port
 * number and add that header to every TCP response.
 */

import type { Server as HttpsServer } from 'node:https';
import type { Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer, type Http3IncomingRequest, type Http3Server, type Http3ServerOptions, type Http3ServerResponse } from './server.js';

/** The Alt-Svc field value advertising HTTP/3 on `port` for `maxAgeSeconds` (default one day). */
export function altSvcValue(port: number, maxAgeSeconds = 86_400): string {
  return `h3=":${port}"; ma=${maxAgeSeconds}`;
}

export interface AltSvcEntry {
  protocol: string;
  host: string;
  port: number;
  maxAgeSeconds: number | undefined;
}

/** Parses an Alt-Svc field value (RFC 7838 §3); `clear` gives an empty list. */
export function parseAltSvc(value: string): AltSvcEntry[] {
  if (value.trim() === 'clear') return [];
  const out: AltSvcEntry[] = [];
  for (const part of value.split(',')) {
    const [alt, ...params] = part.split(';').map((s) => s.trim());
    const m = /^([^=]+)="([^":]*):(\d+)"$/.exec(alt ?? '');
    if (!m) continue;
    let maxAge: number | undefined;
    for (const p of params) {
      const pm = /^ma=(\d+)$/.exec(p);
      if (pm) maxAge = Number(pm[1]);
    }
    out.push({ protocol: decodeURIComponent(m[1]!), host: m[2]!, port: Number(m[3]), maxAgeSeconds: maxAge });
  }
  return out;
}

/** Adds `alt-svc` to every response of a node:https / node:http2 server (before its own handlers run). */
export function advertiseHttp3(server: HttpsServer | Http2SecureServer, h3Port: number, maxAgeSeconds?: number): void {
  const value = altSvcValue(h3Port, maxAgeSeconds);
  server.prependListener('request', (_req: unknown, res: { setHeader(name: string, value: string): unknown; headersSent?: boolean }) => {
    if (!res.headersSent) res.setHeader('alt-svc', value);
  });
}

/**
 * Starts our HTTP/3 server on the UDP port number of a listening `node:https` / `node:http2`
 * server (same certificate expected), and makes the TCP server advertise it with Alt-Svc.
 */
export async function listenHttp3Beside(
  tcpServer: HttpsServer | Http2SecureServer,
  options: Omit<Http3ServerOptions, 'port'> & { maxAgeSeconds?: number },
  listener: (req: Http3IncomingRequest, res: Http3ServerResponse) => void | Promise<void>,
): Promise<Http3Server> {
  const address = tcpServer.address() as AddressInfo | null;
  if (!address || typeof address !== 'object') throw new TypeError('listenHttp3Beside: the TCP server must be listening first');
  const h3 = await createServer({ ...options, host: options.host ?? address.address, port: address.port }, listener);
  advertiseHttp3(tcpServer, h3.port, options.maxAgeSeconds);
  return h3;
}
