/**
 * HTTP/3 frames (RFC 9114 §7) and SETTINGS (§7.2.4): codes, encoding, and the checks on where a
 * frame may appear (§7.2, table in §7.2.8 / Appendix A.2).
 */

import { H3ConnectionError, H3ErrorCode } from './errors.js';
import { concatBytes, encodeVarints, tryReadVarint, varintLength, writeVarint } from './varint.js';

export const FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** RFC 9218 §7.2: PRIORITY_UPDATE for a request stream and for a push. */
  PRIORITY_UPDATE_REQUEST: 0xf0700,
  PRIORITY_UPDATE_PUSH: 0xf0701,
  /** draft-ietf-webtrans-http3: a bidirectional WebTransport stream starts with this "frame" type. */
  WEBTRANSPORT_STREAM: 0x41,
} as const;

/** RFC 9114 §7.2.8: HTTP/2 frame types with no HTTP/3 meaning; receiving one is H3_FRAME_UNEXPECTED. */
export function isReservedHttp2FrameType(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** RFC 9114 §6.2: unidirectional stream types. */
export const StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
  /** draft-ietf-webtrans-http3: a unidirectional WebTransport stream. */
  WEBTRANSPORT: 0x54,
} as const;

export const SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  /** RFC 9220 §3 */
  ENABLE_CONNECT_PROTOCOL: 0x08,
  /** RFC 9297 §2.1.1 */
  H3_DATAGRAM: 0x33,
  /** draft-ietf-masque-h3-datagram-04, still sent and required by Chromium and Firefox. */
  H3_DATAGRAM_DRAFT04: 0xffd277,
} as const;

/** RFC 9114 §7.2.4.1: HTTP/2 settings with no HTTP/3 meaning; receiving one is H3_SETTINGS_ERROR. */
function isReservedHttp2Setting(id: number): boolean {
  return id === 0x00 || id === 0x02 || id === 0x03 || id === 0x04 || id === 0x05;
}

/** RFC 9114 §7.2.8, §7.2.4.1, §6.2.3: reserved GREASE identifiers 0x1f * N + 0x21. */
export function greaseValue(n: number): number {
  return 0x1f * n + 0x21;
}

/** A frame's header: type and payload length, plus the header's own length. */
export interface FrameHeader {
  type: number;
  length: number;
  headerLength: number;
}

/** Parses a frame header at `offset`, or undefined if the bytes end first (RFC 9114 §7.1). */
export function tryReadFrameHeader(buf: Uint8Array, offset: number, end = buf.length): FrameHeader | undefined {
  const type = tryReadVarint(buf, offset, end);
  if (!type) return undefined;
  const length = tryReadVarint(buf, offset + type.length, end);
  if (!length) return undefined;
  return { type: type.value, length: length.value, headerLength: type.length + length.length };
}

/** Type + length header of a frame whose payload follows separately (DATA bodies are not copied). */
export function encodeFrameHeader(type: number, payloadLength: number): Uint8Array {
  return encodeVarints(type, payloadLength);
}

/** A whole frame with its payload. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(payload.length) + payload.length);
  let offset = writeVarint(out, 0, type);
  offset = writeVarint(out, offset, payload.length);
  out.set(payload, offset);
  return out;
}

/** SETTINGS payload: (identifier, value) pairs in order (RFC 9114 §7.2.4). */
export function encodeSettings(settings: ReadonlyMap<number, number> | Iterable<[number, number]>): Uint8Array {
  const values: number[] = [];
  for (const [id, value] of settings) values.push(id, value);
  return encodeFrame(FrameType.SETTINGS, encodeVarints(...values));
}

/**
 * Parses a SETTINGS payload. Duplicates and HTTP/2-only identifiers are H3_SETTINGS_ERROR
 * (§7.2.4, §7.2.4.1); unknown identifiers are kept for the extensions that know them.
 */
export function parseSettings(payload: Uint8Array): Map<number, number> {
  const settings = new Map<number, number>();
  let offset = 0;
  while (offset < payload.length) {
    const id = tryReadVarint(payload, offset);
    if (!id) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'truncated SETTINGS');
    offset += id.length;
    const value = tryReadVarint(payload, offset);
    if (!value) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'truncated SETTINGS');
    offset += value.length;
    if (isReservedHttp2Setting(id.value)) throw new H3ConnectionError(H3ErrorCode.SETTINGS_ERROR, `HTTP/2 setting 0x${id.value.toString(16)} in SETTINGS`);
    if (settings.has(id.value)) throw new H3ConnectionError(H3ErrorCode.SETTINGS_ERROR, `setting 0x${id.value.toString(16)} repeated`);
    settings.set(id.value, value.value);
  }
  // RFC 9220 §3, RFC 9297 §2.1.1: these are booleans; anything but 0 or 1 is an error.
  for (const id of [SettingId.ENABLE_CONNECT_PROTOCOL, SettingId.H3_DATAGRAM]) {
    const v = settings.get(id);
    if (v !== undefined && v > 1) throw new H3ConnectionError(H3ErrorCode.SETTINGS_ERROR, `setting 0x${id.toString(16)} must be 0 or 1, got ${v}`);
  }
  return settings;
}

/** A frame whose payload is a single varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH). */
export function encodeVarintFrame(type: number, value: number): Uint8Array {
  return encodeFrame(type, encodeVarints(value));
}

/** The single varint of a GOAWAY / MAX_PUSH_ID / CANCEL_PUSH payload; anything else is H3_FRAME_ERROR. */
export function parseVarintPayload(type: number, payload: Uint8Array): number {
  const v = tryReadVarint(payload, 0);
  if (!v || v.length !== payload.length) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, `malformed frame 0x${type.toString(16)}`);
  return v.value;
}

/** RFC 9218 §7.2: PRIORITY_UPDATE = prioritized element id, then a Priority Field Value (ASCII). */
export function parsePriorityUpdate(payload: Uint8Array): { elementId: number; fieldValue: string } {
  const id = tryReadVarint(payload, 0);
  if (!id) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'truncated PRIORITY_UPDATE');
  let fieldValue = '';
  for (let i = id.length; i < payload.length; i++) fieldValue += String.fromCharCode(payload[i]!);
  return { elementId: id.value, fieldValue };
}

export function encodePriorityUpdate(streamId: number, fieldValue: string): Uint8Array {
  const ascii = new Uint8Array(fieldValue.length);
  for (let i = 0; i < fieldValue.length; i++) ascii[i] = fieldValue.charCodeAt(i) & 0x7f;
  return encodeFrame(FrameType.PRIORITY_UPDATE_REQUEST, concatBytes([encodeVarints(streamId), ascii]));
}
