/**
 * Reading an HTTP/3 request stream (RFC 9114 §4.1, §7): the frames up to the header section
 * eagerly (bounded by SETTINGS_MAX_FIELD_SECTION_SIZE), then DATA only as the application reads
 * it, trailers, the end, and content-length. Malformed messages are stream errors
 * (H3_MESSAGE_ERROR, §4.1.2); frames where they may not be are connection errors (§7.2, §8).
 */

import type { SansIoConnection } from '@purequic/quic/sans-io';
import type { H3Event } from './connection.js';
import { H3ConnectionError, H3ErrorCode, H3StreamError } from './errors.js';
import { type HeaderField, validateRequest, validateResponse, validateTrailers } from './fields.js';
import { FrameType, isReservedHttp2FrameType, tryReadFrameHeader } from './frames.js';
import type { H3Qlog } from './qlog.js';
import { FieldSectionTooLargeError, type QpackDecoder } from './qpack/index.js';
import { InPhase, type RequestStream } from './request-stream.js';

/** What the reader needs of its connection. */
export interface ReaderHost {
  readonly quic: SansIoConnection;
  readonly role: 'client' | 'server';
  readonly decoder: QpackDecoder;
  readonly qlog: H3Qlog;
  readonly maxFieldSectionSize: number;
  /** We sent SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3). */
  readonly extendedConnect: boolean;
  /** Bidirectional signal values an extension claims (WebTransport's 0x41). */
  readonly extensionBidi: ReadonlySet<number>;
  /** The GOAWAY id we sent (server), if any. */
  readonly goawayId: number | undefined;
  emit(event: H3Event): void;
  flushQpack(): void;
  applyPriority(streamId: number, value: string): void;
  /** The stream starts with an extension's signal: it is the extension's from now on. */
  claimBidiExtension(s: RequestStream, signal: number, sessionId: number): void;
  /** The stream's receive side is done (it may be released). */
  finished(s: RequestStream): void;
}

export class RequestReader {
  constructor(private readonly host: ReaderHost) {}

  /** Pulls from QUIC into `pending` when it is empty; false when nothing more is there now. */
  fill(s: RequestStream, max?: number): boolean {
    if (s.finRead) return false;
    const r = this.host.quic.readStream(s.id, max);
    if (!r) return false;
    s.feed(r.data, r.fin);
    return r.data.length > 0 || r.fin;
  }

  /**
   * Reads the header phase eagerly (bounded by the field-section limit): frames up to and
   * including the final HEADERS; unknown frames skipped (RFC 9114 §9).
   */
  readHeaders(s: RequestStream): void {
    // Bounded: each turn consumes pending bytes or reads new ones; QUIC holds at most our window.
    for (let turns = 0; s.phase === InPhase.Headers && !s.blocked && turns < 100_000; turns++) {
      if (!this.#parseOne(s, true)) {
        // A stream handed to an extension (WT_STREAM signal) is read by the extension from now
        // on: reading more here would lose those bytes.
        if ((s.phase as InPhase) !== InPhase.Headers || !this.fill(s)) break;
      }
    }
  }

