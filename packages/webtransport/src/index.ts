/**
 * @purequic/webtransport: WebTransport over HTTP/3 (draft-ietf-webtrans-http3, every generation
 * browsers and peers speak: draft-02 for Chromium and Firefox, webtransport-h3 for draft-07+)
 * with the browser's W3C API shape, over @purequic/h3.
 *
 * Client: `new WebTransport(url, { serverCertificateHashes, protocols })`.
 * Server: `createWebTransportServer(options)` (sessions as an async iterable) or
 * `webTransportExtension()` on an `@purequic/h3` server; `generateWebTransportCertificate()`.
 */

// Node API
export { WebTransport, type WebTransportOptions, type WebTransportHash } from './node/client.js';
export {
  createWebTransportServer,
  webTransportExtension,
  WebTransportServer,
  WebTransportSession,
  type WebTransportServerOptions,
  type WebTransportExtension,
  type WebTransportExtensionOptions,
} from './node/server.js';
export { WebTransportSessionBase, WebTransportDatagramDuplexStream, type WebTransportCloseInfo, type WebTransportStats, type WebTransportDatagramStats } from './node/session.js';
export {
  WebTransportError,
  WebTransportReceiveStream,
  WebTransportSendStream,
  type WebTransportBidirectionalStream,
  type WebTransportErrorOptions,
  type WebTransportStreamStats,
} from './node/streams.js';
export { generateWebTransportCertificate, type WebTransportCertificate } from './node/certificate.js';

// Sans-IO protocol core and codes
export { WtConnection, webTransportSettings, DEFAULT_LIMITS, type WtLimits, type WtConnectionOptions } from './connection-core.js';
export { WtSessionCore, type WtSessionListener, type WtCloseInfo, type WtSessionState } from './session-core.js';
export { WtStreamCore, type WtStreamListener } from './stream-core.js';
export {
  WtSetting,
  WtCapsule,
  WtErrorCode,
  WT_UNI_STREAM_TYPE,
  WT_BIDI_SIGNAL,
  PROTOCOL_DRAFT02,
  PROTOCOL_H3,
  MAX_CLOSE_REASON_BYTES,
  webTransportCodeToHttp3,
  http3CodeToWebTransport,
  encodeCloseSession,
  decodeCloseSession,
  parseSfStringList,
  parseSfString,
  serializeSfStringList,
} from './codes.js';
