/**
 * The unidirectional streams of HTTP/3 (RFC 9114 §6.2): ours (control, QPACK encoder and decoder)
 * and the peer's, recognised by their stream type. Each critical stream exists once per side;
 * closing one is H3_CLOSED_CRITICAL_STREAM, a second one H3_STREAM_CREATION_ERROR (§6.2.1,
 * RFC 9204 §4.2). Unknown types are refused with STOP_SENDING (§6.2, §9).
 */

import { H3ConnectionError, H3ErrorCode } from './errors.js';
import { FrameType, StreamType, isReservedHttp2FrameType, tryReadFrameHeader } from './frames.js';
import type { H3Connection } from './connection.js';
import { concatBytes, tryReadVarint } from './varint.js';

export interface UniStreamHandlers {
  onControlFrame(type: number, payload: Uint8Array): void;
  onEncoderStream(data: Uint8Array): void;
  onDecoderStream(data: Uint8Array): void;
  onExtensionStream(streamId: number, type: number, sessionId: number, data: Uint8Array, fin: boolean): void;
  isExtensionType(type: number): boolean;
  maxControlFrameSize: number;
}

const EMPTY = new Uint8Array(0);

/** A peer's unidirectional stream. */
interface RemoteUni {
  /** Undefined until the stream type varint is complete. */
  type: number | undefined;
  pending: Uint8Array;
  /** Control stream: the frame being collected or skipped. */
  frame: { type: number; payload: Uint8Array | undefined; filled: number; length: number } | undefined;
  sawSettings: boolean;
  ignored: boolean;
}

interface LocalUni {
  id: number;
  out: Uint8Array[];
}

export class UniStreams {
  readonly #h3: H3Connection;
  readonly #handlers: UniStreamHandlers;
  readonly #remote = new Map<number, RemoteUni>();
  /** Our critical streams by type. */
  readonly #local = new Map<number, LocalUni>();
  readonly #localIds = new Set<number>();
  /** Bytes for our critical streams written before they were opened. */
  readonly #early = new Map<number, Uint8Array[]>();
  /** The peer's critical streams by type (each at most once). */
  readonly #peerCritical = new Map<number, number>();

  constructor(h3: H3Connection, handlers: UniStreamHandlers) {
    this.#h3 = h3;
    this.#handlers = handlers;
  }

