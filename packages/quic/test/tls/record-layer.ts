/**
 * TEST-ONLY: the TLS 1.3 record layer (RFC 8446 §5), so our handshake engine can speak TLS over
 * TCP to OpenSSL (node:tls) and to itself with bytes we can inspect and tamper with.
 *
 * QUIC carries handshake bytes in CRYPTO frames and protects whole packets; plain TLS instead
 * frames them in records. This adapter maps the engine's outputs onto records:
 *  - `handshake-data` at INITIAL goes out as TLSPlaintext handshake records (ClientHello,
 *    ServerHello, HelloRetryRequest); at HANDSHAKE / APPLICATION it is protected with that
 *    level's write keys (TLSCiphertext, §5.2);
 *  - `secret` outputs install record protection per level and direction (§7.3: key and iv come
 *    from HKDF-Expand-Label with the plain TLS labels "key" and "iv", not QUIC's);
 *  - records read go to the engine at the level of the newest read keys it expects, handshake
 *    keys until the handshake completes, then application keys;
 *  - alerts (§6) both ways: an engine error becomes a fatal alert record, a received alert ends
 *    the connection with `TlsPeerAlertError`;
 *  - application data after completion.
 *
 * The class is transport-free: `receive()` takes bytes from the network in any chunking and
 * `events.transmit` hands back bytes to send. `support/tls-socket.ts` drives it over net.Socket.
 *
 * Not supported (QUIC needs neither): 0-RTT application data (no EARLY_DATA records) and
 * KeyUpdate (§4.6.3; RFC 9001 §6 forbids the message, so the engine rejects it). Records are
 * sent without padding.
 */

import type { EncryptionLevel as EncryptionLevelType } from '../../src/crypto/encryption-level.js';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import type { Aead, AeadAlgorithm, HashAlgorithm, SymmetricCrypto } from '../../src/crypto/provider.js';
import { aeadKeyLength, AEAD_TAG_LENGTH } from '../../src/crypto/provider.js';
import { QuicError } from '../../src/errors.js';
import { TlsAlert, tlsAlertName, TlsAlertError } from '../../src/tls/alert.js';
import type { TlsCipherSuite, TlsOutput } from '../../src/tls/engine-api.js';
import { hkdfExpandLabel } from '../../src/crypto/keys.js';

/** What the adapter needs of an engine (engine-api.ts: createTlsClient / createTlsServer). */
export interface TlsEngineLike {
  start(): void;
  receive(level: EncryptionLevelType, data: Uint8Array): void;
  poll(): TlsOutput | undefined;
}

/** ContentType (RFC 8446 §5.1). */
export const ContentType = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
} as const;

/** §5.1: a record's plaintext is at most 2^14 bytes. */
export const MAX_PLAINTEXT = 1 << 14;
/** §5.2: a protected record's body is at most 2^14 + 256 bytes. */
const MAX_CIPHERTEXT = MAX_PLAINTEXT + 256;
const RECORD_HEADER_LENGTH = 5;
/** Bound on outputs drained after one input; an engine that produces more is broken. */
const MAX_OUTPUTS_PER_INPUT = 1000;

/** A fatal alert the peer sent us (RFC 8446 §6.2). */
export class TlsPeerAlertError extends Error {
  readonly alert: number;
  constructor(alert: number) {
    super(`peer sent alert ${tlsAlertName(alert)} (${alert})`);
    this.name = 'TlsPeerAlertError';
    this.alert = alert;
  }
}

/** Callbacks of the record layer. */
export interface RecordLayerEvents {
  /** Bytes to write to the transport, in order. */
  transmit(bytes: Uint8Array): void;
  handshakeComplete?(): void;
  applicationData?(data: Uint8Array): void;
  /** The connection ended: `error` undefined for close_notify, else the local or peer error. */
  closed?(error: Error | undefined): void;
  /** Every engine output, after the adapter acted on it (tickets, key log, transport params). */
  output?(output: TlsOutput): void;
}

