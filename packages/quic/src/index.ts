export { QuicError, TransportErrorCode, transportErrorName, cryptoErrorCode } from './errors.js';
export * from './codec/varint.js';
export { ByteReader } from './codec/reader.js';
export { ByteWriter } from './codec/writer.js';
export type * from './crypto/provider.js';
