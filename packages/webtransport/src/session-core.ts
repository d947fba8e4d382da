/**
 * One WebTransport session (draft-ietf-webtrans-http3): the CONNECT stream's life (accept,
 * reject, close, drain; §3, §6), its capsules (RFC 9297 §3; WT_CLOSE_SESSION, WT_DRAIN_SESSION
 * and the §5.6 flow-control capsules), per-session flow control (§5.3, §5.4) and the streams
 * and datagrams bound to it. Sans-IO: it drives the sans-IO HTTP/3 connection only.
 */

import { CapsuleParser, H3ErrorCode, H3StreamError, encodeCapsule, type HeaderField, type RequestHead, type ResponseHead } from '@purequic/h3';
import {
  WtCapsule,
  WtErrorCode,
  decodeCloseSession,
  decodeVarintCapsule,
  encodeCloseSession,
  encodeVarintCapsule,
  parseSfString,
  parseSfStringList,
  serializeSfString,
  streamHeader,
} from './codes.js';
import type { WtConnection } from './connection-core.js';
import { WtStreamCore } from './stream-core.js';

export type WtSessionState = 'pending' | 'open' | 'closed';

/** How a session ended: cleanly (code and reason, ours or the peer's) or aborted. */
export type WtCloseInfo =
  | { kind: 'closed'; code: number; reason: string; byPeer: boolean }
  | { kind: 'aborted'; message: string; h3Code?: number; status?: number };

/** What the layer above learns about a session. */
export interface WtSessionListener {
  /** Client: the server answered 2xx (`protocol`: its WT-Protocol). */
  onReady(response: ResponseHead | undefined): void;
  onClosed(info: WtCloseInfo): void;
  /** WT_DRAIN_SESSION or GOAWAY: the application should wind the session down (§4.6). */
  onDraining(): void;
  onStream(stream: WtStreamCore): void;
  onDatagram(payload: Uint8Array): void;
  /** New streams may be opened, or more data sent (MAX_STREAMS / WT_MAX_STREAMS / WT_MAX_DATA). */
  onCredit(): void;
}

const KNOWN_CAPSULES = new Set<number>([
  WtCapsule.CLOSE_SESSION,
  WtCapsule.DRAIN_SESSION,
  WtCapsule.MAX_DATA,
  WtCapsule.MAX_STREAMS_BIDI,
  WtCapsule.MAX_STREAMS_UNI,
  WtCapsule.DATA_BLOCKED,
  WtCapsule.STREAMS_BLOCKED_BIDI,
  WtCapsule.STREAMS_BLOCKED_UNI,
  WtCapsule.MAX_STREAM_DATA,
  WtCapsule.STREAM_DATA_BLOCKED,
]);

/** §5.6.1: Maximum Streams above 2^60 is a flow-control error. */
const MAX_STREAMS_LIMIT = 2 ** 60;

export class WtSessionCore {
  state: WtSessionState = 'pending';
  listener: WtSessionListener | undefined;
  /** The subprotocol agreed (WT-Protocol), if any. */
  protocol: string | undefined;
  /** The client's offer (WT-Available-Protocols, or its draft-02 era name). */
  readonly offeredProtocols: readonly string[];
  closeInfo: WtCloseInfo | undefined;
  draining = false;
  readonly streams = new Set<WtStreamCore>();
  /** Stats. */
  datagramsReceived = 0;
  datagramsSent = 0;
  datagramsDroppedOutgoing = 0;

  /** Flow control (§5): enabled for webtransport-h3 sessions when both sides sent initial limits. */
  readonly flowControl: boolean;
  #localMaxData: number;
  #dataRead = 0;
  #dataReceived = 0;
  #peerMaxData: number;
  #dataSent = 0;
  #dataBlockedSentAt = -1;
  readonly #localMaxStreams: { bidi: number; uni: number };
  readonly #peerOpened = { bidi: 0, uni: 0 };
  readonly #peerClosed = { bidi: 0, uni: 0 };
  readonly #peerMaxStreams: { bidi: number; uni: number };
  readonly #opened = { bidi: 0, uni: 0 };
  #capsules = new CapsuleParser({ knownTypes: KNOWN_CAPSULES, maxCapsuleSize: 4 + 1024 + 16 });
  #closeReceived = false;
  #readFin = false;
  #finSent = false;

