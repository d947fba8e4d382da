/**
 * The interop endpoint without peers: HTTP/0.9 request parsing and path confinement, the
 * runner's environment contract, test-case plans, HTTP/0.9 over a real loopback QUIC connection
 * (our client and server), the endpoint's exit statuses, and the runner's handshake-feature
 * cases with both sides ours (retry, resumption, zerortt, keyupdate, v2, amplificationlimit),
 * checked on the wire the way the runner reads its capture (tools/interop/runner-checks.ts).
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSignedCertificate, QUIC_V1, QUIC_V2, QuicEndpoint, QuicStreamError } from '@purequic/quic';
import { SimRandom } from '@purequic/quic/sans-io';
import { ConfigError, downloadName, readEndpointConfig, urlTarget } from '../interop/config.js';
import { downloadHq, fetchHq, fileUnderRoot, formatHqRequest, HQ_ALPN, HqErrorCode, HqRequestError, MAX_REQUEST_BYTES, parseHqRequest, serveHqConnection } from '../interop/hq.js';
import { REPO_ROOT } from '../interop/peers.js';
import { AMPLIFICATION_FACTOR, receivedFrameCounts, wireChecks } from '../interop/runner-checks.js';
import { RUNNER_FILES, runInterop, runnerArrangement, SpawnedProcess, type InteropOutcome } from '../interop/runner.js';
import { planTestcase, SERVER_INITIAL_MAX_STREAMS_BIDI } from '../interop/testcases.js';
import { parseLongHeaders } from '../interop/wire-log.js';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

test('parseHqRequest: GET line with CRLF, LF or nothing after it', () => {
  assert.is(parseHqRequest(encode('GET /index.html\r\n')), '/index.html');
  assert.is(parseHqRequest(encode('GET /a/b.bin\n')), '/a/b.bin');
  assert.is(parseHqRequest(encode('GET /x')), '/x');
  assert.is(parseHqRequest(encode('GET /x?y=1#z\r\n')), '/x', 'query and fragment are not part of the file');
  assert.is(parseHqRequest(encode('GET /with%20space\r\n')), '/with space');
  assert.is(parseHqRequest(formatHqRequest('/round-trip.bin')), '/round-trip.bin');
});

test('parseHqRequest: anything but GET /path is a bad request', () => {
  for (const bad of ['POST /x\r\n', 'GET x\r\n', 'get /x\r\n', '', 'GET /a b\r\n', 'GET /%zz\r\n', 'GET /a\0b']) {
    assert.throws(() => parseHqRequest(encode(bad)), (e: unknown) => e instanceof HqRequestError, JSON.stringify(bad));
  }
  assert.throws(() => parseHqRequest(new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0x41)), (e: unknown) => e instanceof HqRequestError);
});

test('fileUnderRoot: stays inside the served directory', () => {
  assert.is(fileUnderRoot('/srv/www', '/a.bin'), '/srv/www/a.bin');
  assert.is(fileUnderRoot('/srv/www/', '/d/e.bin'), '/srv/www/d/e.bin');
  assert.is(fileUnderRoot('/srv/www', '/d/../a.bin'), '/srv/www/a.bin');
  assert.is(fileUnderRoot('/srv/www', '/../etc/passwd'), undefined);
  assert.is(fileUnderRoot('/srv/www', '/../www2/x'), undefined, 'a sibling sharing the prefix is outside');
  assert.is(fileUnderRoot('/srv/www', '/'), undefined, 'the directory itself is not a file');
});

test('readEndpointConfig: runner variables and defaults', () => {
  const server = readEndpointConfig({ ROLE: 'server', TESTCASE: 'handshake' });
  assert.equal(
    { www: server.www, certs: server.certs, host: server.host, port: server.port, crypto: server.crypto },
    { www: '/www', certs: '/certs', host: '::', port: 443, crypto: 'auto' },
  );
  const client = readEndpointConfig({
    ROLE: 'client',
    TESTCASE: 'transfer',
    REQUESTS: ' https://server4:443/a.bin  https://[::1]:4433/b.bin ',
    SSLKEYLOGFILE: '/logs/keys.log',
    QLOGDIR: '/logs/qlog/',
    DOWNLOADS: '/tmp/dl',
  });
  assert.equal(client.requests.map((u) => urlTarget(u)), [
    { host: 'server4', port: 443 },
    { host: '::1', port: 4433 },
  ]);
  assert.equal(client.requests.map((u) => downloadName(u)), ['a.bin', 'b.bin']);
  assert.is(client.keyLogFile, '/logs/keys.log');
  assert.is(client.qlogDir, '/logs/qlog/');
  assert.is(client.downloads, '/tmp/dl');
  assert.is(urlTarget(new URL('https://example.org/x')).port, 443);
  assert.is(downloadName(new URL('https://h/dir/')), undefined);
});

test('readEndpointConfig: PREFERRED_ADDRESS (ours) for a server offering a preferred address', () => {
  assert.is(readEndpointConfig({ ROLE: 'server', TESTCASE: 'connectionmigration' }).preferredAddress, undefined);
  const both = readEndpointConfig({ ROLE: 'server', TESTCASE: 'connectionmigration', PREFERRED_ADDRESS: '192.0.2.1:4433, [2001:db8::1]:0' });
  assert.equal(both.preferredAddress, { ipv4: { address: '192.0.2.1', port: 4433 }, ipv6: { address: '2001:db8::1', port: 0 } });
  for (const bad of ['192.0.2.1', 'host:443', '[::1]:70000', '1.2.3.4:5,']) {
    assert.throws(() => readEndpointConfig({ ROLE: 'server', TESTCASE: 'connectionmigration', PREFERRED_ADDRESS: bad }), (e: unknown) => e instanceof ConfigError, bad);
  }
});

test('readEndpointConfig: invalid settings are ConfigErrors', () => {
  const cases: Record<string, string | undefined>[] = [
    { TESTCASE: 'handshake' },
    { ROLE: 'proxy', TESTCASE: 'handshake' },
    { ROLE: 'server' },
    { ROLE: 'client', TESTCASE: 'handshake' },
    { ROLE: 'client', TESTCASE: 'handshake', REQUESTS: 'not-a-url' },
    { ROLE: 'client', TESTCASE: 'handshake', REQUESTS: 'http://h/a' },
    { ROLE: 'server', TESTCASE: 'handshake', PORT: '70000' },
    { ROLE: 'server', TESTCASE: 'handshake', CRYPTO: 'openssl' },
  ];
  for (const env of cases) assert.throws(() => readEndpointConfig(env), (e: unknown) => e instanceof ConfigError, JSON.stringify(env));
});

test('planTestcase: supported cases, small client windows for transfer, stream limit for multiplexing', () => {
  const supported = ['handshake', 'transfer', 'multiplexing', 'chacha20', 'multiconnect', 'retry', 'resumption', 'zerortt', 'keyupdate', 'v2', 'amplificationlimit', 'rebind-port', 'rebind-addr'];
  for (const role of ['client', 'server'] as const) {
    for (const name of supported) assert.ok(planTestcase(role, name), `${role} ${name}`);
    for (const name of ['ecn', 'transferloss', 'constructor', '']) assert.is(planTestcase(role, name), undefined, `${role} ${name}`);
  }
  // A client given `connectionmigration` migrates actively; a server offers a preferred_address (RFC 9000 §9.6).
  assert.ok(planTestcase('client', 'connectionmigration')!.migrate);
  assert.ok(planTestcase('server', 'connectionmigration')!.preferredAddress);
  assert.not.ok(planTestcase('server', 'transfer')!.preferredAddress);
  const transfer = planTestcase('client', 'transfer')!;
  assert.ok((transfer.transport.initialMaxStreamDataBidiLocal ?? Infinity) <= 64 * 1024);
  assert.ok((transfer.transport.initialMaxData ?? Infinity) < 1 << 20, 'windows must grow during MB-sized files');
  // Runner multiplexing check: initial_max_streams_bidi <= 1000.
  assert.ok(SERVER_INITIAL_MAX_STREAMS_BIDI <= 1000);
  assert.is(planTestcase('server', 'multiplexing')!.transport.initialMaxStreamsBidi, SERVER_INITIAL_MAX_STREAMS_BIDI);
  assert.ok(planTestcase('client', 'chacha20')!.chacha20Only);
  assert.ok(planTestcase('client', 'multiconnect')!.connectionPerRequest);
  assert.ok(planTestcase('server', 'retry')!.retry);
  assert.not.ok(planTestcase('server', 'handshake')!.retry, 'runner handshake: no Retry');
  assert.is(planTestcase('client', 'resumption')!.resumption, 'resume');
  assert.is(planTestcase('client', 'zerortt')!.resumption, 'early-data');
  assert.ok(planTestcase('server', 'zerortt')!.earlyData);
  assert.ok(planTestcase('client', 'keyupdate')!.initiateKeyUpdate);
  // RFC 9368 §2.3, §5: the client prefers v2 and starts in v1; the server prefers v2.
  assert.equal(planTestcase('client', 'v2')!.versions, [QUIC_V2, QUIC_V1]);
  assert.equal(planTestcase('server', 'v2')!.versions, [QUIC_V2, QUIC_V1]);
});

test('parseLongHeaders: v1 Initial with token coalesced with a Handshake, v2 packet types, Retry, Version Negotiation', () => {
  // v1 Initial: DCID 0102, SCID 03, token aabb, Length 2 (+2 bytes), then a Handshake, DCID 01, SCID -, Length 1.
  const v1 = Uint8Array.from([0xc0, 0, 0, 0, 1, 2, 1, 2, 1, 3, 2, 0xaa, 0xbb, 2, 0, 0, 0xe0, 0, 0, 0, 1, 1, 1, 0, 1, 0]);
  const packets = parseLongHeaders(v1, 'toServer', 4);
  assert.equal(
    packets.map((p) => [p.kind, p.version, p.dcid, p.scid, p.token, p.datagram]),
    [
      ['initial', 1, '0102', '03', 'aabb', 4],
      ['handshake', 1, '01', '', '', 4],
    ],
  );
  // RFC 9369 §3.2: in v2 the type bits 0b01 are Initial, 0b11 Handshake, 0b00 Retry.
  const v2Initial = Uint8Array.from([0xd0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1, 0]);
  assert.is(parseLongHeaders(v2Initial, 'toClient', 0)[0]?.kind, 'initial');
  const v2Handshake = Uint8Array.from([0xf0, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 1, 0]);
  assert.is(parseLongHeaders(v2Handshake, 'toClient', 0)[0]?.kind, 'handshake');
  const retry = new Uint8Array(7 + 3 + 16);
  retry.set([0xf0, 0, 0, 0, 1, 0, 0, 0x11, 0x22, 0x33]);
  assert.equal(parseLongHeaders(retry, 'toClient', 0).map((p) => [p.kind, p.token]), [['retry', '112233']]);
  const vn = Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.is(parseLongHeaders(vn, 'toClient', 0)[0]?.kind, 'version-negotiation');
  // A short header, or a truncated long one, yields nothing.
  assert.equal(parseLongHeaders(Uint8Array.from([0x40, 1, 2, 3, 4, 5, 6, 7]), 'toServer', 0), []);
  assert.equal(parseLongHeaders(Uint8Array.from([0xc0, 0, 0, 0, 1, 20, 1]), 'toServer', 0), []);
});

test('HTTP/0.9 over loopback QUIC: files served intact, missing and escaping paths reset with NOT_FOUND, bad request reset', async () => {
  const root = mkdtempSync(join(tmpdir(), 'purequic-hq-'));
  const www = join(root, 'www');
  mkdirSync(www);
  const random = new SimRandom(7);
  const big = new Uint8Array(300_001);
  for (let i = 0; i < big.length; i++) big[i] = random.nextU32() & 0xff;
  writeFileSync(join(www, 'big.bin'), big);
  writeFileSync(join(www, 'empty.bin'), new Uint8Array(0));
  writeFileSync(join(root, 'secret.txt'), 'outside the served directory');
  const cert = await generateSelfSignedCertificate({ nowMs: Date.now() });
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem, alpnProtocols: [HQ_ALPN] });
  const log: string[] = [];
  const serving = (async () => {
    for await (const conn of server.incoming) void serveHqConnection(conn, { root: www, log: (l) => log.push(l) });
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  try {
    const conn = await client.connect({ host: '127.0.0.1', port: server.address.port, alpnProtocols: [HQ_ALPN], verification: { mode: 'none' } });
    assert.is(conn.alpn, HQ_ALPN);

    const destination = join(root, 'big.copy');
    assert.is(await downloadHq(conn, '/big.bin', destination), big.length);
    assert.is(createHash('sha256').update(readFileSync(destination)).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.is(await fetchHq(conn, '/empty.bin', () => assert.unreachable('an empty file has no chunk')), 0);

    for (const path of ['/missing.bin', '/../secret.txt', '/']) {
      const error = await fetchHq(conn, path, () => undefined).then(() => undefined, (e: unknown) => e);
      assert.instance(error, QuicStreamError, path);
      assert.is((error as QuicStreamError).source, 'reset', path);
      assert.is((error as QuicStreamError).errorCode, HqErrorCode.NOT_FOUND, path);
    }

    const stream = await conn.openBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(encode('PUT /big.bin\r\n'));
    await writer.close();
    const error = await stream.readable.getReader().read().then(() => undefined, (e: unknown) => e);
    assert.instance(error, QuicStreamError);
    assert.is((error as QuicStreamError).errorCode, HqErrorCode.BAD_REQUEST);
    assert.ok(log.some((l) => l.includes('not found: /missing.bin')), log.join('\n'));
    await conn.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
    await serving;
    rmSync(root, { recursive: true, force: true });
  }
});

/** Runs `pnpm endpoint` with this environment; resolves with its exit status and output. */
async function runEndpoint(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = new SpawnedProcess(process.execPath, ['--conditions=@purequic/source', '--import', 'tsx', join(REPO_ROOT, 'tools', 'interop', 'endpoint.ts')], env, REPO_ROOT);
  const timer = setTimeout(() => void child.stop(), 60_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output };
}

