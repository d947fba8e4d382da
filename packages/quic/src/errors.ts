/**
 * Transport error codes (RFC 9000 §20.1) and the one error type every parser and handler throws.
 *
 * A `QuicError` raised anywhere while processing network input is caught once by the
 * connection and turned into a CONNECTION_CLOSE carrying `code` and `frameType`.
 */

/** QUIC transport error codes (RFC 9000 §20.1); CRYPTO_ERROR is 0x0100 + a TLS alert (RFC 9001 §4.8). */
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  /** RFC 9368 §10.2 */
  VERSION_NEGOTIATION_ERROR: 0x11,
  /** 0x0100-0x01ff: CRYPTO_ERROR, the low byte is the TLS alert (RFC 9001 §4.8). */
  CRYPTO_ERROR_BASE: 0x0100,
} as const;

export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

const names = new Map<number, string>();
for (const [name, code] of Object.entries(TransportErrorCode)) {
  if (name !== 'CRYPTO_ERROR_BASE') names.set(code, name);
}

/** Human-readable name of a transport error code, e.g. `FRAME_ENCODING_ERROR` or `CRYPTO_ERROR(0x28)`. */
export function transportErrorName(code: number): string {
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${(code - 0x100).toString(16).padStart(2, '0')})`;
  return names.get(code) ?? `0x${code.toString(16)}`;
}

/** The CRYPTO_ERROR code for a TLS alert (RFC 9001 §4.8). */
export function cryptoErrorCode(alert: number): number {
  return TransportErrorCode.CRYPTO_ERROR_BASE + (alert & 0xff);
}

const QUIC_ERROR_BRAND = Symbol.for('purequic.QuicError');

/**
 * A protocol error with the transport error code it maps to on the wire.
 * `frameType` is the type of the frame that caused it, when known (RFC 9000 §19.19).
 */
export class QuicError extends Error {
  readonly code: number;
  readonly frameType: number | undefined;

  constructor(code: number, reason: string, frameType?: number) {
    super(`${transportErrorName(code)}: ${reason}`);
    this.name = 'QuicError';
    this.code = code;
    this.frameType = frameType;
  }

  /** The reason without the code prefix, as sent in CONNECTION_CLOSE. */
  get reason(): string {
    const i = this.message.indexOf(': ');
    return i < 0 ? this.message : this.message.slice(i + 2);
  }

  /** True for QuicErrors, also across duplicate installs of this package. */
  static is(value: unknown): value is QuicError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[QUIC_ERROR_BRAND] === true;
  }
}
Object.defineProperty(QuicError.prototype, QUIC_ERROR_BRAND, { value: true });
