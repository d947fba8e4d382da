/**
 * What client and server engines share: per-level reassembly of incoming handshake bytes, the
 * ordered output queue, secret and key-log emission, the transcript and the failure latch.
 */

import { EncryptionLevel } from '../crypto/encryption-level.js';
import { QuicError } from '../errors.js';
import type { CryptoProvider, HashAlgorithm, NamedGroupName } from '../crypto/provider.js';
import type { KeyLogLabel, TlsCipherSuite, TlsEngine, TlsOutput, TlsRole, TlsTestHooks } from './engine-api.js';
import { HandshakeReassembler, type HandshakeMessage } from './messages/handshake-framing.js';
import { TlsAlert, TlsAlertError } from './messages/tls-reader.js';
import { Transcript } from './transcript.js';

/** Bound on messages handled per `receive` call (every loop driven by input has one). */
const MAX_MESSAGES_PER_RECEIVE = 64;
/** Encryption levels that carry handshake messages (Initial, 0-RTT, Handshake, Application). */
const LEVELS = 4;
const APPLICATION_LEVEL: number = EncryptionLevel.APPLICATION;
/** Until an engine knows its client random (a shared placeholder: never written to). */
const NO_RANDOM = new Uint8Array(32);

export abstract class TlsEngineCore implements TlsEngine {
  abstract readonly role: TlsRole;
  readonly crypto: CryptoProvider;
  /** True when running under QUIC (transport parameters given), false for plain TLS. */
  readonly quic: boolean;
  protected readonly keyLog: boolean;
  protected readonly testHooks: TlsTestHooks | undefined;
  protected readonly transcript = new Transcript();
  protected clientRandom: Uint8Array = NO_RANDOM;

  handshakeComplete = false;
  alpnProtocol: string | undefined;
  cipherSuite: TlsCipherSuite | undefined;
  group: NamedGroupName | undefined;
  peerCertificates: readonly Uint8Array[] = [];
  serverName: string | undefined;
  resumed = false;
  earlyDataAccepted = false;
  helloRetryRequested = false;

  private readonly outputs: TlsOutput[] = [];
  private outputHead = 0;
  /** Per level, made when the first bytes arrive there (most connections never use 0-RTT's). */
  private readonly reassemblers: (HandshakeReassembler | undefined)[] = [];
  /** Levels whose reassembly state was released once the handshake no longer needs it. */
  private releasedLevels = 0;
  private failure: QuicError | undefined;

  constructor(crypto: CryptoProvider, transportParameters: Uint8Array | undefined, keyLog: boolean | undefined, testHooks: TlsTestHooks | undefined) {
    this.crypto = crypto;
    this.quic = transportParameters !== undefined;
    this.keyLog = keyLog === true;
    this.testHooks = testHooks;
  }

  abstract start(): void;

  /** Handles one complete message that arrived at `level`. */
  protected abstract handleMessage(level: EncryptionLevel, message: HandshakeMessage): void;

  receive(level: EncryptionLevel, data: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      if (!(level >= 0 && level < LEVELS) || (this.releasedLevels & (1 << level)) !== 0) {
        throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, `data at unknown or finished level ${level}`);
      }
      const reassembler = (this.reassemblers[level] ??= new HandshakeReassembler());
      reassembler.push(data);
      for (let i = 0; ; i++) {
        const message = reassembler.next();
        if (!message) return;
        if (i === MAX_MESSAGES_PER_RECEIVE) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, 'too many handshake messages at once');
        this.handleMessage(level, message);
      }
    } catch (e) {
      this.failure = QuicError.is(e) ? e : new TlsAlertError(TlsAlert.INTERNAL_ERROR, e instanceof Error ? e.message : String(e));
      throw this.failure;
    }
  }

  /** Runs a locally triggered step (start) under the same failure latch as `receive`. */
  protected guarded(step: () => void): void {
    if (this.failure) throw this.failure;
    try {
      step();
    } catch (e) {
      this.failure = QuicError.is(e) ? e : new TlsAlertError(TlsAlert.INTERNAL_ERROR, e instanceof Error ? e.message : String(e));
      throw this.failure;
    }
  }

  /**
   * The handshake is over: drops what only it needed — reassembly at every level but
   * Application (post-handshake messages, RFC 8446 §4.6), the client random — so an idle
   * connection keeps none of it (issue 11). Bytes at a released level are unexpected from now on:
   * under QUIC their packet number spaces are discarded too (RFC 9001 §4.9).
   */
  protected releaseHandshakeState(): void {
    const application = this.reassemblers[APPLICATION_LEVEL];
    this.reassemblers.length = 0;
    if (application) this.reassemblers[APPLICATION_LEVEL] = application;
    for (let level = 0; level < LEVELS; level++) if (level !== APPLICATION_LEVEL) this.releasedLevels |= 1 << level;
    this.clientRandom = NO_RANDOM;
  }

  /** Reassembly state held now, by level (tests check that the handshake's is released). */
  get heldReassemblyLevels(): number[] {
    const levels: number[] = [];
    for (let level = 0; level < LEVELS; level++) if (this.reassemblers[level] !== undefined) levels.push(level);
    return levels;
  }

  poll(): TlsOutput | undefined {
    if (this.outputHead >= this.outputs.length) {
      if (this.outputHead > 0) {
        this.outputs.length = 0;
        this.outputHead = 0;
      }
      return undefined;
    }
    return this.outputs[this.outputHead++];
  }

  protected emit(output: TlsOutput): void {
    this.outputs.push(output);
  }

  /** Applies the test rewrite hook, then queues the message and adds it to the transcript. */
  protected sendMessage(level: EncryptionLevel, message: Uint8Array, addToTranscript = true): Uint8Array {
    if (addToTranscript) this.transcript.add(message);
    this.emit({ kind: 'handshake-data', level, data: message });
    return message;
  }

  protected rewrite(type: number, message: Uint8Array): Uint8Array {
    return this.testHooks?.rewriteHandshakeMessage?.(type, message) ?? message;
  }

  protected emitSecret(level: EncryptionLevel, direction: 'read' | 'write', secret: Uint8Array, label: KeyLogLabel, cipherSuite: TlsCipherSuite): void {
    if (this.keyLog) this.emit({ kind: 'key-log', label, clientRandom: this.clientRandom, secret });
    this.emit({ kind: 'secret', level, direction, secret, cipherSuite });
  }

  protected transcriptHash(hash: HashAlgorithm): Uint8Array {
    return this.transcript.hash(this.crypto, hash);
  }

  /** A message at a level or in a state where it is not expected (RFC 8446 §6.2; RFC 9001 §4.1.3). */
  protected unexpected(level: EncryptionLevel, type: number, state: string): never {
    throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, `handshake message ${type} at level ${level} in state ${state}`);
  }
}

