/**
 * HTTP/3 events for the connection's qlog (draft-ietf-quic-qlog-h3-events-13): parameters_set,
 * stream_type_set, frame_created and frame_parsed, written into the QUIC connection's trace
 * (`SansIoConnection.qlogEvent`). QPACK dynamic-table changes go out as
 * `qpack:dynamic_table_updated` (draft-marx-qlog-event-definitions-quic-h3-02, which qvis reads;
 * later qlog drafts dropped QPACK events). Nothing is built while no qlog is being written.
 */

import type { SansIoConnection } from '@purequic/quic/sans-io';
import { SettingId, StreamType } from './frames.js';
import type { QpackEvent } from './qpack/index.js';

const STREAM_TYPE_NAMES: Record<number, string> = {
  [StreamType.CONTROL]: 'control',
  [StreamType.PUSH]: 'push',
  [StreamType.QPACK_ENCODER]: 'qpack_encode',
  [StreamType.QPACK_DECODER]: 'qpack_decode',
};

/** parameters_set field and HTTP3SettingsFrame setting name of each known setting. */
const SETTING_NAMES: Record<number, [field: string, setting: string]> = {
  [SettingId.QPACK_MAX_TABLE_CAPACITY]: ['max_table_capacity', 'settings_qpack_max_table_capacity'],
  [SettingId.QPACK_BLOCKED_STREAMS]: ['blocked_streams_count', 'settings_qpack_blocked_streams'],
  [SettingId.MAX_FIELD_SECTION_SIZE]: ['max_field_section_size', 'settings_max_field_section_size'],
  [SettingId.ENABLE_CONNECT_PROTOCOL]: ['extended_connect', 'settings_enable_connect_protocol'],
  [SettingId.H3_DATAGRAM]: ['h3_datagram', 'settings_h3_datagram'],
};

export class H3Qlog {
  constructor(
    private readonly quic: SansIoConnection,
    private readonly now: () => number,
  ) {}

  /** True while the QUIC connection writes a qlog. */
  get on(): boolean {
    return this.quic.qlogEnabled === true;
  }

  #emit(name: `http3:${string}` | `qpack:${string}`, data: Record<string, unknown>): void {
    this.quic.qlogEvent?.(name, data, this.now());
  }

  /** frame_created (`created`) or frame_parsed of an HTTP3Frame on `streamId`. */
  frame(created: boolean, streamId: number, frame: Record<string, unknown>): void {
    if (this.on) this.#emit(created ? 'http3:frame_created' : 'http3:frame_parsed', { stream_id: streamId, frame });
  }

  /** stream_type_set: a request stream, or a unidirectional stream's type once known. */
  streamType(streamId: number, local: boolean, type: number | 'request'): void {
    if (!this.on) return;
    const name = type === 'request' ? 'request' : (STREAM_TYPE_NAMES[type] ?? 'unknown');
    this.#emit('http3:stream_type_set', { initiator: local ? 'local' : 'remote', stream_id: streamId, stream_type: name, ...(name === 'unknown' ? { stream_type_bytes: type } : {}) });
  }

  /** parameters_set, and the SETTINGS frame that carried them on `controlStreamId`. */
  settings(owner: 'local' | 'remote', settings: ReadonlyMap<number, number>, controlStreamId: number): void {
    if (!this.on) return;
    const data: Record<string, unknown> = { initiator: owner };
    const unknown: { name: string; value: number }[] = [];
    for (const [id, value] of settings) {
      const k = SETTING_NAMES[id];
      if (k) data[k[0]] = value;
      else unknown.push({ name: `0x${id.toString(16)}`, value });
    }
    if (unknown.length > 0) data.unknown = unknown;
    this.#emit('http3:parameters_set', data);
    this.frame(owner === 'local', controlStreamId, { frame_type: 'settings', settings: [...settings].map(([id, value]) => ({ name: SETTING_NAMES[id]?.[1] ?? `0x${id.toString(16)}`, value })) });
  }

  /** A QPACK dynamic table changed: ours as the encoder fills the peer's (`local`), or theirs. */
  qpack(owner: 'local' | 'remote', e: QpackEvent): void {
    if (!this.on) return;
    if (e.type === 'inserted') this.#emit('qpack:dynamic_table_updated', { owner, update_type: 'inserted', entries: [{ index: e.index, name: e.name, value: e.value }] });
    else if (e.type === 'evicted') this.#emit('qpack:dynamic_table_updated', { owner, update_type: 'evicted', entries: [{ index: e.index }] });
    else if (e.type === 'capacity') this.#emit('qpack:state_updated', { owner, dynamic_table_capacity: e.capacity });
  }
}
