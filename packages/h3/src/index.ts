/**
 * @purequic/h3: HTTP/3 (RFC 9114) with QPACK (RFC 9204), Extended CONNECT (RFC 9220), HTTP
 * Datagrams and the Capsule Protocol (RFC 9297) and priorities (RFC 9218), over @purequic/quic.
 *
 * Applications use `createServer` / `serve` and `fetch` / `Http3Client`. The sans-IO
 * `H3Connection`, the frame, capsule and QPACK codecs are exported for the layers above
 * (WebTransport) and for protocol work.
 */

// Node: server, client, Alt-Svc
export { createServer, serve, Http3Server, Http3IncomingRequest, Http3ServerResponse, fieldsToRecord, type Http3ServerOptions, type ExtendedConnectRequest, type Http3ServerStats } from './node/server.js';
export { fetch, closeDefaultClient, Http3Client, Http3RequestError, type Http3ClientOptions } from './node/client.js';
export { altSvcValue, parseAltSvc, advertiseHttp3, listenHttp3Beside, type AltSvcEntry } from './node/alt-svc.js';
export { H3NodeConnection, type H3Extension, type H3ExtensionHandler } from './node/h3-node-connection.js';
export { IncomingBody, OutgoingBody, type BodyHost } from './node/body.js';

// Sans-IO HTTP/3
export { H3Connection, type H3ConnectionOptions, type H3Event } from './connection.js';
export { H3ErrorCode, H3ConnectionError, H3StreamError, h3ErrorName, isGreaseCode } from './errors.js';
export * from './frames.js';
export { validateRequest, validateResponse, validateTrailers, outgoingFields, type RequestHead, type ResponseHead, type HeaderField } from './fields.js';
export { parsePriority, formatPriority, DEFAULT_PRIORITY, type Priority } from './priority.js';
export { CapsuleParser, CapsuleType, encodeCapsule, encodeDatagramCapsule, encodeHttpDatagram, type Capsule, type CapsuleParserOptions } from './capsules.js';
export { tryReadVarint, encodeVarints, concatBytes } from './varint.js';

// QPACK
export { QpackEncoder, QpackDecoder, QpackError, FieldSectionTooLargeError, type QpackEncoderOptions, type QpackDecoderOptions, type QpackEvent } from './qpack/index.js';
