/**
 * TLS alerts (RFC 8446 §6) and the error that carries one out of the handshake.
 *
 * QUIC never sends TLS alert records: a fatal alert becomes a CONNECTION_CLOSE with the
 * CRYPTO_ERROR code 0x100 + alert (RFC 9001 §4.8). `TlsAlertError` is therefore a `QuicError`
 * whose `code` already is that transport error code, so the connection's single catch site
 * handles it like any other protocol error.
 */

import { cryptoErrorCode, QuicError } from '../errors.js';

/** AlertDescription values (RFC 8446 §6). */
export const TlsAlert = {
  CLOSE_NOTIFY: 0,
  UNEXPECTED_MESSAGE: 10,
  BAD_RECORD_MAC: 20,
  RECORD_OVERFLOW: 22,
  HANDSHAKE_FAILURE: 40,
  BAD_CERTIFICATE: 42,
  UNSUPPORTED_CERTIFICATE: 43,
  CERTIFICATE_REVOKED: 44,
  CERTIFICATE_EXPIRED: 45,
  CERTIFICATE_UNKNOWN: 46,
  ILLEGAL_PARAMETER: 47,
  UNKNOWN_CA: 48,
  ACCESS_DENIED: 49,
  DECODE_ERROR: 50,
  DECRYPT_ERROR: 51,
  PROTOCOL_VERSION: 70,
  INSUFFICIENT_SECURITY: 71,
  INTERNAL_ERROR: 80,
  INAPPROPRIATE_FALLBACK: 86,
  USER_CANCELED: 90,
  MISSING_EXTENSION: 109,
  UNSUPPORTED_EXTENSION: 110,
  UNRECOGNIZED_NAME: 112,
  BAD_CERTIFICATE_STATUS_RESPONSE: 113,
  UNKNOWN_PSK_IDENTITY: 115,
  CERTIFICATE_REQUIRED: 116,
  NO_APPLICATION_PROTOCOL: 120,
} as const;

export type TlsAlert = (typeof TlsAlert)[keyof typeof TlsAlert];

const alertNames = new Map<number, string>();
for (const [name, value] of Object.entries(TlsAlert)) alertNames.set(value, name.toLowerCase());

/** The RFC 8446 name of an alert, e.g. `bad_certificate`, or `alert(N)` for unknown values. */
export function tlsAlertName(alert: number): string {
  return alertNames.get(alert) ?? `alert(${alert})`;
}

const TLS_ALERT_ERROR_BRAND = Symbol.for('purequic.TlsAlertError');

/**
 * A fatal TLS alert raised by the handshake (or certificate checks).
 * `code` is CRYPTO_ERROR 0x100 + `alert` (RFC 9001 §4.8).
 */
export class TlsAlertError extends QuicError {
  readonly alert: number;

  constructor(alert: number, reason: string) {
    super(cryptoErrorCode(alert), `${tlsAlertName(alert)}: ${reason}`);
    this.name = 'TlsAlertError';
    this.alert = alert & 0xff;
  }

  /** True for TlsAlertErrors, also across duplicate installs of this package. */
  static isTlsAlert(value: unknown): value is TlsAlertError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TLS_ALERT_ERROR_BRAND] === true;
  }
}
Object.defineProperty(TlsAlertError.prototype, TLS_ALERT_ERROR_BRAND, { value: true });
