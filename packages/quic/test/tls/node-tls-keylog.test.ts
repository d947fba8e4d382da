/**
 * Key log interop: for the same connection, the SSLKEYLOGFILE lines our engine produces (through
 * tls/keylog.ts) must be exactly the lines OpenSSL writes for it, in both roles, so captures of
 * our traffic decrypt in Wireshark like OpenSSL's do.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KEY_LOG_LABELS, KeyLogger } from '../../src/tls/keylog.js';
import type { TlsOutput } from '../../src/tls/engine-api.js';
import { selfSigned, type TestCertificate } from './support/certificates.js';
import { ourClient, ourServer, TEST_ALPN } from './support/engines.js';
import { closeAll, connectNodeTls, startNodeTlsServer, startOurTlsServer, waitFor, withTimeout } from './support/harness.js';
import { providers } from './support/providers.js';
import { connectTls } from './support/tls-socket.js';

const BOUND_MS = 10_000;
let cert: TestCertificate;
test.before(async () => {
  // The production generator; OpenSSL checks its validity against the real clock.
  cert = await selfSigned(Date.now());
});
test.after.each(closeAll);

function ourLines(outputs: TlsOutput[]): string[] {
  const lines: string[] = [];
  const logger = new KeyLogger({ write: (line) => lines.push(line) });
  for (const output of outputs) logger.log(output);
  return lines;
}

/** OpenSSL's lines with the labels TLS 1.3 traffic secrets use (it also logs EXPORTER_SECRET). */
function trafficLines(lines: string[]): string[] {
  return lines.filter((line) => (KEY_LOG_LABELS as readonly string[]).includes(line.split(' ')[0]!));
}

test('our client logs exactly the lines OpenSSL logs for the connection', async () => {
  const server = await startNodeTlsServer({ key: cert.keyPem, cert: cert.pem, ALPNProtocols: [TEST_ALPN] });
  const engine = ourClient({ keyLog: true });
  const conn = await connectTls({ port: server.port, engine, crypto: providers.auto });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  await waitFor(() => trafficLines(server.keyLogLines).length >= 4, 'OpenSSL key log');
  const ours = ourLines(conn.outputs);
  assert.is(ours.length, 4);
  assert.equal([...ours].sort(), [...trafficLines(server.keyLogLines)].sort());
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test('our server logs exactly the lines OpenSSL logs for the connection', async () => {
  let outputs: TlsOutput[] = [];
  const server = await startOurTlsServer(() => ({ engine: ourServer(cert, { keyLog: true }), crypto: providers.auto }));
  const client = connectNodeTls(server.port, { ca: [cert.pem], servername: 'localhost', ALPNProtocols: [TEST_ALPN] });
  const nodeLines: string[] = [];
  client.socket.on('keylog', (line: Buffer) => nodeLines.push(line.toString('latin1')));
  const ourConn = await withTimeout(server.nextConnection(), BOUND_MS, 'accept');
  await withTimeout(client.secure, BOUND_MS, 'node handshake');
  await withTimeout(ourConn.handshake, BOUND_MS, 'our handshake');
  outputs = ourConn.outputs;
  await waitFor(() => trafficLines(nodeLines).length >= 4, 'OpenSSL key log');
  const ours = ourLines(outputs);
  assert.is(ours.length, 4);
  assert.equal([...ours].sort(), [...trafficLines(nodeLines)].sort());
});

test('key logging is off unless asked for: no key-log outputs', async () => {
  const server = await startNodeTlsServer({ key: cert.keyPem, cert: cert.pem, ALPNProtocols: [TEST_ALPN] });
  const conn = await connectTls({ port: server.port, engine: ourClient(), crypto: providers.auto });
  await withTimeout(conn.handshake, BOUND_MS, 'handshake');
  assert.is(conn.outputs.filter((o) => o.kind === 'key-log').length, 0);
  await withTimeout(conn.close(), BOUND_MS, 'close');
});

test.run();
