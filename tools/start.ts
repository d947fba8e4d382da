/**
 * `pnpm start`: runs the demo QUIC server (generated certificate, HTTP/0.9 over QUIC) on
 * HOST:PORT (default [::]:4433), fetches a page from it with our own client to show it works,
 * and keeps serving until Ctrl-C.
 */

import { readFileSync } from 'node:fs';
import { fetchOnce, startDemoServer } from './demo/demo-server.js';

const host = process.env.HOST ?? '::';
const port = Number(process.env.PORT ?? 4433);

const server = await startDemoServer({ host, port });
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
console.log(`fetch more with: pnpm client https://127.0.0.1:${server.port}/1mb.bin --ca ${server.certificatePath}`);
console.log('Ctrl-C to stop.');

process.on('SIGINT', () => {
  void server.close().then(() => process.exit(0));
});
