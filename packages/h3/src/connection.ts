/**
 * `H3Connection`: HTTP/3 (RFC 9114) over one sans-IO QUIC connection, itself sans-IO.
 *
 * The driver hands it every QUIC event (`handleQuicEvent`) and the time; it reads and writes the
 * QUIC streams itself and queues HTTP/3 events (`pollEvent`). No clock, timer or randomness is
 * read here: `now` comes with each call and an RNG is injected (for GREASE).
 *
 * Streams: the control streams and QPACK streams of both sides (§6.2), request streams (§4.1,
 * §6.1), and extension streams that a layer above (WebTransport) claims by their type. A
 * malformed message resets its stream (H3_MESSAGE_ERROR); a protocol error on a critical stream
 * or a frame where it may not be closes the connection with the RFC's code (§8).
 */

import type { ConnectionCloseReason, ConnectionEvent, SansIoConnection } from '@purequic/quic/sans-io';
import { H3ConnectionError, H3ErrorCode, H3StreamError } from './errors.js';
import type { HeaderField, RequestHead, ResponseHead } from './fields.js';
import {
  FrameType,
  SettingId,
  StreamType,
  encodeFrame,
  encodeFrameHeader,
  encodeSettings,
  encodeVarintFrame,
  greaseValue,
  isReservedHttp2FrameType,
  encodePriorityUpdate,
  parsePriorityUpdate,
  parseSettings,
  parseVarintPayload,
} from './frames.js';
import { parsePriority } from './priority.js';
import { QpackDecoder, QpackEncoder, QpackError } from './qpack/index.js';
import { H3Qlog } from './qlog.js';
import { InPhase, RequestStream } from './request-stream.js';
import { RequestReader } from './request-reader.js';
import { UniStreams } from './uni-streams.js';
import { encodeHttpDatagram } from './capsules.js';
import { concatBytes, encodeVarints, tryReadVarint, varintLength } from './varint.js';

export interface H3ConnectionOptions {
  role: 'client' | 'server';
  /** Injected randomness (GREASE identifiers and values). */
  random: (length: number) => Uint8Array;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE we advertise and enforce (RFC 9114 §4.2.2); default 64 KiB. */
  maxFieldSectionSize?: number;
  /** Our QPACK decoder's limits (RFC 9204 §5): default 4,096-byte table, 16 blocked streams. */
  qpackMaxTableCapacity?: number;
  qpackBlockedStreams?: number;
  /** Server: accept Extended CONNECT (RFC 9220 §3, SETTINGS_ENABLE_CONNECT_PROTOCOL). */
  enableConnectProtocol?: boolean;
  /** Advertise and accept HTTP Datagrams (RFC 9297 §2.1.1); needs QUIC DATAGRAM support. */
  datagrams?: boolean;
  /** More settings to advertise (an extension's, e.g. WebTransport's). */
  extraSettings?: Iterable<[number, number]>;
  /** Unidirectional stream types and bidirectional signal values an extension claims (0x54, 0x41). */
  extensionStreamTypes?: { uni?: Iterable<number>; bidi?: Iterable<number> };
  /** Server: a request's header section must arrive within this many ms of its stream (default 10 s). */
  requestHeadersTimeoutMs?: number;
  /** Largest control-stream frame accepted (default 16 KiB); unknown frames are skipped at any size. */
  maxControlFrameSize?: number;
}

/** What an application learns from `pollEvent`. */
export type H3Event =
  /** The peer's SETTINGS arrived (RFC 9114 §7.2.4). */
  | { type: 'settings'; settings: ReadonlyMap<number, number> }
  /** Server: a request's header section. */
  | { type: 'request'; streamId: number; head: RequestHead }
  /** Client: an interim (1xx) response (RFC 9114 §4.1). */
  | { type: 'informational'; streamId: number; head: ResponseHead }
  /** Client: the final response's header section. */
  | { type: 'response'; streamId: number; head: ResponseHead }
  /** Body bytes (or the end) can be read with `readBody`. */
  | { type: 'body-readable'; streamId: number }
  | { type: 'trailers'; streamId: number; fields: HeaderField[] }
  /** The peer reset its side of the stream (RESET_STREAM) with this code. */
  | { type: 'stream-reset'; streamId: number; code: number }
  /** The peer asked us to stop sending (STOP_SENDING); our side was reset with the same code. */
  | { type: 'stop-sending'; streamId: number; code: number }
  /** We reset the stream because its message was malformed or broke a limit (RFC 9114 §4.1.2). */
  | { type: 'stream-error'; streamId: number; code: number; message: string }
  /** The stream takes more data (after `sendData` returned false). */
  | { type: 'writable'; streamId: number }
  /** The peer sent GOAWAY with this id (RFC 9114 §5.2). */
  | { type: 'goaway'; id: number }
  /** An HTTP Datagram for the request stream `streamId` (RFC 9297 §2.1). */
  | { type: 'datagram'; streamId: number; payload: Uint8Array }
  /**
   * A stream an extension claimed (WebTransport): `signal` is its unidirectional stream type or
   * bidirectional signal value, `sessionId` the varint after it; `data`/`fin` what was already
   * read past that header. From now on the extension reads the QUIC stream itself.
   */
  | { type: 'extension-stream'; streamId: number; bidi: boolean; signal: number; sessionId: number; data: Uint8Array; fin: boolean }
  /** A QUIC event for a stream an extension owns (or opened with `openExtensionStream`). */
  | { type: 'quic'; event: ConnectionEvent }
  | { type: 'closed'; reason: ConnectionCloseReason };

