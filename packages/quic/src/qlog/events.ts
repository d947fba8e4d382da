/**
 * qlog events (draft-ietf-quic-qlog-main-schema, draft-ietf-quic-qlog-quic-events): what a
 * connection reports to an observer. Names carry the `quic:` namespace of the QUIC event
 * schema; `data` follows that schema's CDDL (snake_case fields) for the fields we fill in.
 */

/** One qlog event. `time` is the connection's monotonic clock in ms (the `now` it was given). */
export interface QlogEvent {
  time: number;
  name: QlogEventName;
  data: Record<string, unknown>;
}

export type QlogEventName =
  | 'quic:connection_started'
  | 'quic:connection_closed'
  | 'quic:parameters_set'
  | 'quic:parameters_restored'
  | 'quic:packet_sent'
  | 'quic:packet_received'
  | 'quic:packet_dropped'
  | 'quic:packet_lost'
  | 'quic:stream_state_updated'
  | 'quic:key_updated'
  | 'quic:recovery_metrics_updated'
  | 'quic:congestion_state_updated'
  | 'quic:migration_state_updated'
  /** Events of the layers above (draft-ietf-quic-qlog-h3-events `http3:`, and `qpack:`). */
  | `http3:${string}`
  | `qpack:${string}`;

/**
 * Receives a connection's qlog events as they happen. Set it with
 * `Connection.setQlogObserver` (or the `qlog` option); when none is set the connection builds
 * no event at all (one null check on each hot path).
 */
export interface QlogObserver {
  onEvent(event: QlogEvent): void;
}

/** qlog's `$PacketType` names by our PacketType values (packet/types.ts order). */
export const QLOG_PACKET_TYPE = ['initial', '0RTT', 'handshake', 'retry', '1RTT', 'version_negotiation'] as const;

/** The event schema URI for the draft we follow (drafts append "-NN", quic-events §2.1). */
export const QLOG_QUIC_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:quic-13';

/** The HTTP/3 event schema we follow (draft-ietf-quic-qlog-h3-events-13, §"Draft Event Schema Identification"). */
export const QLOG_HTTP3_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:http3-13';