test('endpoint exits 127 for an unsupported TESTCASE and 1 for a bad configuration', async () => {
  const unsupported = await runEndpoint({ ROLE: 'client', TESTCASE: 'ecn', REQUESTS: 'https://127.0.0.1:1/a' });
  assert.is(unsupported.code, 127, unsupported.output);
  assert.match(unsupported.output, /unsupported test case: ecn/);
  const oneUrl = await runEndpoint({ ROLE: 'client', TESTCASE: 'resumption', REQUESTS: 'https://127.0.0.1:1/a' });
  assert.is(oneUrl.code, 1, oneUrl.output);
  assert.match(oneUrl.output, /needs at least 2 URLs/);
  const badRole = await runEndpoint({ ROLE: 'proxy', TESTCASE: 'handshake' });
  assert.is(badRole.code, 1, badRole.output);
  assert.match(badRole.output, /ROLE must be client or server/);
});

test('endpoint client and server (pnpm endpoint, both ours): runner transfer case, files intact, key logs written', async () => {
  const result = await runInterop({
    server: 'purequic',
    client: 'purequic',
    testcase: 'transfer',
    files: [
      { name: 'one.bin', size: 1_500_000 },
      { name: 'two.bin', size: 1 },
      { name: 'three.bin', size: 70_000 },
    ],
    seed: 11,
    timeoutMs: 90_000,
  });
  assert.ok(result.ok, `${result.problems.join('\n')}\n--- server\n${result.serverLog}\n--- client\n${result.clientLog}`);
  assert.equal(result.clientReport && { files: result.clientReport.files, bytes: result.clientReport.bytes }, { files: 3, bytes: 1_570_001 });
  assert.ok(result.keyLogBytes.client > 0 && result.keyLogBytes.server > 0, 'SSLKEYLOGFILE honoured on both sides');
  assert.match(result.serverLog, /handshake complete: remote=127\.0\.0\.1:\d+ alpn=hq-interop cipher=TLS_AES_128_GCM_SHA256 group=x25519/);
});

