/**
 * Writing integer frame fields that may exceed 2^53.
 *
 * Frame fields are JS numbers; values above 2^53-1 only come from the wire (a peer's error code,
 * a MAX_STREAMS of 2^60, ...) and were rounded by the decoder. `ByteWriter.varint` refuses them,
 * so the frame writers go through `putVarint`, which writes them exactly via bigint. The largest
 * varint, 2^62-1, rounds to 2^62 as a double; that one value is written back as 2^62-1 so every
 * parsed frame can be re-encoded.
 */

import type { ByteWriter } from '../codec/writer.js';

const TWO_62 = 2 ** 62;
const VARINT_MAX_BIG = 2n ** 62n - 1n;

/** Writes `value` as a minimal varint, exactly even above 2^53 (see above). */
export function putVarint(w: ByteWriter, value: number): void {
  if (value <= Number.MAX_SAFE_INTEGER) {
    w.varint(value);
    return;
  }
  if (value > TWO_62 || !Number.isInteger(value)) throw new RangeError(`varint out of range: ${value}`);
  w.varintBig(value === TWO_62 ? VARINT_MAX_BIG : BigInt(value));
}
