/**
 * A ByteReader for TLS handshake messages: running out of bytes is a decode_error alert
 * (RFC 8446 §6.2), so every parser built on it only ever throws TlsAlertError.
 */

import { ByteReader } from '../../codec/reader.js';
import { TlsAlert, TlsAlertError } from '../alert.js';

export class TlsReader extends ByteReader {
  override fail(reason: string): never {
    throw new TlsAlertError(TlsAlert.DECODE_ERROR, reason);
  }

  /** Fails with decode_error unless every byte was consumed (no trailing garbage, §4). */
  expectEnd(what: string): void {
    if (this.offset !== this.end) this.fail(`trailing bytes in ${what}`);
  }
}

/** Throws a fatal alert; the one way the handshake fails. */
export function tlsFail(alert: number, reason: string): never {
  throw new TlsAlertError(alert, reason);
}

export { TlsAlert, TlsAlertError };
