/** CertificateRequest (RFC 8446 §4.3.2). */

import { ByteWriter } from '../../codec/writer.js';
import { type Extension, readExtensions, writeExtensions } from '../extensions.js';
import { HandshakeType } from '../wire.js';
import { TlsReader } from './tls-reader.js';

export interface CertificateRequest {
  /** Empty during the handshake (§4.3.2); post-handshake auth is not used with QUIC (RFC 9001 §4.4). */
  context: Uint8Array;
  extensions: Extension[];
}

export function encodeCertificateRequest(cr: CertificateRequest): Uint8Array {
  const w = new ByteWriter(128);
  w.u8(HandshakeType.CERTIFICATE_REQUEST);
  w.lengthPrefixed(3, () => {
    w.u8Prefixed(cr.context);
    writeExtensions(w, cr.extensions);
  });
  return w.finish();
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = new TlsReader(body);
  const context = r.u8Prefixed();
  const extensions = readExtensions(r);
  r.expectEnd('CertificateRequest');
  return { context, extensions };
}
