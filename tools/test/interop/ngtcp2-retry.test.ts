/**
 * Retry and NEW_TOKEN with ngtcp2 0.12 (`gtlsserver -V` demands address validation with Retry;
 * `gtlsclient --token-file` keeps a NEW_TOKEN token for its next connection), both directions.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection } from '@purequic/quic';
import { type Connection } from '@purequic/quic/sans-io';
import { ngtcp2Peer } from '../../interop/peers.js';
import { SpawnedProcess } from '../../interop/runner.js';
import { freeUdpPort, withStepTimeout } from './ngtcp2-helpers.js';

const lookup = ngtcp2Peer();
if (!lookup.ok) console.log(`SKIP ngtcp2 Retry interop tests: ${lookup.reason}`);
const it = lookup.ok ? test : test.skip;

const H3_NO_ERROR = 0x100;
const STEP_TIMEOUT_MS = 15_000;
let directory = '';
let certificatePem = '';
let privateKeyPem = '';

test.before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-retry-'));
  mkdirSync(join(directory, 'www'));
  const certificate = await generateSelfSignedCertificate({ nowMs: Date.now(), hostnames: ['localhost', '127.0.0.1'] });
  certificatePem = certificate.certificatePem;
  privateKeyPem = certificate.privateKeyPem;
  writeFileSync(join(directory, 'cert.pem'), certificatePem);
  writeFileSync(join(directory, 'key.pem'), privateKeyPem);
});

test.after(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> => withStepTimeout(promise, what, STEP_TIMEOUT_MS);

function tail(log: string, lines = 30): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}

it('our client -> ngtcp2 server with address validation (-V): Retry acted on, handshake completes', async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const port = await freeUdpPort();
  const server = new SpawnedProcess(
    peer.server,
    ['-V', '--no-quic-dump', '--no-http-dump', '-d', join(directory, 'www'), '127.0.0.1', String(port), join(directory, 'key.pem'), join(directory, 'cert.pem')],
    {},
    directory,
  );
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    assert.ok(await server.waitFor(/Using document root/, STEP_TIMEOUT_MS), `gtlsserver did not start:\n${server.output}`);
    const connection = await withTimeout(
      client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }),
      'our connect()',
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- gtlsserver\n${tail(server.output)}`);
    });
    assert.ok((connection.core as Connection).retrySourceCid, 'our client went through a Retry');
    assert.ok(await server.waitFor(/frm tx \d+ 1RTT HANDSHAKE_DONE/, STEP_TIMEOUT_MS), `no HANDSHAKE_DONE from ngtcp2:\n${tail(server.output)}`);
    await connection.close(H3_NO_ERROR, 'done');
  } finally {
    await client.close();
    await server.stop();
  }
});

it("ngtcp2 client -> our server with retry 'always': Retry acted on, our NEW_TOKEN token stored (--token-file) and valid", async () => {
  const peer = lookup.ok ? lookup.peer : undefined;
  if (!peer) return;
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem, privateKeyPem, alpnProtocols: ['h3'], retry: 'always' });
  const accepted: QuicConnection[] = [];
  void (async () => {
    for await (const c of server.incoming) {
      accepted.push(c);
      // Close a little later: NEW_TOKEN goes out once the handshake is confirmed.
      setTimeout(() => void c.close(H3_NO_ERROR, 'no HTTP/3 layer in this test'), 300);
    }
  })();
  const port = server.address.port;
  const tokenFile = join(directory, 'token');
  const run = async (): Promise<string> => {
    const client = new SpawnedProcess(
      peer.client,
      ['--token-file', tokenFile, '--no-http-dump', '--timeout=10s', '--handshake-timeout=10s', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`],
      {},
      directory,
    );
    try {
      assert.ok(await client.waitFor(/QUIC handshake has completed/, STEP_TIMEOUT_MS), `gtlsclient did not complete:\n${tail(client.output)}`);
      await withTimeout(client.exited, 'gtlsclient exit').catch(() => undefined);
      return client.output;
    } finally {
      await client.stop();
    }
  };
  try {
    const first = await run();
    assert.match(first, /Retry/i, 'the first connection saw a Retry');
    assert.ok(accepted[0] && (accepted[0].core as Connection).retrySourceCid, 'first connection: validated by Retry');
    assert.ok(existsSync(tokenFile), 'gtlsclient stored our NEW_TOKEN token');
    // The token ngtcp2 stored is ours, from a NEW_TOKEN frame ('N' kind byte). gtlsclient 0.12
    // (GnuTLS build) then fails to read its own token file ("Could not read token"), so its second
    // connection cannot present it; our own client does, from the same bytes, and skips the Retry.
    const pem = readFileSync(tokenFile, 'utf8');
    const match = /-----BEGIN QUIC TOKEN-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END QUIC TOKEN-----/.exec(pem);
    assert.ok(match, `token file format:\n${pem}`);
    const token = new Uint8Array(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
    assert.is(token[0], 0x4e, 'a NEW_TOKEN token of ours');
    const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    try {
      client.tokenStore.add(`localhost|${port}`, token);
      const ours = await withTimeout(client.connect({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['h3'], verification: { mode: 'none' } }), 'our connect()');
      assert.is((ours.core as Connection).retrySourceCid, undefined, 'no Retry with the token ngtcp2 received');
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
});

test.run();
