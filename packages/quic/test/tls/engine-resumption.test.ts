import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { TlsAlert } from '../../src/tls/alert.js';
import type { EarlyDataContext, SessionTicket } from '../../src/tls/engine-api.js';
import { ExtensionType, HandshakeType } from '../../src/tls/wire.js';
import { findExtension } from '../../src/tls/extensions.js';
import { decodeClientHello } from '../../src/tls/messages/hello.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { toHex } from '../helpers/vectors.js';
import {
  Clock,
  clientOptions,
  earlyDataAnswer,
  expectAlert,
  findSecret,
  PROVIDERS,
  runPair,
  SERVER_TP,
  serverCert,
  serverOptions,
  sessionTicket,
  ticketKeys,
  type Tamper,
} from './engine-pair.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import type { TestCertificate } from './support/certificates.js';

interface Setup {
  clock: Clock;
  cert: TestCertificate;
  keys: SessionTicketKeys;
  ticket: SessionTicket;
}

/** A first full handshake that yields a ticket. */
async function firstHandshake(crypto: CryptoProvider, earlyData = true): Promise<Setup> {
  const clock = new Clock();
  const cert = await serverCert();
  const keys = ticketKeys(crypto, clock);
  const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, cert, { sessionTicketKeys: keys, earlyData }));
  assert.is(r.error, undefined, String(r.error?.error));
  const ticket = sessionTicket(r.clientOutputs);
  assert.ok(ticket, 'a ticket arrived');
  // The NewSessionTicket travels at the application level, after completion (RFC 9001 §4.1.3).
  const nst = r.serverOutputs.findIndex((o) => o.kind === 'handshake-data' && o.level === EncryptionLevel.APPLICATION);
  const done = r.serverOutputs.findIndex((o) => o.kind === 'handshake-complete');
  assert.ok(nst > done && done >= 0);
  return { clock, cert, keys, ticket };
}