test('endpoint chacha20 case (both ours): both sides restrict to TLS_CHACHA20_POLY1305_SHA256', async () => {
  const result = await runInterop({ server: 'purequic', client: 'purequic', testcase: 'chacha20', files: [{ name: 'c.bin', size: 100_000 }], seed: 12, timeoutMs: 90_000 });
  assert.ok(result.ok, `${result.problems.join('\n')}\n--- server\n${result.serverLog}\n--- client\n${result.clientLog}`);
  assert.match(result.serverLog, /handshake complete: \S+ alpn=hq-interop cipher=TLS_CHACHA20_POLY1305_SHA256 /);
  assert.match(result.clientLog, /handshake complete: alpn=hq-interop cipher=TLS_CHACHA20_POLY1305_SHA256 /);
});

/** Both sides ours through `pnpm endpoint`, the relay recording the wire (15 ms each way, as the runner's link). */
async function runOurs(testcase: string, seed: number, keepDirectory = false): Promise<InteropOutcome> {
  const result = await runInterop({
    server: 'purequic',
    client: 'purequic',
    files: RUNNER_FILES[testcase]!,
    seed,
    timeoutMs: 90_000,
    observeWire: true,
    delayMs: 15,
    keepDirectory,
    ...runnerArrangement(testcase),
  });
  assert.ok(result.ok, `${result.problems.join('\n')}\n--- server\n${result.serverLog}\n--- client\n${result.clientLog}`);
  return result;
}