  constructor(
    readonly conn: WtConnection,
    /** The CONNECT stream's id (the session id). */
    readonly id: number,
    /** 'draft02' (`:protocol webtransport`) or 'h3' (`webtransport-h3`, draft-07 and later). */
    readonly version: 'draft02' | 'h3',
    /** Server: the CONNECT request; client: what we sent. */
    readonly head: RequestHead | undefined,
  ) {
    const local = conn.localSettings;
    const peer = conn.peerSettings;
    const limits = conn.limits;
    const peerFc = peer !== undefined && [0x2b61, 0x2b64, 0x2b65].some((s) => (peer.get(s) ?? 0) > 0);
    this.flowControl = version === 'h3' && peerFc && limits.flowControl;
    this.#localMaxData = this.flowControl ? (local.get(0x2b61) ?? 0) : Infinity;
    this.#localMaxStreams = this.flowControl ? { bidi: local.get(0x2b65) ?? 0, uni: local.get(0x2b64) ?? 0 } : { bidi: Infinity, uni: Infinity };
    this.#peerMaxData = this.flowControl ? (peer?.get(0x2b61) ?? 0) : Infinity;
    this.#peerMaxStreams = this.flowControl ? { bidi: peer?.get(0x2b65) ?? 0, uni: peer?.get(0x2b64) ?? 0 } : { bidi: Infinity, uni: Infinity };
    this.offeredProtocols = head ? offeredProtocols(head.fields) : [];
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  // ------------------------------------------------------------------ server: accept / reject

  /**
   * Server: answers 200 (§3.2), with WT-Protocol when `protocol` is given (it must be one the
   * client offered, §3.3). Buffered streams and datagrams are delivered. False if not pending.
   */
  accept(options: { protocol?: string; headers?: Iterable<[string, string]> } = {}): boolean {
    if (this.state !== 'pending' || this.conn.role !== 'server') return false;
    if (options.protocol !== undefined && !this.offeredProtocols.includes(options.protocol)) {
      throw new RangeError(`protocol ${JSON.stringify(options.protocol)} was not offered by the client (${this.offeredProtocols.join(', ')})`);
    }
    const fields: HeaderField[] = [{ name: ':status', value: '200' }];
    // Chromium checks this for draft-02 sessions; aioquic's draft-02 server sends it too.
    if (this.version === 'draft02') fields.push({ name: 'sec-webtransport-http3-draft', value: 'draft02' });
    if (options.protocol !== undefined) {
      this.protocol = options.protocol;
      fields.push({ name: 'wt-protocol', value: serializeSfString(options.protocol) });
    }
    for (const [name, value] of options.headers ?? []) fields.push({ name: name.toLowerCase(), value });
    this.conn.h3.sendHeaders(this.id, fields, false);
    this.state = 'open';
    this.conn.onSessionOpen(this);
    this.onConnectReadable();
    return true;
  }

  /** Server: answers with a non-2xx status and ends the stream; buffered streams are refused. Idempotent. */
  reject(status = 404): void {
    if (this.state !== 'pending') return;
    if (!(status >= 300 && status <= 599)) throw new RangeError(`reject needs a 3xx-5xx status, got ${status}`);
    this.state = 'closed';
    this.closeInfo = { kind: 'aborted', message: `rejected with status ${status}`, status };
    this.conn.h3.sendHeaders(this.id, [{ name: ':status', value: String(status) }], true);
    // RFC 9114 §4.1.1: the request body is not needed.
    this.conn.h3.stopSending(this.id, H3ErrorCode.NO_ERROR);
    this.#finSent = true;
    this.conn.onSessionGone(this);
  }

  // ------------------------------------------------------------------ client: the response

  /** @internal the response to our CONNECT. */
  onResponse(head: ResponseHead): void {
    if (this.state !== 'pending') return;
    if (head.status < 200 || head.status > 299) {
      this.#abort({ kind: 'aborted', message: `the server answered ${head.status}`, status: head.status }, H3ErrorCode.NO_ERROR);
      return;
    }
    const chosen = head.fields.find((f) => f.name === 'wt-protocol' || f.name === 'sec-webtransport-protocol');
    if (chosen) {
      const p = parseSfString(chosen.value) ?? (chosen.name === 'sec-webtransport-protocol' ? chosen.value : undefined);
      if (p !== undefined) {
        if (!this.offeredProtocols.includes(p)) {
          // §3.3: a protocol we did not offer.
          this.state = 'open';
          this.close(WtErrorCode.ALPN_ERROR, `server chose protocol ${JSON.stringify(p)}, not offered`);
          return;
        }
        this.protocol = p;
      }
    }
    this.state = 'open';
    this.conn.onSessionOpen(this);
    this.listener?.onReady(head);
    this.onConnectReadable();
  }

  // ------------------------------------------------------------------ the CONNECT stream

  /** @internal the CONNECT stream has capsule bytes (or its end) to read. */
  onConnectReadable(): void {
    if (this.state === 'pending') return; // §3.2: capsules before the 2xx wait for it
    // Bounded: each turn reads bytes from QUIC or ends.
    for (let turns = 0; turns < 10_000; turns++) {
      if (this.#readFin) return;
      const r = this.conn.h3.readBody(this.id);
      if (!r) return;
      if (r.data.length > 0) {
        if (this.#closeReceived) {
          // §6: data after WT_CLOSE_SESSION.
          this.conn.h3.cancel(this.id, H3ErrorCode.MESSAGE_ERROR);
          this.#readFin = true;
          this.conn.onSessionGone(this);
          return;
        }
        if (this.state === 'open') {
          let capsules;
          try {
            capsules = this.#capsules.push(r.data);
          } catch (e) {
            if (!(e instanceof H3StreamError)) throw e;
            this.#abort({ kind: 'aborted', message: e.message, h3Code: e.code }, e.code);
            return;
          }
          for (const c of capsules) {
            this.#onCapsule(c.type, c.value);
            if (this.state !== 'open') break;
          }
        }
      }
      if (r.fin) {
        this.#readFin = true;
        if (this.state === 'open') {
          if (!this.#capsules.atBoundary) {
            // RFC 9297 §3.3: a truncated capsule.
            this.#abort({ kind: 'aborted', message: 'CONNECT stream ended inside a capsule', h3Code: H3ErrorCode.MESSAGE_ERROR }, H3ErrorCode.MESSAGE_ERROR);
            return;
          }
          // §6: a clean end without WT_CLOSE_SESSION is code 0 with an empty reason.
          this.#closed({ kind: 'closed', code: 0, reason: '', byPeer: true });
        }
        this.#endConnect();
        this.conn.onSessionGone(this);
        return;
      }
    }
  }

  #onCapsule(type: number, value: Uint8Array): void {
    switch (type) {
      case WtCapsule.CLOSE_SESSION: {
        const info = decodeCloseSession(value);
        if (!info) {
          // §6: a message over 1,024 bytes or not UTF-8.
          this.#abort({ kind: 'aborted', message: 'malformed WT_CLOSE_SESSION', h3Code: H3ErrorCode.MESSAGE_ERROR }, H3ErrorCode.MESSAGE_ERROR);
          return;
        }
        this.#closeReceived = true;
        this.#closed({ kind: 'closed', code: info.code, reason: info.reason, byPeer: true });
        return;
      }
      case WtCapsule.DRAIN_SESSION:
        this.#setDraining();
        return;
      case WtCapsule.MAX_STREAM_DATA:
      case WtCapsule.STREAM_DATA_BLOCKED:
        // §5.4: prohibited over HTTP/3, a session error.
        if (this.flowControl) this.#flowControlError('WT_MAX_STREAM_DATA / WT_STREAM_DATA_BLOCKED over HTTP/3');
        return;
      default:
        break;
    }
    // §5.1: without flow control, flow-control capsules are ignored.
    if (!this.flowControl) return;
    const v = decodeVarintCapsule(value);
    if (v === undefined) {
      this.#abort({ kind: 'aborted', message: 'malformed flow-control capsule', h3Code: H3ErrorCode.MESSAGE_ERROR }, H3ErrorCode.MESSAGE_ERROR);
      return;
    }
    switch (type) {
      case WtCapsule.MAX_DATA:
        if (v <= this.#peerMaxData) return this.#flowControlError('WT_MAX_DATA did not increase'); // §5.6.3
        this.#peerMaxData = v;
        this.#dataBlockedSentAt = -1;
        this.listener?.onCredit();
        // Writers blocked on session credit go on.
        for (const st of [...this.streams]) st.listener?.onWritable();
        return;
      case WtCapsule.MAX_STREAMS_BIDI:
      case WtCapsule.MAX_STREAMS_UNI: {
        const dir = type === WtCapsule.MAX_STREAMS_BIDI ? 'bidi' : 'uni';
        // §5.6.1: above 2^60, or not increasing.
        if (v > MAX_STREAMS_LIMIT || v <= this.#peerMaxStreams[dir]) return this.#flowControlError('WT_MAX_STREAMS invalid or not increasing');
        this.#peerMaxStreams[dir] = v;
        this.listener?.onCredit();
        return;
      }
      case WtCapsule.STREAMS_BLOCKED_BIDI:
      case WtCapsule.STREAMS_BLOCKED_UNI:
        if (v > MAX_STREAMS_LIMIT) this.#flowControlError('WT_STREAMS_BLOCKED above 2^60');
        return;
      default:
        return; // WT_DATA_BLOCKED: informational
    }
  }

  #flowControlError(message: string): void {
    this.close(WtErrorCode.FLOW_CONTROL_ERROR, message);
  }

  /** @internal the CONNECT stream was reset or failed. */
  onConnectReset(h3Code: number, what: string): void {
    this.#readFin = true;
    this.#finSent = true;
    if (this.state !== 'closed') this.#abort({ kind: 'aborted', message: `${what} (code 0x${h3Code.toString(16)})`, h3Code }, undefined);
    this.conn.onSessionGone(this);
  }

  /** @internal the HTTP/3 connection closed. */
  onConnectionClosed(message: string): void {
    this.#readFin = true;
    this.#finSent = true;
    if (this.state !== 'closed') this.#abort({ kind: 'aborted', message }, undefined);
  }

  /** @internal GOAWAY (§4.5) */
  onGoaway(): void {
    this.#setDraining();
  }

  #setDraining(): void {
    if (this.draining || this.state === 'closed') return;
    this.draining = true;
    this.listener?.onDraining();
  }

  // ------------------------------------------------------------------ closing

  /**
   * Closes the session (§6): WT_CLOSE_SESSION with the code and reason (cut to 1,024 bytes at a
   * character boundary) and FIN on the CONNECT stream go out first, then every stream of the
   * session is reset with WT_SESSION_GONE. Idempotent, never throws.
   */
  close(code = 0, reason = ''): void {
    if (this.state === 'closed') return;
    if (this.state === 'pending') {
      if (this.conn.role === 'server') this.reject(400);
      else this.#abort({ kind: 'closed', code, reason, byPeer: false }, H3ErrorCode.REQUEST_CANCELLED);
      return;
    }
    if (!this.#finSent && !this.conn.h3.isClosed) {
      this.#finSent = true;
      this.conn.h3.sendData(this.id, encodeCapsule(WtCapsule.CLOSE_SESSION, encodeCloseSession(code, reason)), true);
      // The capsule leaves in its own packet before any reset of the session's streams.
      this.conn.flush();
    }
    this.#closed({ kind: 'closed', code: code >>> 0, reason, byPeer: false });
    if (this.#readFin) this.conn.onSessionGone(this);
  }

  /** Sends WT_DRAIN_SESSION (§4.6). Idempotent. */
  drain(): void {
    if (this.state !== 'open' || this.#finSent || this.#drainSent) return;
    this.#drainSent = true;
    this.conn.h3.sendData(this.id, encodeCapsule(WtCapsule.DRAIN_SESSION, new Uint8Array(0)), false);
  }
  #drainSent = false;

  /** Session end: streams abandoned with WT_SESSION_GONE, then the listener told. */
  #closed(info: WtCloseInfo): void {
    if (this.state === 'closed' && this.closeInfo) return;
    this.state = 'closed';
    this.closeInfo = info;
    this.#endConnect();
    for (const s of [...this.streams]) s.abandon(WtErrorCode.SESSION_GONE);
    this.streams.clear();
    this.conn.onSessionClosed(this);
    this.listener?.onClosed(info);
  }

  /** Ends our side of the CONNECT stream (§6: the recipient of a close answers with FIN). */
  #endConnect(): void {
    if (this.#finSent) return;
    this.#finSent = true;
    this.conn.h3.end(this.id);
  }

  #abort(info: WtCloseInfo, resetCode: number | undefined): void {
    if (resetCode !== undefined && !this.#finSent) {
      this.#finSent = true;
      this.#readFin = true;
      this.conn.h3.cancel(this.id, resetCode);
    }
    this.#finSent = true;
    this.#closed(info);
    if (this.#readFin) this.conn.onSessionGone(this);
  }

  /** True once both directions of the CONNECT stream are done (the session can be forgotten). */
  get connectDone(): boolean {
    return this.#readFin && this.#finSent;
  }

  // ------------------------------------------------------------------ streams

  /**
   * Opens a stream in this session (header: §4.2 / §4.3); undefined while QUIC's or the
   * session's stream limit forbids it (onCredit follows) or the session is not open.
   */
  openStream(bidi: boolean): WtStreamCore | undefined {
    if (this.state !== 'open') return undefined;
    const dir = bidi ? 'bidi' : 'uni';
    if (this.#opened[dir] >= this.#peerMaxStreams[dir]) {
      // §5.6.2: tell the peer we are blocked.
      this.conn.h3.sendData(this.id, encodeVarintCapsule(bidi ? WtCapsule.STREAMS_BLOCKED_BIDI : WtCapsule.STREAMS_BLOCKED_UNI, this.#peerMaxStreams[dir]), false);
      return undefined;
    }
    const header = streamHeader(bidi, this.id);
    const id = this.conn.h3.openExtensionStream(bidi, header);
    if (id === undefined) return undefined;
    this.#opened[dir]++;
    const s = new WtStreamCore(this.conn, id, bidi, true, this.id, { headerLength: header.length });
    this.conn.registerStream(s);
    s.session = this;
    this.streams.add(s);
    return s;
  }

  /** @internal an incoming stream joins the open session; false when it broke the stream limit. */
  adoptIncoming(s: WtStreamCore): boolean {
    const dir = s.bidi ? 'bidi' : 'uni';
    this.#peerOpened[dir]++;
    if (this.#peerOpened[dir] > this.#localMaxStreams[dir]) {
      // §5.6.1: an incoming stream beyond the advertised limit.
      this.#flowControlError(`peer opened more ${dir} streams than allowed`);
      return false;
    }
    s.session = this;
    this.streams.add(s);
    s.onAdopted();
    if (this.state !== 'open') return false;
    this.listener?.onStream(s);
    return true;
  }

  /** @internal a stream of this session was freed. */
  onStreamFreed(s: WtStreamCore): void {
    this.streams.delete(s);
    if (s.local || !this.flowControl || this.state !== 'open') return;
    const dir = s.bidi ? 'bidi' : 'uni';
    this.#peerClosed[dir]++;
    // §5.6: raise the limit as streams close, in batches of half the window.
    const window = this.conn.limits[dir === 'bidi' ? 'maxStreamsBidi' : 'maxStreamsUni'];
    if (this.#localMaxStreams[dir] - this.#peerClosed[dir] <= window / 2) {
      this.#localMaxStreams[dir] = this.#peerClosed[dir] + window;
      this.conn.h3.sendData(this.id, encodeVarintCapsule(dir === 'bidi' ? WtCapsule.MAX_STREAMS_BIDI : WtCapsule.MAX_STREAMS_UNI, this.#localMaxStreams[dir]), false);
    }
  }

  /** @internal stream body bytes arrived: more than WT_MAX_DATA allows is a session error (§5.4). */
  onDataReceived(n: number): void {
    this.#dataReceived += n;
    if (this.flowControl && this.state === 'open' && this.#dataReceived > this.#localMaxData) this.#flowControlError('session data limit exceeded');
  }

  /** @internal stream body bytes read by the application: WT_MAX_DATA is raised in steps of half the window. */
  onDataConsumed(n: number): void {
    this.#dataRead += n;
    if (!this.flowControl || this.state !== 'open') return;
    const window = this.conn.limits.maxData;
    if (this.#localMaxData - this.#dataRead <= window / 2) {
      this.#localMaxData = this.#dataRead + window;
      this.conn.h3.sendData(this.id, encodeVarintCapsule(WtCapsule.MAX_DATA, this.#localMaxData), false);
    }
  }

  /** @internal how many of `n` bytes the session's send credit allows now (taken). */
  takeSendCredit(n: number): number {
    if (!this.flowControl) {
      this.#dataSent += n;
      return n;
    }
    const room = Math.max(0, this.#peerMaxData - this.#dataSent);
    const take = Math.min(n, room);
    this.#dataSent += take;
    if (take < n && this.#dataBlockedSentAt !== this.#peerMaxData && this.state === 'open') {
      this.#dataBlockedSentAt = this.#peerMaxData;
      this.conn.h3.sendData(this.id, encodeVarintCapsule(WtCapsule.DATA_BLOCKED, this.#peerMaxData), false);
    }
    return take;
  }

  /** @internal credit taken but not used (QUIC's buffer was full). */
  returnSendCredit(n: number): void {
    this.#dataSent -= n;
  }

  // ------------------------------------------------------------------ datagrams

  /** The largest datagram payload now (§4.7, RFC 9297 §2.1: QUIC's limit less the quarter stream id). */
  get maxDatagramSize(): number {
    return this.conn.h3.maxDatagramPayload(this.id);
  }

  /** Sends an HTTP Datagram; false when it cannot go (closed, too large, not negotiated): counted. */
  sendDatagram(payload: Uint8Array): boolean {
    if (this.state !== 'open' || this.#finSent) {
      this.datagramsDroppedOutgoing++;
      return false;
    }
    const ok = this.conn.h3.sendDatagram(this.id, payload);
    if (ok) this.datagramsSent++;
    else this.datagramsDroppedOutgoing++;
    return ok;
  }

  /** @internal */
  onDatagram(payload: Uint8Array): void {
    if (this.state !== 'open') return;
    this.datagramsReceived++;
    this.listener?.onDatagram(payload);
  }

  get stats(): { bytesSent: number; bytesReceived: number; datagramsSent: number; datagramsReceived: number; datagramsDroppedOutgoing: number; streams: number } {
    return {
      bytesSent: this.#dataSent,
      bytesReceived: this.#dataReceived,
      datagramsSent: this.datagramsSent,
      datagramsReceived: this.datagramsReceived,
      datagramsDroppedOutgoing: this.datagramsDroppedOutgoing,
      streams: this.streams.size,
    };
  }
}

/** The client's subprotocol offer: WT-Available-Protocols (§3.3), or the older names. */
function offeredProtocols(fields: readonly HeaderField[]): string[] {
  for (const f of fields) {
    if (f.name === 'wt-available-protocols') return parseSfStringList(f.value) ?? [];
  }
  for (const f of fields) {
    // draft-02 era deployments (and the W3C API before WT-Available-Protocols) used this name
    // with a plain comma-separated list.
    if (f.name === 'sec-webtransport-protocol') return parseSfStringList(f.value) ?? f.value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }
  return [];
}


