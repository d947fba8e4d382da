/**
 * What client and server engines share: per-level reassembly of incoming handshake bytes, the
 * ordered output queue, secret and key-log emission, the transcript and the failure latch.
 */

import type { EncryptionLevel } from '../crypto/encryption-level.js';
import { QuicError } from '../errors.js';
import type { CryptoProvider, HashAlgorithm, NamedGroupName } from '../crypto/provider.js';
import type { KeyLogLabel, TlsCipherSuite, TlsEngine, TlsOutput, TlsRole, TlsTestHooks } from './engine-api.js';
import { HandshakeReassembler, type HandshakeMessage } from './messages/handshake-framing.js';
import { TlsAlert, TlsAlertError } from './messages/tls-reader.js';
import { Transcript } from './transcript.js';

/** Bound on messages handled per `receive` call (every loop driven by input has one). */
const MAX_MESSAGES_PER_RECEIVE = 64;

export abstract class TlsEngineCore implements TlsEngine {
  abstract readonly role: TlsRole;
  readonly crypto: CryptoProvider;
  /** True when running under QUIC (transport parameters given), false for plain TLS. */
  readonly quic: boolean;
  protected readonly keyLog: boolean;
  protected readonly testHooks: TlsTestHooks | undefined;
  protected readonly transcript = new Transcript();
  protected clientRandom: Uint8Array = new Uint8Array(32);

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
  private readonly reassemblers = [new HandshakeReassembler(), new HandshakeReassembler(), new HandshakeReassembler(), new HandshakeReassembler()];
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
      const reassembler = this.reassemblers[level];
      if (!reassembler) throw new TlsAlertError(TlsAlert.UNEXPECTED_MESSAGE, `data at unknown level ${level}`);
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

