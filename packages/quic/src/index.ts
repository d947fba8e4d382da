/**
 * @purequic/quic: QUIC with its own TLS 1.3, for Node.js.
 *
 * Most users need `QuicEndpoint` (listen/connect over node:dgram), `QuicConnection` and
 * `QuicStream`. The sans-IO core, codecs and crypto are exported too, for the layers above
 * (HTTP/3, WebTransport), for tests and simulations, and for people studying the protocol.
 */

// Endpoint and facades
export { QuicEndpoint, type ListenOptions, type BindOptions, type ConnectOptions, type EndpointOptions, type ProtocolAttach } from './endpoint/endpoint.js';
export { QuicConnectError, type HostLookup } from './endpoint/connect-attempts.js';
export { QuicConnection, ConnectionClosedError, describeClose, type ProtocolHost } from './endpoint/quic-connection.js';
export { QuicStream, QuicStreamError } from './endpoint/quic-stream.js';

// Everything below the endpoint (also at '@purequic/quic/sans-io').
export * from './sans-io.js';