export interface RecordLayerOptions {
  /**
   * Rewrites handshake bytes the engine produced before they are framed and protected (tests
   * use this to craft misbehaving peers). Called once per `handshake-data` output.
   */
  tamperOutgoingHandshake?: (level: EncryptionLevelType, data: Uint8Array) => Uint8Array;
  /** Split outgoing handshake data into records of at most this many bytes (default 2^14). */
  maxFragment?: number;
}

/** One direction's protection at one level: AEAD, static iv, 64-bit sequence number (§5.3). */
interface RecordProtection {
  readonly aead: Aead;
  readonly iv: Uint8Array;
  sequence: number;
}

function cipherSuiteParameters(suite: TlsCipherSuite): { aead: AeadAlgorithm; hash: HashAlgorithm } {
  switch (suite) {
    case 0x1301:
      return { aead: 'aes-128-gcm', hash: 'sha256' };
    case 0x1302:
      return { aead: 'aes-256-gcm', hash: 'sha384' };
    case 0x1303:
      return { aead: 'chacha20-poly1305', hash: 'sha256' };
    default:
      throw new RangeError(`unknown cipher suite 0x${(suite as number).toString(16)}`);
  }
}

/** §5.3: the per-record nonce is the iv XORed with the sequence number, left-padded to 12 bytes. */
function recordNonce(iv: Uint8Array, sequence: number): Uint8Array {
  const nonce = iv.slice();
  let hi = Math.floor(sequence / 0x1_0000_0000);
  let lo = sequence >>> 0;
  for (let i = 11; i >= 8; i--, lo >>>= 8) nonce[i] = (nonce[i] as number) ^ (lo & 0xff);
  for (let i = 7; i >= 4; i--, hi >>>= 8) nonce[i] = (nonce[i] as number) ^ (hi & 0xff);
  return nonce;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The alert to send for an error thrown while processing input. */
export function alertForError(error: unknown): number {
  if (TlsAlertError.isTlsAlert(error)) return error.alert;
  if (QuicError.is(error) && error.code >= 0x100 && error.code <= 0x1ff) return error.code - 0x100;
  return TlsAlert.INTERNAL_ERROR;
}

/**
 * One endpoint's record layer around one engine. Call `start()` once, then `receive()` with
 * whatever the transport delivers; `writeApplicationData()` after `handshakeComplete`, `close()`
 * to send close_notify. Every failure is fatal: the alert goes out and `events.closed` fires.
 */
export class TlsRecordLayer {
  readonly engine: TlsEngineLike;
  readonly #crypto: SymmetricCrypto;
  readonly #events: RecordLayerEvents;
  readonly #options: RecordLayerOptions;
  readonly #write = new Map<EncryptionLevelType, RecordProtection>();
  readonly #read = new Map<EncryptionLevelType, RecordProtection>();
  #inbox: Uint8Array = new Uint8Array(0);
  #complete = false;
  #closed = false;
  #sentFirstRecord = false;

  /** Negotiated suite (from the first secret). */
  cipherSuite: TlsCipherSuite | undefined;
  /** The alert we sent, if any (close_notify = 0). */
  sentAlert: number | undefined;
  /** The alert the peer sent, if any. */
  receivedAlert: number | undefined;
  /** The error that ended the connection, if it did not end cleanly. */
  error: Error | undefined;
  /** Every plaintext (INITIAL) handshake message type we sent / received, for HRR checks. */
  readonly plaintextMessagesSent: Uint8Array[] = [];
  readonly plaintextMessagesReceived: Uint8Array[] = [];
  /** Count of change_cipher_spec compatibility records dropped (§5). */
  changeCipherSpecDropped = 0;

  constructor(engine: TlsEngineLike, crypto: SymmetricCrypto, events: RecordLayerEvents, options: RecordLayerOptions = {}) {
    this.engine = engine;
    this.#crypto = crypto;
    this.#events = events;
    this.#options = options;
  }

  get handshakeComplete(): boolean {
    return this.#complete;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the engine (the client writes its ClientHello). */
  start(): void {
    this.#guard(() => {
      this.engine.start();
      this.#drain();
    });
  }

  /** Bytes from the network, in any chunking. */
  receive(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#inbox = concat(this.#inbox, bytes);
    this.#guard(() => {
      // Each pass consumes one whole record; the bound is the byte count (records are ≥ 5 bytes).
      for (let guard = 0; guard <= bytes.length && !this.#closed; guard++) {
        if (this.#inbox.length < RECORD_HEADER_LENGTH) return;
        const type = this.#inbox[0] as number;
        const length = ((this.#inbox[3] as number) << 8) | (this.#inbox[4] as number);
        // §5.2: a record longer than 2^14 + 256 is a record_overflow.
        if (length > MAX_CIPHERTEXT) throw new TlsAlertError(TlsAlert.RECORD_OVERFLOW, `record of ${length} bytes`);
        if (this.#inbox.length < RECORD_HEADER_LENGTH + length) return;
        const header = this.#inbox.subarray(0, RECORD_HEADER_LENGTH);
        const body = this.#inbox.subarray(RECORD_HEADER_LENGTH, RECORD_HEADER_LENGTH + length);
        this.#inbox = this.#inbox.subarray(RECORD_HEADER_LENGTH + length);
        this.#onRecord(type, header, body);
      }
    });
  }

  /** Sends application data (after the handshake), split into records of at most 2^14 bytes. */
  writeApplicationData(data: Uint8Array): void {
    if (!this.#complete) throw new Error('handshake not complete');
    if (this.#closed) throw new Error('connection closed');
    for (let offset = 0; offset < data.length; offset += MAX_PLAINTEXT) {
      this.#sendRecord(ContentType.APPLICATION_DATA, data.subarray(offset, Math.min(data.length, offset + MAX_PLAINTEXT)), this.#currentWriteLevel());
    }
  }

  /** Sends close_notify (§6.1) and marks the connection closed. */
  close(): void {
    if (this.#closed) return;
    this.#sendAlert(TlsAlert.CLOSE_NOTIFY);
    this.#finish(undefined);
  }

  /** The transport ended under us (EOF / reset) before close_notify. */
  transportClosed(error?: Error): void {
    if (this.#closed) return;
    this.#finish(error ?? new Error('transport closed without close_notify'));
  }

  #guard(body: () => void): void {
    try {
      body();
    } catch (error) {
      if (this.#closed) return;
      const err = error instanceof Error ? error : new Error(String(error));
      if (!(err instanceof TlsPeerAlertError)) {
        // §6.2: every error we detect is fatal and is reported to the peer with its alert.
        this.#sendAlert(alertForError(err));
      }
      this.#finish(err);
    }
  }

  #finish(error: Error | undefined): void {
    this.#closed = true;
    this.error = error;
    this.#events.closed?.(error);
  }

  #readLevel(): EncryptionLevelType | undefined {
    if (this.#complete && this.#read.has(EncryptionLevel.APPLICATION)) return EncryptionLevel.APPLICATION;
    if (this.#read.has(EncryptionLevel.HANDSHAKE)) return EncryptionLevel.HANDSHAKE;
    return undefined;
  }

  #currentWriteLevel(): EncryptionLevelType {
    if (this.#write.has(EncryptionLevel.APPLICATION)) return EncryptionLevel.APPLICATION;
    if (this.#write.has(EncryptionLevel.HANDSHAKE)) return EncryptionLevel.HANDSHAKE;
    return EncryptionLevel.INITIAL;
  }

  #onRecord(type: number, header: Uint8Array, body: Uint8Array): void {
    const level = this.#readLevel();
    if (type === ContentType.CHANGE_CIPHER_SPEC) {
      // §5: a change_cipher_spec record of the single byte 0x01 received before the peer's
      // Finished is dropped (middlebox compatibility, Appendix D.4); anything else is an error.
      if (body.length !== 1 || body[0] !== 0x01 || this.#complete) {
        throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'invalid change_cipher_spec record');
      }
      this.changeCipherSpecDropped++;
      return;
    }
    if (type === ContentType.APPLICATION_DATA) {
      if (level === undefined) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'protected record before keys');
      const protection = this.#read.get(level)!;
      const plaintext = protection.aead.open(recordNonce(protection.iv, protection.sequence), header, body);
      // §5.2: a record that fails to deprotect ends the connection with bad_record_mac.
      if (plaintext === null) throw new TlsAlertError(TlsAlert.BAD_RECORD_MAC, 'record authentication failed');
      protection.sequence++;
      // §5.4: the content type is the last non-zero byte; the zeros after it are padding.
      let end = plaintext.length;
      while (end > 0 && plaintext[end - 1] === 0) end--;
      if (end === 0) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'protected record without content type');
      if (end - 1 > MAX_PLAINTEXT) throw new TlsAlertError(TlsAlert.RECORD_OVERFLOW, 'inner plaintext too long');
      this.#onContent(plaintext[end - 1] as number, plaintext.subarray(0, end - 1), level);
      return;
    }
    if (type === ContentType.ALERT) {
      // A peer that fails while processing our first flight may answer in plaintext before it
      // installed handshake keys (it never saw a usable ServerHello), so plaintext alerts are
      // accepted until the handshake completes. Protected ones arrive as application_data.
      if (level !== undefined && this.#complete) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'plaintext alert after handshake');
      this.#onContent(type, body, EncryptionLevel.INITIAL);
      return;
    }
    if (type === ContentType.HANDSHAKE) {
      // §5: once handshake keys are in place, every handshake message must be protected.
      if (level !== undefined) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'plaintext handshake record after keys');
      this.#onContent(type, body, EncryptionLevel.INITIAL);
      return;
    }
    throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, `unknown record type ${type}`);
  }

  #onContent(type: number, content: Uint8Array, level: EncryptionLevelType): void {
    switch (type) {
      case ContentType.HANDSHAKE:
        // §5.1: zero-length handshake fragments are not allowed.
        if (content.length === 0) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'empty handshake record');
        if (level === EncryptionLevel.INITIAL) this.plaintextMessagesReceived.push(content.slice());
        this.engine.receive(level, content);
        this.#drain();
        return;
      case ContentType.ALERT: {
        // §6: an alert is two bytes, level and description.
        if (content.length !== 2) throw new TlsAlertError(TlsAlert.DECODE_ERROR, 'malformed alert');
        const description = content[1] as number;
        this.receivedAlert = description;
        if (description === TlsAlert.CLOSE_NOTIFY) {
          // §6.1: answer close_notify with our own and stop.
          this.close();
          return;
        }
        // §6.2: every other alert in TLS 1.3 is fatal (user_canceled is followed by close_notify,
        // but we treat the connection as done either way).
        throw new TlsPeerAlertError(description);
      }
      case ContentType.APPLICATION_DATA:
        if (!this.#complete || level !== EncryptionLevel.APPLICATION) {
          throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'application data before the handshake completed');
        }
        this.#events.applicationData?.(content.slice());
        return;
      default:
        throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, `unexpected inner content type ${type}`);
    }
  }

  /** Acts on everything the engine produced, in order. */
  #drain(): void {
    for (let i = 0; i < MAX_OUTPUTS_PER_INPUT; i++) {
      const output = this.engine.poll();
      if (output === undefined) return;
      switch (output.kind) {
        case 'handshake-data':
          this.#sendHandshake(output.level, output.data);
          break;
        case 'secret':
          this.#installKeys(output.level, output.direction, output.secret, output.cipherSuite);
          break;
        case 'handshake-complete':
          this.#complete = true;
          this.#events.handshakeComplete?.();
          break;
        default:
          break;
      }
      this.#events.output?.(output);
    }
    throw new Error(`engine produced more than ${MAX_OUTPUTS_PER_INPUT} outputs for one input`);
  }

  #installKeys(level: EncryptionLevelType, direction: 'read' | 'write', secret: Uint8Array, suite: TlsCipherSuite): void {
    const params = cipherSuiteParameters(suite);
    this.cipherSuite = suite;
    // RFC 8446 §7.3: traffic keys are HKDF-Expand-Label(secret, "key"/"iv", "", length).
    const key = hkdfExpandLabel(this.#crypto, params.hash, secret, 'key', new Uint8Array(0), aeadKeyLength(params.aead));
    const iv = hkdfExpandLabel(this.#crypto, params.hash, secret, 'iv', new Uint8Array(0), 12);
    const protection: RecordProtection = { aead: this.#crypto.createAead(params.aead, key), iv, sequence: 0 };
    (direction === 'read' ? this.#read : this.#write).set(level, protection);
  }

  #sendHandshake(level: EncryptionLevelType, data: Uint8Array): void {
    const bytes = this.#options.tamperOutgoingHandshake ? this.#options.tamperOutgoingHandshake(level, data) : data;
    if (level === EncryptionLevel.INITIAL) this.plaintextMessagesSent.push(bytes.slice());
    const max = Math.min(this.#options.maxFragment ?? MAX_PLAINTEXT, MAX_PLAINTEXT);
    for (let offset = 0; offset < bytes.length; offset += max) {
      this.#sendRecord(ContentType.HANDSHAKE, bytes.subarray(offset, Math.min(bytes.length, offset + max)), level);
    }
  }

  #sendAlert(description: number): void {
    this.sentAlert = description;
    // §6: level 1 = warning (close_notify), 2 = fatal; TLS 1.3 ignores the level on receipt.
    const alert = new Uint8Array([description === TlsAlert.CLOSE_NOTIFY ? 1 : 2, description]);
    this.#sendRecord(ContentType.ALERT, alert, this.#currentWriteLevel());
  }

  #sendRecord(type: number, content: Uint8Array, level: EncryptionLevelType): void {
    if (level === EncryptionLevel.INITIAL || level === EncryptionLevel.EARLY_DATA) {
      if (level === EncryptionLevel.EARLY_DATA) throw new Error('0-RTT is not supported by the record adapter');
      // §5.1: legacy_record_version 0x0301 is allowed on the initial ClientHello (the first
      // record a client sends), 0x0303 everywhere else.
      const initialClientHello = !this.#sentFirstRecord && type === ContentType.HANDSHAKE && content[0] === 1;
      const version = initialClientHello ? 0x0301 : 0x0303;
      this.#sentFirstRecord = true;
      const record = new Uint8Array(RECORD_HEADER_LENGTH + content.length);
      record[0] = type;
      record[1] = version >>> 8;
      record[2] = version & 0xff;
      record[3] = content.length >>> 8;
      record[4] = content.length & 0xff;
      record.set(content, RECORD_HEADER_LENGTH);
      this.#events.transmit(record);
      return;
    }
    this.#sentFirstRecord = true;
    const protection = this.#write.get(level);
    if (protection === undefined) throw new Error(`engine wrote at level ${level} before its write secret`);
    // §5.2: TLSInnerPlaintext = content || type || zeros (no padding here); outer type is
    // application_data, version 0x0303, and the 5-byte header is the AEAD's additional data.
    const inner = new Uint8Array(content.length + 1);
    inner.set(content, 0);
    inner[content.length] = type;
    const length = inner.length + AEAD_TAG_LENGTH;
    const header = new Uint8Array([ContentType.APPLICATION_DATA, 0x03, 0x03, length >>> 8, length & 0xff]);
    const sealed = protection.aead.seal(recordNonce(protection.iv, protection.sequence), header, inner);
    protection.sequence++;
    this.#events.transmit(concat(header, sealed));
  }
}
