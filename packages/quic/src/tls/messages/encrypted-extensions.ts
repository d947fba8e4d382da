/** EncryptedExtensions (RFC 8446 §4.3.1): just an extension block. */

import { ByteWriter } from '../../codec/writer.js';
import { type Extension, readExtensions, writeExtensions } from '../extensions.js';
import { HandshakeType } from '../wire.js';
import { TlsReader } from './tls-reader.js';

export function encodeEncryptedExtensions(extensions: readonly Extension[]): Uint8Array {
  const w = new ByteWriter(128);
  w.u8(HandshakeType.ENCRYPTED_EXTENSIONS);
  w.lengthPrefixed(3, () => writeExtensions(w, extensions));
  return w.finish();
}

export function decodeEncryptedExtensions(body: Uint8Array): Extension[] {
  const r = new TlsReader(body);
  const extensions = readExtensions(r);
  r.expectEnd('EncryptedExtensions');
  return extensions;
}
