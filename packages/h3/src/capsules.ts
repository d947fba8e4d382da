/**
 * The Capsule Protocol (RFC 9297 §3): Type-Length-Value capsules carried in the data of an
 * HTTP request stream (in HTTP/3, the payloads of its DATA frames, §3.2). The parser takes the
 * bytes in any chunking, hands over whole capsules of the types its user knows, and skips the
 * others without buffering them (§3.2: unknown capsule types are ignored).
 */

import { H3ErrorCode, H3StreamError } from './errors.js';
import { concatBytes, encodeVarints, tryReadVarint, varintLength, writeVarint } from './varint.js';

export const CapsuleType = {
  /** RFC 9297 §3.5 */
  DATAGRAM: 0x00,
} as const;

export interface Capsule {
  type: number;
  value: Uint8Array;
}

/** One capsule on the wire. */
export function encodeCapsule(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(value.length) + value.length);
  let offset = writeVarint(out, 0, type);
  offset = writeVarint(out, offset, value.length);
  out.set(value, offset);
  return out;
}

export interface CapsuleParserOptions {
  /** Capsule types to deliver; others are skipped. */
  knownTypes: ReadonlySet<number>;
  /** Largest capsule value to buffer; a larger known capsule is H3_MESSAGE_ERROR (default 64 KiB). */
  maxCapsuleSize?: number;
}

/** Incremental capsule parser; memory is bounded by `maxCapsuleSize` plus a varint. */
export class CapsuleParser {
  readonly #known: ReadonlySet<number>;
  readonly #max: number;
  /** Bytes of an incomplete capsule header. */
  #head: Uint8Array = new Uint8Array(0);
  /** The capsule being filled (known type) or skipped (unknown type). */
  #current: { type: number; value: Uint8Array | undefined; filled: number; length: number } | undefined;

  constructor(options: CapsuleParserOptions) {
    this.#known = options.knownTypes;
    this.#max = options.maxCapsuleSize ?? 64 * 1024;
  }

  /** True between capsules: the stream may end here without truncating one (RFC 9297 §3.3). */
  get atBoundary(): boolean {
    return this.#current === undefined && this.#head.length === 0;
  }

  /** Feeds bytes; returns the capsules they completed. Throws H3StreamError(H3_MESSAGE_ERROR). */
  push(data: Uint8Array): Capsule[] {
    const out: Capsule[] = [];
    let offset = 0;
    // Bounded: every turn consumes at least one byte or completes a capsule.
    while (offset < data.length || (this.#current && this.#current.filled === this.#current.length)) {
      const cur = this.#current;
      if (cur) {
        const take = Math.min(cur.length - cur.filled, data.length - offset);
        if (cur.value) cur.value.set(data.subarray(offset, offset + take), cur.filled);
        cur.filled += take;
        offset += take;
        if (cur.filled === cur.length) {
          if (cur.value) out.push({ type: cur.type, value: cur.value });
          this.#current = undefined;
        }
        continue;
      }
      // Header: type and length varints, possibly split across pushes (at most 16 bytes kept).
      const headBytes = this.#head.length > 0 ? concatBytes([this.#head, data.subarray(offset, offset + 16)]) : data.subarray(offset);
      const type = tryReadVarint(headBytes, 0);
      const length = type ? tryReadVarint(headBytes, type.length) : undefined;
      if (!type || !length) {
        const rest = data.subarray(offset);
        this.#head = concatBytes([this.#head, rest]);
        offset = data.length;
        break;
      }
      const used = type.length + length.length - this.#head.length;
      offset += used;
      this.#head = new Uint8Array(0);
      const known = this.#known.has(type.value);
      if (known && length.value > this.#max) throw new H3StreamError(H3ErrorCode.MESSAGE_ERROR, `capsule 0x${type.value.toString(16)} of ${length.value} bytes exceeds the ${this.#max}-byte limit`);
      this.#current = { type: type.value, value: known ? new Uint8Array(length.value) : undefined, filled: 0, length: length.value };
    }
    return out;
  }
}

/** RFC 9297 §3.5: a DATAGRAM capsule's value is the HTTP Datagram payload. */
export function encodeDatagramCapsule(payload: Uint8Array): Uint8Array {
  return encodeCapsule(CapsuleType.DATAGRAM, payload);
}

/** RFC 9297 §2.1: an HTTP/3 datagram is the quarter stream id, then the payload. */
export function encodeHttpDatagram(streamId: number, payload: Uint8Array): Uint8Array {
  const prefix = encodeVarints(streamId / 4);
  return concatBytes([prefix, payload]);
}
