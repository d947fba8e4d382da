/**
 * Recovery tokens: what a sent packet carried, recorded so that on loss exactly the lost
 * information is sent again and on acknowledgment the owner learns it arrived
 * (RFC 9000 §13.3: retransmission is by frame content, not by packet).
 *
 * One flat record type with a `kind` keeps tokens cheap (no closures; one small object each).
 */

export const TokenKind = {
  /** An ACK frame; `a` = largest acknowledged (ack of ack, RFC 9000 §13.2.4). */
  ACK: 0,
  /** CRYPTO data; `a` = offset, `b` = length. */
  CRYPTO: 1,
  /** STREAM data; `id`, `a` = offset, `b` = length, `fin`. */
  STREAM: 2,
  /** RESET_STREAM or RESET_STREAM_AT; `id`, `a` = reliable size (0 = plain). */
  RESET_STREAM: 3,
  STOP_SENDING: 4,
  /** `a` = the limit sent. */
  MAX_DATA: 5,
  MAX_STREAM_DATA: 6,
  /** `fin` = bidirectional, `a` = the limit sent. */
  MAX_STREAMS: 7,
  DATA_BLOCKED: 8,
  STREAM_DATA_BLOCKED: 9,
  STREAMS_BLOCKED: 10,
  /** `a` = sequence number. */
  NEW_CONNECTION_ID: 11,
  RETIRE_CONNECTION_ID: 12,
  HANDSHAKE_DONE: 13,
  /** `a` = datagram id. */
  DATAGRAM: 14,
  PING: 15,
  /** `a` = the NewTokenSender's id of the token. */
  NEW_TOKEN: 16,
  /** A DPLPMTUD probe packet (PING + PADDING); `a` = the probed datagram size. */
  PMTU_PROBE: 17,
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface RecoveryToken {
  kind: TokenKind;
  id: number;
  a: number;
  b: number;
  fin: boolean;
}

export function token(kind: TokenKind, id = 0, a = 0, b = 0, fin = false): RecoveryToken {
  return { kind, id, a, b, fin };
}
