/**
 * What a new user does first, through the public entry `@purequic/quic` (issue 14): connect to
 * `localhost` while the server listens on '::', to a port where nothing answers, to a name that
 * does not resolve, to an address the socket may not send to; forget an option; generate a
 * certificate without a clock; trust the wrong certificate. Each ends quickly with an error that
 * says what went wrong. No assertion here is about time; every wait is bounded.
 */

import { createSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConnectionClosedError,
  generateSelfSignedCertificate,
  QuicConnectError,
  QuicEndpoint,
  type ConnectOptions,
  type QuicConnection,
} from '@purequic/quic';
import { parseCertificate } from '@purequic/quic/sans-io';
import { type Attempt, formatAddress, raceAttempts, type ResolvedAddress, resolveAddresses } from '../../src/endpoint/connect-attempts.js';

const cert = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1', '::1'] });
const ALPN = ['first-contact'];
const trust = { mode: 'chain' as const, trustAnchors: [cert.certificatePem] };

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function rejection(p: Promise<unknown>, ms = 20_000): Promise<Error & { code?: string }> {
  return bounded(
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: Error) => e,
    ),
    ms,
    'rejection',
  );
}

async function server(host: string, certificate = cert): Promise<QuicEndpoint> {
  const endpoint = await QuicEndpoint.listen({ host, port: 0, certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem, alpnProtocols: ALPN });
  void (async () => {
    for await (const conn of endpoint.incoming) void conn.closed;
  })();
  return endpoint;
}

async function connectAndClose(client: QuicEndpoint, options: ConnectOptions): Promise<QuicConnection> {
  const conn = await bounded(client.connect(options), 20_000, 'connect');
  await conn.close(0, 'bye');
  return conn;
}

test("host 'localhost' reaches a server listening on '::' (names are resolved, every family tried)", async () => {
  const s = await server('::');
  const client = await QuicEndpoint.bind();
  try {
    const conn = await connectAndClose(client, { host: 'localhost', port: s.address.port, alpnProtocols: ALPN, verification: trust, serverName: 'localhost' });
    assert.is(conn.alpn, ALPN[0]);
  } finally {
    await Promise.all([client.close(), s.close()]);
  }
});

test('Happy Eyeballs: the first address is silent, the next one (the other family) answers', async () => {
  const s = await server('127.0.0.1');
  // [::1] at the same port swallows everything, as a host whose IPv6 path is broken.
  const blackHole = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => blackHole.bind(s.address.port, '::1', resolve));
  const client = await QuicEndpoint.bind();
  const asked: string[] = [];
  try {
    const conn = await connectAndClose(client, {
      host: 'dual.example',
      port: s.address.port,
      alpnProtocols: ALPN,
      verification: trust,
      serverName: 'localhost',
      lookup: async (name) => {
        asked.push(name);
        return [
          { address: '::1', family: 6 },
          { address: '127.0.0.1', family: 4 },
        ];
      },
    });
    assert.equal(asked, ['dual.example']);
    assert.is(conn.remoteAddress.address.replace(/^::ffff:/, ''), '127.0.0.1');
  } finally {
    blackHole.close();
    await Promise.all([client.close(), s.close()]);
  }
});

test('address order: families interleaved from the resolver\'s first (RFC 8305 §4), limited to what the socket reaches', async () => {
  const lookup = async () => [
    { address: '2001:db8::1', family: 6 },
    { address: '2001:db8::2', family: 6 },
    { address: '192.0.2.1', family: 4 },
    { address: '192.0.2.2', family: 4 },
  ];
  const order = async (family: string, bound: string) => (await resolveAddresses('h.example', family, bound, lookup)).map((a) => a.address);
  assert.equal(await order('IPv6', '::'), ['2001:db8::1', '192.0.2.1', '2001:db8::2', '192.0.2.2']);
  assert.equal(await order('IPv4', '0.0.0.0'), ['192.0.2.1', '192.0.2.2']);
  assert.equal(await order('IPv6', '::1'), ['2001:db8::1', '2001:db8::2'], 'an IPv6-only socket');
  assert.equal(await order('IPv6', '::'), await order('IPv6', '::'), 'deterministic');
  const onlyV6 = async () => [{ address: '::1', family: 6 }];
  const e = await rejection(resolveAddresses('v6only.example', 'IPv4', '0.0.0.0', onlyV6));
  assert.is(e.code, 'EAFNOSUPPORT');
  assert.match(e.message, "v6only.example resolves to ::1, none of which this endpoint's socket (IPv4, bound to 0.0.0.0) can reach");
  assert.is(formatAddress('::ffff:127.0.0.1', 9), '127.0.0.1:9');
  assert.is(formatAddress('::1', 4433), '[::1]:4433');
});

/** A scripted attempt: settles as told, records whether it was abandoned. */
function scripted(log: string[], outcome: (address: string) => { value?: string; error?: Error; heard?: boolean } | undefined) {
  return (a: ResolvedAddress): Attempt<string> => {
    log.push(`start ${a.address}`);
    const o = outcome(a.address);
    const result = o === undefined ? new Promise<string>(() => {}) : o.error ? Promise.reject(o.error) : Promise.resolve(o.value!);
    return { result, heardFromPeer: () => o?.heard === true, abandon: () => log.push(`abandon ${a.address}`) };
  };
}

