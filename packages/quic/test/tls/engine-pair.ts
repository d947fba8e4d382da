/**
 * TEST-ONLY: a client and a server engine joined in memory, as QUIC would join them: each
 * `handshake-data` output is fed to the other side's `receive` at its level. A tamper hook can
 * rewrite or split what crosses, and the first error thrown is recorded with the side that threw.
 */

import * as assert from 'uvu/assert';
import type { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import type { CryptoProvider, NamedGroupName } from '../../src/crypto/provider.js';
import { QuicError } from '../../src/errors.js';
import { TlsAlertError } from '../../src/tls/alert.js';
import { createTlsClient, type TlsClient } from '../../src/tls/client.js';
import type { SessionTicket, TlsClientOptions, TlsOutput, TlsServerOptions } from '../../src/tls/engine-api.js';
import { createTlsServer, type TlsServer } from '../../src/tls/server.js';
import { SessionTicketKeys } from '../../src/tls/tickets.js';
import { makeCertificate, TEST_NOW_MS, type TestCertificate } from './support/certificates.js';
import { seededRandom } from './support/harness.js';
import { providers } from './support/providers.js';

export const ALPN = 'h3';
export const CLIENT_TP = new Uint8Array([0x01, 0x02, 0x03]);
export const SERVER_TP = new Uint8Array([0x0a, 0x0b]);

export const PROVIDERS: [string, CryptoProvider][] = [
  ['noble', providers.noble],
  ['node', providers.node],
];

let serverCertificate: Promise<TestCertificate> | undefined;
let clientCertificate: Promise<TestCertificate> | undefined;

/** One ECDSA P-256 server certificate shared by the tests of a file. */
export function serverCert(): Promise<TestCertificate> {
  serverCertificate ??= makeCertificate({ dnsNames: ['example.test'] });
  return serverCertificate;
}

export function clientCert(): Promise<TestCertificate> {
  clientCertificate ??= makeCertificate({ commonName: 'client' });
  return clientCertificate;
}

/** A mutable virtual wall clock. */
export class Clock {
  ms = TEST_NOW_MS;
  now = (): number => this.ms;
}

let seed = 0x7105;

export function clientOptions(crypto: CryptoProvider, clock: Clock, overrides: Partial<TlsClientOptions> = {}): TlsClientOptions {
  return {
    crypto,
    random: seededRandom(seed++),
    now: clock.now,
    alpnProtocols: [ALPN],
    transportParameters: CLIENT_TP,
    serverName: 'example.test',
    verification: { mode: 'none' },
    ...overrides,
  };
}

export function serverOptions(crypto: CryptoProvider, clock: Clock, cert: TestCertificate, overrides: Partial<TlsServerOptions> = {}): TlsServerOptions {
  return {
    crypto,
    random: seededRandom(seed++),
    now: clock.now,
    alpnProtocols: ['other', ALPN],
    transportParameters: SERVER_TP,
    certificateChain: [cert.der],
    key: crypto.importSigningKey(cert.keyPkcs8),
    ...overrides,
  };
}

export function ticketKeys(crypto: CryptoProvider, clock: Clock): SessionTicketKeys {
  void clock;
  return new SessionTicketKeys({ crypto, random: seededRandom(seed++) });
}

export type Side = 'client' | 'server';

/** What crosses the wire; return a replacement list (e.g. split, modified, dropped). */
export type Tamper = (from: Side, level: EncryptionLevel, data: Uint8Array) => { level: EncryptionLevel; data: Uint8Array }[] | undefined;

export interface PairResult {
  client: TlsClient;
  server: TlsServer;
  clientOutputs: TlsOutput[];
  serverOutputs: TlsOutput[];
  error: { side: Side; error: unknown } | undefined;
}

const MAX_ROUNDS = 50;

/** Runs the handshake to quiescence (bounded), collecting outputs. */
export function runPair(clientOpts: TlsClientOptions, serverOpts: TlsServerOptions, tamper?: Tamper): PairResult {
  const client = createTlsClient(clientOpts);
  const server = createTlsServer(serverOpts);
  const result: PairResult = { client, server, clientOutputs: [], serverOutputs: [], error: undefined };
  try {
    client.start();
    server.start();
  } catch (error) {
    result.error = { side: 'client', error };
    return result;
  }
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let moved = false;
    for (const [from, engine, peer, outputs] of [
      ['client', client, server, result.clientOutputs],
      ['server', server, client, result.serverOutputs],
    ] as const) {
      for (let out = engine.poll(), n = 0; out && n < 1000; out = engine.poll(), n++) {
        outputs.push(out);
        if (out.kind !== 'handshake-data') continue;
        moved = true;
        const deliveries = tamper?.(from, out.level, out.data) ?? [{ level: out.level, data: out.data }];
        for (const d of deliveries) {
          try {
            peer.receive(d.level, d.data);
          } catch (error) {
            result.error = { side: from === 'client' ? 'server' : 'client', error };
            return result;
          }
        }
      }
    }
    if (!moved) return result;
  }
  throw new Error('handshake did not settle');
}

/** Asserts the handshake failed on `side` with TLS alert `alert`. */
export function expectAlert(result: PairResult, side: Side, alert: number, what: string): void {
  assert.ok(result.error, `${what}: expected an error`);
  assert.is(result.error.side, side, `${what}: thrown by the ${side}`);
  const e = result.error.error;
  assert.ok(TlsAlertError.isTlsAlert(e), `${what}: a TlsAlertError, got ${String(e)}`);
  assert.ok(QuicError.is(e), `${what}: also a QuicError`);
  assert.is((e as TlsAlertError).alert, alert, `${what}: alert ${(e as TlsAlertError).message}`);
  assert.is((e as TlsAlertError).code, 0x100 + alert, what);
}

export function secrets(outputs: TlsOutput[]): Extract<TlsOutput, { kind: 'secret' }>[] {
  return outputs.filter((o): o is Extract<TlsOutput, { kind: 'secret' }> => o.kind === 'secret');
}

export function findSecret(outputs: TlsOutput[], level: EncryptionLevel, direction: 'read' | 'write'): Uint8Array | undefined {
  return secrets(outputs).find((s) => s.level === level && s.direction === direction)?.secret;
}

export function sessionTicket(outputs: TlsOutput[]): SessionTicket | undefined {
  for (const o of outputs) if (o.kind === 'session-ticket') return o.ticket;
  return undefined;
}

export function earlyDataAnswer(outputs: TlsOutput[]): boolean | undefined {
  for (const o of outputs) if (o.kind === 'early-data') return o.accepted;
  return undefined;
}

export type { NamedGroupName };