const DEFAULT_MAX_FIELD_SECTION_SIZE = 64 * 1024;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONTROL_FRAME = 16 * 1024;
/** PRIORITY_UPDATEs kept for streams that are not open yet. */
const MAX_PENDING_PRIORITY_UPDATES = 64;
/** Body bytes returned by one `readBody` call at most. */
const MAX_BODY_READ = 256 * 1024;

export class H3Connection {
  readonly role: 'client' | 'server';
  readonly quic: SansIoConnection;
  /** The settings we send. */
  readonly localSettings: Map<number, number>;
  /** The peer's settings, once its SETTINGS frame arrived. */
  peerSettings: ReadonlyMap<number, number> | undefined;
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  /** @internal this connection's HTTP/3 qlog events */
  readonly qlog: H3Qlog;

  readonly #options: H3ConnectionOptions;
  readonly #events: H3Event[] = [];
  readonly #streams = new Map<number, RequestStream>();
  /** Streams owned by an extension: QUIC events for them pass through as 'quic' events. */
  readonly #extensionStreams = new Set<number>();
  readonly #extensionUni: Set<number>;
  readonly #extensionBidi: Set<number>;
  readonly #uni: UniStreams;
  readonly #reader: RequestReader;
  readonly #maxFieldSectionSize: number;
  #now = 0;
  #started = false;
  #closed = false;
  /** GOAWAY we sent (server: first request stream id refused) and received. */
  #goawaySent: number | undefined;
  #goawayReceived: number | undefined;
  /** Server: the highest client request stream id we have seen, for GOAWAY. */
  #maxRequestId = -4;
  /** Server: PRIORITY_UPDATEs for request streams not open yet (RFC 9218 §7.1). */
  readonly #pendingPriority = new Map<number, string>();

  constructor(quic: SansIoConnection, options: H3ConnectionOptions) {
    this.quic = quic;
    this.qlog = new H3Qlog(quic, () => this.#now);
    this.role = options.role;
    this.#options = options;
    this.#maxFieldSectionSize = options.maxFieldSectionSize ?? DEFAULT_MAX_FIELD_SECTION_SIZE;
    const tableCapacity = options.qpackMaxTableCapacity ?? 4096;
    const blocked = options.qpackBlockedStreams ?? 16;
    this.#extensionUni = new Set(options.extensionStreamTypes?.uni ?? []);
    this.#extensionBidi = new Set(options.extensionStreamTypes?.bidi ?? []);

    const settings = new Map<number, number>([
      [SettingId.QPACK_MAX_TABLE_CAPACITY, tableCapacity],
      [SettingId.QPACK_BLOCKED_STREAMS, blocked],
      [SettingId.MAX_FIELD_SECTION_SIZE, this.#maxFieldSectionSize],
    ]);
    if (options.role === 'server' && options.enableConnectProtocol) settings.set(SettingId.ENABLE_CONNECT_PROTOCOL, 1);
    if (options.datagrams) {
      settings.set(SettingId.H3_DATAGRAM, 1);
      settings.set(SettingId.H3_DATAGRAM_DRAFT04, 1);
    }
    for (const [id, value] of options.extraSettings ?? []) settings.set(id, value);
    this.localSettings = settings;

    // QPACK dynamic-table changes go to the qlog as `qpack:dynamic_table_updated` (the event of
    // draft-marx-qlog-event-definitions-quic-h3-02 that qvis reads; later qlog drafts dropped it).
    this.encoder = new QpackEncoder({ observer: (e) => this.qlog.qpack('local', e) });
    this.decoder = new QpackDecoder({ maxTableCapacity: tableCapacity, maxBlockedStreams: blocked, maxFieldSectionSize: this.#maxFieldSectionSize, observer: (e) => this.qlog.qpack('remote', e) });
    const self = this;
    this.#reader = new RequestReader({
      quic,
      role: options.role,
      decoder: this.decoder,
      qlog: this.qlog,
      maxFieldSectionSize: this.#maxFieldSectionSize,
      extendedConnect: options.role === 'server' && options.enableConnectProtocol === true,
      extensionBidi: this.#extensionBidi,
      get goawayId() {
        return self.#goawaySent;
      },
      emit: (event) => this.#events.push(event),
      flushQpack: () => this.#flushQpack(),
      applyPriority: (streamId, value) => this.#applyPriority(streamId, value),
      claimBidiExtension: (s, signal, sessionId) => {
        this.#streams.delete(s.id);
        this.#extensionStreams.add(s.id);
        s.phase = InPhase.Extension;
        this.#events.push({ type: 'extension-stream', streamId: s.id, bidi: true, signal, sessionId, data: s.pending, fin: s.finRead });
      },
      finished: (s) => this.#maybeFree(s),
    });
    this.#uni = new UniStreams(this, {
      onControlFrame: (type, payload) => this.#onControlFrame(type, payload),
      onEncoderStream: (data) => {
        this.decoder.handleEncoderStream(data);
        this.#afterEncoderInput();
      },
      onDecoderStream: (data) => this.encoder.handleDecoderStream(data),
      onExtensionStream: (streamId, type, sessionId, data, fin) => {
        this.#extensionStreams.add(streamId);
        this.#events.push({ type: 'extension-stream', streamId, bidi: false, signal: type, sessionId, data, fin });
      },
      isExtensionType: (type) => this.#extensionUni.has(type),
      maxControlFrameSize: options.maxControlFrameSize ?? DEFAULT_MAX_CONTROL_FRAME,
    });
  }

