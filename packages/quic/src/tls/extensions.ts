/**
 * Extension blocks (RFC 8446 §4.2) and the codecs of each extension body we use.
 *
 * A block is kept as an ordered list of raw extensions; each message's handler decodes only the
 * ones it understands and ignores unknown types (GREASE, RFC 8701), as §4.2 requires.
 */

import { ByteWriter } from '../codec/writer.js';
import { ExtensionType } from './wire.js';
import { TlsAlert, TlsReader, tlsFail } from './messages/tls-reader.js';

export interface Extension {
  type: number;
  data: Uint8Array;
}

/** Reads `extensions<0..2^16-1>`; a repeated type is illegal_parameter (§4.2). */
export function readExtensions(r: TlsReader): Extension[] {
  const block = new TlsReader(r.u16Prefixed());
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (!block.isEmpty()) {
    const type = block.u16();
    const data = block.u16Prefixed();
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
    if (seen.has(type)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, `duplicate extension ${type}`);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

export function writeExtensions(w: ByteWriter, extensions: readonly Extension[]): void {
  w.lengthPrefixed(2, () => {
    for (const e of extensions) w.u16(e.type).u16Prefixed(e.data);
  });
}

export function findExtension(extensions: readonly Extension[], type: number): Uint8Array | undefined {
  for (const e of extensions) if (e.type === type) return e.data;
  return undefined;
}

/**
 * Checks that a block holds only extensions allowed in that message (RFC 8446 §4.2 table):
 * a known extension in the wrong message is illegal_parameter; unknown ones are ignored.
 */
export function checkAllowedExtensions(extensions: readonly Extension[], allowed: readonly number[], message: string): void {
  for (const e of extensions) {
    if (allowed.includes(e.type)) continue;
    if (KNOWN_EXTENSIONS.has(e.type)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, `extension ${e.type} not allowed in ${message}`);
  }
}

const KNOWN_EXTENSIONS = new Set<number>(Object.values(ExtensionType));

function parse<T>(data: Uint8Array, what: string, read: (r: TlsReader) => T): T {
  const r = new TlsReader(data);
  const value = read(r);
  r.expectEnd(what);
  return value;
}

function u16List(r: TlsReader, what: string, minBytes: number): number[] {
  const list = new TlsReader(r.u16Prefixed());
  if (list.remaining < minBytes || list.remaining % 2 !== 0) list.fail(`bad ${what} length`);
  const out: number[] = [];
  while (!list.isEmpty()) out.push(list.u16());
  return out;
}

function encodeWith(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(64);
  write(w);
  return w.finish();
}

// --- server_name (RFC 6066 §3) -------------------------------------------------------------

export function encodeServerName(host: string): Uint8Array {
  const name = new TextEncoder().encode(host);
  return encodeWith((w) => w.lengthPrefixed(2, () => w.u8(0).u16Prefixed(name)));
}

/** The host_name entry, or undefined if the list has none. */
export function decodeServerName(data: Uint8Array): string | undefined {
  return parse(data, 'server_name', (r) => {
    const list = new TlsReader(r.u16Prefixed());
    if (list.isEmpty()) list.fail('empty server_name list');
    let host: string | undefined;
    while (!list.isEmpty()) {
      const type = list.u8();
      const name = list.u16Prefixed();
      if (type !== 0) continue;
      // RFC 6066 §3: at most one name of a given type.
      if (host !== undefined) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'two host_name entries');
      if (name.length === 0) list.fail('empty host_name');
      host = new TextDecoder().decode(name);
    }
    return host;
  });
}

// --- supported_groups, signature_algorithms(_cert) ------------------------------------------

export function encodeU16List(values: readonly number[]): Uint8Array {
  return encodeWith((w) => w.lengthPrefixed(2, () => values.forEach((v) => w.u16(v))));
}

/** supported_groups / signature_algorithms bodies: a non-empty list of u16 code points. */
export function decodeU16List(data: Uint8Array, what: string): number[] {
  return parse(data, what, (r) => u16List(r, what, 2));
}

// --- application_layer_protocol_negotiation (RFC 7301 §3.1) ---------------------------------

export function encodeAlpn(protocols: readonly string[]): Uint8Array {
  return encodeWith((w) =>
    w.lengthPrefixed(2, () => {
      for (const p of protocols) w.u8Prefixed(new TextEncoder().encode(p));
    }),
  );
}

export function decodeAlpn(data: Uint8Array): string[] {
  return parse(data, 'alpn', (r) => {
    const list = new TlsReader(r.u16Prefixed());
    if (list.isEmpty()) list.fail('empty ALPN list');
    const out: string[] = [];
    while (!list.isEmpty()) {
      const name = list.u8Prefixed();
      // RFC 7301 §3.1: empty strings MUST NOT be included.
      if (name.length === 0) list.fail('empty ALPN protocol name');
      out.push(new TextDecoder().decode(name));
    }
    return out;
  });
}

// --- supported_versions (RFC 8446 §4.2.1) ---------------------------------------------------

export function encodeSupportedVersionsClient(versions: readonly number[]): Uint8Array {
  return encodeWith((w) => w.lengthPrefixed(1, () => versions.forEach((v) => w.u16(v))));
}

export function decodeSupportedVersionsClient(data: Uint8Array): number[] {
  return parse(data, 'supported_versions', (r) => {
    const list = new TlsReader(r.u8Prefixed());
    if (list.remaining < 2 || list.remaining % 2 !== 0) list.fail('bad supported_versions length');
    const out: number[] = [];
    while (!list.isEmpty()) out.push(list.u16());
    return out;
  });
}

export function encodeU16(value: number): Uint8Array {
  return encodeWith((w) => w.u16(value));
}

export function decodeU16(data: Uint8Array, what: string): number {
  return parse(data, what, (r) => r.u16());
}

// --- key_share (RFC 8446 §4.2.8) ------------------------------------------------------------

export interface KeyShareEntry {
  group: number;
  keyExchange: Uint8Array;
}

export function encodeKeyShareClient(entries: readonly KeyShareEntry[]): Uint8Array {
  return encodeWith((w) =>
    w.lengthPrefixed(2, () => {
      for (const e of entries) w.u16(e.group).u16Prefixed(e.keyExchange);
    }),
  );
}

export function decodeKeyShareClient(data: Uint8Array): KeyShareEntry[] {
  return parse(data, 'key_share', (r) => {
    const list = new TlsReader(r.u16Prefixed());
    const out: KeyShareEntry[] = [];
    const seen = new Set<number>();
    while (!list.isEmpty()) {
      const group = list.u16();
      const keyExchange = list.u16Prefixed();
      if (keyExchange.length === 0) list.fail('empty key_exchange');
      // §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group."
      if (seen.has(group)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'two key shares for one group');
      seen.add(group);
      out.push({ group, keyExchange });
    }
    return out;
  });
}

export function encodeKeyShareServer(entry: KeyShareEntry): Uint8Array {
  return encodeWith((w) => w.u16(entry.group).u16Prefixed(entry.keyExchange));
}

export function decodeKeyShareServer(data: Uint8Array): KeyShareEntry {
  return parse(data, 'key_share', (r) => {
    const group = r.u16();
    const keyExchange = r.u16Prefixed();
    if (keyExchange.length === 0) r.fail('empty key_exchange');
    return { group, keyExchange };
  });
}

// --- psk_key_exchange_modes (RFC 8446 §4.2.9) -----------------------------------------------

export function encodePskModes(modes: readonly number[]): Uint8Array {
  return encodeWith((w) => w.lengthPrefixed(1, () => modes.forEach((m) => w.u8(m))));
}

export function decodePskModes(data: Uint8Array): number[] {
  return parse(data, 'psk_key_exchange_modes', (r) => {
    const list = new TlsReader(r.u8Prefixed());
    if (list.isEmpty()) list.fail('empty psk_key_exchange_modes');
    const out: number[] = [];
    while (!list.isEmpty()) out.push(list.u8());
    return out;
  });
}

// --- pre_shared_key (RFC 8446 §4.2.11) ------------------------------------------------------

export interface PskIdentity {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  identities: PskIdentity[];
  binders: Uint8Array[];
}

export function encodeOfferedPsks(psks: OfferedPsks): Uint8Array {
  return encodeWith((w) => {
    w.lengthPrefixed(2, () => {
      for (const id of psks.identities) w.u16Prefixed(id.identity).u32(id.obfuscatedTicketAge);
    });
    w.lengthPrefixed(2, () => {
      for (const b of psks.binders) w.u8Prefixed(b);
    });
  });
}

/** Length of the binders list (with its u16 length) at the end of a pre_shared_key body (§4.2.11.2). */
export function bindersLength(binderLengths: readonly number[]): number {
  return 2 + binderLengths.reduce((s, n) => s + 1 + n, 0);
}

export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  return parse(data, 'pre_shared_key', (r) => {
    const ids = new TlsReader(r.u16Prefixed());
    if (ids.remaining < 7) ids.fail('empty PSK identities');
    const identities: PskIdentity[] = [];
    while (!ids.isEmpty()) {
      const identity = ids.u16Prefixed();
      if (identity.length === 0) ids.fail('empty PSK identity');
      identities.push({ identity, obfuscatedTicketAge: ids.u32() });
    }
    const bl = new TlsReader(r.u16Prefixed());
    if (bl.remaining < 33) bl.fail('empty PSK binders');
    const binders: Uint8Array[] = [];
    while (!bl.isEmpty()) {
      const b = bl.u8Prefixed();
      if (b.length < 32) bl.fail('short PSK binder');
      binders.push(b);
    }
    // §4.2.11: identities and binders correspond one to one.
    if (binders.length !== identities.length) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'PSK identities and binders differ in number');
    return { identities, binders };
  });
}

// --- early_data (RFC 8446 §4.2.10) ----------------------------------------------------------

export function expectEmpty(data: Uint8Array, what: string): void {
  if (data.length !== 0) tlsFail(TlsAlert.DECODE_ERROR, `${what} must be empty`);
}

export function encodeU32(value: number): Uint8Array {
  return encodeWith((w) => w.u32(value));
}

export function decodeU32(data: Uint8Array, what: string): number {
  return parse(data, what, (r) => r.u32());
}

// --- cookie (RFC 8446 §4.2.2) ---------------------------------------------------------------

export function encodeCookie(cookie: Uint8Array): Uint8Array {
  return encodeWith((w) => w.u16Prefixed(cookie));
}

export function decodeCookie(data: Uint8Array): Uint8Array {
  return parse(data, 'cookie', (r) => {
    const c = r.u16Prefixed();
    if (c.length === 0) r.fail('empty cookie');
    return c;
  });
}

