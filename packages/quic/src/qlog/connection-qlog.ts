/**
 * Builds a connection's qlog events (draft-ietf-quic-qlog-quic-events) from its state. The
 * connection holds one of these only while an observer is set and calls it behind a single
 * `if (this.qlog)`, so without an observer no event object is ever built.
 */

import type { CongestionController } from '@purequic/congestion';
import { toHex } from '../codec/hex.js';
import { EncryptionLevel } from '../crypto/encryption-level.js';
import type { ConnectionCloseReason, ConnectionEvent, PathAddress } from '../connection/types.js';
import { type RecoveryToken, TokenKind } from '../connection/recovery-token.js';
import { type Frame, FrameType } from '../frame/types.js';
import type { LossRecovery } from '../recovery/loss-recovery.js';
import type { TransportParameters } from '../transport-params.js';
import { QLOG_PACKET_TYPE, type QlogEventName, type QlogObserver } from './events.js';

const SPACE_PACKET_TYPE = ['initial', 'handshake', '1RTT'] as const;

const FRAME_NAMES: Record<number, string> = {
  [FrameType.PADDING]: 'padding',
  [FrameType.PING]: 'ping',
  [FrameType.ACK]: 'ack',
  [FrameType.RESET_STREAM]: 'reset_stream',
  [FrameType.STOP_SENDING]: 'stop_sending',
  [FrameType.CRYPTO]: 'crypto',
  [FrameType.NEW_TOKEN]: 'new_token',
  [FrameType.STREAM]: 'stream',
  [FrameType.MAX_DATA]: 'max_data',
  [FrameType.MAX_STREAM_DATA]: 'max_stream_data',
  [FrameType.MAX_STREAMS]: 'max_streams',
  [FrameType.DATA_BLOCKED]: 'data_blocked',
  [FrameType.STREAM_DATA_BLOCKED]: 'stream_data_blocked',
  [FrameType.STREAMS_BLOCKED]: 'streams_blocked',
  [FrameType.NEW_CONNECTION_ID]: 'new_connection_id',
  [FrameType.RETIRE_CONNECTION_ID]: 'retire_connection_id',
  [FrameType.PATH_CHALLENGE]: 'path_challenge',
  [FrameType.PATH_RESPONSE]: 'path_response',
  [FrameType.CONNECTION_CLOSE]: 'connection_close',
  [FrameType.HANDSHAKE_DONE]: 'handshake_done',
  [FrameType.RESET_STREAM_AT]: 'reset_stream_at',
  [FrameType.DATAGRAM]: 'datagram',
};

const TOKEN_FRAME_NAMES: Record<number, string> = {
  [TokenKind.ACK]: 'ack',
  [TokenKind.CRYPTO]: 'crypto',
  [TokenKind.STREAM]: 'stream',
  [TokenKind.RESET_STREAM]: 'reset_stream',
  [TokenKind.STOP_SENDING]: 'stop_sending',
  [TokenKind.MAX_DATA]: 'max_data',
  [TokenKind.MAX_STREAM_DATA]: 'max_stream_data',
  [TokenKind.MAX_STREAMS]: 'max_streams',
  [TokenKind.DATA_BLOCKED]: 'data_blocked',
  [TokenKind.STREAM_DATA_BLOCKED]: 'stream_data_blocked',
  [TokenKind.STREAMS_BLOCKED]: 'streams_blocked',
  [TokenKind.NEW_CONNECTION_ID]: 'new_connection_id',
  [TokenKind.RETIRE_CONNECTION_ID]: 'retire_connection_id',
  [TokenKind.HANDSHAKE_DONE]: 'handshake_done',
  [TokenKind.DATAGRAM]: 'datagram',
  [TokenKind.PING]: 'ping',
  [TokenKind.NEW_TOKEN]: 'new_token',
  // A DPLPMTUD probe is PING + PADDING (RFC 9000 §14.4); the token stands for both.
  [TokenKind.PMTU_PROBE]: 'ping',
};

