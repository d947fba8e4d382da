/**
 * Codepoints of WebTransport over HTTP/3 for every generation we speak at once, error-code
 * mapping, stream headers, capsules and the subprotocol header fields. Pure functions, no I/O.
 *
 * Generations (draft-ietf-webtrans-http3):
 * - draft-02 (Chromium, Firefox): SETTINGS_WEBTRANS_DRAFT00 0x2b603742 = 1, `:protocol webtransport`,
 *   `sec-webtransport-http3-draft02: 1` in the request and `sec-webtransport-http3-draft: draft02`
 *   in the response; no flow-control capsules.
 * - draft-07 .. -14 (Safari 26.4+): SETTINGS_WT_MAX_SESSIONS (0xc671706a in draft-07, 0x14e9cd29
 *   in draft-13/14) >= 1, `webtransport-h3`, the flow-control capsules and initial-limit settings.
 * - draft-15/16: SETTINGS_WT_ENABLED 0x2c7cf000 = 1 (§3.1), the same capsules and settings.
 */

import { isGreaseCode } from '@purequic/h3';
import { concatBytes, encodeVarints, tryReadVarint } from '@purequic/h3';

export const WtSetting = {
  /** draft-02 §3.1 (what Chromium and Firefox require; Chromium closes on values other than 0/1). */
  WEBTRANS_DRAFT00: 0x2b603742,
  /** draft-07 SETTINGS_WEBTRANS_MAX_SESSIONS. */
  MAX_SESSIONS_DRAFT07: 0xc671706a,
  /** draft-13/14 SETTINGS_WT_MAX_SESSIONS. */
  MAX_SESSIONS: 0x14e9cd29,
  /** draft-15/16 §9.2 SETTINGS_WT_ENABLED. */
  WT_ENABLED: 0x2c7cf000,
  /** draft-16 §5.5: initial session limits. */
  INITIAL_MAX_STREAMS_UNI: 0x2b64,
  INITIAL_MAX_STREAMS_BIDI: 0x2b65,
  INITIAL_MAX_DATA: 0x2b61,
} as const;

/** HTTP/3 settings an H3 endpoint needs for Extended CONNECT and datagrams (RFC 9220, RFC 9297). */
export const H3Setting = { ENABLE_CONNECT_PROTOCOL: 0x08, H3_DATAGRAM: 0x33, H3_DATAGRAM_DRAFT04: 0xffd277 } as const;

export const WtCapsule = {
  /** draft-16 §6 */
  CLOSE_SESSION: 0x2843,
  /** draft-16 §4.6 */
  DRAIN_SESSION: 0x78ae,
  /** draft-16 §5.6 flow-control capsules */
  MAX_STREAMS_BIDI: 0x190b4d3f,
  MAX_STREAMS_UNI: 0x190b4d40,
  STREAMS_BLOCKED_BIDI: 0x190b4d43,
  STREAMS_BLOCKED_UNI: 0x190b4d44,
  MAX_DATA: 0x190b4d3d,
  DATA_BLOCKED: 0x190b4d41,
  /** draft-ietf-webtrans-http2 §6.6, §6.9: prohibited over HTTP/3 (draft-16 §5.4). */
  MAX_STREAM_DATA: 0x190b4d3e,
  STREAM_DATA_BLOCKED: 0x190b4d42,
} as const;

export const WtErrorCode = {
  BUFFERED_STREAM_REJECTED: 0x3994bd84,
  SESSION_GONE: 0x170d7b68,
  FLOW_CONTROL_ERROR: 0x045d4487,
  ALPN_ERROR: 0x0817b3dd,
  REQUIREMENTS_NOT_MET: 0x212c0d48,
} as const;

/** Stream type (uni, draft-16 §4.2) and signal value (bidi, §4.3). */
export const WT_UNI_STREAM_TYPE = 0x54;
export const WT_BIDI_SIGNAL = 0x41;

/** The `:protocol` tokens: draft-02 (browsers) and draft-07+ . */
export const PROTOCOL_DRAFT02 = 'webtransport';
export const PROTOCOL_H3 = 'webtransport-h3';

/** Largest WT_CLOSE_SESSION message (draft-16 §6). */
export const MAX_CLOSE_REASON_BYTES = 1024;

const APP_FIRST = 0x52e4a40fa8db;
const APP_LAST = 0x52e5ac983162;

/** draft-16 §4.4: a 32-bit application error code to the HTTP/3 code space (skipping GREASE codepoints). */
export function webTransportCodeToHttp3(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 0xffffffff) throw new RangeError(`WebTransport error codes are 32-bit unsigned integers, got ${code}`);
  return APP_FIRST + code + Math.floor(code / 0x1e);
}

/** draft-16 §4.4: the application error code an HTTP/3 code carries, or null when it carries none. */
export function http3CodeToWebTransport(h: number): number | null {
  if (h < APP_FIRST || h > APP_LAST || isGreaseCode(h)) return null;
  const shifted = h - APP_FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}

