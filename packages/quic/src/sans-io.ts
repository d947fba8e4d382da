/**
 * @purequic/quic/sans-io: the protocol core without I/O, for the layers above (HTTP/3,
 * WebTransport), for tests and simulations, and for protocol work: the sans-IO `Connection`,
 * codecs, crypto providers, TLS engine, recovery, stream machinery and the network simulator.
 */

// Sans-IO connection
export { Connection, type ConnectOptions as ConnectionConnectOptions, type AcceptOptions } from './connection/connection.js';
export * from './connection/types.js';

// Errors
export { QuicError, TransportErrorCode, transportErrorName, cryptoErrorCode } from './errors.js';

// Codecs
export * from './codec/varint.js';
export { ByteReader } from './codec/reader.js';
export { ByteWriter } from './codec/writer.js';
export { toHex, fromHex } from './codec/hex.js';
export * from './packet/types.js';
export * from './packet/number.js';
export * from './packet/version.js';
export * from './packet/header.js';
export * from './packet/coalesced.js';
export * from './packet/invariants.js';
export * from './packet/retry-pseudo.js';
export * from './frame/types.js';
export { MAX_CID_LENGTH } from './packet/header.js';
export { parseFrames } from './frame/parse.js';
export { writeFrame, frameLength } from './frame/write.js';
export * from './transport-params.js';

// Crypto
export type * from './crypto/provider.js';
export { AEAD_TAG_LENGTH, hashLength, aeadKeyLength } from './crypto/provider.js';
export { getCryptoProvider } from './crypto/index.js';
export { nobleSymmetric } from './crypto/noble.js';
export { nodeSymmetric } from './crypto/node.js';
export { autoSymmetric } from './crypto/auto.js';
export { nobleAsymmetric } from './crypto/noble-asymmetric.js';
export { nodeAsymmetric } from './crypto/node-asymmetric.js';
export * from './crypto/cipher-suites.js';
export * from './crypto/keys.js';
export * from './crypto/protection.js';
export { retryIntegrityParameters, computeRetryIntegrityTag, verifyRetryIntegrityTag, type RetryIntegrityParameters } from './crypto/retry.js';
export * from './crypto/encryption-level.js';
export { SignatureScheme } from './crypto/signature-schemes.js';

// TLS
export { createTlsClient } from './tls/client.js';
export { createTlsServer } from './tls/server.js';
export { SessionTicketKeys } from './tls/tickets.js';
export type {
  TlsEngine,
  TlsClientOptions,
  TlsServerOptions,
  TlsOutput,
  SessionTicket,
  EarlyDataContext,
  ServerVerification,
} from './tls/engine-api.js';
export { TlsCipherSuite } from './tls/engine-api.js';
export { TlsAlert, TlsAlertError, tlsAlertName } from './tls/alert.js';
export { verifyCertificateChain, verifyCertificateHashes, parseCertificate, type VerifiedCertificate } from './tls/certificate.js';
export { generateSelfSignedCertificate, type SelfSignedCertificate } from './tls/self-signed.js';
export { formatKeyLogLine } from './tls/keylog.js';

// Recovery, streams, simulator (sans-IO building blocks)
export { LossRecovery, TimeoutAction, PACKET_THRESHOLD, TIME_THRESHOLD, PERSISTENT_CONGESTION_THRESHOLD } from './recovery/loss-recovery.js';
export type { AckOutcome, TimeoutOutcome, LossRecoveryOptions } from './recovery/loss-recovery.js';
export { SentPacket, SentPacketState, SentPacketTracker, type AckedRange } from './recovery/sent-packet-tracker.js';
export { RttEstimator, INITIAL_RTT_MS, TIMER_GRANULARITY_MS, DEFAULT_MAX_ACK_DELAY_MS } from './recovery/rtt.js';
export { AckTracker, EcnCodepoint, type PendingAck, type ReceivedRange, type AckTrackerOptions } from './recovery/ack-tracker.js';
export { PacketNumberSpace, packetNumberSpaceOf, PACKET_NUMBER_SPACE_NAMES } from './recovery/packet-number-space.js';
export type { CongestionHooks } from './recovery/congestion-hooks.js';
export { RecvBuffer } from './stream/recv-buffer.js';
export { SendBuffer, type SendChunk } from './stream/send-buffer.js';
export { SendState, SendStateMachine, sendStateName } from './stream/send-state.js';
export { RecvState, RecvStateMachine, recvStateName } from './stream/recv-state.js';
export * from './stream/stream-id.js';
export { SendCredit, ReceiveWindow, type ReceiveWindowOptions } from './stream/flow-control.js';
export { LocalStreamLimit, RemoteStreamLimit } from './stream/stream-limits.js';
export { StreamScheduler, DEFAULT_URGENCY, MAX_URGENCY } from './stream/scheduler.js';
export { Simulator, type SimulatorOptions, type RunLimits, type RunResult, type TraceEntry } from './sim/simulator.js';
export { Link, type LinkConfig, type LinkStats, type DatagramHook, type BurstLossConfig } from './sim/link.js';
export type { SimNode, SimTransmit } from './sim/node.js';
export { SimRandom } from './sim/prng.js';

// Address validation, versions, stateless reset (RFC 9000 §8.1, §6, §10.3; RFC 9368, RFC 9369)
export { StatelessResponder, type RetryPolicy, type UnroutedDecision } from './endpoint/stateless-responder.js';
export { AddressTokens } from './endpoint/address-tokens.js';
export { ClientTokenStore } from './endpoint/token-store.js';
export { buildRetryPacket, buildStatelessReset } from './endpoint/stateless-packets.js';
export { versionAfterNegotiation, clientVersions } from './connection/versions.js';
export { statelessResetToken } from './connection/reset-token.js';

// Resumption and 0-RTT
export { ZeroRttReplayCache } from './connection/zero-rtt.js';
export { SessionTicketStore } from './endpoint/ticket-store.js';

// qlog
export type { QlogObserver, QlogEvent, QlogEventName } from './qlog/events.js';
export { JsonSeqQlogWriter, parseJsonSeq, qlogFileHeader, RECORD_SEPARATOR } from './qlog/json-seq.js';
export { KeyLogger, KEY_LOG_LABELS, type KeyLogSink, type KeyLogEntry } from './tls/keylog.js';

// Paths, migration, path MTU, ECN (RFC 9000 §8.2, §9, §13.4, §14.3; RFC 8899)
export { PathManager, NetworkPath, PathOutcome } from './connection/path.js';
export { PathMtuDiscovery, BASE_PLPMTU, type PmtudState } from './connection/pmtud.js';
export { EcnValidator, ECN_NOT_ECT, ECN_ECT0, ECN_ECT1, ECN_CE, type EcnState } from './connection/ecn.js';
