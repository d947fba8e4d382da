/**
 * One WebTransport data stream (draft-ietf-webtrans-http3 §4.2, §4.3) over a QUIC stream the
 * HTTP/3 layer handed to us: reads and writes with the session's flow control, resets and
 * STOP_SENDING with mapped error codes (§4.4), and the bookkeeping that frees it when both
 * directions are done. Sans-IO: it calls the sans-IO HTTP/3 and QUIC cores only.
 */

import type { WtSessionCore } from './session-core.js';
import type { WtConnection } from './connection-core.js';

/** What the layer above learns about a stream (the Node streams implement it). */
export interface WtStreamListener {
  onReadable(): void;
  onWritable(): void;
  /** The peer reset its sending side with this HTTP/3 code. */
  onReset(h3Code: number): void;
  /** The peer asked us to stop sending; our side was reset with the same code. */
  onStopSending(h3Code: number): void;
  /** The session ended: the stream was reset/stopped with WT_SESSION_GONE. */
  onSessionGone(): void;
}

export class WtStreamCore {
  /** Set once the stream is bound to an open session (incoming streams may wait in a buffer). */
  session: WtSessionCore | undefined;
  listener: WtStreamListener | undefined;
  /** Bytes of the stream header we wrote (the reliable size of a reset, §4.4); 0 for incoming streams. */
  readonly headerLength: number;
  /** Bytes taken from QUIC and not read yet: the hand-over's data, and arrivals under flow control. */
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** The stream's end is in `#queue` (no more bytes come from QUIC). */
  #initialFin: boolean;
  readDone: boolean;
  writeDone: boolean;
  /** Stream body bytes the application read, and those that arrived (session flow control counts them, §5.4). */
  bytesRead = 0;
  bytesReceived = 0;
  bytesWritten = 0;
  #freed = false;

  constructor(
    readonly conn: WtConnection,
    readonly id: number,
    readonly bidi: boolean,
    /** We opened it. */
    readonly local: boolean,
    readonly sessionId: number,
    options: { headerLength?: number; data?: Uint8Array; fin?: boolean } = {},
  ) {
    this.headerLength = options.headerLength ?? 0;
    if (options.data && options.data.length > 0) {
      this.#queue.push(options.data);
      this.#queued = options.data.length;
    }
    this.#initialFin = options.fin ?? false;
    // A unidirectional stream has one direction only.
    this.readDone = !bidi && local;
    this.writeDone = !bidi && !local;
  }

  get canRead(): boolean {
    return !this.readDone;
  }

  get canWrite(): boolean {
    return !this.writeDone;
  }

  /**
   * Reads stream body bytes; undefined when nothing is there now (onReadable follows). With
   * session flow control the bytes were already taken from QUIC on arrival (`onQuicReadable`)
   * and counted against WT_MAX_DATA (§5.4); reading them here is what earns the peer new credit.
   */
  read(maxBytes = 256 * 1024): { data: Uint8Array; fin: boolean } | undefined {
    if (this.readDone) return undefined;
    // Under flow control, everything QUIC holds counts as arrived before any of it is read.
    this.#drainQuic();
    if (this.readDone) return undefined;
    let r: { data: Uint8Array; fin: boolean } | undefined;
    if (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const data = head.subarray(0, maxBytes);
      if (data.length < head.length) this.#queue[0] = head.subarray(data.length);
      else this.#queue.shift();
      this.#queued -= data.length;
      r = { data, fin: this.#queue.length === 0 && this.#initialFin };
    } else if (this.#initialFin) {
      r = { data: new Uint8Array(0), fin: true };
    } else {
      const q = this.#takeFromQuic(maxBytes);
      if (!q) return undefined;
      r = q;
    }
    this.bytesRead += r.data.length;
    if (r.data.length > 0) this.session?.onDataConsumed(r.data.length);
    if (r.fin) {
      this.readDone = true;
      this.#maybeFree();
    }
    return r;
  }

  /** Reads QUIC directly, counting the bytes as received by the session. */
  #takeFromQuic(maxBytes: number): { data: Uint8Array; fin: boolean } | undefined {
    const q = this.conn.h3.quic.readStream(this.id, maxBytes);
    if (!q) return undefined;
    this.bytesReceived += q.data.length;
    if (q.data.length > 0) this.session?.onDataReceived(q.data.length);
    return { data: q.data, fin: q.fin };
  }

  /**
   * @internal QUIC has bytes for this stream. Under session flow control they are taken at once
   * (bounded by WT_MAX_DATA, which is checked on arrival: §5.4); otherwise they stay in QUIC
   * until read, so QUIC's stream window keeps pushing back.
   */
  onQuicReadable(): void {
    this.#drainQuic();
    this.listener?.onReadable();
  }

