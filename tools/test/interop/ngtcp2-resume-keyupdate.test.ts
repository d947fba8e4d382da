/**
 * Resumption, 0-RTT and key updates we initiate, against ngtcp2 0.12 (GnuTLS examples) over
 * loopback, both roles, with a minimal HTTP/3 GET of a 4 MB file (SHA-256 checked):
 *  - gtlsclient twice with --session-file/--tp-file: the second run resumes and sends its
 *    request in 0-RTT, which our server accepts (RFC 9001 §4.6);
 *  - our server starts a key update every 100 packets; ngtcp2 confirms each (RFC 9001 §6);
 *  - our client resumes from its endpoint's ticket store, `connect()` returns before the
 *    handshake and the request goes in 0-RTT to gtlsserver; it also starts key updates;
 *  - gtlsclient --disable-early-data: plain resumption, the runner's `resumption` case;
 *  - gtlsclient's 0-RTT to a restarted server (its ticket keys gone): 0-RTT rejected, a full
 *    handshake, the request answered in 1-RTT (RFC 9001 §4.6.2).
 * Skipped (reason printed) when the Debian ngtcp2 packages are absent.
 */

import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection, type SelfSignedCertificate } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { encodeFrame, encodeGetRequest, encodeStatus200, H3_NO_ERROR, H3Frame, openControlStream, parseFrames, responseBody } from '../../interop/h3-minimal.js';
import { readAll } from '../../interop/hq.js';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 resumption/key-update tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

const FILE_SIZE = 4_000_000;
const STEP_TIMEOUT_MS = 30_000;
const DATA_CHUNK = 64 * 1024;

/** What the connection exposes beyond the facade (its sans-IO core), for the assertions. */
interface CoreView {
  isHandshakeComplete: boolean;
  canSendEarlyData: boolean;
  tls: { resumed: boolean; earlyDataAccepted: boolean; peerCertificates: readonly Uint8Array[] };
  keyUpdate: { localUpdates: number };
  closeReason: unknown;
}
const coreOf = (c: QuicConnection): CoreView => c.core as unknown as CoreView;

let directory = '';
let certificate: SelfSignedCertificate;
let file: Uint8Array;
let fileDigest = '';
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

test.before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-resume-'));
  mkdirSync(join(directory, 'www'));
  certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
  const random = new SimRandom(33);
  file = new Uint8Array(FILE_SIZE);
  const words = new Uint32Array(file.buffer, 0, FILE_SIZE >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = random.nextU32();
  fileDigest = sha256(file);
  writeFileSync(join(directory, 'www', 'file.bin'), file);
});

test.after(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out`)), STEP_TIMEOUT_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function summary(log: string, lines = 30): string {
  return log
    .split('\n')
    .filter((l) => !l.startsWith('I0'))
    .slice(-lines)
    .join('\n');
}

/** Our HTTP/3-ish server: every request stream gets 200 and the file. */
function serveFile(connection: QuicConnection): void {
  void openControlStream(connection).catch(() => undefined);
  void (async () => {
    for await (const stream of connection.incomingBidirectionalStreams) {
      void (async () => {
        await readAll(stream, 64 * 1024);
        const writer = stream.writable.getWriter();
        await writer.write(encodeStatus200());
        // Bounded by the file size.
        for (let offset = 0; offset < file.length; offset += DATA_CHUNK) {
          await writer.write(encodeFrame(H3Frame.DATA, file.subarray(offset, Math.min(file.length, offset + DATA_CHUNK))));
        }
        await writer.close();
      })().catch(() => undefined);
    }
  })();
}

async function ourServer(options: { earlyData?: boolean; keyUpdateIntervalPackets?: number }) {
  const server = await QuicEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    certificatePem: certificate.certificatePem,
    privateKeyPem: certificate.privateKeyPem,
    alpnProtocols: ['h3'],
    earlyData: options.earlyData,
    transport: options.keyUpdateIntervalPackets ? { keyUpdateIntervalPackets: options.keyUpdateIntervalPackets } : undefined,
  });
  const connections: QuicConnection[] = [];
  const serving = (async () => {
    for await (const connection of server.incoming) {
      connections.push(connection);
      serveFile(connection);
    }
  })();
  return { server, connections, serving };
}

function runGtlsClient(peer: { client: string }, port: number, downloads: string, extra: string[]): SpawnedProcess {
  mkdirSync(downloads, { recursive: true });
  return new SpawnedProcess(
    peer.client,
    [...extra, '--no-http-dump', '--exit-on-all-streams-close', `--download=${downloads}`, '--timeout=15s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/file.bin`],
    {},
    directory,
  );
}

