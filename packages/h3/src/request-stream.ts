/**
 * Per-stream state of an HTTP/3 request stream (RFC 9114 §4.1, §6.1): the incoming frame
 * parser (HEADERS, DATA, trailers, skipped unknown frames) and the outgoing queue of frames that
 * the QUIC stream has not taken yet.
 *
 * Incoming bytes are never copied except a HEADERS payload (bounded by the field-section limit)
 * and a frame header split across reads (at most 16 bytes).
 */

import type { RequestHead, ResponseHead } from './fields.js';
import { concatBytes } from './varint.js';

const EMPTY = new Uint8Array(0);

/** Where the incoming side of a request stream is. */
export enum InPhase {
  /** Waiting for the (final) header section: read eagerly, bounded by the field-section limit. */
  Headers,
  /** Between the header section and the end: DATA read when the application asks. */
  Body,
  /** Trailers received: only the end of the stream may follow. */
  AfterTrailers,
  /** Fin read, reset, or abandoned. */
  Done,
  /** Owned by an extension (a WebTransport stream): the extension reads the QUIC stream. */
  Extension,
}

export class RequestStream {
  phase: InPhase = InPhase.Headers;
  /** Bytes read from QUIC and not parsed yet (a view, not a copy). */
  pending: Uint8Array = EMPTY;
  /** The QUIC stream's fin has been read into `pending`. */
  finRead = false;
  /** Payload bytes left in the current DATA frame. */
  dataRemaining = 0;
  /** Payload bytes left to skip in an unknown frame. */
  skipRemaining = 0;
  /** A HEADERS payload being collected. */
  headerBuf: Uint8Array | undefined;
  headerFilled = 0;
  /** QPACK blocked this stream's header section (RFC 9204 §2.1.2). */
  blocked = false;
  /** Body bytes received and the content-length to check them against (RFC 9114 §4.1.2). */
  bodyReceived = 0;
  contentLength: number | undefined;
  request: RequestHead | undefined;
  response: ResponseHead | undefined;
  /** Server: a deadline for the request's header section (slow-loris bound). */
  headersDeadline: number | undefined;

  /** Frames queued for the QUIC stream, written as its send buffer makes room. */
  out: Uint8Array[] = [];
  outFin = false;
  /** Our side ended: fin written to QUIC, or reset. */
  sendDone = false;

  constructor(readonly id: number) {}

  /** Appends bytes read from QUIC after what is still pending. */
  feed(data: Uint8Array, fin: boolean): void {
    if (data.length > 0) this.pending = this.pending.length === 0 ? data : concatBytes([this.pending, data]);
    if (fin) this.finRead = true;
  }

  /** Drops `n` parsed bytes from the front of `pending`. */
  consume(n: number): void {
    this.pending = n >= this.pending.length ? EMPTY : this.pending.subarray(n);
  }
}