  /** The peer accepts Extended CONNECT (RFC 9220 §3). */
  get peerEnablesConnectProtocol(): boolean {
    return this.peerSettings?.get(SettingId.ENABLE_CONNECT_PROTOCOL) === 1;
  }

  /** Both sides support HTTP Datagrams (RFC 9297 §2.1.1; either codepoint). */
  get datagramsEnabled(): boolean {
    if (!this.#options.datagrams || !this.peerSettings) return false;
    return this.peerSettings.get(SettingId.H3_DATAGRAM) === 1 || this.peerSettings.get(SettingId.H3_DATAGRAM_DRAFT04) === 1;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The GOAWAY id the peer sent, if any: requests at or above it will not be processed. */
  get goawayReceived(): number | undefined {
    return this.#goawayReceived;
  }

  /** Requests on this connection still open (either direction). */
  get openRequestCount(): number {
    return this.#streams.size;
  }

  // ------------------------------------------------------------------ driver side

  /** Feeds one QUIC event. Never throws: protocol errors close the connection with their code. */
  handleQuicEvent(event: ConnectionEvent, now: number): void {
    this.#now = now;
    this.#guard(() => this.#onQuicEvent(event));
  }

  pollEvent(): H3Event | undefined {
    return this.#events.shift();
  }

  /** The earliest deadline this layer has (server: request header timeouts). */
  nextTimeout(): number | undefined {
    let at: number | undefined;
    for (const s of this.#streams.values()) if (s.headersDeadline !== undefined && (at === undefined || s.headersDeadline < at)) at = s.headersDeadline;
    return at;
  }

  handleTimeout(now: number): void {
    this.#now = now;
    for (const s of [...this.#streams.values()]) {
      if (s.headersDeadline !== undefined && s.headersDeadline <= now) {
        // A slow-loris request: its header section did not arrive in time.
        this.#streamError(s, new H3StreamError(H3ErrorCode.REQUEST_INCOMPLETE, 'request header section not received in time'));
      }
    }
  }

  #onQuicEvent(event: ConnectionEvent): void {
    switch (event.type) {
      case 'handshake-complete':
        this.#start();
        return;
      case 'stream-opened':
        this.#onStreamOpened(event.streamId, event.direction === 'bidi');
        return;
      case 'stream-readable':
        if (this.#extensionStreams.has(event.streamId)) this.#events.push({ type: 'quic', event });
        else if (this.#uni.owns(event.streamId)) this.#uni.onReadable(event.streamId);
        else this.#onRequestReadable(event.streamId);
        return;
      case 'stream-writable': {
        if (this.#extensionStreams.has(event.streamId)) {
          this.#events.push({ type: 'quic', event });
          return;
        }
        if (this.#uni.ownsLocal(event.streamId)) {
          this.#uni.onWritable(event.streamId);
          return;
        }
        const s = this.#streams.get(event.streamId);
        if (s && this.#pump(s)) this.#events.push({ type: 'writable', streamId: s.id });
        return;
      }
      case 'stream-reset':
        this.#onPeerReset(event.streamId, event.errorCode, event);
        return;
      case 'stream-stop-sending':
        this.#onStopSending(event.streamId, event.errorCode, event);
        return;
      case 'stream-finished':
        if (this.#extensionStreams.has(event.streamId)) this.#events.push({ type: 'quic', event });
        return;
      case 'datagram':
        this.#onDatagram(event.data);
        return;
      case 'closed':
        this.#onClosed(event.reason);
        return;
      default:
        this.#events.push({ type: 'quic', event });
    }
  }

  /** RFC 9114 §6.2.1, §6.2.2: our control stream with SETTINGS first, and the QPACK streams. */
  #start(): void {
    if (this.#started) return;
    this.#started = true;
    // RFC 9114 §7.2.4.1 / §7.2.8: a reserved setting and a reserved frame type exercise the peer's
    // tolerance of unknown ones.
    const r = this.#options.random(3);
    const settings = [...this.localSettings, [greaseValue(r[0]! % 64), r[1]!] as [number, number]];
    const control = concatBytes([
      encodeVarints(StreamType.CONTROL),
      encodeSettings(settings),
      encodeFrame(greaseValue(64 + r[2]!), new Uint8Array(r[2]! % 8)),
    ]);
    this.#uni.openLocal(StreamType.CONTROL, control);
    this.#uni.openLocal(StreamType.QPACK_ENCODER, encodeVarints(StreamType.QPACK_ENCODER));
    this.#uni.openLocal(StreamType.QPACK_DECODER, encodeVarints(StreamType.QPACK_DECODER));
    this.qlog.settings('local', this.localSettings, this.#uni.controlStreamId(true));
  }

  #onClosed(reason: ConnectionCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.clear();
    this.#extensionStreams.clear();
    this.#events.push({ type: 'closed', reason });
  }

  /** Runs `fn`; an HTTP/3 or QPACK connection error closes the connection with its code. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof H3ConnectionError || e instanceof QpackError) {
        this.close(e.code, e.message.slice(0, 200));
        return;
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ streams opened by the peer

  #onStreamOpened(streamId: number, bidi: boolean): void {
    if (!bidi) {
      this.#uni.onOpened(streamId);
      return;
    }
    const serverInitiated = (streamId & 1) === 1;
    if (this.role === 'client' && serverInitiated && this.#extensionBidi.size === 0) {
      // RFC 9114 §6.1: servers open no bidirectional streams in HTTP/3.
      throw new H3ConnectionError(H3ErrorCode.STREAM_CREATION_ERROR, 'server-initiated bidirectional stream');
    }
    if (this.role === 'server' && this.#goawaySent !== undefined && streamId >= this.#goawaySent && this.#extensionBidi.size === 0) {
      // RFC 9114 §5.2: beyond our GOAWAY: refused unprocessed, the client may retry elsewhere.
      // (With extension streams, a WebTransport stream may still open after GOAWAY,
      // draft-ietf-webtrans-http3 §4.5: only a request is refused, once its HEADERS show it.)
      this.quic.stopSending(streamId, H3ErrorCode.REQUEST_REJECTED);
      this.quic.resetStream(streamId, H3ErrorCode.REQUEST_REJECTED);
      return;
    }
    const s = new RequestStream(streamId);
    this.qlog.streamType(streamId, false, 'request');
    const early = this.#pendingPriority.get(streamId);
    if (early !== undefined) {
      this.#pendingPriority.delete(streamId);
      this.#applyPriority(streamId, early);
    }
    if (this.role === 'server') {
      this.#maxRequestId = Math.max(this.#maxRequestId, streamId);
      s.headersDeadline = this.#now + (this.#options.requestHeadersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS);
    }
    this.#streams.set(streamId, s);
    this.#onRequestReadable(streamId);
  }

  // ------------------------------------------------------------------ request streams: reading

  #onRequestReadable(streamId: number): void {
    const s = this.#streams.get(streamId);
    if (!s) return;
    try {
      if (s.phase === InPhase.Headers) this.#reader.readHeaders(s);
      else if (s.phase === InPhase.Body || s.phase === InPhase.AfterTrailers) this.#events.push({ type: 'body-readable', streamId });
    } catch (e) {
      if (e instanceof H3StreamError) this.#streamError(s, e);
      else throw e;
    }
  }

  /** QPACK encoder-stream input may unblock streams (RFC 9204 §2.1.2). */
  #afterEncoderInput(): void {
    for (const u of this.decoder.takeUnblocked()) {
      const s = this.#streams.get(u.streamId);
      if (!s || !s.blocked) continue;
      s.blocked = false;
      try {
        if ('error' in u) throw new H3StreamError(H3ErrorCode.EXCESSIVE_LOAD, `header section exceeds ${this.#maxFieldSectionSize} bytes`);
        this.#reader.onDecodedSection(s, u.fields);
        if (s.phase === InPhase.Headers) this.#reader.readHeaders(s);
      } catch (e) {
        if (e instanceof H3StreamError) this.#streamError(s, e);
        else throw e;
      }
    }
    this.#flushQpack();
  }

  /**
   * Reads body bytes of a request (server) or response (client): DATA payloads in order, then
   * `fin` once the stream ended (trailers, if any, came as an event first). Undefined when
   * nothing is readable now ('body-readable' follows). Reading returns flow-control credit.
   */
  readBody(streamId: number, maxBytes = MAX_BODY_READ): { data: Uint8Array; fin: boolean } | undefined {
    const s = this.#streams.get(streamId);
    // A stream already released ended (its 'stream-reset' or 'stream-error' came first if it failed).
    if (!s) return { data: new Uint8Array(0), fin: true };
    if (s.phase === InPhase.Headers || s.phase === InPhase.Extension) return undefined;
    if (s.phase === InPhase.Done) return { data: new Uint8Array(0), fin: true };
    let result: { data: Uint8Array; fin: boolean } | undefined;
    this.#guard(() => {
      try {
        result = this.#reader.readBodyStep(s, maxBytes);
      } catch (e) {
        if (e instanceof H3StreamError) this.#streamError(s, e);
        else throw e;
      }
    });
    return result;
  }

  // ------------------------------------------------------------------ request streams: writing

  /**
   * Client: opens a request stream and sends its header section (RFC 9114 §4.1). Undefined when
   * the server's stream limit allows no new stream now (QUIC 'streams-available' follows) or a
   * GOAWAY forbids it.
   */
  sendRequest(fields: readonly HeaderField[], end: boolean): number | undefined {
    if (this.#closed || this.#goawayReceived !== undefined) return undefined;
    const id = this.quic.openStream('bidi');
    if (id === undefined) return undefined;
    const s = new RequestStream(id);
    this.#streams.set(id, s);
    this.qlog.streamType(id, true, 'request');
    const priority = fields.find((f) => f.name === 'priority');
    if (priority) this.#applyPriority(id, priority.value);
    this.sendHeaders(id, fields, end);
    return id;
  }

  /** Sends a header section: response headers (server), trailers (either), interim responses. */
  sendHeaders(streamId: number, fields: readonly HeaderField[], end: boolean): boolean {
    const s = this.#streams.get(streamId);
    if (!s || s.sendDone || s.outFin) return false;
    if (this.role === 'server' && s.request) {
      const priority = fields.find((f) => f.name === 'priority');
      if (priority) this.#applyPriority(streamId, priority.value);
    }
    const section = this.encoder.encode(streamId, fields);
    this.#flushQpack();
    s.out.push(encodeFrame(FrameType.HEADERS, section));
    if (this.qlog.on) this.qlog.frame(true, streamId, { frame_type: 'headers', headers: fields.map((f) => ({ name: f.name, value: f.value })), raw: { length: section.length } });
    if (end) s.outFin = true;
    return this.#pump(s);
  }

  /**
   * Queues body bytes as one DATA frame (the view is kept, not copied: do not modify it). Returns
   * false when the stream's buffer is past its high-water mark: wait for 'writable'.
   */
  sendData(streamId: number, data: Uint8Array, end: boolean): boolean {
    const s = this.#streams.get(streamId);
    if (!s || s.sendDone || s.outFin) return false;
    if (data.length > 0) {
      s.out.push(encodeFrameHeader(FrameType.DATA, data.length));
      s.out.push(data);
      if (this.qlog.on) this.qlog.frame(true, streamId, { frame_type: 'data', raw: { payload_length: data.length } });
    }
    if (end) s.outFin = true;
    return this.#pump(s);
  }

  /** True while body bytes may still be written on this stream. */
  canWrite(streamId: number): boolean {
    const s = this.#streams.get(streamId);
    return s !== undefined && !s.sendDone && !s.outFin;
  }

  /** Ends our side of the stream (fin). */
  end(streamId: number): void {
    this.sendData(streamId, new Uint8Array(0), true);
  }

  /** Writes queued frames into the QUIC stream; true when everything was taken. */
  #pump(s: RequestStream): boolean {
    if (s.sendDone) return false;
    while (s.out.length > 0) {
      const chunk = s.out[0]!;
      const last = s.out.length === 1;
      const n = this.quic.writeStream(s.id, chunk, last && s.outFin);
      if (n < chunk.length) {
        s.out[0] = chunk.subarray(n);
        return false;
      }
      s.out.shift();
    }
    if (s.outFin) {
      if (s.out.length === 0) this.quic.writeStream(s.id, new Uint8Array(0), true);
      s.sendDone = true;
      this.#maybeFree(s);
    }
    return true;
  }

  /**
   * Abandons a request: our side reset and the peer asked to stop, with `code`
   * (H3_REQUEST_CANCELLED from a client, H3_REQUEST_REJECTED for unprocessed requests, ...).
   * Idempotent, never throws.
   */
  cancel(streamId: number, code: number = H3ErrorCode.REQUEST_CANCELLED): void {
    const s = this.#streams.get(streamId);
    if (!s) return;
    this.#abandon(s, code, code);
  }

  /** Resets only our sending side (e.g. a response abandoned midway). Idempotent. */
  resetStream(streamId: number, code: number): void {
    const s = this.#streams.get(streamId);
    if (!s || s.sendDone) return;
    s.sendDone = true;
    s.out = [];
    this.quic.resetStream(streamId, code);
    this.#maybeFree(s);
  }

  /**
   * The application wants no more of this body: what is there is read and dropped; if the end
   * is already there the stream simply finishes (no STOP_SENDING for a request that was complete,
   * e.g. a GET), otherwise the peer is asked to stop with H3_NO_ERROR (RFC 9114 §4.1.1).
   */
  discardBody(streamId: number): void {
    const s = this.#streams.get(streamId);
    if (!s || s.phase === InPhase.Done || s.phase === InPhase.Extension) return;
    if (s.phase !== InPhase.Headers) {
      // Bounded by what QUIC holds now (at most our flow-control window).
      for (let i = 0; i < 10_000 && this.#streams.has(streamId); i++) {
        const r = this.readBody(streamId);
        if (!r || r.fin) break;
      }
    }
    const still = this.#streams.get(streamId);
    if (still && still.phase !== InPhase.Done) this.stopSending(streamId, H3ErrorCode.NO_ERROR);
  }

  /** Asks the peer to stop sending (e.g. a server not interested in the request body). Idempotent. */
  stopSending(streamId: number, code: number): void {
    const s = this.#streams.get(streamId);
    if (!s || s.phase === InPhase.Done) return;
    this.quic.stopSending(streamId, code);
    // RFC 9204 §4.4.2: abandoning a stream before its sections are decoded releases the peer's entries.
    this.decoder.cancelStream(streamId);
    s.phase = InPhase.Done;
    s.pending = new Uint8Array(0);
    this.#flushQpack();
    this.#maybeFree(s);
  }

  #abandon(s: RequestStream, resetCode: number, stopCode: number): void {
    this.resetStream(s.id, resetCode);
    this.stopSending(s.id, stopCode);
    this.#streams.delete(s.id);
  }

  #streamError(s: RequestStream, e: H3StreamError): void {
    if (!this.#streams.has(s.id)) return;
    this.#abandon(s, e.code, e.code);
    this.encoder.streamClosed(s.id);
    this.#events.push({ type: 'stream-error', streamId: s.id, code: e.code, message: e.message });
  }

  #onPeerReset(streamId: number, code: number, event: ConnectionEvent): void {
    if (this.#extensionStreams.has(streamId)) {
      this.#events.push({ type: 'quic', event });
      return;
    }
    if (this.#uni.owns(streamId)) {
      this.#uni.onReset(streamId);
      return;
    }
    const s = this.#streams.get(streamId);
    if (!s) return;
    if (s.phase !== InPhase.Done) this.decoder.cancelStream(streamId); // RFC 9204 §4.4.2
    this.#flushQpack();
    s.phase = InPhase.Done;
    s.pending = new Uint8Array(0);
    s.headersDeadline = undefined;
    this.#events.push({ type: 'stream-reset', streamId, code });
    this.#maybeFree(s);
  }

  #onStopSending(streamId: number, code: number, event: ConnectionEvent): void {
    if (this.#extensionStreams.has(streamId)) {
      this.#events.push({ type: 'quic', event });
      return;
    }
    if (this.#uni.ownsLocal(streamId)) throw new H3ConnectionError(H3ErrorCode.CLOSED_CRITICAL_STREAM, 'STOP_SENDING on a critical stream');
    const s = this.#streams.get(streamId);
    if (!s) return;
    // RFC 9000 §3.5: answer STOP_SENDING with a reset of our side, echoing the code.
    this.resetStream(streamId, code);
    this.#events.push({ type: 'stop-sending', streamId, code });
  }

  /** A request whose two directions are finished is forgotten. */
  #maybeFree(s: RequestStream): void {
    if (s.sendDone && s.phase === InPhase.Done) this.#streams.delete(s.id);
  }

  // ------------------------------------------------------------------ control stream

  #onControlFrame(type: number, payload: Uint8Array): void {
    switch (type) {
      case FrameType.SETTINGS: {
        if (this.peerSettings) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'second SETTINGS frame');
        const settings = parseSettings(payload);
        if ((settings.get(SettingId.H3_DATAGRAM) === 1) && this.quic.isHandshakeComplete && this.quic.maxDatagramPayload === 0) {
          // RFC 9297 §2.1.1: SETTINGS_H3_DATAGRAM=1 without QUIC DATAGRAM support.
          throw new H3ConnectionError(H3ErrorCode.SETTINGS_ERROR, 'H3_DATAGRAM without the QUIC datagram extension');
        }
        this.peerSettings = settings;
        this.qlog.settings('remote', settings, this.#uni.controlStreamId(false));
        this.encoder.applyPeerSettings(settings.get(SettingId.QPACK_MAX_TABLE_CAPACITY) ?? 0, settings.get(SettingId.QPACK_BLOCKED_STREAMS) ?? 0);
        this.#flushQpack();
        this.#events.push({ type: 'settings', settings });
        return;
      }
      case FrameType.GOAWAY: {
        const id = parseVarintPayload(type, payload);
        // RFC 9114 §5.2: from a server, a client-initiated bidirectional stream id; never larger than before.
        if (this.role === 'client' && id % 4 !== 0) throw new H3ConnectionError(H3ErrorCode.ID_ERROR, `GOAWAY id ${id} is not a request stream`);
        if (this.#goawayReceived !== undefined && id > this.#goawayReceived) throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'GOAWAY id increased');
        this.#goawayReceived = id;
        this.qlog.frame(false, this.#uni.controlStreamId(false), { frame_type: 'goaway', id });
        this.#events.push({ type: 'goaway', id });
        return;
      }
      case FrameType.MAX_PUSH_ID:
        if (this.role === 'client') throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
        parseVarintPayload(type, payload); // we do not push (RFC 9114 §4.6 is optional)
        return;
      case FrameType.CANCEL_PUSH:
        parseVarintPayload(type, payload);
        // Client: no push was ever promised (we sent no MAX_PUSH_ID). Server: we never push, so
        // any id the client cancels names no push of ours; RFC 9114 §7.2.3 allows ignoring it.
        if (this.role === 'client') throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'CANCEL_PUSH without MAX_PUSH_ID');
        return;
      case FrameType.PRIORITY_UPDATE_REQUEST: {
        if (this.role === 'client') throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'PRIORITY_UPDATE from a server');
        const { elementId, fieldValue } = parsePriorityUpdate(payload);
        this.qlog.frame(false, this.#uni.controlStreamId(false), { frame_type: 'priority_update', prioritized_element_id: elementId, priority_field_value: fieldValue });
        // RFC 9218 §7.1: must name a client-initiated bidirectional stream.
        if (elementId % 4 !== 0) throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'PRIORITY_UPDATE for a non-request stream');
        // A stream we answered already may be gone from our map while QUIC still sends its
        // response: the transport's scheduler takes the update then too.
        if (elementId <= this.#maxRequestId) this.#applyPriority(elementId, fieldValue);
        else {
          // RFC 9218 §7.1: for a stream not open yet, keep the latest update and apply it when
          // the stream opens (bounded: older entries go first).
          this.#pendingPriority.delete(elementId);
          this.#pendingPriority.set(elementId, fieldValue);
          if (this.#pendingPriority.size > MAX_PENDING_PRIORITY_UPDATES) this.#pendingPriority.delete(this.#pendingPriority.keys().next().value!);
        }
        return;
      }
      case FrameType.PRIORITY_UPDATE_PUSH:
        if (this.role === 'client') throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'PRIORITY_UPDATE from a server');
        return;
      case FrameType.DATA:
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
        throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${type.toString(16)} on the control stream`);
      default:
        if (isReservedHttp2FrameType(type)) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
        return; // unknown: ignored (RFC 9114 §9)
    }
  }

  #applyPriority(streamId: number, value: string): void {
    const p = parsePriority(value);
    this.quic.setStreamPriority(streamId, p.urgency, p.incremental);
  }

  /** Sends what QPACK queued for its streams (RFC 9204 §4.2). */
  #flushQpack(): void {
    const enc = this.encoder.takeEncoderStreamData();
    if (enc) this.#uni.writeLocal(StreamType.QPACK_ENCODER, enc);
    const dec = this.decoder.takeDecoderStreamData();
    if (dec) this.#uni.writeLocal(StreamType.QPACK_DECODER, dec);
  }

  // ------------------------------------------------------------------ datagrams

  #onDatagram(data: Uint8Array): void {
    if (!this.#options.datagrams) {
      // RFC 9297 §2.1.1: datagrams were not negotiated.
      throw new H3ConnectionError(H3ErrorCode.DATAGRAM_ERROR, 'HTTP Datagram without SETTINGS_H3_DATAGRAM');
    }
    const q = tryReadVarint(data, 0);
    if (!q) throw new H3ConnectionError(H3ErrorCode.DATAGRAM_ERROR, 'HTTP Datagram without a quarter stream id');
    // RFC 9297 §2.1: quarter stream ids beyond the largest client bidi id are H3_ID_ERROR; others
    // for streams not open (any more) are dropped.
    if (q.value > 2 ** 60 - 1) throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'quarter stream id out of range');
    this.#events.push({ type: 'datagram', streamId: q.value * 4, payload: data.subarray(q.length) });
  }

  /** Sends an HTTP Datagram for a request stream; false when it cannot go (too large, not negotiated). */
  sendDatagram(streamId: number, payload: Uint8Array): boolean {
    if (this.#closed || !this.datagramsEnabled) return false;
    return this.quic.sendDatagram(encodeHttpDatagram(streamId, payload)) !== undefined;
  }

  /** The largest HTTP Datagram payload for this stream now (QUIC's limit less the prefix). */
  maxDatagramPayload(streamId: number): number {
    if (!this.datagramsEnabled) return 0;
    return Math.max(0, this.quic.maxDatagramPayload - varintLength(streamId / 4));
  }

  // ------------------------------------------------------------------ extensions

  /**
   * Opens a stream for an extension (WebTransport) and writes its header (stream type or signal
   * and session id). The extension then writes and reads the QUIC stream directly; its QUIC events
   * come as 'quic' events. Undefined while the peer's stream limit forbids it.
   */
  openExtensionStream(bidi: boolean, header: Uint8Array): number | undefined {
    if (this.#closed) return undefined;
    const id = this.quic.openStream(bidi ? 'bidi' : 'uni');
    if (id === undefined) return undefined;
    this.#extensionStreams.add(id);
    this.quic.writeStream(id, header, false);
    return id;
  }

  /** The extension is done with a stream: its events stop passing through. */
  releaseExtensionStream(streamId: number): void {
    this.#extensionStreams.delete(streamId);
  }

  /** The request's head, while the stream is open (server: request; client: response). */
  requestHead(streamId: number): RequestHead | undefined {
    return this.#streams.get(streamId)?.request;
  }

  hasStream(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  /**
   * Client: reprioritises a request (RFC 9218 §7.2, PRIORITY_UPDATE on the control stream), e.g.
   * `u=0, i`. The server's scheduler applies it to the response.
   */
  updatePriority(streamId: number, fieldValue: string): void {
    if (this.role !== 'client' || this.#closed) return;
    this.#start();
    this.#uni.writeLocal(StreamType.CONTROL, encodePriorityUpdate(streamId, fieldValue));
    this.qlog.frame(true, this.#uni.controlStreamId(true), { frame_type: 'priority_update', prioritized_element_id: streamId, priority_field_value: fieldValue });
  }

  // ------------------------------------------------------------------ shutdown

  /**
   * RFC 9114 §5.2 graceful shutdown. Server: requests on streams below the id we send are served;
   * later ones are refused with H3_REQUEST_REJECTED. Client: we accept no pushes (id 0).
   */
  goaway(): void {
    if (this.#closed || this.#goawaySent !== undefined) return;
    this.#start();
    const id = this.role === 'server' ? this.#maxRequestId + 4 : 0;
    this.#goawaySent = id;
    this.#uni.writeLocal(StreamType.CONTROL, encodeVarintFrame(FrameType.GOAWAY, id));
    this.qlog.frame(true, this.#uni.controlStreamId(true), { frame_type: 'goaway', id });
  }

  get goawaySent(): boolean {
    return this.#goawaySent !== undefined;
  }

  /** Closes the QUIC connection with an HTTP/3 code (H3_NO_ERROR by default). Idempotent. */
  close(code: number = H3ErrorCode.NO_ERROR, reason = ''): void {
    if (this.quic.isClosed) return;
    this.quic.close(code, reason, this.#now);
  }

  /** @internal for UniStreams */
  get now(): number {
    return this.#now;
  }
}
