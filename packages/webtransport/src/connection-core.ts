/**
 * WebTransport on one HTTP/3 connection (draft-ietf-webtrans-http3): the settings of every
 * generation, sessions by CONNECT stream id, streams and datagrams routed to them, and the
 * bounded buffer for streams and datagrams that arrive before their session (§4.8). It consumes
 * the HTTP/3 events that are WebTransport's (`handleEvent` returns true for them). Sans-IO: the
 * driver supplies `flush` (send what is queued now) and feeds the events.
 */

import { H3ErrorCode, type H3Connection, type H3Event, type HeaderField, type RequestHead } from '@purequic/h3';
import type { ConnectionEvent } from '@purequic/quic/sans-io';
import { PROTOCOL_DRAFT02, PROTOCOL_H3, WT_BIDI_SIGNAL, WT_UNI_STREAM_TYPE, WtErrorCode, WtSetting, serializeSfStringList } from './codes.js';
import { WtSessionCore } from './session-core.js';
import { WtStreamCore } from './stream-core.js';

export interface WtLimits {
  /** Streams waiting for their session, per connection (§4.8); default 64. */
  maxBufferedStreams: number;
  /** Datagrams waiting for their session, per connection; default 64. */
  maxBufferedDatagrams: number;
  /** Sessions per connection we accept (advertised as WT_MAX_SESSIONS); default 100. */
  maxSessions: number;
  /** Per-session flow control for webtransport-h3 peers (§5); default on. */
  flowControl: boolean;
  /** Session data window (SETTINGS_WT_INITIAL_MAX_DATA and WT_MAX_DATA steps); default 16 MiB. */
  maxData: number;
  /** Streams per session window (SETTINGS_WT_INITIAL_MAX_STREAMS_*); default 1,000. */
  maxStreamsBidi: number;
  maxStreamsUni: number;
}

export const DEFAULT_LIMITS: WtLimits = {
  maxBufferedStreams: 64,
  maxBufferedDatagrams: 64,
  maxSessions: 100,
  flowControl: true,
  maxData: 16 * 1024 * 1024,
  maxStreamsBidi: 1000,
  maxStreamsUni: 1000,
};

/**
 * The settings a WebTransport endpoint sends: every generation at once (draft-02's
 * 0x2b603742 = 1, which Chromium requires to be 0 or 1; draft-07 and -13/14 max sessions;
 * draft-15/16 WT_ENABLED = 1) and the initial flow-control limits (draft-16 §5.5).
 */
export function webTransportSettings(limits: WtLimits = DEFAULT_LIMITS): [number, number][] {
  const s: [number, number][] = [
    [WtSetting.WEBTRANS_DRAFT00, 1],
    [WtSetting.MAX_SESSIONS_DRAFT07, limits.maxSessions],
    [WtSetting.MAX_SESSIONS, limits.maxSessions],
    [WtSetting.WT_ENABLED, 1],
  ];
  if (limits.flowControl) {
    s.push([WtSetting.INITIAL_MAX_DATA, limits.maxData], [WtSetting.INITIAL_MAX_STREAMS_BIDI, limits.maxStreamsBidi], [WtSetting.INITIAL_MAX_STREAMS_UNI, limits.maxStreamsUni]);
  }
  return s;
}

export interface WtConnectionOptions {
  role: 'client' | 'server';
  limits?: Partial<WtLimits>;
  /** Send what the HTTP/3 connection queued now (the driver's flush). */
  flush: () => void;
  /** Server: a CONNECT for WebTransport arrived (after the client's SETTINGS, §3.1). */
  onSessionRequest?: (session: WtSessionCore) => void;
  /** The connection ended. */
  onClosed?: () => void;
}

interface BufferedDatagram {
  sessionId: number;
  payload: Uint8Array;
}

export class WtConnection {
  readonly role: 'client' | 'server';
  readonly limits: WtLimits;
  readonly sessions = new Map<number, WtSessionCore>();
  readonly #streams = new Map<number, WtStreamCore>();
  /** Incoming streams whose session is not open yet, oldest first. */
  readonly #bufferedStreams = new Set<WtStreamCore>();
  #bufferedDatagrams: BufferedDatagram[] = [];
  /** Server: CONNECT requests that came before the client's SETTINGS. */
  #deferredRequests: H3Event[] = [];
  readonly #options: WtConnectionOptions;
  #closed = false;
  /** Counted for stats and tests. */
  rejectedBufferedStreams = 0;
  droppedBufferedDatagrams = 0;

