/**
 * A minimal DER (ITU-T X.690) reader and writer: just what key formats (SPKI, PKCS#8, RSA and EC
 * private keys) and ECDSA signatures need. Certificates themselves are parsed by @peculiar/x509.
 *
 * Reads are built on ByteReader, so malformed input throws a QuicError carrying the reader's
 * error code (callers choose it: bad_certificate for peer input, for instance).
 */

import { ByteReader } from '../codec/reader.js';

export const DerTag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** [0] constructed, e.g. ECPrivateKey parameters. */
  CONTEXT_0: 0xa0,
  /** [1] constructed, e.g. ECPrivateKey publicKey. */
  CONTEXT_1: 0xa1,
  CONTEXT_2: 0xa2,
  CONTEXT_3: 0xa3,
} as const;

/** One element: its tag and a view of its content. */
export interface DerElement {
  tag: number;
  content: Uint8Array;
}

/** Reads one TLV and also returns its complete encoding (header included), e.g. a tbsCertificate. */
export function readDerWithRaw(reader: ByteReader): DerElement & { raw: Uint8Array } {
  const start = reader.offset;
  const element = readDer(reader);
  return { ...element, raw: reader.buf.subarray(start, reader.offset) };
}

/** Reads one TLV. Only definite, minimal-ish lengths up to 4 bytes (ample for keys). */
export function readDer(reader: ByteReader): DerElement {
  const tag = reader.u8();
  if ((tag & 0x1f) === 0x1f) reader.fail('DER: multi-byte tags are not supported');
  let length = reader.u8();
  if (length & 0x80) {
    const count = length & 0x7f;
    // X.690 §8.1.3.6: 0x80 is the indefinite form, which DER forbids (§10.1).
    if (count === 0 || count > 4) reader.fail('DER: unsupported length form');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + reader.u8();
    // X.690 §10.1: DER uses the short form below 128 and the fewest length octets.
    if (length < 0x80 || length < 256 ** (count - 1)) reader.fail('DER: non-minimal length');
  }
  return { tag, content: reader.bytes(length) };
}

/** Reads one TLV and requires its tag. */
export function expectDer(reader: ByteReader, tag: number, what: string): Uint8Array {
  const element = readDer(reader);
  if (element.tag !== tag) reader.fail(`DER: expected ${what}`);
  return element.content;
}

/** A reader over the content of an element, with the same error code. */
export function innerReader(outer: ByteReader, content: Uint8Array): ByteReader {
  return new ByteReader(content, 0, content.length, outer.errorCode);
}

/** A non-negative INTEGER's magnitude (leading zero octets dropped). */
export function readUnsignedInteger(reader: ByteReader): Uint8Array {
  const content = expectDer(reader, DerTag.INTEGER, 'INTEGER');
  if (content.length === 0) reader.fail('DER: empty INTEGER');
  if ((content[0] as number) & 0x80) reader.fail('DER: negative INTEGER');
  // X.690 §8.3.2: no redundant leading zero octet.
  if (content.length > 1 && content[0] === 0 && ((content[1] as number) & 0x80) === 0) reader.fail('DER: non-minimal INTEGER');
  let start = 0;
  while (start < content.length - 1 && content[start] === 0) start++;
  return content.subarray(start);
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function oidToString(content: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] as number;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

export function readOid(reader: ByteReader): string {
  return oidToString(expectDer(reader, DerTag.OID, 'OBJECT IDENTIFIER'));
}

// ---- writing ----

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
  return [0x80 | out.length, ...out];
}

/** Encodes one TLV. */
export function encodeDer(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of contents) total += c.length;
  const header = lengthBytes(total);
  const out = new Uint8Array(1 + header.length + total);
  out[0] = tag;
  out.set(header, 1);
  let offset = 1 + header.length;
  for (const c of contents) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Encodes a non-negative integer given as big-endian magnitude bytes. */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return encodeDer(DerTag.INTEGER, new Uint8Array(1));
  if ((trimmed[0] as number) & 0x80) return encodeDer(DerTag.INTEGER, new Uint8Array(1), trimmed);
  return encodeDer(DerTag.INTEGER, trimmed);
}

/** Encodes a dotted OID. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const first = (arcs[0] ?? 0) * 40 + (arcs[1] ?? 0);
  const bytes: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return encodeDer(DerTag.OID, Uint8Array.from(bytes));
}

// ---- ECDSA signatures: DER `SEQUENCE { r INTEGER, s INTEGER }` (RFC 8446 §4.2.3) <-> r || s ----

/**
 * Converts a DER ECDSA signature to fixed-size r || s; null when malformed, trailing data or
 * out of range for `size`-byte scalars.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | null {
  try {
    const reader = new ByteReader(der);
    const seq = innerReader(reader, expectDer(reader, DerTag.SEQUENCE, 'SEQUENCE'));
    if (!reader.isEmpty()) return null;
    const r = readUnsignedInteger(seq);
    const s = readUnsignedInteger(seq);
    if (!seq.isEmpty() || r.length > size || s.length > size) return null;
    const out = new Uint8Array(2 * size);
    out.set(r, size - r.length);
    out.set(s, 2 * size - s.length);
    return out;
  } catch {
    return null;
  }
}

/** Converts r || s (each `raw.length / 2` bytes) to DER. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length >>> 1;
  return encodeDer(
    DerTag.SEQUENCE,
    encodeUnsignedInteger(raw.subarray(0, half)),
    encodeUnsignedInteger(raw.subarray(half)),
  );
}

// ---- PEM (RFC 7468) ----

/** Decodes the first PEM block (optionally with the given label) to DER. */
export function pemToDer(pem: string, label?: string): Uint8Array {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let match = re.exec(pem), guard = 0; match !== null && guard < 1000; match = re.exec(pem), guard++) {
    if (label !== undefined && match[1] !== label) continue;
    return base64ToBytes((match[2] ?? '').replace(/\s+/g, ''));
  }
  throw new Error(label ? `no PEM block labelled ${label}` : 'no PEM block');
}

/** All PEM blocks with the label, as DER (e.g. every CERTIFICATE of a bundle). */
export function pemBlocksToDer(pem: string, label: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let match = re.exec(pem), guard = 0; match !== null && guard < 100_000; match = re.exec(pem), guard++) {
    if (match[1] === label) out.push(base64ToBytes((match[2] ?? '').replace(/\s+/g, '')));
  }
  return out;
}

/** Encodes DER as a PEM block with 64-column lines. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = bytesToBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function base64ToBytes(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i);
    const v = code < 128 ? (B64_INDEX[code] as number) : -1;
    if (v < 0) throw new Error('invalid base64 in PEM');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + '=';
  }
  return s;
}
