/**
 * `WEBTRANSPORT=1 pnpm endpoint`: purequic as a WebTransport endpoint of the interop runner
 * (../shared/specs/quic-interop-runner-webtransport-endpoint-doc.md): HTTP/0.9-like `GET <file>`
 * requests and `PUSH <file>\n<contents>` answers over unidirectional streams, bidirectional
 * streams or datagrams, in both directions; sessions on the first path component; PROTOCOLS
 * offered / accepted with WT-Available-Protocols; `negotiated_protocol.txt` in DOWNLOADS.
 *
 * Test cases: `handshake`, `transfer` (answer every kind of request, issue none), and
 * `transfer-{unidirectional,bidirectional,datagram}-{send,receive}`: in `-receive` the client
 * requests the files of REQUESTS (URLs) from the server; in `-send` the server requests the files
 * of its REQUESTS (paths `endpoint/file`) from the client, which serves them from WWW.
 */

import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import {
  WebTransport,
  createWebTransportServer,
  type WebTransportBidirectionalStream,
  type WebTransportSessionBase,
  type WebTransportSession,
} from '@purequic/webtransport';

type Mode = 'unidirectional' | 'bidirectional' | 'datagram';

interface Plan {
  /** Which kind of request the requesting side sends (none for handshake / transfer). */
  mode: Mode | undefined;
  /** Who requests: the client (`-receive`) or the server (`-send`). */
  requester: 'client' | 'server' | undefined;
}

export const WEBTRANSPORT_TESTCASES = [
  'handshake',
  'transfer',
  'transfer-unidirectional-send',
  'transfer-unidirectional-receive',
  'transfer-bidirectional-send',
  'transfer-bidirectional-receive',
  'transfer-datagram-send',
  'transfer-datagram-receive',
];

function planOf(testcase: string): Plan | undefined {
  if (testcase === 'handshake' || testcase === 'transfer') return { mode: undefined, requester: undefined };
  const m = /^transfer-(unidirectional|bidirectional|datagram)-(send|receive)$/.exec(testcase);
  if (!m) return undefined;
  return { mode: m[1] as Mode, requester: m[2] === 'receive' ? 'client' : 'server' };
}

export interface WtEndpointOptions {
  log?: (line: string) => void;
  /** Server: stops it (the runner sends SIGTERM; tests abort). */
  signal?: AbortSignal;
  /** Server: called with the bound port. */
  onListening?: (port: number) => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = r.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function writeAll(w: WritableStream<Uint8Array>, parts: Uint8Array[]): Promise<void> {
  const writer = w.getWriter();
  for (const p of parts) await writer.write(p);
  await writer.close();
}

/** A file name inside `root/endpoint`, never outside it. */
function safePath(root: string, endpoint: string, file: string): string | undefined {
  const p = normalize(join(root, endpoint, file));
  return p.startsWith(normalize(join(root, endpoint)) + '/') ? p : undefined;
}

/** `PUSH <file>\n` then the contents: returns the name and the contents. */
function splitPush(bytes: Uint8Array): { file: string; body: Uint8Array } | undefined {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return undefined;
  const head = dec.decode(bytes.subarray(0, nl));
  if (!head.startsWith('PUSH ')) return undefined;
  return { file: head.slice(5).trim(), body: bytes.subarray(nl + 1) };
}

/**
 * One side of a session: answers `GET` requests from `www/endpoint` over the kind of channel
 * they came on, saves `PUSH`es into `downloads/endpoint`, and requests files itself.
 */
class Peer {
  readonly #waiters = new Map<string, (body: Uint8Array) => void>();
  #datagramWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;

  /** The session's one datagram writer (a WritableStream takes one writer at a time). */
  get #datagrams(): WritableStreamDefaultWriter<Uint8Array> {
    this.#datagramWriter ??= this.session.datagrams.writable.getWriter();
    return this.#datagramWriter;
  }

  constructor(
    readonly session: WebTransportSessionBase,
    readonly endpoint: string,
    readonly www: string,
    readonly downloads: string,
    readonly log: (line: string) => void,
  ) {}