it('gtlsclient resumes with its session file and sends its request in 0-RTT; our server accepts it', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const { server, connections, serving } = await ourServer({ earlyData: true });
  const port = server.address.port;
  const session = ['--no-quic-dump', '--session-file=' + join(directory, 'session.pem'), '--tp-file=' + join(directory, 'tp.txt')];
  try {
    for (let run = 0; run < 2; run++) {
      const downloads = join(directory, 'downloads-resume-' + run);
      const client = runGtlsClient(peer, port, downloads, session);
      try {
        const code = await withTimeout(client.exited, 'gtlsclient');
        assert.is(code, 0, `gtlsclient failed:\n${summary(client.output)}`);
        assert.is(sha256(readFileSync(join(downloads, 'file.bin'))), fileDigest);
        const core = coreOf(connections[run]!);
        assert.is(core.tls.resumed, run === 1, `run ${run}: resumed`);
        assert.is(core.tls.earlyDataAccepted, run === 1, `run ${run}: 0-RTT accepted`);
        if (run === 1) assert.match(client.output, /frm tx \d+ 0RTT STREAM\(0x0b\) id=0x0 fin=1/, 'the request went in 0-RTT');
      } finally {
        await client.stop();
      }
    }
  } finally {
    await server.close();
    await serving;
  }
});

it('gtlsclient --disable-early-data resumes without sending 0-RTT (runner resumption)', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const { server, connections, serving } = await ourServer({ earlyData: true });
  const port = server.address.port;
  const session = ['--no-quic-dump', '--disable-early-data', '--session-file=' + join(directory, 'session-noearly.pem'), '--tp-file=' + join(directory, 'tp-noearly.txt')];
  try {
    for (let run = 0; run < 2; run++) {
      const downloads = join(directory, 'downloads-noearly-' + run);
      const client = runGtlsClient(peer, port, downloads, session);
      try {
        const code = await withTimeout(client.exited, 'gtlsclient');
        assert.is(code, 0, `gtlsclient failed:\n${summary(client.output)}`);
        assert.is(sha256(readFileSync(join(downloads, 'file.bin'))), fileDigest);
        const connection = connections[run]!;
        assert.is(connection.resumed, run === 1, `run ${run}: resumed`);
        // GnuTLS still offers early_data in its ClientHello (so TLS may accept it), but the
        // client sends no 0-RTT packet: the resumption is a plain one, as the runner wants.
        assert.not.match(client.output, /0RTT/, 'gtlsclient sent nothing in 0-RTT');
      } finally {
        await client.stop();
      }
    }
  } finally {
    await server.close();
    await serving;
  }
});

it('gtlsclient 0-RTT to a restarted server: ticket unknown, 0-RTT rejected, the request answered in 1-RTT', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const session = ['--no-quic-dump', '--session-file=' + join(directory, 'session-restart.pem'), '--tp-file=' + join(directory, 'tp-restart.txt')];
  for (let run = 0; run < 2; run++) {
    // A new server endpoint each run: new session ticket keys, so the first run's ticket is void.
    const { server, connections, serving } = await ourServer({ earlyData: true });
    const downloads = join(directory, 'downloads-restart-' + run);
    const client = runGtlsClient(peer, server.address.port, downloads, session);
    try {
      const code = await withTimeout(client.exited, 'gtlsclient');
      assert.is(code, 0, `gtlsclient failed:\n${summary(client.output)}`);
      assert.is(sha256(readFileSync(join(downloads, 'file.bin'))), fileDigest);
      const connection = connections[0]!;
      assert.is(connection.resumed, false, `run ${run}: nothing to resume with`);
      assert.is(connection.earlyDataAccepted, false, `run ${run}: 0-RTT rejected`);
      if (run === 1) assert.match(client.output, /frm tx \d+ 0RTT STREAM\(0x0b\) id=0x0 fin=1/, 'gtlsclient tried its request in 0-RTT');
    } finally {
      await client.stop();
      await server.close();
      await serving;
    }
  }
});

