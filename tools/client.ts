/**
 * `pnpm client https://HOST:PORT/PATH [--ca cert.pem] [--insecure] [--out FILE]`: fetches PATH
 * from an hq-interop (HTTP/0.9 over QUIC) server with our QUIC client and writes the body to
 * stdout or FILE. Without --ca the certificate is not verified only if --insecure is given.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { fetchOnce } from './demo/demo-server.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const url = args.find((a) => a.startsWith('https://'));
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!url || (!args.includes('--insecure') && !flag('--ca'))) {
  console.error('usage: pnpm client https://HOST:PORT/PATH (--ca cert.pem | --insecure) [--out FILE]');
  process.exit(2);
}
const u = new URL(url);
const host = u.hostname.replace(/^\[|\]$/g, '');
const ca = flag('--ca');
const started = performance.now();
const { body } = await fetchOnce({
  host: host === 'localhost' ? '127.0.0.1' : host,
  port: Number(u.port || 443),
  path: u.pathname,
  trustAnchorPem: ca ? readFileSync(ca, 'utf8') : undefined,
  serverName: u.hostname.startsWith('[') ? undefined : u.hostname,
});
const ms = performance.now() - started;
const out = flag('--out');
if (out) writeFileSync(out, body);
else process.stdout.write(body);
console.error(`\n${body.length} bytes in ${ms.toFixed(0)} ms`);