  #drainQuic(): void {
    if (this.session?.flowControl && !this.readDone) {
      // Bounded: QUIC holds at most the stream's window; each turn takes bytes or stops.
      for (let turns = 0; turns < 100_000 && !this.#initialFin; turns++) {
        const q = this.#takeFromQuic(256 * 1024);
        if (!q) break;
        if (q.data.length > 0) {
          this.#queue.push(q.data);
          this.#queued += q.data.length;
        }
        if (q.fin) this.#initialFin = true;
        if (this.readDone || this.session?.state !== 'open') break;
      }
    }
  }

  /** @internal the stream joined an open session: bytes that came with the hand-over count now. */
  onAdopted(): void {
    if (this.#queued > 0) {
      this.bytesReceived += this.#queued;
      this.session?.onDataReceived(this.#queued);
    }
    this.#drainQuic();
  }

  /**
   * Writes bytes (and FIN when all of them are taken); returns how many were taken: fewer when
   * QUIC's buffer or the session's WT_MAX_DATA credit (§5.4) is short (onWritable follows).
   */
  write(data: Uint8Array, fin: boolean): number {
    if (this.writeDone) return 0;
    let allowed = data.length;
    if (this.session) allowed = this.session.takeSendCredit(data.length);
    const chunk = allowed < data.length ? data.subarray(0, allowed) : data;
    const n = chunk.length === 0 && !(fin && data.length === 0) ? 0 : this.conn.h3.quic.writeStream(this.id, chunk, fin && allowed === data.length);
    if (this.session && n < allowed) this.session.returnSendCredit(allowed - n);
    this.bytesWritten += n;
    if (fin && n === data.length) {
      this.writeDone = true;
      this.#maybeFree();
    }
    return n;
  }

  /**
   * Resets our sending side with an HTTP/3 code: RESET_STREAM_AT keeping the stream header
   * reliable when we wrote one and the peer supports it (§4.4), RESET_STREAM otherwise. Idempotent.
   */
  reset(h3Code: number, reliableBodyBytes = 0): void {
    if (this.writeDone) return;
    this.writeDone = true;
    const reliable = this.headerLength + Math.max(0, Math.min(reliableBodyBytes, this.bytesWritten));
    this.conn.h3.quic.resetStream(this.id, h3Code, reliable > 0 ? reliable : undefined);
    this.#maybeFree();
  }

  /** STOP_SENDING with an HTTP/3 code; what arrives later is discarded. Idempotent. */
  stopSending(h3Code: number): void {
    if (this.readDone) return;
    this.readDone = true;
    this.#dropQueue();
    this.conn.h3.quic.stopSending(this.id, h3Code);
    this.#maybeFree();
  }

  /** @internal the peer reset its side (final size counts against session credit, §5.4). */
  onPeerReset(h3Code: number, finalSize: number): void {
    if (this.readDone) return;
    this.readDone = true;
    this.#dropQueue();
    // §5.4: the final size is what the session's credit counts; unread bytes count as read.
    if (finalSize > this.bytesReceived) this.session?.onDataReceived(finalSize - this.bytesReceived);
    if (finalSize > this.bytesRead) this.session?.onDataConsumed(finalSize - this.bytesRead);
    this.bytesReceived = Math.max(this.bytesReceived, finalSize);
    this.bytesRead = Math.max(this.bytesRead, finalSize);
    this.listener?.onReset(h3Code);
    this.#maybeFree();
  }

  /** @internal RFC 9000 §3.5: STOP_SENDING is answered with a reset carrying the same code. */
  onPeerStopSending(h3Code: number): void {
    if (this.writeDone) return;
    this.reset(h3Code);
    this.listener?.onStopSending(h3Code);
  }

  /** @internal the session ended (§6): both directions abandoned with WT_SESSION_GONE. */
  abandon(code: number): void {
    const wasOpen = !this.readDone || !this.writeDone;
    this.reset(code);
    this.stopSending(code);
    if (wasOpen) this.listener?.onSessionGone();
  }

  /** Bytes taken from QUIC and not read are forgotten; they count as consumed (credit flows). */
  #dropQueue(): void {
    if (this.#queued > 0) this.session?.onDataConsumed(this.#queued);
    this.bytesRead += this.#queued;
    this.#queue = [];
    this.#queued = 0;
  }

  get freed(): boolean {
    return this.#freed;
  }

  #maybeFree(): void {
    if (this.#freed || !this.readDone || !this.writeDone) return;
    this.#freed = true;
    this.conn.freeStream(this);
  }
}
