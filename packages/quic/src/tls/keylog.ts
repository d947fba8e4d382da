/**
 * SSLKEYLOGFILE output: the NSS key log format that Wireshark and other tools read to decrypt
 * captured TLS and QUIC traffic.
 *
 * Each line is `LABEL <client_random hex> <secret hex>`; the client random (32 bytes, from the
 * ClientHello) names the connection, the label says which traffic secret follows. The engine
 * emits `key-log` outputs only when its `keyLog` option is on; this module formats them and hands
 * whole lines to a sink. It does no I/O itself (sans-IO core): the endpoint supplies a sink that
 * appends to the file named by SSLKEYLOGFILE.
 *
 * Key logging defeats forward secrecy for whoever reads the file, so it is off unless a sink is
 * given.
 */

import { toHex } from '../codec/hex.js';
import type { KeyLogLabel, TlsOutput } from './engine-api.js';

/** The `key-log` engine output. */
export type KeyLogEntry = Extract<TlsOutput, { kind: 'key-log' }>;

/** Where formatted key log lines go (one call per line, newline included). */
export interface KeyLogSink {
  write(line: string): void;
}

/** The labels TLS 1.3 uses in the key log format, in the order a handshake produces them. */
export const KEY_LOG_LABELS: readonly KeyLogLabel[] = [
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
];

/** The length of the ClientHello random that identifies a connection (RFC 8446 §4.1.2). */
const CLIENT_RANDOM_LENGTH = 32;

/**
 * Formats one entry as a key log line without the trailing newline, e.g.
 * `CLIENT_HANDSHAKE_TRAFFIC_SECRET 0a1b… 9f8e…`. Throws a RangeError for a client random that is
 * not 32 bytes or an empty secret: both are programming errors, never network input.
 */
export function formatKeyLogLine(entry: Pick<KeyLogEntry, 'label' | 'clientRandom' | 'secret'>): string {
  if (entry.clientRandom.length !== CLIENT_RANDOM_LENGTH) {
    throw new RangeError(`client random must be ${CLIENT_RANDOM_LENGTH} bytes, got ${entry.clientRandom.length}`);
  }
  if (entry.secret.length === 0) throw new RangeError('empty key log secret');
  return `${entry.label} ${toHex(entry.clientRandom)} ${toHex(entry.secret)}`;
}

/**
 * Turns engine outputs into key log lines for a sink. Without a sink it is disabled and
 * `log` ignores everything, so callers can route every output through it unconditionally.
 */
export class KeyLogger {
  readonly #sink: KeyLogSink | undefined;

  constructor(sink?: KeyLogSink) {
    this.#sink = sink;
  }

  /** True when lines go somewhere. Use it to decide the engine's `keyLog` option. */
  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  /** Writes a line for a `key-log` output; other outputs are ignored. Returns true if written. */
  log(output: TlsOutput): boolean {
    if (this.#sink === undefined || output.kind !== 'key-log') return false;
    this.#sink.write(formatKeyLogLine(output) + '\n');
    return true;
  }
}