  /** Serves and receives until the session ends. */
  run(): void {
    const s = this.session;
    void (async () => {
      for await (const rs of s.incomingUnidirectionalStreams as unknown as AsyncIterable<ReadableStream<Uint8Array>>) {
        void (async () => {
          const bytes = await readAll(rs);
          const push = splitPush(bytes);
          if (push) return this.#received(push.file, push.body);
          const file = this.#get(bytes);
          if (file === undefined) return;
          const body = this.#file(file);
          if (body) await writeAll(await s.createUnidirectionalStream(), [enc.encode(`PUSH ${file}\n`), body]);
        })().catch((e: unknown) => this.log(`uni stream failed: ${(e as Error).message}`));
      }
    })().catch(() => {});
    void (async () => {
      for await (const bs of s.incomingBidirectionalStreams as unknown as AsyncIterable<WebTransportBidirectionalStream>) {
        void (async () => {
          const file = this.#get(await readAll(bs.readable));
          const body = file === undefined ? undefined : this.#file(file);
          if (body) await writeAll(bs.writable, [body]);
          else await bs.writable.abort();
        })().catch((e: unknown) => this.log(`bidi stream failed: ${(e as Error).message}`));
      }
    })().catch(() => {});
    void (async () => {
      const reader = s.datagrams.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const push = splitPush(value);
        if (push) {
          this.#received(push.file, push.body);
          continue;
        }
        const file = this.#get(value);
        const body = file === undefined ? undefined : this.#file(file);
        if (body) {
          const head = enc.encode(`PUSH ${file}\n`);
          const d = new Uint8Array(head.length + body.length);
          d.set(head, 0);
          d.set(body, head.length);
          await this.#datagrams.write(d);
        }
      }
    })().catch(() => {});
  }

  #get(bytes: Uint8Array): string | undefined {
    const text = dec.decode(bytes).trim();
    return text.startsWith('GET ') ? text.slice(4).trim() : undefined;
  }

  #file(file: string): Uint8Array | undefined {
    const p = safePath(this.www, this.endpoint, file);
    if (!p) return undefined;
    try {
      return readFileSync(p);
    } catch {
      this.log(`no such file ${p}`);
      return undefined;
    }
  }

  #received(file: string, body: Uint8Array): void {
    const w = this.#waiters.get(file);
    if (!w) return;
    this.#waiters.delete(file);
    w(body);
  }

  #save(file: string, body: Uint8Array): void {
    const p = safePath(this.downloads, this.endpoint, file);
    if (!p) throw new Error(`bad file name ${file}`);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, body);
  }

  /** Requests `file` over `mode` and saves the answer. */
  async request(file: string, mode: Mode): Promise<number> {
    const s = this.session;
    let body: Uint8Array;
    if (mode === 'bidirectional') {
      const bs = await s.createBidirectionalStream();
      const [, got] = await Promise.all([writeAll(bs.writable, [enc.encode(`GET ${file}`)]), readAll(bs.readable)]);
      body = got;
    } else {
      const answer = new Promise<Uint8Array>((resolve) => this.#waiters.set(file, resolve));
      if (mode === 'unidirectional') await writeAll(await s.createUnidirectionalStream(), [enc.encode(`GET ${file}`)]);
      else await this.#datagrams.write(enc.encode(`GET ${file}`));
      body = await answer;
    }
    this.#save(file, body);
    return body.length;
  }
}

function parseProtocols(env: Record<string, string | undefined>): string[] {
  return (env.PROTOCOLS ?? '').split(/\s+/).filter((p) => p.length > 0);
}

function writeNegotiated(downloads: string, protocol: string): void {
  mkdirSync(downloads, { recursive: true });
  writeFileSync(join(downloads, 'negotiated_protocol.txt'), protocol);
}

/** Runs the endpoint from the runner's environment; resolves with the exit status. */
export async function runWebTransportEndpoint(env: Record<string, string | undefined>, options: WtEndpointOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const role = env.ROLE;
  const testcase = env.TESTCASE ?? '';
  const plan = planOf(testcase);
  if (!plan) {
    log(`unsupported test case: ${testcase} (WebTransport supports ${WEBTRANSPORT_TESTCASES.join(', ')})`);
    return 127;
  }
  const www = env.WWW || '/www';
  const downloads = env.DOWNLOADS || '/downloads';
  const protocols = parseProtocols(env);
  const requests = (env.REQUESTS ?? '').split(/\s+/).filter((r) => r.length > 0);
  if (role === 'server') return runServer(env, plan, { www, downloads, protocols, requests, log }, options);
  if (role === 'client') return runClient(plan, { www, downloads, protocols, requests, log });
  log(`ROLE must be client or server, got ${JSON.stringify(role)}`);
  return 1;
}

interface Setup {
  www: string;
  downloads: string;
  protocols: string[];
  requests: string[];
  log: (line: string) => void;
}

