/**
 * The interop matrix's own parts, without peers: the QPACK reading of the minimal HTTP/3 (RFC
 * 7541 Appendix C and RFC 9204 Appendix B vectors), the relay's corruption, black holes and
 * byte-triggered rebinding, the peer configuration's case support, and the README section
 * writer.
 */

import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFieldSection, decodeHuffman, encodeGetRequest, FieldSectionError, parseFrames } from '../../interop/h3-minimal.js';
import { LossyRelay } from '../../interop/lossy-relay.js';
import { findCase, MATRIX_CASES } from '../../interop/matrix-cases.js';
import { expectedFromReport, matrixMarkdown, resolvePeers, resolveTests, type MatrixReport } from '../../interop/matrix.js';
import { findPeer, roleSupports } from '../../interop/peers-config.js';
import { END_MARKER, replaceMatrixSection, START_MARKER } from '../../interop/readme-matrix.js';
import { readExpectedMatrix } from './matrix-helpers.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

test('decodeHuffman: RFC 7541 C.4 strings', () => {
  assert.is(decodeHuffman(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')), 'www.example.com');
  assert.is(decodeHuffman(hex('a8eb 1064 9cbf')), 'no-cache');
  assert.is(decodeHuffman(hex('25a8 49e9 5ba9 7d7f')), 'custom-key');
  assert.is(decodeHuffman(hex('25a8 49e9 5bb8 e8b4 bf')), 'custom-value');
  assert.is(decodeHuffman(new Uint8Array(0)), '');
});

test('decodeHuffman: padding that is not a prefix of EOS, or longer than 7 bits, is an error (RFC 7541 §5.2)', () => {
  // '0' is 00000 (5 bits); 000 as padding is not all ones.
  assert.throws(() => decodeHuffman(hex('00')), (e: unknown) => e instanceof FieldSectionError);
  // A full byte of ones is 8 bits of padding.
  assert.throws(() => decodeHuffman(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff ff')), (e: unknown) => e instanceof FieldSectionError);
});

test('decodeFieldSection: RFC 9204 B.1 literal with static name reference; our own GET request', () => {
  assert.equal(decodeFieldSection(hex('0000 510b 2f69 6e64 6578 2e68 746d 6c')), [[':path', '/index.html']]);
  const get = parseFrames(encodeGetRequest('127.0.0.1:4433', '/a b.bin'))[0]!;
  assert.equal(decodeFieldSection(get.payload), [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', '127.0.0.1:4433'],
    [':path', '/a b.bin'],
  ]);
});

test('decodeFieldSection: dynamic-table references are refused (we advertise no table), truncation too', () => {
  // RFC 9204 B.2's second field section: Required Insert Count 2 (encoded 3).
  for (const block of ['0381 10', '0000 80', '0000 10', '0000 5f', '0000 51 0b 2f']) {
    assert.throws(() => decodeFieldSection(hex(block)), (e: unknown) => e instanceof FieldSectionError, block);
  }
});

function bind(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

/** A relay in front of an echo server; `send` pushes `count` datagrams and resolves with what came back. */
async function echoThroughRelay(extras: Parameters<typeof LossyRelay.start>[3], datagrams: Uint8Array[], gapMs = 0): Promise<{ received: Buffer[]; relay: LossyRelay }> {
  const server = createSocket('udp4');
  const serverPort = await bind(server);
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  const relay = await LossyRelay.start('127.0.0.1', { address: '127.0.0.1', port: serverPort }, { rate: 0, maxBurst: 1, seed: 1 }, extras);
  const client = createSocket('udp4');
  await bind(client);
  const received: Buffer[] = [];
  client.on('message', (msg) => received.push(msg));
  try {
    for (const d of datagrams) {
      client.send(d, relay.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, gapMs));
    }
    // Bounded: up to 2 s for the last echoes.
    for (let i = 0; i < 200 && received.length + relay.statistics.toServer.dropped + relay.statistics.toClient.dropped < datagrams.length; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    client.close();
    server.close();
    await relay.close();
  }
  return { received, relay };
}

test('LossyRelay corruption: chosen datagrams arrive with one byte changed per corruption, none dropped', async () => {
  // All zeros: a changed byte is a non-zero one.
  const datagrams = Array.from({ length: 200 }, () => new Uint8Array(100));
  const { received, relay } = await echoThroughRelay({ corrupt: { rate: 0.1, maxBurst: 3, seed: 4 } }, datagrams);
  assert.is(received.length, datagrams.length, 'corruption drops nothing');
  const changedBytes = received.map((r) => r.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0));
  const s = relay.statistics;
  assert.ok(s.corrupted > 0, 'some datagrams were corrupted');
  // One byte per direction at most (both directions may hit the same echo).
  assert.ok(changedBytes.every((n) => n <= 2), `changed bytes per datagram: ${changedBytes.filter((n) => n > 0).join(',')}`);
  const changed = changedBytes.filter((n) => n > 0).length;
  assert.ok(changed > 0 && changed <= s.corrupted, `${changed} changed echoes for ${s.corrupted} corruptions`);
  assert.is(changedBytes.reduce((a, b) => a + b, 0) <= s.corrupted, true);
});

test('LossyRelay black hole: after the byte threshold everything is dropped for the duration, then flows again', async () => {
  const datagrams = Array.from({ length: 30 }, () => new Uint8Array(100));
  // Dark for 150 ms once 1,000 bytes went to the client; 30 datagrams 10 ms apart take 300 ms+.
  const { received, relay } = await echoThroughRelay({ blackhole: { atBytes: [1000], durationMs: 150 } }, datagrams, 10);
  const s = relay.statistics;
  assert.ok(s.blackholed > 0, 'the black hole dropped datagrams');
  assert.is(received.length + s.toServer.dropped + s.toClient.dropped, datagrams.length);
  assert.ok(received.length >= 10, `traffic before and after the black hole (${received.length} echoes)`);
});

test('LossyRelay rebinding by bytes: the flow moves to a new port once the threshold passes', async () => {
  const server = createSocket('udp4');
  const serverPort = await bind(server);
  const sources = new Set<number>();
  server.on('message', (msg, rinfo) => {
    sources.add(rinfo.port);
    server.send(msg, rinfo.port, rinfo.address);
  });
  const relay = await LossyRelay.start('127.0.0.1', { address: '127.0.0.1', port: serverPort }, { rate: 0, maxBurst: 1, seed: 1 }, {
    rebind: { firstMs: 0, everyMs: 0, changeAddress: false, atBytes: [500] },
  });
  const client = createSocket('udp4');
  await bind(client);
  let echoes = 0;
  client.on('message', () => echoes++);
  try {
    // Bounded: 20 datagrams, each waiting for its echo up to 1 s.
    for (let i = 0; i < 20; i++) {
      const before = echoes;
      client.send(new Uint8Array(100), relay.port, '127.0.0.1');
      for (let t = 0; t < 100 && echoes === before; t++) await new Promise((r) => setTimeout(r, 10));
    }
    assert.is(relay.rebinds, 1);
    assert.is(sources.size, 2, 'the server saw the old and the new port');
  } finally {
    client.close();
    server.close();
    await relay.close();
  }
});

test('peer configuration: filters, aliases and what each role supports', () => {
  assert.equal(resolvePeers('ours,quic-go'), ['purequic', 'quic-go']);
  assert.throws(() => resolvePeers('nope'));
  assert.equal(resolveTests('H,transfer,3'), ['handshake', 'transfer', 'http3']);
  assert.is(resolveTests(undefined).length, MATRIX_CASES.length);
  const ours = findPeer('ours')!;
  for (const c of MATRIX_CASES) {
    if (c.name === 'ecn') continue;
    assert.ok(roleSupports(ours.client, c.name).ok, `our client runs ${c.name}`);
    assert.ok(roleSupports(ours.server, c.name).ok, `our server runs ${c.name}`);
  }
  assert.ok(findCase('ecn')!.impossible);
  const v2 = roleSupports(findPeer('quic-go')!.server, 'v2');
  assert.ok(!v2.ok && /draft/.test(v2.reason));
  const h3 = roleSupports(findPeer('ngtcp2')!.server, 'transfer');
  assert.ok(h3.ok && /HTTP\/3/.test(h3.note));
  // Peers built by hand are "not installed" without their command variables.
  if (!process.env.AIOQUIC_SERVER_CMD && !process.env.AIOQUIC_CLIENT_CMD) assert.is(findPeer('aioquic')!.server, undefined);
});

test('peers from command variables: the runner contract, plus MATRIX_CASE and the WebTransport variables', async () => {
  const saved = process.env.QUICHE_SERVER_CMD;
  process.env.QUICHE_SERVER_CMD = 'exit 127';
  try {
    const server = findPeer('quiche')!.server!;
    const context = {
      role: 'server' as const,
      testcase: 'handshake',
      matrixCase: 'wt-handshake',
      application: 'h3' as const,
      www: '/w',
      certs: '/c',
      downloads: '/d',
      logs: '/l',
      qlogDir: '/q',
      keyLogFile: '/k',
      host: '127.0.0.1',
      port: 4433,
      urls: [],
    };
    const plain = await server.launch(context);
    assert.equal([plain.command, ...plain.args], ['/bin/sh', '-c', 'exit 127']);
    assert.is(plain.env.TESTCASE, 'handshake');
    assert.is(plain.env.MATRIX_CASE, 'wt-handshake');
    assert.is(plain.env.PORT, '4433');
    assert.is(plain.env.WEBTRANSPORT, undefined);
    const wt = await server.launch({ ...context, webtransport: { protocols: ['wt-interop-1'], serverRequests: ['e/f'] } });
    assert.is(wt.env.WEBTRANSPORT, '1');
    assert.is(wt.env.PROTOCOLS, 'wt-interop-1');
    assert.is(wt.env.REQUESTS, 'e/f');
  } finally {
    if (saved === undefined) delete process.env.QUICHE_SERVER_CMD;
    else process.env.QUICHE_SERVER_CMD = saved;
  }
});

test('expected matrix: every pair and case it names exists; ours x ours is complete', () => {
  const expected = readExpectedMatrix();
  for (const [pair, cells] of Object.entries(expected.pairs)) {
    const [client, server] = pair.split(' -> ');
    assert.ok(findPeer(client!) && findPeer(server!), pair);
    for (const name of Object.keys(cells)) assert.ok(findCase(name), `${pair}: ${name}`);
  }
  const tests = MATRIX_CASES.filter((c) => c.kind === 'test').map((c) => c.name);
  assert.equal(Object.keys(expected.pairs['purequic -> purequic']!).sort(), [...tests].sort());
});

test('matrix Markdown and the README section: generated between the markers, replaced in place', () => {
  const report: MatrixReport = {
    generated: '2026-12-07T15:00:00.000Z',
    scale: 'quick',
    machine: { cpus: 2, loadAverage: [1, 1, 1] },
    clients: ['purequic', 'quic-go'],
    servers: ['purequic'],
    tests: ['handshake', 'v2', 'goodput'],
    cells: [
      { client: 'purequic', server: 'purequic', test: 'handshake', result: 'pass', durationMs: 1 },
      { client: 'purequic', server: 'purequic', test: 'v2', result: 'pass', durationMs: 1 },
      { client: 'purequic', server: 'purequic', test: 'goodput', result: 'pass', figure: '8000 kbit/s', durationMs: 1 },
      { client: 'quic-go', server: 'purequic', test: 'handshake', result: 'fail', reason: 'boom', durationMs: 1 },
      { client: 'quic-go', server: 'purequic', test: 'v2', result: 'unsupported', reason: 'draft only', durationMs: 0 },
      { client: 'quic-go', server: 'purequic', test: 'goodput', result: 'pass', figure: '7000 kbit/s', durationMs: 1 },
    ],
  };
  const md = matrixMarkdown(report);
  assert.match(md, /\| purequic → purequic \| ✓ \| ✓ \| 8000k \|/);
  assert.match(md, /\| quic-go → purequic \| ✗ \| – \| 7000k \|/);
  assert.match(md, /- fails: boom \(quic-go → purequic H\)/);
  assert.match(md, /- unsupported: draft only \(quic-go → purequic V2\)/);
  const readme = `# x\n\nbefore\n${START_MARKER}\nold table\n${END_MARKER}\nafter\n`;
  const once = replaceMatrixSection(readme, report);
  assert.ok(once.startsWith(`# x\n\nbefore\n${START_MARKER}\n`) && once.endsWith(`${END_MARKER}\nafter\n`));
  assert.not.match(once, /old table/);
  assert.is(replaceMatrixSection(once, report), once, 'idempotent');
  assert.throws(() => replaceMatrixSection('# no markers', report));
  // Measurements stay out of the expected matrix.
  assert.equal(expectedFromReport(report, 1).pairs, { 'purequic -> purequic': { handshake: 'pass', v2: 'pass' }, 'quic-go -> purequic': { handshake: 'fail', v2: 'unsupported' } });
});

test.run();
