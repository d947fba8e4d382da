/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1): Extract/Derive-Secret chain from the (PSK) early
 * secret through the handshake and master secrets, plus Finished (§4.4.4) and resumption PSKs
 * (§4.6.1). One instance per handshake, bound to the negotiated suite's hash.
 */

import { hkdfExpandLabel } from '../crypto/keys.js';
import type { CryptoProvider, HashAlgorithm } from '../crypto/provider.js';
import { hashLength } from '../crypto/provider.js';

export class KeySchedule {
  readonly crypto: CryptoProvider;
  readonly hash: HashAlgorithm;
  readonly hashLength: number;
  private readonly emptyHash: Uint8Array;
  private readonly zeros: Uint8Array;
  private early: Uint8Array;
  private handshake: Uint8Array | undefined;
  private master: Uint8Array | undefined;

  /** Starts from the early secret: HKDF-Extract(0, PSK), or 0 for a full handshake (§7.1). */
  constructor(crypto: CryptoProvider, hash: HashAlgorithm, psk?: Uint8Array) {
    this.crypto = crypto;
    this.hash = hash;
    this.hashLength = hashLength(hash);
    this.zeros = new Uint8Array(this.hashLength);
    this.emptyHash = crypto.hash(hash, new Uint8Array(0));
    this.early = crypto.hkdfExtract(hash, this.zeros, psk ?? this.zeros);
  }

  /** The early secret (exposed for tests against RFC 8448). */
  get earlySecret(): Uint8Array {
    return this.early;
  }

  get handshakeSecret(): Uint8Array {
    if (!this.handshake) throw new Error('handshake secret not derived yet');
    return this.handshake;
  }

  get masterSecret(): Uint8Array {
    if (!this.master) throw new Error('master secret not derived yet');
    return this.master;
  }

  /** HKDF-Expand-Label(secret, label, context, length) with the suite's hash (§7.1). */
  expandLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
    return hkdfExpandLabel(this.crypto, this.hash, secret, label, context, length);
  }

  /** Derive-Secret(secret, label, messages) given Transcript-Hash(messages) (§7.1). */
  deriveSecret(secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
    return this.expandLabel(secret, label, transcriptHash, this.hashLength);
  }

  /** binder_key: "res binder" for resumption PSKs, "ext binder" for external ones (§7.1). */
  binderKey(resumption = true): Uint8Array {
    return this.deriveSecret(this.early, resumption ? 'res binder' : 'ext binder', this.emptyHash);
  }

  /** client_early_traffic_secret over Transcript-Hash(ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.deriveSecret(this.early, 'c e traffic', clientHelloHash);
  }

  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.deriveSecret(this.early, 'e exp master', clientHelloHash);
  }

  /** Mixes in the (EC)DHE shared secret: handshake_secret (§7.1). */
  deriveHandshakeSecret(sharedSecret: Uint8Array): Uint8Array {
    const salt = this.deriveSecret(this.early, 'derived', this.emptyHash);
    this.handshake = this.crypto.hkdfExtract(this.hash, salt, sharedSecret);
    return this.handshake;
  }

  /** Client/server handshake traffic secrets over Transcript-Hash(ClientHello..ServerHello). */
  handshakeTrafficSecrets(helloHash: Uint8Array): { client: Uint8Array; server: Uint8Array } {
    const hs = this.handshakeSecret;
    return { client: this.deriveSecret(hs, 'c hs traffic', helloHash), server: this.deriveSecret(hs, 's hs traffic', helloHash) };
  }

  deriveMasterSecret(): Uint8Array {
    const salt = this.deriveSecret(this.handshakeSecret, 'derived', this.emptyHash);
    this.master = this.crypto.hkdfExtract(this.hash, salt, this.zeros);
    return this.master;
  }

  /** Application traffic secrets over Transcript-Hash(ClientHello..server Finished). */
  applicationTrafficSecrets(serverFinishedHash: Uint8Array): { client: Uint8Array; server: Uint8Array } {
    const ms = this.masterSecret;
    return { client: this.deriveSecret(ms, 'c ap traffic', serverFinishedHash), server: this.deriveSecret(ms, 's ap traffic', serverFinishedHash) };
  }

  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.deriveSecret(this.masterSecret, 'exp master', serverFinishedHash);
  }

  /** resumption_master_secret over Transcript-Hash(ClientHello..client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return this.deriveSecret(this.masterSecret, 'res master', clientFinishedHash);
  }

  /** The PSK a ticket stands for: HKDF-Expand-Label(rms, "resumption", nonce, Hash.length) (§4.6.1). */
  resumptionPsk(resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
    return this.expandLabel(resumptionMasterSecret, 'resumption', nonce, this.hashLength);
  }

  /**
   * Finished verify_data (§4.4.4): HMAC(finished_key, transcriptHash) with
   * finished_key = HKDF-Expand-Label(baseKey, "finished", "", Hash.length). Also PSK binders (§4.2.11.2).
   */
  finishedVerifyData(baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
    const finishedKey = this.expandLabel(baseKey, 'finished', new Uint8Array(0), this.hashLength);
    return this.crypto.hmac(this.hash, finishedKey, transcriptHash);
  }
}

/** Constant-time comparison of two MACs (Finished, binders). */
export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