async function runServer(env: Record<string, string | undefined>, plan: Plan, setup: Setup, options: WtEndpointOptions): Promise<number> {
  const certs = env.CERTS || '/certs';
  const certificatePem = readFileSync(join(certs, 'cert.pem'), 'utf8');
  const privateKeyPem = createPrivateKey(readFileSync(join(certs, 'priv.key'))).export({ type: 'pkcs8', format: 'pem' }).toString();
  const server = await createWebTransportServer({
    host: env.HOST || '::',
    port: Number(env.PORT ?? 443),
    certificatePem,
    privateKeyPem,
    quic: env.QLOGDIR ? { qlogDir: env.QLOGDIR } : {},
  });
  setup.log(`listening on ${env.HOST || '::'}:${server.port}`);
  options.onListening?.(server.port);
  // `-send`: the server requests REQUESTS (endpoint/file) once the sessions are there.
  const wanted = new Map<string, string[]>();
  if (plan.requester === 'server') {
    for (const r of setup.requests) {
      const [endpoint, ...rest] = r.replace(/^\/+/, '').split('/');
      if (!endpoint) continue;
      const list = wanted.get(endpoint) ?? [];
      if (rest.length > 0) list.push(rest.join('/'));
      wanted.set(endpoint, list);
    }
  }
  let failed = false;
  const pending: Promise<void>[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const stop = () => resolveDone();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (!options.signal) {
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  void (async () => {
    for await (const session of server as AsyncIterable<WebTransportSession>) {
      const endpoint = session.path.replace(/^\/+/, '').split('/')[0] ?? '';
      const chosen = session.offeredProtocols.find((p) => setup.protocols.includes(p));
      session.accept(chosen !== undefined ? { protocol: chosen } : {});
      writeNegotiated(setup.downloads, chosen ?? '');
      setup.log(`session on /${endpoint} (${session.version}) protocol=${chosen ?? '-'}`);
      const peer = new Peer(session, endpoint, setup.www, setup.downloads, setup.log);
      peer.run();
      const files = wanted.get(endpoint);
      if (files && plan.mode) {
        wanted.delete(endpoint);
        const mode = plan.mode;
        pending.push(
          Promise.all(files.map((f) => peer.request(f, mode)))
            .then((sizes) => setup.log(`received ${sizes.length} files from /${endpoint}`))
            .catch((e: unknown) => {
              failed = true;
              setup.log(`requests on /${endpoint} failed: ${(e as Error).message}`);
            })
            .finally(() => session.close({ closeCode: 0, reason: 'done' })),
        );
        if (wanted.size === 0) void Promise.all(pending).then(() => undefined);
      }
    }
  })().catch(() => {});
  await done;
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 1000))]);
  await server.close();
  return failed ? 1 : 0;
}

async function runClient(plan: Plan, setup: Setup): Promise<number> {
  // One session per endpoint (first path component), all on one QUIC connection.
  const byEndpoint = new Map<string, { origin: string; files: string[] }>();
  for (const r of setup.requests) {
    const url = new URL(r);
    const [endpoint, ...rest] = url.pathname.replace(/^\/+/, '').split('/');
    if (!endpoint) continue;
    const entry = byEndpoint.get(endpoint) ?? { origin: url.origin, files: [] };
    const file = rest.join('/');
    if (file) entry.files.push(file);
    byEndpoint.set(endpoint, entry);
  }
  if (byEndpoint.size === 0) {
    setup.log('REQUESTS names no endpoint');
    return 1;
  }
  const started = performance.now();
  let bytes = 0;
  let files = 0;
  const sessions: WebTransport[] = [];
  try {
    await Promise.all(
      [...byEndpoint].map(async ([endpoint, { origin, files: list }]) => {
        const wt = new WebTransport(`${origin}/${endpoint}`, { allowPooling: true, insecure: true, protocols: setup.protocols });
        sessions.push(wt);
        await wt.ready;
        writeNegotiated(setup.downloads, wt.protocol);
        setup.log(`session on /${endpoint} protocol=${wt.protocol || '-'}`);
        const peer = new Peer(wt, endpoint, setup.www, setup.downloads, setup.log);
        peer.run();
        if (plan.requester === 'client' && plan.mode) {
          const mode = plan.mode;
          const sizes = await Promise.all(list.map((f) => peer.request(f, mode)));
          files += sizes.length;
          bytes += sizes.reduce((a, b) => a + b, 0);
          wt.close({ closeCode: 0, reason: 'done' });
        } else if (plan.requester === 'server') {
          // `-send`: serve the server's requests until it closes the session.
          await wt.closed;
        } else {
          wt.close({ closeCode: 0, reason: 'done' });
        }
        await wt.closed;
      }),
    );
  } catch (e) {
    setup.log(`client failed: ${(e as Error).message}`);
    for (const s of sessions) s.close();
    return 1;
  }
  setup.log(`downloaded ${files} files, ${bytes} bytes in ${Math.round(performance.now() - started)} ms`);
  return 0;
}
