/**
 * `purequic`: the command line of the project (from a checkout: `pnpm purequic ...`).
 *
 *   purequic get URL [-o FILE] [-H 'Name: value']... [-d DATA | --data-binary @FILE] [-X METHOD]
 *                    [-i] [-v] [-k] [--cacert FILE] [--qlog-dir DIR] [--keylog FILE]
 *   purequic serve [DIR] [--port N] [--host H] [--cert FILE --key FILE]
 *
 * `get` fetches over HTTP/3 like curl; `serve` serves a directory over HTTP/3 with a generated
 * certificate (or the given one) and prints the URL and the certificate's SHA-256.
 */

import { createHash, X509Certificate } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { generateSelfSignedCertificate } from '@purequic/quic';
import { Http3Client, createServer } from '@purequic/h3';

const USAGE = `usage:
  purequic get URL [-o FILE] [-H 'Name: value']... [-d DATA | --data-binary @FILE] [-X METHOD]
                   [-i] [-v] [-k] [--cacert FILE] [--qlog-dir DIR] [--keylog FILE]
  purequic serve [DIR] [--port N] [--host H] [--cert FILE --key FILE]`;

/** Parsed command line: flags with values, repeated flags, booleans and positionals. */
interface Args {
  positional: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

const WITH_VALUE = new Set(['-o', '--output', '-H', '--header', '-d', '--data', '--data-binary', '-X', '--request', '--cacert', '--qlog-dir', '--keylog', '--port', '--host', '--cert', '--key']);

function parseArgs(argv: string[]): Args {
  const out: Args = { positional: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    if (WITH_VALUE.has(a)) {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      out.values.set(a, [...(out.values.get(a) ?? []), v]);
    } else if (a.startsWith('-') && a !== '-') out.flags.add(a);
    else out.positional.push(a);
  }
  return out;
}

function fail(message: string): never {
  console.error(`purequic: ${message}\n${USAGE}`);
  process.exit(2);
}

const one = (args: Args, ...names: string[]) => {
  for (const n of names) {
    const v = args.values.get(n);
    if (v) return v[v.length - 1];
  }
  return undefined;
};

async function get(args: Args): Promise<number> {
  const url = args.positional[0];
  if (!url) fail('get needs a URL');
  if (!url.startsWith('https://')) fail('only https:// URLs (HTTP/3 is always over TLS)');
  const headers = new Headers();
  for (const h of [...(args.values.get('-H') ?? []), ...(args.values.get('--header') ?? [])]) {
    const i = h.indexOf(':');
    if (i <= 0) fail(`bad header ${JSON.stringify(h)} (expected 'Name: value')`);
    headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim());
  }
  let body: Uint8Array | undefined;
  const data = one(args, '--data-binary', '-d', '--data');
  if (data !== undefined) body = data.startsWith('@') ? readFileSync(data.slice(1)) : new TextEncoder().encode(data);
  const method = one(args, '-X', '--request') ?? (body ? 'POST' : 'GET');
  const cacert = one(args, '--cacert');
  const verbose = args.flags.has('-v') || args.flags.has('--verbose');
  const include = args.flags.has('-i') || args.flags.has('--include');
  const output = one(args, '-o', '--output');
  const client = new Http3Client({
    insecure: args.flags.has('-k') || args.flags.has('--insecure'),
    ca: cacert ? readFileSync(cacert, 'utf8') : undefined,
    quic: { qlogDir: one(args, '--qlog-dir'), keyLogFile: one(args, '--keylog') },
  });
  const started = performance.now();
  try {
    if (verbose) {
      const u = new URL(url);
      console.error(`> ${method} ${u.pathname}${u.search} HTTP/3\n> :authority: ${u.host}`);
      headers.forEach((v, k) => console.error(`> ${k}: ${v}`));
    }
    const response = await client.fetch(url, { method, headers, body });
    const head = [`HTTP/3 ${response.status}`, ...[...response.headers].map(([k, v]) => `${k}: ${v}`)].join('\n');
    if (verbose) console.error(head.replace(/^/gm, '< '));
    if (include) process.stdout.write(`${head}\n\n`);
    const total = Number(response.headers.get('content-length') ?? NaN);
    const toTty = !output && process.stdout.isTTY;
    const binary = !/^(text\/|application\/(json|javascript|xml))/.test(response.headers.get('content-type') ?? 'text/plain');
    if (toTty && binary) {
      // As curl does: binary output would garble the terminal.
      await response.body?.cancel();
      console.error('purequic: the response is binary; not writing it to the terminal (use -o FILE)');
      return 1;
    }
    const sink = output ? createWriteStream(output) : process.stdout;
    const progress = output && process.stderr.isTTY && total > 1_000_000;
    let received = 0;
    for await (const chunk of (response.body ?? Readable.from([])) as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
      if (progress) process.stderr.write(`\r${((received / total) * 100).toFixed(0).padStart(3)}% ${(received / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`);
    }
    if (output) await new Promise<void>((r) => (sink as ReturnType<typeof createWriteStream>).end(r));
    const seconds = (performance.now() - started) / 1000;
    if (progress || verbose) console.error(`${progress ? '\n' : ''}${received} bytes in ${seconds.toFixed(2)} s (${(received / 1e6 / seconds).toFixed(1)} MB/s)`);
    return response.ok ? 0 : 22;
  } finally {
    await client.close();
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.woff2': 'font/woff2',
};

/** The content type of a file name (application/octet-stream when unknown). */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

async function serveDir(args: Args): Promise<void> {
  const root = resolve(args.positional[0] ?? '.');
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) fail(`${root} is not a directory`);
  const port = Number(one(args, '--port') ?? 4433);
  const host = one(args, '--host') ?? '::';
  const certFile = one(args, '--cert');
  const keyFile = one(args, '--key');
  if ((certFile === undefined) !== (keyFile === undefined)) fail('--cert and --key go together');
  const generated = certFile ? undefined : await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1', '::1'] });
  const certificatePem = certFile ? readFileSync(certFile, 'utf8') : generated!.certificatePem;
  const privateKeyPem = keyFile ? readFileSync(keyFile, 'utf8') : generated!.privateKeyPem;
  const server = await createServer({ host, port, certificatePem, privateKeyPem }, async (req, res) => {
    void req.body.cancel().catch(() => {});
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url, 'https://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    // Never leave the root: normalise, then require the root as a prefix.
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      file = join(file, 'index.html');
      st = statSync(file, { throwIfNoEntry: false });
    }
    if (!st?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': contentTypeOf(file), 'content-length': st.size, 'last-modified': st.mtime.toUTCString() });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await res.sendBody(Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>);
  });
  const der = new X509Certificate(certificatePem).raw;
  const shown = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host;
  console.log(`purequic serve: ${root} over HTTP/3 on ${host === '::' ? '[::]' : host}:${server.port}`);
  console.log(`  URL: https://${shown.includes(':') ? `[${shown}]` : shown}:${server.port}/`);
  console.log(`  certificate SHA-256: ${createHash('sha256').update(der).digest('hex')}${generated ? ' (generated, valid 13 days)' : ''}`);
  if (generated) {
    const certPath = join(process.env.TMPDIR ?? '/tmp', `purequic-serve-${process.pid}.pem`);
    writeFileSync(certPath, certificatePem);
    console.log(`  try: pnpm purequic get https://127.0.0.1:${server.port}/ --cacert ${certPath}`);
  }
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const [command, ...rest] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
switch (command) {
  case 'get':
    process.exitCode = await get(parseArgs(rest)).catch((e: unknown) => {
      console.error(`purequic: ${(e as Error).message}${(e as Error).cause ? ` (${String((e as Error).cause)})` : ''}`);
      return 1;
    });
    break;
  case 'serve':
    await serveDir(parseArgs(rest));
    break;
  default:
    fail(command ? `unknown command ${command}` : 'a command is needed');
}