  /**
   * Parses one step of the incoming frames: returns false when `pending` has too little. Used by
   * both the header phase and body reads (with `headerPhase` false, DATA payload is left for the
   * caller: it returns true with `dataRemaining` set).
   */
  #parseOne(s: RequestStream, headerPhase: boolean): boolean {
    if (s.skipRemaining > 0) {
      if (s.pending.length === 0) return false;
      const n = Math.min(s.skipRemaining, s.pending.length);
      s.skipRemaining -= n;
      s.consume(n);
      return true;
    }
    if (s.headerBuf) {
      if (s.pending.length === 0) return false;
      const n = Math.min(s.headerBuf.length - s.headerFilled, s.pending.length);
      s.headerBuf.set(s.pending.subarray(0, n), s.headerFilled);
      s.headerFilled += n;
      s.consume(n);
      if (s.headerFilled === s.headerBuf.length) {
        const section = s.headerBuf;
        s.headerBuf = undefined;
        this.#onHeaderSection(s, section);
      }
      return true;
    }
    if (s.pending.length === 0) {
      if (s.finRead) this.#onFin(s);
      return false;
    }
    const h = tryReadFrameHeader(s.pending, 0);
    if (!h) {
      if (s.finRead) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'stream ended inside a frame header');
      return false;
    }
    if (s.phase === InPhase.Headers && !s.request && !s.response && h.type === FrameType.WEBTRANSPORT_STREAM && this.host.extensionBidi.has(h.type)) {
      // draft-ietf-webtrans-http3 §4.3: a bidirectional WebTransport stream: signal, session id.
      s.consume(h.headerLength);
      this.host.claimBidiExtension(s, h.type, h.length);
      return false;
    }
    s.consume(h.headerLength);
    switch (h.type) {
      case FrameType.HEADERS:
        if (s.phase === InPhase.AfterTrailers) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'HEADERS after trailers');
        if (h.length > this.host.maxFieldSectionSize) {
          // The encoded section alone exceeds the limit; the decoded one would too (RFC 9114 §4.2.2).
          throw new H3StreamError(H3ErrorCode.EXCESSIVE_LOAD, `header section of ${h.length} bytes exceeds ${this.host.maxFieldSectionSize}`);
        }
        s.headerBuf = new Uint8Array(h.length);
        s.headerFilled = 0;
        if (h.length === 0) {
          s.headerBuf = undefined;
          this.#onHeaderSection(s, new Uint8Array(0));
        }
        return true;
      case FrameType.DATA:
        if (s.phase === InPhase.Headers) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'DATA before HEADERS');
        if (s.phase === InPhase.AfterTrailers) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'DATA after trailers');
        s.dataRemaining = h.length;
        if (this.host.qlog.on) this.host.qlog.frame(false, s.id, { frame_type: 'data', raw: { payload_length: h.length } });
        this.#countBody(s, h.length);
        return !headerPhase;
      case FrameType.CANCEL_PUSH:
      case FrameType.SETTINGS:
      case FrameType.GOAWAY:
      case FrameType.MAX_PUSH_ID:
        throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, `frame 0x${h.type.toString(16)} on a request stream`);
      case FrameType.PUSH_PROMISE:
        // We never send MAX_PUSH_ID, so no push id is valid (RFC 9114 §7.2.5); from a client it is unexpected.
        if (this.host.role === 'server') throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, 'PUSH_PROMISE from a client');
        throw new H3ConnectionError(H3ErrorCode.ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
      default:
        if (isReservedHttp2FrameType(h.type)) throw new H3ConnectionError(H3ErrorCode.FRAME_UNEXPECTED, `HTTP/2 frame type 0x${h.type.toString(16)}`);
        s.skipRemaining = h.length; // RFC 9114 §9: unknown frame types are ignored
        return true;
    }
  }

  /** RFC 9114 §4.1.2: DATA beyond content-length is malformed as soon as it is seen. */
  #countBody(s: RequestStream, n: number): void {
    s.bodyReceived += n;
    if (s.contentLength !== undefined && s.bodyReceived > s.contentLength) {
      throw new H3StreamError(H3ErrorCode.MESSAGE_ERROR, `body exceeds content-length ${s.contentLength}`);
    }
  }

  #onFin(s: RequestStream): void {
    if (s.phase === InPhase.Done) return;
    if (s.dataRemaining > 0 || s.headerBuf || s.skipRemaining > 0) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'stream ended inside a frame');
    if (s.phase === InPhase.Headers) {
      // RFC 9114 §4.1.2: a request stream that ends before a complete header section.
      throw new H3StreamError(this.host.role === 'server' ? H3ErrorCode.REQUEST_INCOMPLETE : H3ErrorCode.MESSAGE_ERROR, 'stream ended before its header section');
    }
    if (s.contentLength !== undefined && s.bodyReceived !== s.contentLength) {
      throw new H3StreamError(H3ErrorCode.MESSAGE_ERROR, `body of ${s.bodyReceived} bytes, content-length ${s.contentLength}`);
    }
    s.phase = InPhase.Done;
    this.host.finished(s);
  }

  #decode(s: RequestStream, section: Uint8Array): HeaderField[] | 'blocked' {
    try {
      return this.host.decoder.decode(s.id, section);
    } catch (e) {
      if (e instanceof FieldSectionTooLargeError) {
        throw new H3StreamError(H3ErrorCode.EXCESSIVE_LOAD, `header section exceeds ${this.host.maxFieldSectionSize} bytes`);
      }
      throw e;
    } finally {
      this.host.flushQpack();
    }
  }

  #onHeaderSection(s: RequestStream, section: Uint8Array): void {
    const fields = this.#decode(s, section);
    if (fields === 'blocked') {
      s.blocked = true;
      return;
    }
    this.onDecodedSection(s, fields);
  }

  onDecodedSection(s: RequestStream, fields: HeaderField[]): void {
    if (this.host.qlog.on) this.host.qlog.frame(false, s.id, { frame_type: 'headers', headers: fields.map((f) => ({ name: f.name, value: f.value })) });
    if (s.phase !== InPhase.Headers) {
      // Trailers (RFC 9114 §4.1): a second HEADERS after the body.
      const trailers = validateTrailers(fields);
      s.phase = InPhase.AfterTrailers;
      this.host.emit({ type: 'trailers', streamId: s.id, fields: trailers });
      this.host.emit({ type: 'body-readable', streamId: s.id });
      return;
    }
    if (this.host.role === 'server') {
      if (this.host.goawayId !== undefined && s.id >= this.host.goawayId) {
        // RFC 9114 §5.2: a request beyond our GOAWAY (kept open this far for extension streams).
        throw new H3StreamError(H3ErrorCode.REQUEST_REJECTED, 'request after GOAWAY');
      }
      const head = validateRequest(fields, this.host.extendedConnect);
      s.request = head;
      s.contentLength = head.method === 'CONNECT' ? undefined : head.contentLength;
      s.headersDeadline = undefined;
      s.phase = InPhase.Body;
      const priority = fields.find((f) => f.name === 'priority');
      if (priority) this.host.applyPriority(s.id, priority.value);
      this.host.emit({ type: 'request', streamId: s.id, head });
    } else {
      const head = validateResponse(fields);
      if (head.status < 200) {
        // RFC 9114 §4.1: interim responses come before the final one; 101 is not allowed (§4.5).
        if (head.status === 101) throw new H3StreamError(H3ErrorCode.MESSAGE_ERROR, '101 Switching Protocols in HTTP/3');
        this.host.emit({ type: 'informational', streamId: s.id, head });
        return;
      }
      s.response = head;
      s.contentLength = head.contentLength;
      s.phase = InPhase.Body;
      this.host.emit({ type: 'response', streamId: s.id, head });
    }
    // QUIC signals readability once until a read drains it; the header phase may have stopped
    // early, so the application is told to try now.
    this.host.emit({ type: 'body-readable', streamId: s.id });
  }

  readBodyStep(s: RequestStream, maxBytes: number): { data: Uint8Array; fin: boolean } | undefined {
    // Bounded: each turn consumes bytes or reads from QUIC; the loop ends when neither happens.
    for (let turns = 0; turns < 100_000; turns++) {
      if (s.phase === InPhase.Done) return { data: new Uint8Array(0), fin: true };
      if (s.blocked) return undefined;
      if (s.dataRemaining > 0) {
        if (s.pending.length === 0 && !this.fill(s, Math.min(s.dataRemaining, maxBytes))) {
          return undefined;
        }
        if (s.pending.length === 0) {
          if (s.finRead) throw new H3ConnectionError(H3ErrorCode.FRAME_ERROR, 'stream ended inside a DATA frame');
          continue;
        }
        const n = Math.min(s.dataRemaining, s.pending.length, maxBytes);
        const data = s.pending.subarray(0, n);
        s.consume(n);
        s.dataRemaining -= n;
        // Look ahead so the end of the stream comes with the last bytes when it is already known.
        let fin = false;
        if (s.dataRemaining === 0 && s.pending.length === 0 && s.finRead) {
          this.#onFin(s);
          fin = true;
        }
        return { data, fin };
      }
      if (!this.#parseOne(s, false)) {
        if ((s.phase as InPhase) === InPhase.Done) return { data: new Uint8Array(0), fin: true };
        if (!this.fill(s)) return undefined;
      }
    }
    return undefined;
  }
}
