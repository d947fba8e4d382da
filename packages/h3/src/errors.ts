/**
 * HTTP/3 error codes (RFC 9114 §8.1) and the error type the HTTP/3 layer throws internally.
 * A connection error closes the QUIC connection with its code (CONNECTION_CLOSE 0x1d); a stream
 * error resets that request stream only.
 */

export const H3ErrorCode = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  /** RFC 9204 §6 */
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
  /** RFC 9297 §5.2 */
  DATAGRAM_ERROR: 0x33,
} as const;

const NAMES = new Map<number, string>(Object.entries(H3ErrorCode).map(([k, v]) => [v, k.startsWith('QPACK') ? k : `H3_${k}`]));

/** `H3_MESSAGE_ERROR`, `QPACK_DECOMPRESSION_FAILED`, or the number in hex. */
export function h3ErrorName(code: number): string {
  return NAMES.get(code) ?? `0x${code.toString(16)}`;
}

/** A connection error (RFC 9114 §8): the whole connection closes with `code`. */
export class H3ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${h3ErrorName(code)}: ${message}`);
    this.name = 'H3ConnectionError';
  }
}

/** A stream error (RFC 9114 §8): only this stream is reset with `code`. */
export class H3StreamError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${h3ErrorName(code)}: ${message}`);
    this.name = 'H3StreamError';
  }
}

/**
 * RFC 9114 §8.1: reserved codes of the form 0x1f * N + 0x21 are GREASE; they carry no meaning and
 * are sent now and then so peers keep tolerating unknown codes.
 */
export function isGreaseCode(value: number): boolean {
  return value >= 0x21 && (value - 0x21) % 0x1f === 0;
}