it('our server starts a key update every 100 packets through the download; gtlsclient confirms each', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const { server, connections, serving } = await ourServer({ keyUpdateIntervalPackets: 100 });
  const client = runGtlsClient(peer, server.address.port, join(directory, 'downloads-ku'), ['--no-quic-dump']);
  try {
    const code = await withTimeout(client.exited, 'gtlsclient');
    assert.is(code, 0, `gtlsclient failed:\n${summary(client.output)}`);
    assert.is(sha256(readFileSync(join(directory, 'downloads-ku', 'file.bin'))), fileDigest);
    const updates = coreOf(connections[0]!).keyUpdate.localUpdates;
    const confirmed = (client.output.match(/key update confirmed/g) ?? []).length;
    assert.ok(updates >= 20, `only ${updates} key updates`);
    assert.is(confirmed, updates, 'every update we started was confirmed by ngtcp2');
  } finally {
    await client.stop();
    await server.close();
    await serving;
  }
});

it('our client resumes from its ticket store with 0-RTT to gtlsserver and starts key updates', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const port = await freeUdpPort();
  const server = new SpawnedProcess(peer.server, ['-q', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')], {}, directory);
  const client = await QuicEndpoint.bind({ host: '127.0.0.1', transport: { keyUpdateIntervalPackets: 50 } });
  const options = { host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' as const } };
  const get = async (connection: QuicConnection): Promise<void> => {
    await openControlStream(connection);
    const stream = await connection.openBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(encodeGetRequest(`127.0.0.1:${port}`, '/file.bin'));
    await writer.close();
    const response = await withTimeout(readAll(stream, 2 * FILE_SIZE), 'reading the response');
    assert.ok(response, 'response within bounds');
    assert.is(sha256(responseBody(parseFrames(response!))), fileDigest);
  };
  try {
    // gtlsserver -q prints nothing when ready: retry connecting until it answers.
    let first: QuicConnection | undefined;
    for (let attempt = 0; attempt < 20 && !first; attempt++) {
      first = await Promise.race([client.connect(options), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500 + attempt * 250))]).catch(() => undefined);
    }
    assert.ok(first, `no handshake with gtlsserver:\n${summary(server.output)}`);
    await get(first!);
    assert.is(coreOf(first!).tls.resumed, false);
    assert.ok(coreOf(first!).keyUpdate.localUpdates >= 1, 'our client never updated its keys');
    // Bounded wait for the server's ticket.
    for (let i = 0; i < 200 && client.sessionTickets.count(`localhost:${port}`) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(client.sessionTickets.count(`localhost:${port}`) > 0, 'no session ticket from gtlsserver');
    await first!.close(H3_NO_ERROR, 'done');

    const second = await withTimeout(client.connect({ ...options, earlyData: true }), 'connect with 0-RTT');
    const core = coreOf(second);
    assert.is(core.isHandshakeComplete, false, 'connect() waited for the handshake');
    assert.ok(core.canSendEarlyData);
    await get(second);
    assert.ok(core.tls.resumed, 'not resumed');
    assert.is(core.tls.peerCertificates.length, 0);
    assert.ok(core.tls.earlyDataAccepted, 'gtlsserver refused our 0-RTT');
    await second.close(H3_NO_ERROR, 'done');
  } finally {
    await client.close();
    await server.stop();
  }
});

test.run();
