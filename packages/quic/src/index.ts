/**
 * @purequic/quic: QUIC with its own TLS 1.3, for Node.js: what an application uses.
 *
 * `QuicEndpoint` listens or connects over `node:dgram`; a `QuicConnection` opens and accepts
 * `QuicStream`s (WHATWG readable / writable) and sends datagrams; errors say why a connect or a
 * connection ended; `generateSelfSignedCertificate` makes a development certificate.
 *
 * The sans-IO protocol core (`Connection`), codecs, crypto providers, TLS engine, recovery, stream
 * machinery and the network simulator are at `@purequic/quic/sans-io`, for the layers above
 * (HTTP/3, WebTransport) and for protocol work.
 */

// Endpoint: listen, bind, connect (and the hook a protocol layer above uses).
export { QuicEndpoint, type ListenOptions, type BindOptions, type ConnectOptions, type EndpointOptions, type ProtocolAttach, type DatagramSocket } from './endpoint/endpoint.js';
export type { QuicLbConfig } from './connection/quic-lb.js';
export { QuicConnectError, type HostLookup } from './endpoint/connect-attempts.js';
export type { RetryPolicy } from './endpoint/stateless-responder.js';
export type { SessionTicketStore } from './endpoint/ticket-store.js';
export type { ClientTokenStore } from './endpoint/token-store.js';

// Connections and streams.
export { QuicConnection, ConnectionClosedError, describeClose, type ProtocolHost } from './endpoint/quic-connection.js';
export { QuicStream, QuicStreamError } from './endpoint/quic-stream.js';
export type { ConnectionCloseReason, ConnectionEvent, PathAddress, SansIoConnection, StreamDirection, TransportSettings } from './connection/types.js';
export { DEFAULT_TRANSPORT_SETTINGS } from './connection/types.js';

// Errors: transport error codes (RFC 9000 §20.1) and CRYPTO_ERROR alerts (RFC 9001 §4.8).
export { QuicError, TransportErrorCode, transportErrorName } from './errors.js';
export { TlsAlert, tlsAlertName } from './tls/alert.js';

// Certificates and TLS options.
export { generateSelfSignedCertificate, type SelfSignedCertificate, type SelfSignedOptions } from './tls/self-signed.js';
export { TlsCipherSuite, type ServerVerification } from './tls/engine-api.js';

// Versions and crypto providers (options).
export { QUIC_V1, QUIC_V2 } from './packet/version.js';
export { getCryptoProvider } from './crypto/index.js';
export type { CryptoProvider, CryptoProviderName, NamedGroupName } from './crypto/provider.js';