function handshakeLines(log: string): string[] {
  return log.split('\n').filter((l) => l.startsWith('handshake complete:'));
}

test('endpoint retry case (both ours): a Retry, its token in the next client Initial, one handshake', async () => {
  const result = await runOurs('retry', 21);
  assert.equal(wireChecks('retry', result.wire!, RUNNER_FILES.retry!), []);
});

test('endpoint handshake case (both ours): no Retry, one handshake, v1 only', async () => {
  const result = await runOurs('handshake', 22);
  assert.equal(wireChecks('handshake', result.wire!, RUNNER_FILES.handshake!), []);
  assert.ok(result.wire!.packets.every((p) => p.version === QUIC_V1), 'only QUIC v1 on the wire');
});

test('endpoint resumption case (both ours): the second connection resumes without 0-RTT', async () => {
  const result = await runOurs('resumption', 23);
  assert.equal(wireChecks('resumption', result.wire!, RUNNER_FILES.resumption!), []);
  const server = handshakeLines(result.serverLog);
  assert.match(server[0] ?? '', /resumed=no early-data=no/);
  assert.match(server[1] ?? '', /resumed=yes early-data=no/);
  assert.is(result.wire!.long('toServer', '0rtt').length, 0, 'no 0-RTT in the resumption case');
});

