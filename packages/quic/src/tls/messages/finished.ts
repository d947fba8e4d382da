/** Finished (RFC 8446 §4.4.4): verify_data is the whole body, Hash.length bytes. */

import { encodeHandshake } from './handshake-framing.js';
import { HandshakeType } from '../wire.js';
import { TlsAlert, tlsFail } from './tls-reader.js';

export function encodeFinished(verifyData: Uint8Array): Uint8Array {
  return encodeHandshake(HandshakeType.FINISHED, verifyData);
}

export function decodeFinished(body: Uint8Array, hashLength: number): Uint8Array {
  if (body.length !== hashLength) tlsFail(TlsAlert.DECODE_ERROR, `Finished of ${body.length} bytes, expected ${hashLength}`);
  return body;
}
