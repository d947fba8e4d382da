/**
 * `pnpm start`: the HTTP/3 + WebTransport demo on HOST:PORT (default [::]:4433): our HTTP/3
 * server with WebTransport (generated certificate, its SHA-256 embedded in the page) and the
 * page at http://localhost:PORT/. Our own client fetches the page over HTTP/3 and runs a
 * WebTransport echo to show it works; then it keeps serving until Ctrl-C or SIGTERM, which close
 * everything, remove the temporary folder and exit 0.
 */

import { Http3Client } from '@purequic/h3';
import { WebTransport } from '@purequic/webtransport';
import { type H3Demo, startH3Demo } from './demo/h3-demo.js';

const host = process.env.HOST ?? '::';
const port = Number(process.env.PORT ?? 4433);

// Ctrl-C (SIGINT) and SIGTERM, at any moment: close the servers, remove the temporary folder,
// exit 0. The package script `exec`s node (no shell in between that would die of the SIGINT),
// so pnpm sees this exit status and prints no ELIFECYCLE.
let demo: H3Demo | undefined;
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  void (demo?.close() ?? Promise.resolve()).then(() => process.exit(0));
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

demo = await startH3Demo({ host, port });
if (stopping) await demo.close(); // a signal came while it was starting
console.log(`purequic demo: HTTP/3 + WebTransport server on [${host}]:${demo.port} (UDP), the page on TCP ${demo.port}`);
console.log(`  certificate (ECDSA P-256, generated now, 13 days): ${demo.certificatePath}`);
console.log(`  certificate SHA-256 (serverCertificateHashes): ${demo.certificate.sha256Hex}`);

// Our own client, to show the server works before a browser is opened.
const client = new Http3Client({ serverCertificateHashes: [demo.certificate.sha256] });
const response = await client.fetch(demo.h3Url);
const page = await response.text();
console.log(`our HTTP/3 client fetched / (${response.status}, ${page.length} bytes, certificate pinned by its hash)`);
await client.close();
const wt = new WebTransport(demo.wtUrl, { serverCertificateHashes: [{ algorithm: 'sha-256', value: demo.certificate.sha256 }] });
await wt.ready;
const stream = await wt.createBidirectionalStream();
const writer = stream.writable.getWriter();
await writer.write(new TextEncoder().encode('hello over WebTransport'));
await writer.close();
let echoed = '';
for await (const chunk of stream.readable as unknown as AsyncIterable<Uint8Array>) echoed += new TextDecoder().decode(chunk);
console.log(`our WebTransport client echoed: ${echoed}`);
wt.close({ closeCode: 0, reason: 'done' });

console.log(`open ${demo.pageUrl} in Chromium or Firefox: an echo, a datagram ping with its RTT, and a chat across tabs`);
console.log(`fetch over HTTP/3 with: pnpm purequic get ${demo.h3Url} --cacert ${demo.certificatePath}`);
console.log('Ctrl-C to stop.');
