/**
 * QPACK errors (RFC 9204 §6). QpackError is a connection error carrying the HTTP/3 error code the
 * connection must close with; FieldSectionTooLargeError is a per-stream condition the HTTP/3 layer
 * answers itself (RFC 9114 §4.2.2: a 431 response at a server, or a stream error of type
 * H3_MESSAGE_ERROR).
 */

/** The three QPACK error codes (RFC 9204 §6), as sent in CONNECTION_CLOSE. */
export const QpackErrorCode = {
  /** The decoder failed to interpret an encoded field section. */
  DECOMPRESSION_FAILED: 0x200,
  /** The decoder failed to interpret an instruction on the peer's encoder stream. */
  ENCODER_STREAM_ERROR: 0x201,
  /** The encoder failed to interpret an instruction on the peer's decoder stream. */
  DECODER_STREAM_ERROR: 0x202,
} as const;

/** One of {@link QpackErrorCode}'s values. */
export type QpackErrorCodeValue = (typeof QpackErrorCode)[keyof typeof QpackErrorCode];

/** A QPACK connection error (RFC 9204 §6): close the connection with `code`. */
export class QpackError extends Error {
  override readonly name = 'QpackError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A decoded field section would exceed SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2). Raised
 * before the expanded section is built. The connection survives; the HTTP/3 layer fails only that
 * message (a 431 response or H3_MESSAGE_ERROR on the stream).
 */
export class FieldSectionTooLargeError extends Error {
  override readonly name = 'FieldSectionTooLargeError';
  constructor(readonly limit: number) {
    super(`field section exceeds the limit of ${limit} bytes`);
  }
}
