/**
 * `pnpm start`: runs the demo QUIC server (generated certificate, HTTP/0.9 over QUIC) on
 * HOST:PORT (default [::]:4433), fetches a page from it with our own client to show it works,
 * and keeps serving until Ctrl-C or SIGTERM, which remove its temporary folder and exit 0.
 */

import { readFileSync } from 'node:fs';
import { type DemoServer, fetchOnce, startDemoServer } from './demo/demo-server.js';

const host = process.env.HOST ?? '::';
const port = Number(process.env.PORT ?? 4433);

// Ctrl-C (SIGINT) and SIGTERM, at any moment: close the endpoint, remove the temporary folder,
// exit 0. The package script `exec`s node (no shell in between that would die of the SIGINT),
// so pnpm sees this exit status and prints no ELIFECYCLE.
let server: DemoServer | undefined;
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  void (server?.close() ?? Promise.resolve()).then(() => process.exit(0));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

server = await startDemoServer({ host, port });
if (stopping) await server.close(); // a signal came while it was starting
console.log(`purequic demo: QUIC server on [${host}]:${server.port} (ALPN hq-interop, HTTP/0.9 over QUIC)`);
console.log(`  certificate (self-signed, generated now): ${server.certificatePath}`);
console.log(`  serving ${server.root}: /index.html, /1mb.bin`);

const { body, connection } = await fetchOnce({
  host: '127.0.0.1',
  port: server.port,
  path: '/index.html',
  trustAnchorPem: readFileSync(server.certificatePath, 'utf8'),
  serverName: '127.0.0.1',
});
console.log(`our client fetched /index.html (${body.length} bytes, certificate verified, cipher suite 0x${connection.cipherSuite?.toString(16)}, group ${connection.group}):`);
console.log('  ' + new TextDecoder().decode(body).trim());
console.log(`fetch more with: pnpm client https://localhost:${server.port}/1mb.bin --ca ${server.certificatePath} --out 1mb.bin`);
console.log('Ctrl-C to stop.');
