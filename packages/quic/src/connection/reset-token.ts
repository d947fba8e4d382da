/**
 * Stateless reset tokens (RFC 9000 §10.3.2): HMAC-SHA256 of the connection ID under the
 * endpoint's static key, truncated to 16 bytes. A token derived this way can be recomputed
 * by an endpoint that lost the connection's state (after a restart with the same key), which
 * is what lets it send a Stateless Reset the peer recognises.
 */

import type { SymmetricCrypto } from '../crypto/provider.js';

export const STATELESS_RESET_TOKEN_BYTES = 16;

/** The reset token for one of our connection IDs. */
export function statelessResetToken(crypto: SymmetricCrypto, staticKey: Uint8Array, cid: Uint8Array): Uint8Array {
  return crypto.hmac('sha256', staticKey, cid).slice(0, STATELESS_RESET_TOKEN_BYTES);
}

/** RFC 9000 §10.3: the smallest Stateless Reset (5 unpredictable bytes and the token). */
export const MIN_STATELESS_RESET_BYTES = 21;

/**
 * Whether a datagram ends in one of `tokens` (RFC 9000 §10.3.1). Every comparison reads all
 * 16 bytes (no early exit), so timing says nothing about a token's value.
 */
export function endsWithResetToken(datagram: Uint8Array, tokens: Iterable<Uint8Array>): boolean {
  if (datagram.length < MIN_STATELESS_RESET_BYTES) return false;
  const tail = datagram.length - STATELESS_RESET_TOKEN_BYTES;
  let found = false;
  for (const token of tokens) {
    if (token.length !== STATELESS_RESET_TOKEN_BYTES) continue;
    let difference = 0;
    for (let i = 0; i < STATELESS_RESET_TOKEN_BYTES; i++) difference |= datagram[tail + i]! ^ token[i]!;
    if (difference === 0) found = true;
  }
  return found;
}