/** A received frame in qlog's QuicFrame shape (the fields worth seeing; no payload bytes). */
function frameData(f: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = { frame_type: FRAME_NAMES[f.type] ?? 'unknown' };
  switch (f.type) {
    case FrameType.ACK:
      out.ack_delay = f.ackDelay;
      out.acked_ranges = f.ranges.map((r) => [r.smallest, r.largest]);
      break;
    case FrameType.STREAM:
      out.stream_id = f.streamId;
      out.offset = f.offset;
      out.length = f.data.length;
      if (f.fin) out.fin = true;
      break;
    case FrameType.CRYPTO:
      out.offset = f.offset;
      out.length = f.data.length;
      break;
    case FrameType.MAX_DATA:
      out.maximum = f.maximum;
      break;
    case FrameType.MAX_STREAM_DATA:
      out.stream_id = f.streamId;
      out.maximum = f.maximum;
      break;
    case FrameType.RESET_STREAM:
    case FrameType.RESET_STREAM_AT:
      out.stream_id = f.streamId;
      out.error_code = f.errorCode;
      out.final_size = f.finalSize;
      break;
    case FrameType.CONNECTION_CLOSE:
      out.error_space = f.application ? 'application' : 'transport';
      out.error_code = f.errorCode;
      break;
    case FrameType.DATAGRAM:
      out.length = f.data.length;
      break;
  }
  return out;
}

/** A sent frame as far as its recovery token tells (ACK and PADDING details are not kept). */
function tokenFrameData(t: RecoveryToken): Record<string, unknown> {
  const out: Record<string, unknown> = { frame_type: TOKEN_FRAME_NAMES[t.kind] ?? 'unknown' };
  if (t.kind === TokenKind.STREAM) {
    out.stream_id = t.id;
    out.offset = t.a;
    out.length = t.b;
    if (t.fin) out.fin = true;
  } else if (t.kind === TokenKind.CRYPTO) {
    out.offset = t.a;
    out.length = t.b;
  } else {
    // The fields qlog's QuicFrame has for flow control and CIDs (quic-events §5.x), from what
    // the token keeps: the limit or sequence number sent in `a`, the stream in `id`.
    switch (t.kind) {
      case TokenKind.MAX_DATA:
        out.maximum = t.a;
        break;
      case TokenKind.MAX_STREAM_DATA:
        out.stream_id = t.id;
        out.maximum = t.a;
        break;
      case TokenKind.MAX_STREAMS:
        out.stream_type = t.fin ? 'bidirectional' : 'unidirectional';
        out.maximum = t.a;
        break;
      case TokenKind.DATA_BLOCKED:
        out.limit = t.a;
        break;
      case TokenKind.STREAM_DATA_BLOCKED:
        out.stream_id = t.id;
        out.limit = t.a;
        break;
      case TokenKind.STREAMS_BLOCKED:
        out.stream_type = t.fin ? 'bidirectional' : 'unidirectional';
        out.limit = t.a;
        break;
      case TokenKind.RESET_STREAM:
      case TokenKind.STOP_SENDING:
        out.stream_id = t.id;
        break;
      case TokenKind.NEW_CONNECTION_ID:
      case TokenKind.RETIRE_CONNECTION_ID:
        out.sequence_number = t.a;
        break;
    }
  }
  return out;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** Transport parameters with qlog's field names; byte strings as hex. */
function parametersData(p: Partial<TransportParameters>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined) continue;
    out[snakeCase(key)] = value instanceof Uint8Array ? toHex(value) : value;
  }
  return out;
}

function address(a: PathAddress): Record<string, unknown> {
  return a.family === 'IPv6' || a.address.includes(':') ? { ip_v6: a.address, port_v6: a.port } : { ip_v4: a.address, port_v4: a.port };
}

/** The congestion controller's phase, as far as the generic interface shows it. */
function congestionPhase(cc: CongestionController): string {
  const ssthresh = (cc as { slowStartThreshold?: number }).slowStartThreshold;
  if (ssthresh === undefined) return 'unknown';
  return cc.congestionWindow < ssthresh ? 'slow_start' : 'congestion_avoidance';
}

/** quic-events `$MigrationState` values we log. */
export type MigrationState = 'probing_started' | 'probing_abandoned' | 'probing_successful' | 'migration_abandoned' | 'migration_complete';

const MIGRATION_STATE: Record<'validated' | 'migrated' | 'probe-failed' | 'reverted' | 'failed', MigrationState> = {
  validated: 'probing_successful',
  migrated: 'migration_complete',
  'probe-failed': 'probing_abandoned',
  reverted: 'migration_abandoned',
  failed: 'migration_abandoned',
};