for (const [name, crypto] of PROVIDERS) {
  test(`${name}: the ticket carries QUIC's max_early_data_size 0xffffffff and the server's transport parameters`, async () => {
    const { ticket } = await firstHandshake(crypto);
    assert.is(ticket.maxEarlyDataSize, 0xffffffff);
    assert.is(toHex(ticket.transportParameters!), toHex(SERVER_TP));
    assert.is(ticket.alpn, 'h3');
    assert.is(ticket.serverName, 'example.test');
    assert.ok(ticket.lifetimeSeconds > 0 && ticket.lifetimeSeconds <= 604800);
    assert.is(ticket.psk.length, 32);
  });

  test(`${name}: resumption with a ticket: PSK accepted, no certificate, secrets mirrored (§2.2)`, async () => {
    const s = await firstHandshake(crypto, false);
    s.clock.ms += 5_000;
    const r = runPair(
      clientOptions(crypto, s.clock, { sessionTicket: s.ticket }),
      serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys }),
    );
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.client.resumed && r.server.resumed);
    assert.is(r.client.peerCertificates.length, 0);
    assert.not.ok(r.serverOutputs.some((o) => o.kind === 'handshake-data' && o.data[0] === HandshakeType.CERTIFICATE));
    const cw = findSecret(r.clientOutputs, EncryptionLevel.APPLICATION, 'write');
    assert.is(toHex(cw!), toHex(findSecret(r.serverOutputs, EncryptionLevel.APPLICATION, 'read')!));
    // A resumed connection issues a fresh ticket too.
    assert.ok(sessionTicket(r.clientOutputs));
    assert.is(earlyDataAnswer(r.clientOutputs), undefined);
  });

  test(`${name}: 0-RTT accepted: early secrets match, client learns acceptance (§4.2.10)`, async () => {
    const s = await firstHandshake(crypto);
    s.clock.ms += 2_000;
    let seen: EarlyDataContext | undefined;
    const r = runPair(
      clientOptions(crypto, s.clock, { sessionTicket: s.ticket, earlyData: true, keyLog: true }),
      serverOptions(crypto, s.clock, s.cert, {
        sessionTicketKeys: s.keys,
        earlyData: true,
        earlyDataFilter: (ctx) => {
          seen = ctx;
          return true;
        },
      }),
    );
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.client.earlyDataAccepted && r.server.earlyDataAccepted);
    assert.is(earlyDataAnswer(r.clientOutputs), true);
    const cw = findSecret(r.clientOutputs, EncryptionLevel.EARLY_DATA, 'write');
    const sr = findSecret(r.serverOutputs, EncryptionLevel.EARLY_DATA, 'read');
    assert.ok(cw && sr);
    assert.is(toHex(cw), toHex(sr));
    // The early secret is available right after the ClientHello, before any server answer.
    const firstSecret = r.clientOutputs.findIndex((o) => o.kind === 'secret');
    assert.is(r.clientOutputs[firstSecret]?.kind === 'secret' && r.clientOutputs[firstSecret].level, EncryptionLevel.EARLY_DATA);
    assert.ok(r.clientOutputs.some((o) => o.kind === 'key-log' && o.label === 'CLIENT_EARLY_TRAFFIC_SECRET'));
    // What the QUIC layer gets to check 0-RTT with (RFC 9001 §4.6.2).
    assert.ok(seen);
    assert.is(toHex(seen.ticketTransportParameters!), toHex(SERVER_TP));
    assert.is(seen.alpn, 'h3');
    assert.ok(Math.abs(seen.clientTicketAgeMs - 2_000) <= 1, `client age ${seen.clientTicketAgeMs}`);
    assert.is(seen.serverTicketAgeMs, 2_000);
    // No EndOfEarlyData over QUIC (RFC 9001 §8.3).
    assert.not.ok(r.clientOutputs.some((o) => o.kind === 'handshake-data' && o.data[0] === HandshakeType.END_OF_EARLY_DATA));
  });

  test(`${name}: 0-RTT rejected by server policy, by the filter, or by age skew: resumption still works`, async () => {
    const s = await firstHandshake(crypto);
    for (const [what, overrides, advanceMs] of [
      ['earlyData off', { earlyData: false }, 1000],
      ['filter says no (anti-replay)', { earlyData: true, earlyDataFilter: () => false }, 1000],
    ] as const) {
      s.clock.ms += advanceMs;
      const r = runPair(
        clientOptions(crypto, s.clock, { sessionTicket: s.ticket, earlyData: true }),
        serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, ...overrides }),
      );
      assert.is(r.error, undefined, `${what}: ${String(r.error?.error)}`);
      assert.ok(r.client.resumed, what);
      assert.not.ok(r.client.earlyDataAccepted, what);
      assert.is(earlyDataAnswer(r.clientOutputs), false, what);
      assert.ok(findSecret(r.clientOutputs, EncryptionLevel.EARLY_DATA, 'write'), `${what}: client had early keys`);
      assert.is(findSecret(r.serverOutputs, EncryptionLevel.EARLY_DATA, 'read'), undefined, what);
    }
    // A client whose clock runs 30 s ahead of the server's view: outside the §8.3 tolerance.
    const skewed = { ...s.ticket, receivedAtMs: s.ticket.receivedAtMs - 30_000 };
    const r = runPair(
      clientOptions(crypto, s.clock, { sessionTicket: skewed, earlyData: true }),
      serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, earlyData: true }),
    );
    assert.is(r.error, undefined);
    assert.ok(r.server.resumed);
    assert.not.ok(r.server.earlyDataAccepted);
  });

  test(`${name}: 0-RTT after a HelloRetryRequest is rejected (§4.2.10), PSK kept`, async () => {
    const s = await firstHandshake(crypto);
    const r = runPair(
      clientOptions(crypto, s.clock, { sessionTicket: s.ticket, earlyData: true, groups: ['x25519', 'secp256r1'], keyShareGroups: ['x25519'] }),
      serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, earlyData: true, groups: ['secp256r1'] }),
    );
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.client.helloRetryRequested && r.client.resumed && r.server.resumed);
    assert.not.ok(r.client.earlyDataAccepted);
    assert.is(earlyDataAnswer(r.clientOutputs), false);
  });

  test(`${name}: a forged or modified ticket falls back to a full handshake`, async () => {
    const s = await firstHandshake(crypto);
    const modified = s.ticket.ticket.slice();
    modified[modified.length - 5] = (modified[modified.length - 5] as number) ^ 0x40;
    const forged = new Uint8Array(s.ticket.ticket.length).fill(0x42);
    for (const ticket of [modified, forged]) {
      const r = runPair(
        clientOptions(crypto, s.clock, { sessionTicket: { ...s.ticket, ticket }, earlyData: true }),
        serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, earlyData: true }),
      );
      assert.is(r.error, undefined, String(r.error?.error));
      assert.not.ok(r.client.resumed || r.server.resumed);
      assert.is(r.client.peerCertificates.length, 1);
      assert.is(earlyDataAnswer(r.clientOutputs), false);
    }
  });

  test(`${name}: a ticket from another server's keys is not accepted; expired tickets are not offered`, async () => {
    const s = await firstHandshake(crypto);
    const other = ticketKeys(crypto, s.clock);
    const r = runPair(clientOptions(crypto, s.clock, { sessionTicket: s.ticket }), serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: other }));
    assert.is(r.error, undefined);
    assert.not.ok(r.server.resumed);
    s.clock.ms += s.ticket.lifetimeSeconds * 1000 + 1;
    const late = runPair(clientOptions(crypto, s.clock, { sessionTicket: s.ticket }), serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys }));
    assert.is(late.error, undefined);
    assert.not.ok(late.client.resumed);
    assert.not.ok(late.clientOutputs.some((o) => o.kind === 'handshake-data' && o.level === EncryptionLevel.INITIAL && hasPsk(o.data)));
  });

  test(`${name}: a server that requires client certificates does not resume (tickets hold no client identity)`, async () => {
    const s = await firstHandshake(crypto);
    const r = runPair(
      clientOptions(crypto, s.clock, { sessionTicket: s.ticket }),
      serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, clientAuthentication: 'require' }),
    );
    expectAlert(r, 'server', TlsAlert.CERTIFICATE_REQUIRED, 'full handshake asks for a certificate');
    assert.not.ok(r.server.resumed);
  });

  test(`${name}: plain TLS 0-RTT ends with EndOfEarlyData at the early level (RFC 8446 §4.5); QUIC refuses it (RFC 9001 §8.3)`, async () => {
    const clock = new Clock();
    const cert = await serverCert();
    const keys = ticketKeys(crypto, clock);
    const plainClient = (extra: object = {}) => {
      const o = clientOptions(crypto, clock, { alpnProtocols: ['h2'], ...extra });
      delete o.transportParameters;
      return o;
    };
    const plainServer = () => {
      const o = serverOptions(crypto, clock, cert, { sessionTicketKeys: keys, earlyData: true, alpnProtocols: ['h2'] });
      delete o.transportParameters;
      return o;
    };
    const first = runPair(plainClient(), plainServer());
    assert.is(first.error, undefined, String(first.error?.error));
    const ticket = sessionTicket(first.clientOutputs)!;
    assert.is(ticket.maxEarlyDataSize, 16384);
    const r = runPair(plainClient({ sessionTicket: ticket, earlyData: true }), plainServer());
    assert.is(r.error, undefined, String(r.error?.error));
    assert.ok(r.server.earlyDataAccepted && r.server.handshakeComplete);
    const eoed = r.clientOutputs.filter((o) => o.kind === 'handshake-data' && o.level === EncryptionLevel.EARLY_DATA);
    assert.equal(eoed.map((o) => o.kind === 'handshake-data' && toHex(o.data)), ['05000000']);
    // Over QUIC an EndOfEarlyData is never expected.
    const s = await firstHandshake(crypto);
    const quic = runPair(clientOptions(crypto, s.clock, { sessionTicket: s.ticket, earlyData: true }), serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys, earlyData: true }));
    assert.ok(quic.server.earlyDataAccepted);
    try {
      quic.server.receive(EncryptionLevel.EARLY_DATA, new Uint8Array([5, 0, 0, 0]));
      assert.unreachable('accepted');
    } catch (e) {
      assert.is((e as { code: number }).code, 0x100 + TlsAlert.UNEXPECTED_MESSAGE);
    }
  });

  test(`${name}: a wrong PSK binder is decrypt_error (§4.2.11.2)`, async () => {
    const s = await firstHandshake(crypto);
    const flipBinder: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== EncryptionLevel.INITIAL) return undefined;
      const copy = data.slice();
      copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1;
      return [{ level, data: copy }];
    };
    const r = runPair(clientOptions(crypto, s.clock, { sessionTicket: s.ticket }), serverOptions(crypto, s.clock, s.cert, { sessionTicketKeys: s.keys }), flipBinder);
    expectAlert(r, 'server', TlsAlert.DECRYPT_ERROR, 'binder');
  });

  test(`${name}: ticket keys rotate; the previous key still opens tickets for one interval`, () => {
    const clock = new Clock();
    const keys = new SessionTicketKeys({ crypto, random: (n) => crypto.randomBytes(n), rotationIntervalMs: 1000 });
    const state = new Uint8Array([1, 2, 3]);
    const t1 = keys.seal(state, clock.ms);
    assert.is(toHex(keys.open(t1, clock.ms)!), '010203');
    clock.ms += 1000;
    const t2 = keys.seal(state, clock.ms); // rotates
    assert.is.not(toHex(t1.subarray(0, 4)), toHex(t2.subarray(0, 4)));
    assert.is(toHex(keys.open(t1, clock.ms)!), '010203');
    clock.ms += 1000;
    keys.seal(state, clock.ms); // rotates again: t1's key is gone
    assert.is(keys.open(t1, clock.ms), undefined);
    assert.is(toHex(keys.open(t2, clock.ms)!), '010203');
  });

  test(`${name}: a QUIC client rejects max_early_data_size other than 0xffffffff (RFC 9001 §4.6.1)`, async () => {
    const clock = new Clock();
    const cert = await serverCert();
    const keys = ticketKeys(crypto, clock);
    // Rewrite the server's NewSessionTicket early_data value (its last 4 bytes) to 16384.
    const shrink: Tamper = (from, level, data) => {
      if (from !== 'server' || level !== EncryptionLevel.APPLICATION) return undefined;
      const copy = data.slice();
      copy.set([0, 0, 0x40, 0], copy.length - 4);
      return [{ level, data: copy }];
    };
    const r = runPair(clientOptions(crypto, clock), serverOptions(crypto, clock, cert, { sessionTicketKeys: keys, earlyData: true }), shrink);
    assert.ok(r.error && r.error.side === 'client');
    assert.ok(QuicError.is(r.error.error));
    assert.is((r.error.error as QuicError).code, TransportErrorCode.PROTOCOL_VIOLATION);
  });
}

/** True if a ClientHello carries pre_shared_key. */
function hasPsk(ch: Uint8Array): boolean {
  return findExtension(decodeClientHello(ch.subarray(4)).extensions, ExtensionType.PRE_SHARED_KEY) !== undefined;
}

test.run();
