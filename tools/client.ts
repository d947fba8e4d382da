/**
 * `pnpm client https://HOST:PORT/PATH (--ca cert.pem | --insecure) [--out FILE]`: fetches PATH
 * from an hq-interop (HTTP/0.9 over QUIC) server with our QUIC client and writes the body to
 * FILE, or to stdout. Without --ca the certificate is not verified only if --insecure is given.
 * As curl does, it refuses to write a binary body to a terminal (`--out -` insists).
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
  host,
  port: Number(u.port || 443),
  path: u.pathname,
  trustAnchorPem: ca ? readFileSync(ca, 'utf8') : undefined,
  serverName: u.hostname.startsWith('[') ? undefined : u.hostname,
});
const ms = performance.now() - started;
const out = flag('--out');
if (out !== undefined && out !== '-') {
  writeFileSync(out, body);
  console.error(`${body.length} bytes in ${ms.toFixed(0)} ms, written to ${out}`);
} else if (out === undefined && process.stdout.isTTY && looksBinary(body)) {
  console.error(`${body.length} bytes in ${ms.toFixed(0)} ms: binary output can mess up your terminal, not written.`);
  console.error('Use --out FILE to save it (or --out - to write it to the terminal anyway).');
  process.exitCode = 1;
} else {
  process.stdout.write(body);
  console.error(`\n${body.length} bytes in ${ms.toFixed(0)} ms`);
}

/** As curl judges: a NUL byte, or bytes that are not UTF-8 text, in the first 4 KB. */
function looksBinary(data: Uint8Array): boolean {
  const head = data.subarray(0, 4096);
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return false;
  } catch {
    return true;
  }
}