test('raceAttempts: a silent failure moves on at once; a failure after the server answered is the answer; losers are abandoned', async () => {
  const two: ResolvedAddress[] = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ];
  let log: string[] = [];
  // The first fails without hearing anything (a send error): the second starts without waiting.
  const next = await raceAttempts(two, 1, scripted(log, (a) => (a === '::1' ? { error: new Error('EACCES') } : { value: 'v4' })), 10_000, 60_000);
  assert.is(next, 'v4');
  assert.equal(log, ['start ::1', 'start 127.0.0.1']);
  // The first fails after the server answered (say, a certificate it does not trust): no second try.
  log = [];
  const answered = await rejection(raceAttempts(two, 1, scripted(log, (a) => (a === '::1' ? { error: new Error('unknown_ca'), heard: true } : { value: 'v4' })), 10_000, 60_000));
  assert.is(answered.message, 'unknown_ca');
  assert.equal(log, ['start ::1']);
  // The first stays silent past the attempt delay; the second wins and the first is abandoned.
  log = [];
  const raced = await raceAttempts(two, 1, scripted(log, (a) => (a === '::1' ? undefined : { value: 'v4' })), 10_000, 1);
  assert.is(raced, 'v4');
  assert.equal(log, ['start ::1', 'start 127.0.0.1', 'abandon ::1']);
});

test('no server on 127.0.0.1:9: a handshake timeout with its own message, not "idle timeout"', async () => {
  const client = await QuicEndpoint.bind();
  try {
    const e = await rejection(client.connect({ host: '127.0.0.1', port: 9, alpnProtocols: ALPN, verification: trust, handshakeTimeoutMs: 1500 }));
    assert.instance(e, QuicConnectError);
    assert.is(e.message, 'no response from 127.0.0.1:9 within 1.5 s');
    assert.is(e.code, 'ETIMEDOUT');
  } finally {
    await client.close();
  }
});

test('a name that does not resolve fails with the resolver error and its code', async () => {
  const client = await QuicEndpoint.bind();
  try {
    const e = await rejection(client.connect({ host: 'no-such-host.invalid', port: 4433, alpnProtocols: ALPN, verification: trust }));
    assert.not.instance(e, QuicConnectError);
    assert.ok(e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN', `${e.code}: ${e.message}`);
    assert.match(e.message, 'no-such-host.invalid');
  } finally {
    await client.close();
  }
});

test('a socket send error (the broadcast address, not allowed) fails the connect at once with its code', async () => {
  const client = await QuicEndpoint.bind();
  try {
    const e = await rejection(client.connect({ host: '255.255.255.255', port: 4433, alpnProtocols: ALPN, verification: trust }));
    assert.instance(e, QuicConnectError);
    assert.is(e.code, 'EACCES');
    assert.match(e.message, 'cannot send to 255.255.255.255:4433');
  } finally {
    await client.close();
  }
});

test('wrong or missing options are a TypeError naming the option, before anything is sent', async () => {
  const client = await QuicEndpoint.bind();
  try {
    const noVerification = { host: '127.0.0.1', port: 4433, alpnProtocols: ALPN } as unknown as ConnectOptions;
    let e = await rejection(client.connect(noVerification));
    assert.instance(e, TypeError);
    assert.match(e.message, "QuicEndpoint.connect: options.verification is required: { mode: 'chain', trustAnchors: [caPem] }");
    e = await rejection(client.connect({ host: '127.0.0.1', port: 4433, verification: trust } as unknown as ConnectOptions));
    assert.match(e.message, 'options.alpnProtocols must be a non-empty array');
    e = await rejection(client.connect({ host: '127.0.0.1', port: 4433, alpnProtocols: ALPN, verification: { mode: 'chain' } } as unknown as ConnectOptions));
    assert.match(e.message, 'options.verification.trustAnchors must be a non-empty array');
    e = await rejection(client.connect({ host: '127.0.0.1', port: '4433', alpnProtocols: ALPN, verification: trust } as unknown as ConnectOptions));
    assert.match(e.message, 'options.port must be an integer port number');
  } finally {
    await client.close();
  }
  const listenError = await rejection(QuicEndpoint.listen({ port: 0, alpnProtocols: ALPN } as unknown as Parameters<typeof QuicEndpoint.listen>[0]));
  assert.instance(listenError, TypeError);
  assert.match(listenError.message, 'QuicEndpoint.listen: options.certificatePem must be a PEM string');
});

test('generateSelfSignedCertificate() without nowMs is valid from now', async () => {
  const before = Date.now();
  const generated = await generateSelfSignedCertificate();
  const parsed = parseCertificate(generated.certificateDer);
  assert.ok(Number.isFinite(parsed.notBeforeMs) && parsed.notBeforeMs <= before, `notBefore ${parsed.notBeforeMs}`);
  assert.ok(parsed.notBeforeMs > before - 5 * 60_000, 'starts about now (one minute of clock skew allowed)');
  assert.ok(parsed.notAfterMs > Date.now() + 12 * 24 * 3600_000, 'valid for 13 days');
});

test('trusting another certificate of the same name: "certificate chain does not lead to a trusted anchor"', async () => {
  const other = await generateSelfSignedCertificate({ hostnames: ['localhost', '127.0.0.1', '::1'] });
  const s = await server('127.0.0.1', other);
  const client = await QuicEndpoint.bind();
  try {
    const e = await rejection(client.connect({ host: '127.0.0.1', port: s.address.port, alpnProtocols: ALPN, verification: trust, serverName: 'localhost' }));
    assert.instance(e, ConnectionClosedError);
    assert.match(e.message, 'certificate chain does not lead to a trusted anchor');
    const reason = (e as ConnectionClosedError).reason;
    assert.ok(reason.kind === 'transport' && reason.code === 0x100 + 48, `unknown_ca: ${e.message}`);
  } finally {
    await Promise.all([client.close(), s.close()]);
  }
});

test.run();
