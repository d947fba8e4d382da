/**
 * The handshake transcript (RFC 8446 §4.4.1): the handshake messages in order, hashed with the
 * suite's hash once it is known. After a HelloRetryRequest, ClientHello1 is replaced by a
 * synthetic message_hash message.
 */

import type { CryptoProvider, HashAlgorithm } from '../crypto/provider.js';
import { HandshakeType } from './wire.js';

export class Transcript {
  private parts: Uint8Array[] = [];
  private length = 0;

  add(message: Uint8Array): void {
    this.parts.push(message);
    this.length += message.length;
  }

  /** Everything so far, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Transcript-Hash of the messages so far, optionally followed by `extra` (a partial message). */
  hash(crypto: CryptoProvider, algorithm: HashAlgorithm, extra?: Uint8Array): Uint8Array {
    if (!extra) return crypto.hash(algorithm, this.bytes());
    const all = new Uint8Array(this.length + extra.length);
    all.set(this.bytes());
    all.set(extra, this.length);
    return crypto.hash(algorithm, all);
  }

  /**
   * Drops the messages once the last secret that hashes them (resumption_master_secret, §7.1)
   * is derived: post-handshake messages are not part of the transcript, and an idle
   * connection would otherwise hold its whole handshake (the certificate chain included).
   */
  release(): void {
    this.parts = [];
    this.length = 0;
  }

  /**
   * §4.4.1: "When the server responds to a ClientHello with a HelloRetryRequest, the value of
   * ClientHello1 is replaced with a special synthetic handshake message of handshake type
   * message_hash containing Hash(ClientHello1)."
   */
  replaceWithMessageHash(crypto: CryptoProvider, algorithm: HashAlgorithm): void {
    const digest = crypto.hash(algorithm, this.bytes());
    const synthetic = new Uint8Array(4 + digest.length);
    synthetic[0] = HandshakeType.MESSAGE_HASH;
    synthetic[3] = digest.length;
    synthetic.set(digest, 4);
    this.parts = [synthetic];
    this.length = synthetic.length;
  }
}