/** The header of a stream we open: uni type 0x54 or bidi signal 0x41, then the session id. */
export function streamHeader(bidi: boolean, sessionId: number): Uint8Array {
  return encodeVarints(bidi ? WT_BIDI_SIGNAL : WT_UNI_STREAM_TYPE, sessionId);
}

/** draft-16 §6: WT_CLOSE_SESSION value: 32-bit code, then the UTF-8 message cut at a character boundary. */
export function encodeCloseSession(code: number, reason: string): Uint8Array {
  const msg = truncateUtf8(reason, MAX_CLOSE_REASON_BYTES);
  const value = new Uint8Array(4 + msg.length);
  new DataView(value.buffer).setUint32(0, code >>> 0);
  value.set(msg, 4);
  return value;
}

/** Parses a WT_CLOSE_SESSION value; undefined when malformed (short, message too long or not UTF-8). */
export function decodeCloseSession(value: Uint8Array): { code: number; reason: string } | undefined {
  if (value.length < 4 || value.length - 4 > MAX_CLOSE_REASON_BYTES) return undefined;
  const code = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  try {
    return { code, reason: new TextDecoder('utf-8', { fatal: true }).decode(value.subarray(4)) };
  } catch {
    return undefined;
  }
}

/** UTF-8 bytes of `s`, at most `max`, cut at a character boundary. */
export function truncateUtf8(s: string, max: number): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls before a lead byte.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** A capsule whose value is one varint (WT_MAX_DATA, WT_MAX_STREAMS, *_BLOCKED). */
export function encodeVarintCapsule(type: number, value: number): Uint8Array {
  const v = encodeVarints(value);
  return concatBytes([encodeVarints(type, v.length), v]);
}

/** The varint value of a flow-control capsule; undefined when the value is not exactly one varint. */
export function decodeVarintCapsule(value: Uint8Array): number | undefined {
  const r = tryReadVarint(value, 0);
  return r && r.length === value.length ? r.value : undefined;
}

// ------------------------------------------------------------------ structured fields (RFC 9651)

/** Serializes a List of Strings (WT-Available-Protocols). Throws on strings SF cannot carry. */
export function serializeSfStringList(values: readonly string[]): string {
  return values.map(serializeSfString).join(', ');
}

export function serializeSfString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new TypeError(`protocol ${JSON.stringify(s)} is not printable ASCII (RFC 9651 §3.3.3)`);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Parses a List whose members must all be Strings (parameters ignored); undefined when the field
 * is malformed or a member is not a String (draft-16 §3.3: the whole field is then ignored).
 */
export function parseSfStringList(field: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = field.length;
  const ws = () => {
    while (i < n && (field[i] === ' ' || field[i] === '\t')) i++;
  };
  ws();
  if (i === n) return out;
  for (;;) {
    const s = parseSfStringAt(field, i);
    if (!s) return undefined;
    out.push(s.value);
    i = skipParams(field, s.end);
    if (i < 0) return undefined;
    ws();
    if (i === n) return out;
    if (field[i] !== ',') return undefined;
    i++;
    ws();
    if (i === n) return undefined;
  }
}

/** Parses an Item that must be a String (parameters ignored). */
export function parseSfString(field: string): string | undefined {
  const t = field.trim();
  const s = parseSfStringAt(t, 0);
  if (!s) return undefined;
  const end = skipParams(t, s.end);
  return end === t.length ? s.value : undefined;
}

function parseSfStringAt(f: string, i: number): { value: string; end: number } | undefined {
  if (f[i] !== '"') return undefined;
  let value = '';
  for (let j = i + 1; j < f.length; j++) {
    const c = f[j]!;
    if (c === '\\') {
      const next = f[j + 1];
      if (next !== '"' && next !== '\\') return undefined;
      value += next;
      j++;
    } else if (c === '"') return { value, end: j + 1 };
    else if (c < ' ' || c > '~') return undefined;
    else value += c;
  }
  return undefined;
}

/** Skips `;key[=value]` parameters; returns the index after them, or -1 when malformed. */
function skipParams(f: string, i: number): number {
  while (f[i] === ';') {
    i++;
    while (f[i] === ' ') i++;
    const key = /^[a-z*][a-z0-9_\-.*]*/.exec(f.slice(i));
    if (!key) return -1;
    i += key[0].length;
    if (f[i] === '=') {
      i++;
      if (f[i] === '"') {
        const s = parseSfStringAt(f, i);
        if (!s) return -1;
        i = s.end;
      } else {
        const tok = /^[A-Za-z0-9*:/.?!#$%&'+^_`|~\-]+/.exec(f.slice(i));
        if (!tok) return -1;
        i += tok[0].length;
      }
    }
  }
  return i;
}
