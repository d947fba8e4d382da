/** CertificateVerify (RFC 8446 §4.4.3): the message and the content that gets signed. */

import { ByteWriter } from '../../codec/writer.js';
import { HandshakeType } from '../wire.js';
import { TlsReader } from './tls-reader.js';

export interface CertificateVerify {
  scheme: number;
  signature: Uint8Array;
}

export function encodeCertificateVerify(cv: CertificateVerify): Uint8Array {
  const w = new ByteWriter(cv.signature.length + 8);
  w.u8(HandshakeType.CERTIFICATE_VERIFY);
  w.lengthPrefixed(3, () => w.u16(cv.scheme).u16Prefixed(cv.signature));
  return w.finish();
}

export function decodeCertificateVerify(body: Uint8Array): CertificateVerify {
  const r = new TlsReader(body);
  const scheme = r.u16();
  const signature = r.u16Prefixed();
  r.expectEnd('CertificateVerify');
  if (signature.length === 0) r.fail('empty signature');
  return { scheme, signature };
}

const SERVER_CONTEXT = new TextEncoder().encode('TLS 1.3, server CertificateVerify');
const CLIENT_CONTEXT = new TextEncoder().encode('TLS 1.3, client CertificateVerify');

/**
 * The signed content (§4.4.3): 64 spaces, the context string, a zero byte, then the
 * transcript hash up to (not including) this CertificateVerify.
 */
export function certificateVerifyContent(role: 'client' | 'server', transcriptHash: Uint8Array): Uint8Array {
  const context = role === 'server' ? SERVER_CONTEXT : CLIENT_CONTEXT;
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(context, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 65 + context.length);
  return out;
}