  /** The id of our (`local`) or the peer's control stream, -1 before it exists (qlog). */
  controlStreamId(local: boolean): number {
    return (local ? this.#local.get(StreamType.CONTROL)?.id : this.#peerCritical.get(StreamType.CONTROL)) ?? -1;
  }

  owns(streamId: number): boolean {
    return this.#remote.has(streamId);
  }

  ownsLocal(streamId: number): boolean {
    return this.#localIds.has(streamId);
  }

  // ---------------------------------------------------------------- ours

  /** Opens one of our critical streams and writes its first bytes (type, and SETTINGS for control). */
  openLocal(type: number, first: Uint8Array): void {
    if (this.#local.has(type)) return;
    const id = this.#h3.quic.openStream('uni');
    // RFC 9114 §6.2: the peer must allow at least 3 unidirectional streams; if it does not, it
    // left us unable to speak HTTP/3.
    if (id === undefined) throw new H3ConnectionError(H3ErrorCode.STREAM_CREATION_ERROR, 'peer allows too few unidirectional streams');
    const local: LocalUni = { id, out: [] };
    this.#h3.qlog.streamType(id, true, type);
    this.#local.set(type, local);
    this.#localIds.add(id);
    this.#write(local, first);
    for (const data of this.#early.get(type) ?? []) this.#write(local, data);
    this.#early.delete(type);
  }

  /**
   * Appends bytes to one of our critical streams. Before the stream is opened (a server answering
   * 0-RTT requests before its handshake completes may already insert into the QPACK table) they
   * wait and follow the stream's type byte: dropping them would leave the peer's decoder blocked.
   */
  writeLocal(type: number, data: Uint8Array): void {
    const local = this.#local.get(type);
    if (!local) {
      const waiting = this.#early.get(type);
      if (waiting) waiting.push(data);
      else this.#early.set(type, [data]);
      return;
    }
    this.#write(local, data);
  }

  onWritable(streamId: number): void {
    for (const local of this.#local.values()) if (local.id === streamId) this.#flush(local);
  }

  #write(local: LocalUni, data: Uint8Array): void {
    local.out.push(data);
    this.#flush(local);
  }

  #flush(local: LocalUni): void {
    while (local.out.length > 0) {
      const chunk = local.out[0]!;
      const n = this.#h3.quic.writeStream(local.id, chunk, false);
      if (n < chunk.length) {
        local.out[0] = chunk.subarray(n);
        return;
      }
      local.out.shift();
    }
  }

  // ---------------------------------------------------------------- the peer's

  onOpened(streamId: number): void {
    this.#remote.set(streamId, { type: undefined, pending: EMPTY, frame: undefined, sawSettings: false, ignored: false });
    this.onReadable(streamId);
  }

  onReset(streamId: number): void {
    const s = this.#remote.get(streamId);
    if (!s) return;
    if (s.type !== undefined && isCritical(s.type)) throw new H3ConnectionError(H3ErrorCode.CLOSED_CRITICAL_STREAM, `critical stream 0x${s.type.toString(16)} reset`);
    this.#remote.delete(streamId);
  }

  onReadable(streamId: number): void {
    const s = this.#remote.get(streamId);
    if (!s) return;
    // Bounded: each read drains what QUIC holds for this stream (at most our window).
    for (let turns = 0; turns < 10_000; turns++) {
      if (!this.#remote.has(streamId)) return;
      const r = this.#h3.quic.readStream(streamId);
      if (!r) return;
      if (s.ignored) {
        if (r.fin) this.#remote.delete(streamId);
        continue;
      }
      this.#onData(streamId, s, r.data, r.fin);
      if (r.fin) return;
    }
  }

  #onData(streamId: number, s: RemoteUni, data: Uint8Array, fin: boolean): void {
    let bytes = data;
    if (s.type === undefined) {
      bytes = s.pending.length > 0 ? concatBytes([s.pending, data]) : data;
      const t = tryReadVarint(bytes, 0);
      if (!t) {
        if (fin) {
          this.#remote.delete(streamId); // ended before its type: nothing to do (RFC 9114 §6.2)
          return;
        }
        s.pending = bytes.slice();
        return;
      }
      s.pending = EMPTY;
      s.type = t.value;
      this.#h3.qlog.streamType(streamId, false, t.value);
      bytes = bytes.subarray(t.length);
      if (!this.#accept(streamId, s, t.value)) return;
    }
    switch (s.type) {
      case StreamType.CONTROL:
        this.#controlData(s, bytes);
        break;
      case StreamType.QPACK_ENCODER:
        if (bytes.length > 0) this.#handlers.onEncoderStream(bytes);
        break;
      case StreamType.QPACK_DECODER:
        if (bytes.length > 0) this.#handlers.onDecoderStream(bytes);
        break;
      default:
        this.#extensionData(streamId, s, bytes, fin);
        return;
    }
    if (fin) throw new H3ConnectionError(H3ErrorCode.CLOSED_CRITICAL_STREAM, `critical stream 0x${s.type!.toString(16)} closed`);
  }

  /** Decides what a new stream type means; false when the stream is refused or handed over. */
  #accept(streamId: number, s: RemoteUni, type: number): boolean {
    if (isCritical(type)) {
      if (this.#peerCritical.has(type)) throw new H3ConnectionError(H3ErrorCode.STREAM_CREATION_ERROR, `second stream of type 0x${type.toString(16)}`);
      this.#peerCritical.set(type, streamId);
      return true;
    }
    if (type === StreamType.PUSH) {
      // RFC 9114 §6.2.2: only servers push, and only up to our MAX_PUSH_ID, which we never send.
      if (this.#h3.role === 'server') throw new H3ConnectionError(H3ErrorCode.STREAM_CREATION_ERROR, 'push stream from a client');
      throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'push stream without MAX_PUSH_ID');
    }
    if (this.#handlers.isExtensionType(type)) return true;
    // Unknown or reserved (GREASE) type: refuse it and ignore what still arrives (RFC 9114 §6.2).
    s.ignored = true;
    this.#h3.quic.stopSending(streamId, H3ErrorCode.STREAM_CREATION_ERROR);
    return false;
  }

  /** Extension streams: type, then the session id varint, then the extension's own bytes. */
  #extensionData(streamId: number, s: RemoteUni, data: Uint8Array, fin: boolean): void {
    const bytes = s.pending.length > 0 ? concatBytes([s.pending, data]) : data;
    const sid = tryReadVarint(bytes, 0);
    if (!sid) {
      if (fin) {
        this.#remote.delete(streamId);
        return;
      }
      s.pending = bytes.slice();
      return;
    }
    this.#remote.delete(streamId);
    this.#handlers.onExtensionStream(streamId, s.type!, sid.value, bytes.subarray(sid.length), fin);
  }

  /** RFC 9114 §6.2.1: the control stream is a sequence of frames, SETTINGS first. */
  #controlData(s: RemoteUni, data: Uint8Array): void {
    let offset = 0;
    let bytes = data;
    // Bounded: every turn consumes bytes or finishes a frame.
    while (offset < bytes.length || (s.frame && s.frame.filled === s.frame.length)) {
      const f = s.frame;
      if (f) {
        const take = Math.min(f.length - f.filled, bytes.length - offset);
        if (f.payload) f.payload.set(bytes.subarray(offset, offset + take), f.filled);
        f.filled += take;
        offset += take;
        if (f.filled === f.length) {
          s.frame = undefined;
          if (f.payload) this.#handlers.onControlFrame(f.type, f.payload);
        }
        continue;
      }
      if (s.pending.length > 0) {
        bytes = concatBytes([s.pending, bytes.subarray(offset)]);
        offset = 0;
        s.pending = EMPTY;
      }
      const h = tryReadFrameHeader(bytes, offset);
      if (!h) {
        s.pending = bytes.slice(offset);
        return;
      }
      offset += h.headerLength;
      if (!s.sawSettings) {
        if (h.type !== FrameType.SETTINGS) throw new H3ConnectionError(H3ErrorCode.MISSING_SETTINGS, `first control frame is 0x${h.type.toString(16)}, not SETTINGS`);
        s.sawSettings = true;
      }
      if (h.type === FrameType.DATA || h.type === FrameType.HEADERS || h.type === FrameType.PUSH_PROMISE || isReservedHttp2FrameType(h.type)) {
        throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${h.type.toString(16)} on the control stream`);
      }
      const known = isKnownControlFrame(h.type);
      if (known && h.length > this.#handlers.maxControlFrameSize) {
        throw new H3ConnectionError(H3ErrorCode.EXCESSIVE_LOAD, `control frame 0x${h.type.toString(16)} of ${h.length} bytes`);
      }
      // Unknown frames are skipped without being buffered (RFC 9114 §9).
      s.frame = { type: h.type, payload: known ? new Uint8Array(h.length) : undefined, filled: 0, length: h.length };
    }
  }
}

function isCritical(type: number): boolean {
  return type === StreamType.CONTROL || type === StreamType.QPACK_ENCODER || type === StreamType.QPACK_DECODER;
}

/** Frames whose payload the control stream handler needs (the rest are skipped). */
function isKnownControlFrame(type: number): boolean {
  return (
    type === FrameType.SETTINGS ||
    type === FrameType.GOAWAY ||
    type === FrameType.MAX_PUSH_ID ||
    type === FrameType.CANCEL_PUSH ||
    type === FrameType.PRIORITY_UPDATE_REQUEST ||
    type === FrameType.PRIORITY_UPDATE_PUSH
  );
}