test('endpoint zerortt case (both ours): the second connection sends its requests in 0-RTT, accepted', async () => {
  const result = await runOurs('zerortt', 24);
  const wire = result.wire!;
  assert.is(wire.handshakes, 2);
  assert.ok(wire.long('toServer', '0rtt').length > 0, 'the client sent 0-RTT packets');
  assert.match(handshakeLines(result.serverLog)[1] ?? '', /resumed=yes early-data=yes/);
  assert.match(handshakeLines(result.clientLog)[1] ?? '', /resumed=yes early-data=yes/);
});

test('endpoint keyupdate case (both ours): the client starts a key update, the server follows; qlog records it', async () => {
  const result = await runOurs('keyupdate', 25, true);
  try {
    assert.match(result.clientLog, /key updates: local=[1-9]\d* /);
    assert.match(result.serverLog, /key updates: local=\d+ remote=[1-9]/);
    // QLOGDIR: one .sqlog per connection on each side; the client's shows its key update.
    const clientQlogs = readdirSync(join(result.directory, 'logs', 'qlog-client')).filter((f) => f.endsWith('_client.sqlog'));
    const serverQlogs = readdirSync(join(result.directory, 'logs', 'qlog-server')).filter((f) => f.endsWith('_server.sqlog'));
    assert.is(clientQlogs.length, 1);
    assert.is(serverQlogs.length, 1);
    const qlog = readFileSync(join(result.directory, 'logs', 'qlog-client', clientQlogs[0]!), 'utf8');
    assert.match(qlog, /"quic:key_updated".*"trigger":"local_update"/);
  } finally {
    rmSync(result.directory, { recursive: true, force: true });
  }
});