  constructor(
    readonly h3: H3Connection,
    options: WtConnectionOptions,
  ) {
    this.role = options.role;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#options = options;
  }

  get localSettings(): ReadonlyMap<number, number> {
    return this.h3.localSettings;
  }

  get peerSettings(): ReadonlyMap<number, number> | undefined {
    return this.h3.peerSettings;
  }

  get isClosed(): boolean {
    return this.#closed || this.h3.isClosed;
  }

  /** Streams alive on this connection (tests check that none leak). */
  get streamCount(): number {
    return this.#streams.size;
  }

  flush(): void {
    this.#options.flush();
  }

  /**
   * Client: which generation the server offers: 'h3' (webtransport-h3) when it sent WT_ENABLED
   * or a max-sessions setting, 'draft02' when only 0x2b603742, undefined when none (or SETTINGS
   * have not arrived).
   */
  peerVersion(): 'h3' | 'draft02' | undefined {
    const p = this.peerSettings;
    if (!p) return undefined;
    if (p.get(WtSetting.WT_ENABLED) === 1 || (p.get(WtSetting.MAX_SESSIONS) ?? 0) > 0) return 'h3';
    if (p.get(WtSetting.WEBTRANS_DRAFT00) === 1) return 'draft02';
    return undefined;
  }

  /**
   * Client: sends the Extended CONNECT (§3.2) for `https://authority/path`; undefined when no
   * stream can be opened now. `protocols` become WT-Available-Protocols (§3.3).
   */
  connect(authority: string, path: string, options: { protocols?: readonly string[]; origin?: string; headers?: Iterable<[string, string]>; version?: 'draft02' | 'h3' } = {}): WtSessionCore | undefined {
    const offered = this.peerVersion();
    // A generation older than the newest offered may be asked for (draft-02 when the server sent 0x2b603742).
    const version = options.version === 'draft02' && this.peerSettings?.get(WtSetting.WEBTRANS_DRAFT00) === 1 ? 'draft02' : offered;
    if (!version || this.isClosed) return undefined;
    const fields: HeaderField[] = [
      { name: ':method', value: 'CONNECT' },
      { name: ':protocol', value: version === 'h3' ? PROTOCOL_H3 : PROTOCOL_DRAFT02 },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: authority },
      { name: ':path', value: path },
    ];
    if (version === 'draft02') fields.push({ name: 'sec-webtransport-http3-draft02', value: '1' });
    if (options.origin) fields.push({ name: 'origin', value: options.origin });
    if (options.protocols && options.protocols.length > 0) fields.push({ name: 'wt-available-protocols', value: serializeSfStringList(options.protocols) });
    for (const [name, value] of options.headers ?? []) fields.push({ name: name.toLowerCase(), value });
    const id = this.h3.sendRequest(fields, false);
    if (id === undefined) return undefined;
    const head: RequestHead = { method: 'CONNECT', protocol: fields[1]!.value, scheme: 'https', authority, path, fields: fields.slice(5), contentLength: undefined };
    const session = new WtSessionCore(this, id, version, head);
    this.sessions.set(id, session);
    return session;
  }

  // ------------------------------------------------------------------ events

  /** Takes an HTTP/3 event; true when it was WebTransport's. Never throws. */
  handleEvent(e: H3Event): boolean {
    switch (e.type) {
      case 'settings': {
        const deferred = this.#deferredRequests;
        this.#deferredRequests = [];
        for (const r of deferred) this.handleEvent(r);
        return false;
      }
      case 'request': {
        if (this.role !== 'server' || e.head.method !== 'CONNECT') return false;
        const p = e.head.protocol;
        if (p !== PROTOCOL_DRAFT02 && p !== PROTOCOL_H3) return false;
        if (!this.peerSettings) {
          // §3.1 (drafts): no WebTransport request is processed before the client's SETTINGS.
          this.#deferredRequests.push(e);
          return true;
        }
        this.#onConnectRequest(e.streamId, e.head, p === PROTOCOL_H3 ? 'h3' : 'draft02');
        return true;
      }
      case 'response': {
        const s = this.sessions.get(e.streamId);
        if (!s) return false;
        s.onResponse(e.head);
        return true;
      }
      case 'informational':
      case 'trailers':
      case 'writable':
        return this.sessions.has(e.streamId);
      case 'body-readable': {
        const s = this.sessions.get(e.streamId);
        if (!s) return false;
        s.onConnectReadable();
        return true;
      }
      case 'stream-reset':
      case 'stop-sending':
      case 'stream-error': {
        const s = this.sessions.get(e.streamId);
        if (!s) return false;
        // A server refusing the session stops our request body (RFC 9114 §4.1.1); its status follows.
        if (e.type === 'stop-sending' && s.state === 'pending' && this.role === 'client') return true;
        // The close capsule may be in the same packet as the STOP_SENDING (Firefox sends both):
        // read what already arrived before deciding the session was aborted.
        if (e.type !== 'stream-error' && s.state === 'open') s.onConnectReadable();
        if (s.state === 'closed' && e.type === 'stop-sending') {
          this.onSessionGone(s);
          return true;
        }
        const what = e.type === 'stream-reset' ? 'CONNECT stream reset by the peer' : e.type === 'stop-sending' ? 'the peer stopped reading the CONNECT stream' : `CONNECT stream error: ${e.message}`;
        s.onConnectReset(e.code, what);
        return true;
      }
      case 'extension-stream':
        this.#onExtensionStream(e.streamId, e.bidi, e.signal, e.sessionId, e.data, e.fin);
        return true;
      case 'quic':
        return this.#onQuic(e.event);
      case 'datagram':
        this.#onDatagram(e.streamId, e.payload);
        return true;
      case 'goaway':
        for (const s of this.sessions.values()) s.onGoaway();
        return false;
      case 'closed':
        this.#onClosed('the connection closed');
        return false;
      default:
        return false;
    }
  }

  #onConnectRequest(streamId: number, head: RequestHead, version: 'draft02' | 'h3'): void {
    let open = 0;
    for (const s of this.sessions.values()) if (s.state !== 'closed') open++;
    const session = new WtSessionCore(this, streamId, version, head);
    this.sessions.set(streamId, session);
    if (open >= this.limits.maxSessions || (version === 'h3' && !session.flowControl && open >= 1)) {
      // §5.2: too many sessions (without flow control only one): refused unprocessed.
      this.sessions.delete(streamId);
      this.h3.cancel(streamId, H3ErrorCode.REQUEST_REJECTED);
      this.#dropBufferedFor(streamId, WtErrorCode.BUFFERED_STREAM_REJECTED);
      return;
    }
    if (!this.#options.onSessionRequest) {
      session.reject(404);
      return;
    }
    this.#options.onSessionRequest(session);
  }

  #onExtensionStream(streamId: number, bidi: boolean, signal: number, sessionId: number, data: Uint8Array, fin: boolean): void {
    if ((bidi && signal !== WT_BIDI_SIGNAL) || (!bidi && signal !== WT_UNI_STREAM_TYPE)) return;
    const s = new WtStreamCore(this, streamId, bidi, false, sessionId, { data, fin });
    this.#streams.set(streamId, s);
    // A session id must be a client-initiated bidirectional stream (§4.2, §4.3).
    if (sessionId % 4 !== 0) {
      this.#refuse(s, WtErrorCode.BUFFERED_STREAM_REJECTED);
      return;
    }
    const session = this.sessions.get(sessionId);
    if (session?.state === 'open') {
      session.adoptIncoming(s);
      return;
    }
    if (session?.state === 'closed') {
      this.#refuse(s, WtErrorCode.SESSION_GONE);
      return;
    }
    // §4.8: buffered until the session opens, bounded; the oldest gives way.
    this.#bufferedStreams.add(s);
    if (this.#bufferedStreams.size > this.limits.maxBufferedStreams) {
      const oldest = this.#bufferedStreams.values().next().value as WtStreamCore;
      this.#bufferedStreams.delete(oldest);
      this.#refuse(oldest, WtErrorCode.BUFFERED_STREAM_REJECTED);
    }
  }

  #refuse(s: WtStreamCore, code: number): void {
    this.#bufferedStreams.delete(s);
    if (code === WtErrorCode.BUFFERED_STREAM_REJECTED) this.rejectedBufferedStreams++;
    s.stopSending(code);
    s.reset(code);
    this.freeStream(s);
  }

  #onQuic(event: ConnectionEvent): boolean {
    switch (event.type) {
      case 'stream-readable': {
        const s = this.#streams.get(event.streamId);
        if (!s) return false;
        s.onQuicReadable();
        return true;
      }
      case 'stream-writable': {
        const s = this.#streams.get(event.streamId);
        if (!s) return false;
        s.listener?.onWritable();
        return true;
      }
      case 'stream-reset': {
        const s = this.#streams.get(event.streamId);
        if (!s) return false;
        if (this.#bufferedStreams.has(s)) {
          s.onPeerReset(event.errorCode, event.finalSize);
          this.#refuse(s, WtErrorCode.BUFFERED_STREAM_REJECTED);
        } else s.onPeerReset(event.errorCode, event.finalSize);
        return true;
      }
      case 'stream-stop-sending': {
        const s = this.#streams.get(event.streamId);
        if (!s) return false;
        s.onPeerStopSending(event.errorCode);
        return true;
      }
      case 'stream-finished':
        return this.#streams.has(event.streamId);
      case 'streams-available':
        for (const session of this.sessions.values()) session.listener?.onCredit();
        return false;
      default:
        return false;
    }
  }

  #onDatagram(sessionId: number, payload: Uint8Array): void {
    const s = this.sessions.get(sessionId);
    if (s?.state === 'open') {
      s.onDatagram(payload);
      return;
    }
    if (s?.state === 'closed') return;
    // §4.8: bounded buffer; beyond it datagrams are dropped (counted).
    if (this.#bufferedDatagrams.length >= this.limits.maxBufferedDatagrams) {
      this.#bufferedDatagrams.shift();
      this.droppedBufferedDatagrams++;
    }
    this.#bufferedDatagrams.push({ sessionId, payload: payload.slice() });
  }

  #onClosed(message: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.sessions.values()]) s.onConnectionClosed(message);
    this.sessions.clear();
    for (const s of [...this.#streams.values()]) s.abandon(WtErrorCode.SESSION_GONE);
    this.#streams.clear();
    this.#bufferedStreams.clear();
    this.#bufferedDatagrams = [];
    this.#deferredRequests = [];
    this.#options.onClosed?.();
  }

  // ------------------------------------------------------------------ called by sessions and streams

  /** @internal a session opened: its buffered streams and datagrams are delivered. */
  onSessionOpen(session: WtSessionCore): void {
    for (const s of [...this.#bufferedStreams]) {
      if (s.sessionId !== session.id) continue;
      this.#bufferedStreams.delete(s);
      if (!session.adoptIncoming(s)) return;
      if (session.state !== 'open') return;
    }
    const keep: BufferedDatagram[] = [];
    for (const d of this.#bufferedDatagrams) {
      if (d.sessionId === session.id) session.onDatagram(d.payload);
      else keep.push(d);
    }
    this.#bufferedDatagrams = keep;
  }

  /** @internal a session ended: streams still waiting for it are refused. */
  onSessionClosed(session: WtSessionCore): void {
    this.#dropBufferedFor(session.id, WtErrorCode.SESSION_GONE);
  }

  /** @internal both directions of the CONNECT stream are done: the session is forgotten. */
  onSessionGone(session: WtSessionCore): void {
    this.#dropBufferedFor(session.id, WtErrorCode.BUFFERED_STREAM_REJECTED);
    if (session.state === 'closed' && (session.connectDone || !this.h3.hasStream(session.id))) this.sessions.delete(session.id);
  }

  #dropBufferedFor(sessionId: number, code: number): void {
    for (const s of [...this.#bufferedStreams]) if (s.sessionId === sessionId) this.#refuse(s, code);
    if (this.#bufferedDatagrams.some((d) => d.sessionId === sessionId)) this.#bufferedDatagrams = this.#bufferedDatagrams.filter((d) => d.sessionId !== sessionId);
  }

  /** @internal */
  registerStream(s: WtStreamCore): void {
    this.#streams.set(s.id, s);
  }

  /** @internal a stream is done both ways: forgotten here and by HTTP/3. */
  freeStream(s: WtStreamCore): void {
    if (this.#streams.get(s.id) !== s) return;
    this.#streams.delete(s.id);
    this.#bufferedStreams.delete(s);
    this.h3.releaseExtensionStream(s.id);
    s.session?.onStreamFreed(s);
  }
}


