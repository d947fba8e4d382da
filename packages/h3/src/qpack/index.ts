/**
 * QPACK (RFC 9204): field compression for HTTP/3, sans-IO.
 *
 * - {@link QpackEncoder}: field lists -> field sections (HEADERS payloads) + encoder-stream bytes;
 *   takes the peer's decoder-stream bytes.
 * - {@link QpackDecoder}: field sections + the peer's encoder-stream bytes -> field lists (or
 *   'blocked', then takeUnblocked()) + decoder-stream bytes.
 *
 * The HTTP/3 layer owns the unidirectional streams (types 0x02 and 0x03), SETTINGS
 * (SETTINGS_QPACK_MAX_TABLE_CAPACITY 0x01, SETTINGS_QPACK_BLOCKED_STREAMS 0x07) and maps
 * {@link QpackError} to a connection close with its code and {@link FieldSectionTooLargeError} to
 * a per-message failure.
 */

export type { HeaderField } from './types.js';
export type { QpackEvent } from './events.js';
export { QpackErrorCode, QpackError, FieldSectionTooLargeError, type QpackErrorCodeValue } from './errors.js';
export {
  QpackEncoder,
  type QpackEncoderOptions,
  type QpackEncoderStats,
  type QpackFieldDecision,
  type QpackNameReference,
} from './encoder.js';
export { QpackDecoder, type QpackDecoderOptions, type UnblockedSection } from './decoder.js';
export { STATIC_TABLE, staticFieldIndex, staticNameIndex } from './static-table.js';
export {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  maxHuffmanDecodedLength,
} from './huffman.js';