export class ConnectionQlog {
  #lastMetrics = { min_rtt: -1, smoothed_rtt: -1, latest_rtt: -1, rtt_variance: -1, pto_count: -1, congestion_window: -1, bytes_in_flight: -1 };
  #congestionState = '';

  constructor(readonly observer: QlogObserver) {}

  #emit(time: number, name: QlogEventName, data: Record<string, unknown>): void {
    this.observer.onEvent({ time, name, data });
  }

  /** An event of a layer above (HTTP/3), into the same trace. */
  layerEvent(time: number, name: QlogEventName, data: Record<string, unknown>): void {
    this.#emit(time, name, data);
  }

  connectionStarted(now: number, remote: PathAddress, version: number, scid: Uint8Array, dcid: Uint8Array): void {
    this.#emit(now, 'quic:connection_started', {
      local: { connection_ids: [toHex(scid)] },
      remote: { ...address(remote), connection_ids: [toHex(dcid)] },
      version: version.toString(16).padStart(8, '0'),
    });
  }

  parametersSet(now: number, initiator: 'local' | 'remote', p: Partial<TransportParameters>, extra: Record<string, unknown> = {}): void {
    this.#emit(now, 'quic:parameters_set', { initiator, ...parametersData(p), ...extra });
  }

  /** Client: the server's parameters remembered with a ticket, used for 0-RTT. */
  parametersRestored(now: number, p: Partial<TransportParameters>): void {
    this.#emit(now, 'quic:parameters_restored', parametersData(p));
  }

  packetSent(now: number, packetType: number, packetNumber: number, size: number, keyPhase: number, tokens: readonly RecoveryToken[], trigger?: string): void {
    const header: Record<string, unknown> = { packet_type: QLOG_PACKET_TYPE[packetType] ?? 'unknown', packet_number: packetNumber };
    if (packetType === 4) header.key_phase_bit = keyPhase === 1;
    const data: Record<string, unknown> = { header, raw: { length: size }, frames: tokens.map(tokenFrameData) };
    if (trigger) data.trigger = trigger;
    this.#emit(now, 'quic:packet_sent', data);
  }

  packetReceived(now: number, packetType: number, packetNumber: number, size: number, keyPhase: number, frames: readonly Frame[]): void {
    const header: Record<string, unknown> = { packet_type: QLOG_PACKET_TYPE[packetType] ?? 'unknown', packet_number: packetNumber };
    if (packetType === 4) header.key_phase_bit = keyPhase === 1;
    this.#emit(now, 'quic:packet_received', { header, raw: { length: size }, frames: frames.map(frameData) });
  }

  packetDropped(now: number, packetType: number | undefined, size: number, trigger: string): void {
    const data: Record<string, unknown> = { raw: { length: size }, trigger };
    if (packetType !== undefined) data.header = { packet_type: QLOG_PACKET_TYPE[packetType] ?? 'unknown' };
    this.#emit(now, 'quic:packet_dropped', data);
  }

  packetLost(now: number, space: number, packetNumber: number): void {
    this.#emit(now, 'quic:packet_lost', { header: { packet_type: SPACE_PACKET_TYPE[space] ?? 'unknown', packet_number: packetNumber } });
  }

  /** A 1-RTT key phase change: both directions' keys (`key_phase` is the full phase count). */
  keyUpdated(now: number, keyPhase: number, trigger: 'local_update' | 'remote_update', isServer: boolean): void {
    const [ours, theirs] = isServer ? ['server_1rtt_secret', 'client_1rtt_secret'] : ['client_1rtt_secret', 'server_1rtt_secret'];
    this.#emit(now, 'quic:key_updated', { key_type: ours, key_phase: keyPhase, trigger });
    this.#emit(now, 'quic:key_updated', { key_type: theirs, key_phase: keyPhase, trigger });
  }

  /** Keys from TLS (handshake, 1-RTT, 0-RTT) became available. */
  keyInstalled(now: number, keyType: string): void {
    this.#emit(now, 'quic:key_updated', { key_type: keyType, trigger: 'tls' });
  }

  /**
   * After acknowledgments, losses or a timeout: recovery_metrics_updated with the values that
   * changed, and congestion_state_updated when the controller's phase changed.
   */
  recoveryUpdated(now: number, recovery: LossRecovery<unknown>, cc: CongestionController, lost: boolean): void {
    const rtt = recovery.rtt;
    const m = this.#lastMetrics;
    const data: Record<string, unknown> = {};
    let changed = false;
    const set = (key: keyof typeof m, value: number): void => {
      if (m[key] !== value) {
        m[key] = value;
        data[key] = value;
        changed = true;
      }
    };
    if (rtt.hasSample) {
      set('min_rtt', rtt.minRtt);
      set('smoothed_rtt', rtt.smoothedRtt);
      set('latest_rtt', rtt.latestRtt);
      set('rtt_variance', rtt.rttVar);
    }
    set('pto_count', recovery.ptoCount);
    set('congestion_window', cc.congestionWindow);
    set('bytes_in_flight', recovery.bytesInFlight);
    if (changed) this.#emit(now, 'quic:recovery_metrics_updated', data);
    const state = lost ? 'recovery' : congestionPhase(cc);
    if (state !== this.#congestionState) {
      const data: Record<string, unknown> = { new: state };
      if (this.#congestionState) data.old = this.#congestionState;
      if (lost) data.trigger = 'loss';
      this.#congestionState = state;
      this.#emit(now, 'quic:congestion_state_updated', data);
    }
  }

  /** Stream lifecycle seen through the connection's events (cheap: no per-packet work). */
  onConnectionEvent(now: number, e: ConnectionEvent): void {
    switch (e.type) {
      case 'stream-opened':
        this.#emit(now, 'quic:stream_state_updated', { stream_id: e.streamId, stream_type: e.direction === 'bidi' ? 'bidirectional' : 'unidirectional', new: 'open', initiator: 'remote' });
        return;
      case 'stream-finished':
        this.#emit(now, 'quic:stream_state_updated', { stream_id: e.streamId, new: 'data_received', stream_side: 'sending' });
        return;
      case 'stream-reset':
        this.#emit(now, 'quic:stream_state_updated', { stream_id: e.streamId, new: 'reset_received', stream_side: 'receiving' });
        return;
      case 'closed':
        this.#connectionClosed(now, e.reason);
        return;
      case 'path':
        this.migrationState(now, MIGRATION_STATE[e.change], e.remote, e.local);
        return;
    }
  }

  /** quic-events `migration_state_updated`: a path probed, validated, moved to or given up (RFC 9000 §8.2, §9). */
  migrationState(now: number, state: MigrationState, remote: PathAddress, local: PathAddress | undefined): void {
    const data: Record<string, unknown> = { new: state, path_remote: { ip: remote.address, port: remote.port } };
    if (local) data.path_local = { ip: local.address, port: local.port };
    this.#emit(now, 'quic:migration_state_updated', data);
  }

  #connectionClosed(now: number, reason: ConnectionCloseReason): void {
    const data: Record<string, unknown> = {};
    switch (reason.kind) {
      case 'transport':
        data.initiator = reason.remote ? 'remote' : 'local';
        data.connection_error = 'unknown';
        data.error_code = reason.code;
        data.reason = reason.reason;
        data.trigger = 'error';
        break;
      case 'application':
        data.initiator = reason.remote ? 'remote' : 'local';
        data.application_error = 'unknown';
        data.error_code = reason.code;
        data.reason = reason.reason;
        data.trigger = 'application';
        break;
      case 'idle-timeout':
        data.trigger = 'idle_timeout';
        break;
      case 'stateless-reset':
        data.trigger = 'stateless_reset';
        break;
      case 'version-negotiation':
        data.trigger = 'version_mismatch';
        break;
    }
    this.#emit(now, 'quic:connection_closed', data);
  }
}

/** qlog's `$KeyType` for TLS-provided keys of `level`, sent by the client or the server. */
export function qlogKeyType(level: EncryptionLevel, sentByClient: boolean): string {
  const who = sentByClient ? 'client' : 'server';
  switch (level) {
    case EncryptionLevel.INITIAL:
      return `${who}_initial_secret`;
    case EncryptionLevel.EARLY_DATA:
      return `${who}_0rtt_secret`;
    case EncryptionLevel.HANDSHAKE:
      return `${who}_handshake_secret`;
    default:
      return `${who}_1rtt_secret`;
  }
}
