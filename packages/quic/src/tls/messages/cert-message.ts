/** The Certificate handshake message (RFC 8446 §4.4.2), X.509 entries only. */

import { ByteWriter } from '../../codec/writer.js';
import { type Extension, readExtensions, writeExtensions } from '../extensions.js';
import { HandshakeType } from '../wire.js';
import { TlsReader } from './tls-reader.js';

export interface CertificateEntry {
  /** DER of one certificate. */
  data: Uint8Array;
  extensions: Extension[];
}

export interface CertificateMessage {
  context: Uint8Array;
  /** Leaf first (§4.4.2). Empty when a client has no certificate to send. */
  entries: CertificateEntry[];
}

export function encodeCertificateMessage(msg: CertificateMessage): Uint8Array {
  const w = new ByteWriter(1024);
  w.u8(HandshakeType.CERTIFICATE);
  w.lengthPrefixed(3, () => {
    w.u8Prefixed(msg.context);
    w.lengthPrefixed(3, () => {
      for (const e of msg.entries) {
        w.u24Prefixed(e.data);
        writeExtensions(w, e.extensions);
      }
    });
  });
  return w.finish();
}

export function decodeCertificateMessage(body: Uint8Array): CertificateMessage {
  const r = new TlsReader(body);
  const context = r.u8Prefixed();
  const list = new TlsReader(r.u24Prefixed());
  r.expectEnd('Certificate');
  const entries: CertificateEntry[] = [];
  while (!list.isEmpty()) {
    const data = list.u24Prefixed();
    if (data.length === 0) list.fail('empty certificate');
    entries.push({ data, extensions: readExtensions(list) });
  }
  return { context, entries };
}
