/**
 * qlog's sequential file format (draft-ietf-quic-qlog-main-schema §5 QlogFileSeq, §11.2): JSON
 * Text Sequences (RFC 7464), each record an RS (0x1E) then one JSON text then LF. The first
 * record is the file header with the single trace's metadata; every further record one event.
 *
 * Sans-IO: the writer produces strings and hands them to a sink (the endpoint appends them to
 * a `.sqlog` file; tests collect them).
 */

import type { QlogEvent, QlogObserver } from './events.js';
import { QLOG_HTTP3_EVENT_SCHEMA, QLOG_QUIC_EVENT_SCHEMA } from './events.js';

/** RFC 7464 §2.2: the record separator that starts every JSON text in a sequence. */
export const RECORD_SEPARATOR = '\u001e';

export interface QlogFileHeaderOptions {
  vantagePoint: 'client' | 'server';
  /** Shown in tools; e.g. the original destination connection ID. */
  title?: string;
  /** Groups the events of one connection (the ODCID in hex, by convention). */
  groupId?: string;
  /** Wall-clock time when logging started, as RFC 3339; the event times are monotonic ms. */
  wallClockTime?: string;
}

/** One RFC 7464 record. */
export function jsonSeqRecord(value: unknown): string {
  return RECORD_SEPARATOR + JSON.stringify(value) + '\n';
}

/**
 * The header record. `file_schema`/`serialization_format` are the main schema's (they come
 * first, within the first 256 bytes as §3 asks); `qlog_version`/`qlog_format` are the older
 * header fields that qvis and other tools still key on.
 */
export function qlogFileHeader(options: QlogFileHeaderOptions): string {
  const commonFields: Record<string, unknown> = {
    time_format: 'relative_to_epoch',
    // Event times are the connection's monotonic clock (ms); its epoch is not a calendar date.
    reference_time: { clock_type: 'monotonic', epoch: 'unknown', ...(options.wallClockTime ? { wall_clock_time: options.wallClockTime } : {}) },
  };
  if (options.groupId) commonFields.group_id = options.groupId;
  return jsonSeqRecord({
    file_schema: 'urn:ietf:params:qlog:file:sequential',
    serialization_format: 'application/qlog+json-seq',
    qlog_version: '0.4',
    qlog_format: 'JSON-SEQ',
    title: options.title ?? 'purequic',
    trace: {
      common_fields: commonFields,
      vantage_point: { name: 'purequic', type: options.vantagePoint },
      event_schemas: [QLOG_QUIC_EVENT_SCHEMA, QLOG_HTTP3_EVENT_SCHEMA],
    },
  });
}

/** An observer that writes the header, then each event, as JSON-SEQ records into `sink`. */
export class JsonSeqQlogWriter implements QlogObserver {
  constructor(
    private readonly sink: (chunk: string) => void,
    header: QlogFileHeaderOptions,
  ) {
    sink(qlogFileHeader(header));
  }

  onEvent(event: QlogEvent): void {
    this.sink(jsonSeqRecord(event));
  }
}

/**
 * Splits a JSON-SEQ text into its parsed records (RFC 7464 §2.1: a record that does not parse
 * is an error here, since we only read what we wrote).
 */
export function parseJsonSeq(text: string): unknown[] {
  const out: unknown[] = [];
  for (const part of text.split(RECORD_SEPARATOR)) {
    if (part.length === 0) continue;
    out.push(JSON.parse(part));
  }
  return out;
}