test('endpoint v2 case (both ours): first flight in v1, the server switches to v2, Handshake packets v2 only', async () => {
  const result = await runOurs('v2', 26);
  assert.equal(wireChecks('v2', result.wire!, RUNNER_FILES.v2!), []);
  assert.match(handshakeLines(result.serverLog)[0] ?? '', /version=6b3343cf/);
  assert.match(handshakeLines(result.clientLog)[0] ?? '', /version=6b3343cf/);
});

test('endpoint amplificationlimit (both ours): 9-certificate chain, client packets 2-7 dropped, server within 3x', async () => {
  const result = await runOurs('amplificationlimit', 27);
  const wire = result.wire!;
  assert.equal(wireChecks('amplificationlimit', wire, RUNNER_FILES.amplificationlimit!), []);
  assert.ok(wire.datagrams.filter((d) => d.direction === 'toServer' && !d.forwarded).length === 6, 'client datagrams 2-7 were dropped');
  // The limit mattered: the server's handshake flight is larger than 3x the client's Initial.
  const firstInitial = wire.datagrams.find((d) => d.direction === 'toServer')!.size;
  const serverFlight = wire.datagrams.filter((d) => d.direction === 'toClient' && wire.packets.some((p) => p.direction === 'toClient' && p.datagram === d.index && p.kind === 'handshake'));
  const flightBytes = serverFlight.reduce((sum, d) => sum + d.size, 0);
  assert.ok(flightBytes > AMPLIFICATION_FACTOR * firstInitial, `server flight ${flightBytes} bytes, client Initial ${firstInitial}`);
});

/** The server's `connection ended: ...; remote=ADDR:PORT` against its `handshake complete: remote=...`. */
function serverRemotes(log: string): { first: string; last: string } {
  return { first: /handshake complete: remote=(\S+)/.exec(log)?.[1] ?? '', last: /connection ended: .*; remote=(\S+)/.exec(log)?.[1] ?? '' };
}

function qlogFrames(result: InteropOutcome, side: 'client' | 'server'): Map<string, number> {
  return receivedFrameCounts(join(result.directory, 'logs', `qlog-${side}`));
}

for (const testcase of ['rebind-port', 'rebind-addr'] as const) {
  test(`${testcase} (both ours, runner behaviour transfer): 10 MiB through a NAT that rebinds every 500 ms; the server validates each new path`, async () => {
    const result = await runOurs(testcase, 28, true);
    try {
      assert.ok(result.rebinds >= 1, `the relay rebound ${result.rebinds} times`);
      assert.equal(wireChecks(testcase, result.wire!, RUNNER_FILES[testcase]!), [], 'one handshake, no Retry');
      // RFC 9000 §9.3: the server challenges the new path, the client answers.
      const challenges = qlogFrames(result, 'client').get('path_challenge') ?? 0;
      const responses = qlogFrames(result, 'server').get('path_response') ?? 0;
      assert.ok(challenges >= 1, `the client received no PATH_CHALLENGE after ${result.rebinds} rebindings`);
      assert.ok(responses >= 1, 'the server received no PATH_RESPONSE');
      const { first, last } = serverRemotes(result.serverLog);
      assert.is.not(last, first, 'the server ends on the NAT\'s new mapping');
      if (testcase === 'rebind-addr') assert.not.match(last, /^127\.0\.0\.1:/, 'the server ends on another client address');
    } finally {
      rmSync(result.directory, { recursive: true, force: true });
    }
  });
}

test('connectionmigration (both ours; the client migrates, the server runs transfer): new port, new DCID, path validated', async () => {
  const result = await runOurs('connectionmigration', 29, true);
  try {
    assert.match(result.clientLog, /migration: probing a new path/);
    assert.equal(wireChecks('connectionmigration', result.wire!, RUNNER_FILES.connectionmigration!), []);
    // RFC 9000 §9.2-9.3: the client probes from its new port with PATH_CHALLENGE; the server answers.
    assert.ok((qlogFrames(result, 'server').get('path_challenge') ?? 0) >= 1, 'the server received no PATH_CHALLENGE');
    assert.ok((qlogFrames(result, 'client').get('path_response') ?? 0) >= 1, 'the client received no PATH_RESPONSE');
    const { first, last } = serverRemotes(result.serverLog);
    assert.is.not(last, first, 'the server ends on the client\'s new address');
  } finally {
    rmSync(result.directory, { recursive: true, force: true });
  }
});

test.run();
