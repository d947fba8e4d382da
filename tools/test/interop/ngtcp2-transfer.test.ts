/**
 * Bulk data with ngtcp2 0.12 (`gtlsserver` / `gtlsclient`): 10 MB each way over one request
 * stream, SHA-256 checked, and once with ngtcp2's client updating keys mid-transfer. ngtcp2's
 * examples speak only HTTP/3, so the test carries the file in a minimal HTTP/3 exchange
 * (h3-minimal.ts: one GET, one 200 with DATA frames); what is under test is our QUIC connection
 * against a fast C stack: flow control, ACKs, loss recovery and key phases at loopback speed.
 * Skipped (reason printed) when the Debian ngtcp2 packages are absent; CI installs them.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection, type SelfSignedCertificate } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { readAll } from '../../interop/hq.js';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';
import { encodeFrame, encodeGetRequest, encodeStatus200, H3_NO_ERROR, H3Frame, openControlStream, parseFrames, responseBody } from '../../interop/h3-minimal.js';
import { freeUdpPort, summary, withStepTimeout } from './ngtcp2-helpers.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 transfer tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

const FILE_SIZE = 10_000_000;
/** Bound on each wait (a 10 MB transfer takes a second or two on an idle machine). */
const STEP_TIMEOUT_MS = 60_000;
/** DATA frame size our server writes. */
const DATA_CHUNK = 64 * 1024;

let directory = '';
let certificate: SelfSignedCertificate;
let file: Uint8Array;
let fileDigest = '';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

test.before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-transfer-'));
  mkdirSync(join(directory, 'www'));
  mkdirSync(join(directory, 'downloads'));
  certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  writeFileSync(join(directory, 'cert.pem'), certificate.certificatePem);
  writeFileSync(join(directory, 'key.pem'), certificate.privateKeyPem);
  const random = new SimRandom(21);
  file = new Uint8Array(FILE_SIZE);
  const words = new Uint32Array(file.buffer, 0, FILE_SIZE >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = random.nextU32();
  fileDigest = sha256(file);
  writeFileSync(join(directory, 'www', 'ten.bin'), file);
});

test.after(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> => withStepTimeout(promise, what, STEP_TIMEOUT_MS);

it('our client downloads 10 MB from the ngtcp2 server (one HTTP/3 GET), SHA-256 intact', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const port = await freeUdpPort();
  // -q: ngtcp2 logs a few lines per packet otherwise, megabytes for this transfer.
  const server = new SpawnedProcess(peer.server, ['-q', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')], {}, directory);
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    // gtlsserver -q prints nothing when ready: retry connecting until it answers.
    let connection: QuicConnection | undefined;
    for (let attempt = 0; attempt < 20 && !connection; attempt++) {
      connection = await Promise.race([
        client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500 + attempt * 250)),
      ]).catch(() => undefined);
    }
    assert.ok(connection, `no handshake with gtlsserver:\n${summary(server.output)}`);
    await openControlStream(connection);
    const stream = await connection.openBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(encodeGetRequest(`127.0.0.1:${port}`, '/ten.bin'));
    await writer.close();
    const response = await withTimeout(readAll(stream, 2 * FILE_SIZE), 'reading the response');
    assert.ok(response, 'response within bounds');
    const body = responseBody(parseFrames(response));
    assert.is(body.length, FILE_SIZE);
    assert.is(sha256(body), fileDigest);
    await connection.close(H3_NO_ERROR, 'done');
  } finally {
    await client.close();
    await server.stop();
  }
});

/** Our server: answers every request stream with 200 and the test file; ignores the request's headers. */
function serveFile(connection: QuicConnection): void {
  void openControlStream(connection).catch(() => undefined);
  void (async () => {
    for await (const stream of connection.incomingBidirectionalStreams) {
      void (async () => {
        await readAll(stream, 64 * 1024); // the request: HEADERS then FIN
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

for (const keyUpdate of [false, true]) {
  const title = keyUpdate ? ', ngtcp2 updating keys 20 ms into the connection' : '';
  it(`the ngtcp2 client downloads 10 MB from our server (one HTTP/3 GET)${title}, SHA-256 intact`, async () => {
    const peer = lookup.ok ? lookup.peer : undefined;
    if (!peer) return;
    const server = await QuicEndpoint.listen({
      host: '127.0.0.1',
      port: 0,
      certificatePem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      alpnProtocols: ['h3'],
    });
    const serving = (async () => {
      for await (const connection of server.incoming) serveFile(connection);
    })();
    const port = server.address.port;
    const downloads = join(directory, 'downloads', keyUpdate ? 'key-update' : 'plain');
    mkdirSync(downloads, { recursive: true });
    const client = new SpawnedProcess(
      peer.client,
      [
        ...(keyUpdate ? ['--key-update=20ms'] : ['-q']),
        '--no-quic-dump',
        '--no-http-dump',
        '--exit-on-all-streams-close',
        `--download=${downloads}`,
        '--timeout=15s',
        '127.0.0.1',
        String(port),
        `https://127.0.0.1:${port}/ten.bin`,
      ],
      {},
      directory,
    );
    try {
      const code = await withTimeout(client.exited, 'gtlsclient');
      assert.is(code, 0, `gtlsclient failed:\n${summary(client.output)}`);
      const received = readFileSync(join(downloads, 'ten.bin'));
      assert.is(received.length, FILE_SIZE);
      assert.is(sha256(received), fileDigest);
      if (keyUpdate) {
        assert.match(client.output, /Initiate key update/, 'ngtcp2 updated its keys');
        // RFC 9001 §6.2: having received a packet of the new phase we must answer in it; ngtcp2
        // logs the update as confirmed when one of our packets with Key Phase 1 opens.
        assert.match(client.output, /pkt rx pkn=\d+ dcid=\S+ type=1RTT k=1/, 'our packets carry the new key phase');
        assert.match(client.output, /key update confirmed/);
      }
    } finally {
      await client.stop();
      await server.close();
      await serving;
    }
  });
}

test.run();
