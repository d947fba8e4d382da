/**
 * The demo `pnpm start` runs: our HTTP/3 server with WebTransport on UDP PORT, and a plain
 * `node:http` server on TCP PORT serving the same page at http://localhost:PORT/ (localhost is a
 * secure context, so the page may use WebTransport; browsers reach HTTP/3 itself only through
 * Alt-Svc from an https origin). The page opens WebTransport back to this server with the
 * generated certificate's SHA-256: an echo, a datagram ping with its RTT, and a chat across tabs.
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Http3Server } from '@purequic/h3';
import { generateWebTransportCertificate, webTransportExtension, type WebTransportCertificate, type WebTransportSession, type WebTransportBidirectionalStream } from '@purequic/webtransport';
import { demoPage } from './page.js';

export interface H3Demo {
  port: number;
  certificate: WebTransportCertificate;
  /** The certificate as a PEM file (for `purequic get --cacert`), removed by `close()`. */
  certificatePath: string;
  /** Open this in a browser. */
  pageUrl: string;
  /** The same page over HTTP/3. */
  h3Url: string;
  /** Where the page's WebTransport session goes. */
  wtUrl: string;
  /** Sessions connected now. */
  readonly sessions: number;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readText(readable: ReadableStream<Uint8Array>, max = 4096): Promise<string> {
  let s = '';
  for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) {
    s += dec.decode(chunk, { stream: true });
    if (s.length > max) break; // a chat line or echo is small; more is not read
  }
  return s.slice(0, max);
}

export async function startH3Demo(options: { host?: string; port?: number } = {}): Promise<H3Demo> {
  const host = options.host ?? '::';
  const certificate = await generateWebTransportCertificate();
  const dir = mkdtempSync(join(tmpdir(), `purequic-demo-${process.pid}-`));
  const certificatePath = join(dir, 'certificate.pem');
  writeFileSync(certificatePath, certificate.certificatePem);

  const wt = webTransportExtension();
  let page = '';
  const h3: Http3Server = await createServer(
    { host, port: options.port ?? 4433, certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem, extensions: [wt] },
    (req, res) => {
      if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    },
  );
  const port = h3.port;
  const wtUrl = `https://127.0.0.1:${port}/demo`;
  page = demoPage({ wtUrl, certificateSha256Base64: certificate.sha256Base64 });

  const tcp: Server = createHttpServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, resolve);
  });

  const chat = new Set<WebTransportSession>();
  const broadcast = (line: string) => {
    for (const s of chat) {
      void (async () => {
        const out = await s.createUnidirectionalStream();
        const w = out.getWriter();
        await w.write(enc.encode(line));
        await w.close();
      })().catch(() => {});
    }
  };
  let count = 0;
  const serveSession = (s: WebTransportSession) => {
    if (s.path !== '/demo') {
      s.reject(404);
      return;
    }
    s.accept();
    const name = `guest-${++count}`;
    chat.add(s);
    broadcast(`* ${name} joined`);
    void s.closed.finally(() => {
      chat.delete(s);
      broadcast(`* ${name} left`);
    }).catch(() => {});
    // Echo on every bidirectional stream.
    void (async () => {
      for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
        void (async () => {
          const text = await readText(bs.readable);
          const w = bs.writable.getWriter();
          await w.write(enc.encode(text));
          await w.close();
        })().catch(() => {});
      }
    })().catch(() => {});
    // Chat lines arrive on unidirectional streams.
    void (async () => {
      for await (const us of s.incomingUnidirectionalStreams as unknown as AsyncIterable<ReadableStream<Uint8Array>>) {
        void readText(us, 500).then((line) => broadcast(`${name}: ${line}`)).catch(() => {});
      }
    })().catch(() => {});
    // Datagrams come straight back (the page measures the round trip).
    void (async () => {
      const w = s.datagrams.writable.getWriter();
      for await (const d of s.datagrams.readable as unknown as AsyncIterable<Uint8Array>) await w.write(d).catch(() => {});
    })().catch(() => {});
  };
  void (async () => {
    for await (const s of wt.sessions as unknown as AsyncIterable<WebTransportSession>) serveSession(s);
  })().catch(() => {});

  let closing: Promise<void> | undefined;
  return {
    port,
    certificate,
    certificatePath,
    pageUrl: `http://localhost:${port}/`,
    h3Url: `https://127.0.0.1:${port}/`,
    wtUrl,
    get sessions() {
      return chat.size;
    },
    close() {
      closing ??= (async () => {
        wt.end();
        for (const s of chat) s.close({ closeCode: 0, reason: 'demo stopping' });
        tcp.closeAllConnections();
        await Promise.all([h3.close(), new Promise((r) => tcp.close(r))]);
        rmSync(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
