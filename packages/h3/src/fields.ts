/**
 * Field section validation (RFC 9114 §4.2, §4.3; RFC 9110 §5): a malformed request or response
 * is a stream error H3_MESSAGE_ERROR (§4.1.2), never a connection error.
 */

import { H3ErrorCode, H3StreamError } from './errors.js';
/** One field line: name (lowercase on the wire) and value. */
export interface HeaderField {
  name: string;
  value: string;
}

/** RFC 9114 §4.2: connection-specific fields that HTTP/3 forbids. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2: uppercase names are malformed). */
const NAME_CHARS = (() => {
  const ok = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") ok[c.charCodeAt(0)] = 1;
  return ok;
})();

function malformed(message: string): H3StreamError {
  return new H3StreamError(H3ErrorCode.MESSAGE_ERROR, message);
}

function checkName(name: string): void {
  if (name.length === 0) throw malformed('empty field name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHARS[c] !== 1) throw malformed(`invalid character in field name ${JSON.stringify(name)}`);
  }
}

function checkValue(name: string, value: string): void {
  // RFC 9114 §4.2 / RFC 9110 §5.5: NUL, CR and LF are never valid in a field value.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformed(`invalid character in the value of ${name}`);
  }
}

/** Checks the regular (non-pseudo) fields of a header or trailer section. */
function checkRegularField(field: HeaderField): void {
  checkName(field.name);
  checkValue(field.name, field.value);
  if (CONNECTION_SPECIFIC.has(field.name)) throw malformed(`connection-specific field ${field.name}`);
  if (field.name === 'te' && field.value !== 'trailers') throw malformed('te other than "trailers"');
}

/** A validated request head. */
export interface RequestHead {
  method: string;
  scheme: string | undefined;
  authority: string | undefined;
  path: string | undefined;
  /** RFC 8441 §4 / RFC 9220: the Extended CONNECT protocol. */
  protocol: string | undefined;
  /** Regular fields, in order. */
  fields: HeaderField[];
  /** content-length when present (validated as one non-negative integer). */
  contentLength: number | undefined;
}

/** A validated response head. */
export interface ResponseHead {
  status: number;
  fields: HeaderField[];
  contentLength: number | undefined;
}

function parseContentLength(fields: HeaderField[]): number | undefined {
  let result: number | undefined;
  for (const f of fields) {
    if (f.name !== 'content-length') continue;
    // RFC 9110 §8.6: a list of identical values may be collapsed; anything else is invalid.
    for (const part of f.value.split(',')) {
      const t = part.trim();
      if (!/^\d{1,15}$/.test(t)) throw malformed(`invalid content-length ${JSON.stringify(f.value)}`);
      const n = Number(t);
      if (result !== undefined && result !== n) throw malformed('conflicting content-length values');
      result = n;
    }
  }
  return result;
}

/** Splits pseudo-headers from regular fields, enforcing §4.3's ordering and uniqueness. */
function splitPseudo(fields: readonly HeaderField[], allowed: ReadonlySet<string>): { pseudo: Map<string, string>; regular: HeaderField[] } {
  const pseudo = new Map<string, string>();
  const regular: HeaderField[] = [];
  for (const f of fields) {
    if (f.name.startsWith(':')) {
      if (regular.length > 0) throw malformed(`pseudo-header ${f.name} after a regular field`);
      if (!allowed.has(f.name)) throw malformed(`unknown or misplaced pseudo-header ${f.name}`);
      if (pseudo.has(f.name)) throw malformed(`repeated pseudo-header ${f.name}`);
      checkValue(f.name, f.value);
      pseudo.set(f.name, f.value);
    } else {
      checkRegularField(f);
      regular.push(f);
    }
  }
  return { pseudo, regular };
}

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const RESPONSE_PSEUDO = new Set([':status']);

/**
 * RFC 9114 §4.3.1 request pseudo-headers; CONNECT per §4.4; Extended CONNECT per RFC 9220 §3
 * (only when `extendedConnect`, i.e. we sent SETTINGS_ENABLE_CONNECT_PROTOCOL).
 */
export function validateRequest(fields: readonly HeaderField[], extendedConnect: boolean): RequestHead {
  const { pseudo, regular } = splitPseudo(fields, REQUEST_PSEUDO);
  const method = pseudo.get(':method');
  if (method === undefined || method === '') throw malformed('missing :method');
  const protocol = pseudo.get(':protocol');
  const scheme = pseudo.get(':scheme');
  const path = pseudo.get(':path');
  let authority = pseudo.get(':authority');
  if (protocol !== undefined) {
    if (!extendedConnect || method !== 'CONNECT') throw malformed(':protocol outside an Extended CONNECT');
    if (scheme === undefined || path === undefined || authority === undefined) throw malformed('Extended CONNECT needs :scheme, :path and :authority');
  } else if (method === 'CONNECT') {
    if (scheme !== undefined || path !== undefined) throw malformed('CONNECT carries neither :scheme nor :path');
    if (authority === undefined) throw malformed('CONNECT without :authority');
  } else {
    if (scheme === undefined) throw malformed('missing :scheme');
    if (path === undefined || path === '') throw malformed('missing or empty :path');
    if ((scheme === 'http' || scheme === 'https') && authority === undefined) {
      // §4.3.1: a host field may stand in for :authority; with neither, the request is malformed.
      const host = regular.find((f) => f.name === 'host');
      if (!host) throw malformed('missing :authority and host');
      authority = host.value;
    }
  }
  if (authority !== undefined) {
    const host = regular.find((f) => f.name === 'host');
    if (host && host.value !== authority) throw malformed(':authority and host differ');
  }
  return { method, scheme, authority, path, protocol, fields: regular, contentLength: parseContentLength(regular) };
}

/** RFC 9114 §4.3.2: exactly one :status, three digits. */
export function validateResponse(fields: readonly HeaderField[]): ResponseHead {
  const { pseudo, regular } = splitPseudo(fields, RESPONSE_PSEUDO);
  const status = pseudo.get(':status');
  if (status === undefined || !/^[1-9]\d\d$/.test(status)) throw malformed(`missing or invalid :status ${JSON.stringify(status)}`);
  return { status: Number(status), fields: regular, contentLength: parseContentLength(regular) };
}

/** RFC 9114 §4.1.2: trailers carry no pseudo-headers. */
export function validateTrailers(fields: readonly HeaderField[]): HeaderField[] {
  return splitPseudo(fields, new Set()).regular;
}

/** Fields we send: names lowercased, connection-specific ones refused with a TypeError. */
export function outgoingFields(fields: Iterable<[string, string]>): HeaderField[] {
  const out: HeaderField[] = [];
  for (const [rawName, value] of fields) {
    const name = rawName.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue; // RFC 9114 §4.2: stripped when converting from HTTP/1.1
    out.push({ name, value });
  }
  return out;
}
