/**
 * NEW_TOKEN frames a server sends (RFC 9000 §8.1.3, §19.7): queued tokens go out in 1-RTT
 * packets once the handshake is confirmed, are sent again if their packet is lost (§13.3) and
 * forgotten once acknowledged.
 */

import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { writeNewToken } from '../frame/misc.js';
import { FrameType } from '../frame/types.js';
import { type RecoveryToken, TokenKind, token } from './recovery-token.js';

/** Tokens kept at most (queued plus in flight): a few per connection is all a client uses. */
const MAX_TOKENS = 4;

export class NewTokenSender {
  #pending: Uint8Array[] = [];
  readonly #inFlight = new Map<number, Uint8Array>();
  #nextId = 0;

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Queues a token; ignored beyond a few outstanding. */
  queue(newToken: Uint8Array): void {
    if (newToken.length === 0 || this.#pending.length + this.#inFlight.size >= MAX_TOKENS) return;
    this.#pending.push(newToken);
  }

  /** Writes queued NEW_TOKEN frames that fit before `limit`. */
  write(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    // Bounded by MAX_TOKENS.
    while (this.#pending.length > 0) {
      const t = this.#pending[0]!;
      if (1 + varintLength(t.length) + t.length > limit - w.offset) return;
      this.#pending.shift();
      writeNewToken(w, { type: FrameType.NEW_TOKEN, token: t });
      const id = this.#nextId++;
      this.#inFlight.set(id, t);
      tokens.push(token(TokenKind.NEW_TOKEN, 0, id));
    }
  }

  onAcked(id: number): void {
    this.#inFlight.delete(id);
  }

  onLost(id: number): void {
    const t = this.#inFlight.get(id);
    if (t === undefined) return;
    this.#inFlight.delete(id);
    this.#pending.push(t);
  }
}
