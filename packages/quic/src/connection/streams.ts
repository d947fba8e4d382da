/**
 * All streams of one connection (RFC 9000 §2-§4): per-stream buffers and state machines,
 * stream and connection flow control, stream-count limits, the peer-opened stream queue and the
 * send scheduler. The connection hands it stream frames, asks it to write frames into packets,
 * and reports what those packets' recovery tokens became (acknowledged or lost).
 *
 * Streams the peer opens produce a 'stream-opened' event each, in order, whether or not the
 * application is accepting yet: they are never dropped, and their credit returns (MAX_STREAMS)
 * as they close. Every reset/stop/close path is idempotent and never throws.
 */

import type { ByteWriter } from '../codec/writer.js';
import { varintLength } from '../codec/varint.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frame/types.js';
import { writeStreamFrameHeader } from '../frame/stream.js';
import { putVarint } from '../frame/varint-field.js';
import { ReceiveWindow, SendCredit } from '../stream/flow-control.js';
import { RecvBuffer } from '../stream/recv-buffer.js';
import { RecvState, RecvStateMachine } from '../stream/recv-state.js';
import { StreamScheduler } from '../stream/scheduler.js';
import { SendBuffer } from '../stream/send-buffer.js';
import { SendState, SendStateMachine } from '../stream/send-state.js';
import { canReceiveOn, canSendOn, isBidirectional, isLocallyInitiated, streamIdOf, streamIndex, streamTypeFor } from '../stream/stream-id.js';
import { LocalStreamLimit, RemoteStreamLimit } from '../stream/stream-limits.js';
import type { TransportParameters } from '../transport-params.js';
import { type RecoveryToken, TokenKind, token } from './recovery-token.js';
import type { ConnectionEvent, StreamDirection, StreamRead, TransportSettings } from './types.js';

/** Least bytes a stream may hold written-but-unacknowledged before `writeStream` pushes back. */
export const MIN_SEND_BUFFER = 1 << 20;
const EMPTY = new Uint8Array(0);

class SendSide {
  readonly buffer = new SendBuffer();
  readonly state = new SendStateMachine();
  constructor(readonly credit: SendCredit) {}
}

class RecvSide {
  readonly buffer = new RecvBuffer();
  readonly state = new RecvStateMachine();
  constructor(readonly window: ReceiveWindow) {}
}

class StreamState {
  readableSignaled = false;
  wantsWritable = false;
  finishedSignaled = false;
  resetSignaled = false;
  stopSendingSignaled = false;
  finDelivered = false;
  /** Waiting for connection-level credit (MAX_DATA) to send new data. */
  connectionBlocked = false;
  constructor(
    readonly id: number,
    readonly local: boolean,
    readonly send: SendSide | undefined,
    readonly recv: RecvSide | undefined,
  ) {}
}

export interface StreamMapOptions {
  isServer: boolean;
  settings: TransportSettings;
  events: ConnectionEvent[];
}

export class StreamMap {
  readonly #isServer: boolean;
  readonly #settings: TransportSettings;
  readonly #events: ConnectionEvent[];
  readonly #streams = new Map<number, StreamState>();
  readonly #scheduler = new StreamScheduler();
  /** Our view of the peer's limits on us, and ours on the peer. */
  #localBidi = new LocalStreamLimit(0);
  #localUni = new LocalStreamLimit(0);
  readonly #remoteBidi: RemoteStreamLimit;
  readonly #remoteUni: RemoteStreamLimit;
  #connCredit = new SendCredit(0);
  readonly #connWindow: ReceiveWindow;
  #peer: TransportParameters | undefined;
  #peerSupportsResetAt = false;
  #wantsToOpen = { bidi: false, uni: false };
  readonly #pendingResets = new Set<number>();
  readonly #pendingStopSending = new Set<number>();
  readonly #pendingMaxStreamData = new Set<number>();
  readonly #pendingStreamBlocked = new Set<number>();
  readonly #connectionBlocked = new Set<number>();
  #closed = false;
  /**
   * After the peer's CONNECTION_CLOSE: streams whose received data the application had not read
   * yet, kept readable (receive side only) until read or until the connection terminates. The
   * data arrived before the close, often in the same datagram (a WebTransport close capsule
   * followed by CONNECTION_CLOSE), and the peer meant it to be seen. Bounded by the credit we gave.
   */
  readonly #readableAfterClose = new Map<number, StreamState>();
  /** Latest `now` and smoothed RTT the connection told us, for window auto-tuning on reads. */
  now = 0;
  smoothedRtt = 333;
  /**
   * Per-stream send buffer limit. The connection keeps it at about twice the congestion window:
   * a buffer smaller than what may be in flight would cap throughput at buffer/RTT.
   */
  sendBufferLimit = MIN_SEND_BUFFER;

  constructor(options: StreamMapOptions) {
    this.#isServer = options.isServer;
    this.#settings = options.settings;
    this.#events = options.events;
    this.#remoteBidi = new RemoteStreamLimit(options.settings.initialMaxStreamsBidi);
    this.#remoteUni = new RemoteStreamLimit(options.settings.initialMaxStreamsUni);
    this.#connWindow = new ReceiveWindow({ initialWindow: options.settings.initialMaxData, maxWindow: options.settings.maxConnectionWindow });
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Flow-control state for diagnostics: our connection window, and the peer's credit for us. */
  get flowControl(): { receiveLimit: number; receiveWindow: number; consumed: number; sendLimit: number; sendUsed: number } {
    return {
      receiveLimit: this.#connWindow.limit,
      receiveWindow: this.#connWindow.window,
      consumed: this.#connWindow.consumed,
      sendLimit: this.#connCredit.limit,
      sendUsed: this.#connCredit.used,
    };
  }

  /** The peer's transport parameters arrived: its limits on us (RFC 9000 §7.4, §18.2). */
  applyPeerParameters(peer: TransportParameters, resetStreamAt: boolean): void {
    this.#peer = peer;
    this.#peerSupportsResetAt = resetStreamAt;
    this.#connCredit.onMaxUpdate(peer.initialMaxData);
    if (this.#localBidi.onMaxStreams(peer.initialMaxStreamsBidi)) this.#events.push({ type: 'streams-available', direction: 'bidi' });
    if (this.#localUni.onMaxStreams(peer.initialMaxStreamsUni)) this.#events.push({ type: 'streams-available', direction: 'uni' });
  }

  // ------------------------------------------------------------------ application side

  openStream(direction: StreamDirection): number | undefined {
    if (this.#closed || !this.#peer) {
      this.#wantsToOpen[direction] = true;
      return undefined;
    }
    const limit = direction === 'bidi' ? this.#localBidi : this.#localUni;
    const index = limit.tryOpen();
    if (index === undefined) {
      this.#wantsToOpen[direction] = true;
      return undefined;
    }
    const id = streamIdOf(streamTypeFor(this.#isServer, direction === 'uni'), index);
    this.#create(id, true);
    return id;
  }

  writeStream(id: number, data: Uint8Array, fin: boolean): number {
    const s = this.#streams.get(id);
    const send = s?.send;
    if (!s || !send || send.buffer.isFinished || send.buffer.isReset || this.#closed) return 0;
    const room = Math.max(0, this.sendBufferLimit - send.buffer.bufferedBytes);
    const accepted = Math.min(data.length, room);
    if (accepted > 0) send.buffer.write(accepted === data.length ? data : data.subarray(0, accepted));
    if (accepted < data.length) s.wantsWritable = true;
    else if (fin) send.buffer.finish();
    if (send.buffer.hasPendingData()) this.#scheduler.schedule(id);
    return accepted;
  }

  readStream(id: number, maxBytes?: number): StreamRead | undefined {
    const s = this.#closed ? this.#readableAfterClose.get(id) : this.#streams.get(id);
    const recv = s?.recv;
    if (!s || !recv || s.finDelivered) return undefined;
    const data = recv.buffer.read(maxBytes ?? Number.POSITIVE_INFINITY);
    if (data) {
      recv.window.onConsumed(data.length, this.now, this.smoothedRtt);
      this.#connWindow.onConsumed(data.length, this.now, this.smoothedRtt);
      if (recv.window.updatePending && recv.state.wantsFlowControlUpdates) this.#pendingMaxStreamData.add(id);
    }
    if (!recv.buffer.hasReadable()) s.readableSignaled = false;
    let fin = false;
    if (recv.buffer.isAllRead()) {
      if (recv.state.reliableSize !== undefined && recv.state.resetErrorCode !== undefined) {
        // RESET_STREAM_AT: the reliable part is delivered; now the reset shows (draft §6).
        this.#signalReset(s, recv.state.resetErrorCode, recv.buffer.finalSize ?? recv.buffer.readOffset);
      } else {
        fin = true;
        s.finDelivered = true; // the end is reported once; later reads return undefined
        recv.state.onAllDataRead();
      }
      this.#maybeRemove(s);
    }
    // After the close only what had arrived can be read; once it is, the stream is forgotten.
    if (this.#closed && !recv.buffer.hasReadable()) this.#readableAfterClose.delete(id);
    if (!data && !fin) return undefined;
    return { data: data ?? EMPTY, fin };
  }

  resetStream(id: number, errorCode: number, reliableSize?: number): void {
    const send = this.#streams.get(id)?.send;
    if (!send || this.#closed) return;
    let size = 0;
    if (reliableSize !== undefined && reliableSize > 0 && this.#peerSupportsResetAt) size = send.buffer.resetAt(reliableSize);
    else send.buffer.reset();
    if (send.state.reset(errorCode, size)) this.#pendingResets.add(id);
    if (send.buffer.isAllAcked()) send.state.onAllDataAcked();
    this.#scheduler.unschedule(id);
    if (send.buffer.hasPendingData()) this.#scheduler.schedule(id); // reliable part still to send
  }

  stopSending(id: number, errorCode: number): void {
    const s = this.#streams.get(id);
    const recv = s?.recv;
    if (!s || !recv || this.#closed) return;
    if (recv.state.stopSending(errorCode)) {
      this.#pendingStopSending.add(id);
      recv.buffer.discard();
    }
  }

  setPriority(id: number, urgency: number, incremental: boolean): void {
    if (this.#streams.has(id)) this.#scheduler.setPriority(id, urgency, incremental);
  }

  // ------------------------------------------------------------------ frames received

  onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean): void {
    const s = this.#forReceive(id, FrameType.STREAM);
    const recv = s?.recv;
    if (!s || !recv) return;
    const before = recv.buffer.highestOffset;
    // FINAL_SIZE_ERROR on contradictions (§4.5). `owned`: the datagram was decrypted in place
    // into a buffer nobody writes again, so the stream keeps views of it instead of copying.
    recv.buffer.insert(offset, data, fin, true);
    this.#accountReceived(recv, before);
    if (fin) recv.state.onFinalSizeKnown();
    if (recv.buffer.isAllReceived()) recv.state.onAllDataReceived();
    this.#signalReadable(s);
  }

  onResetStream(id: number, errorCode: number, finalSize: number, reliableSize: number, frameType: number): void {
    const s = this.#forReceive(id, frameType);
    const recv = s?.recv;
    if (!s || !recv) return;
    const before = recv.buffer.highestOffset;
    recv.buffer.setFinalSize(finalSize); // FINAL_SIZE_ERROR (§4.5)
    this.#accountReceived(recv, before);
    const changed = recv.state.onReset(errorCode, reliableSize);
    if (!changed) return;
    if (reliableSize > 0 && recv.state.state !== RecvState.RESET_RECVD) {
      recv.buffer.limitDelivery(reliableSize);
      this.#signalReadable(s);
      if (recv.buffer.isAllRead()) this.readStream(id, 0);
      return;
    }
    this.#releaseUnread(recv);
    this.#signalReset(s, errorCode, finalSize);
    this.#maybeRemove(s);
  }

  onStopSending(id: number, errorCode: number): void {
    const s = this.#forSend(id, FrameType.STOP_SENDING);
    const send = s?.send;
    if (!s || !send) return;
    // RFC 9000 §3.5: answer with RESET_STREAM carrying the peer's code (a plain one, draft §7).
    if (send.state.onStopSending(errorCode)) {
      send.buffer.reset();
      this.#pendingResets.add(id);
      this.#scheduler.unschedule(id);
      if (send.buffer.isAllAcked()) send.state.onAllDataAcked();
    }
    // STOP_SENDING is retransmitted until acknowledged (§13.3): report it once.
    if (!s.stopSendingSignaled) {
      s.stopSendingSignaled = true;
      this.#events.push({ type: 'stream-stop-sending', streamId: id, errorCode });
    }
    this.#maybeRemove(s);
  }

  onMaxStreamData(id: number, maximum: number): void {
    const s = this.#forSend(id, FrameType.MAX_STREAM_DATA);
    const send = s?.send;
    if (!s || !send) return;
    if (send.credit.onMaxUpdate(maximum) && send.buffer.hasPendingData()) this.#scheduler.schedule(id);
  }

  onStreamDataBlocked(id: number): void {
    // Only its validity matters (§19.13); our windows update on consumption.
    this.#forReceive(id, FrameType.STREAM_DATA_BLOCKED);
  }

  onMaxData(maximum: number): void {
    if (!this.#connCredit.onMaxUpdate(maximum)) return;
    for (const id of this.#connectionBlocked) {
      const s = this.#streams.get(id);
      if (s) s.connectionBlocked = false;
      if (s?.send?.buffer.hasPendingData()) this.#scheduler.schedule(id);
    }
    this.#connectionBlocked.clear();
  }

  onMaxStreams(bidirectional: boolean, maximum: number): void {
    const limit = bidirectional ? this.#localBidi : this.#localUni;
    if (limit.onMaxStreams(maximum)) this.#events.push({ type: 'streams-available', direction: bidirectional ? 'bidi' : 'uni' });
  }

  // ------------------------------------------------------------------ frames to send

  /** True when control frames or stream data wait (ignoring congestion control). */
  hasPendingFrames(): boolean {
    return this.#hasControlFrames() || this.#scheduler.size > 0;
  }

  #hasControlFrames(): boolean {
    return (
      this.#pendingResets.size > 0 ||
      this.#pendingStopSending.size > 0 ||
      this.#pendingMaxStreamData.size > 0 ||
      this.#pendingStreamBlocked.size > 0 ||
      this.#connWindow.updatePending ||
      this.#remoteBidi.updatePending ||
      this.#remoteUni.updatePending ||
      this.#connCredit.shouldSendBlocked(this.#connectionBlocked.size > 0) ||
      this.#localBidi.shouldSendBlocked(this.#wantsToOpen.bidi) ||
      this.#localUni.shouldSendBlocked(this.#wantsToOpen.uni)
    );
  }

  /** Writes flow-control and stream-state frames that fit before `limit`; records their tokens. */
  writeControlFrames(w: ByteWriter, limit: number, tokens: RecoveryToken[]): void {
    // The common case (nothing pending) without touching the Sets: a for-of over an empty Set
    // still allocates an iterator, four per packet here.
    if (!this.#hasControlFrames()) return;
    // Each frame below is at most 1 + 3 varints + 8 bytes: ensure that much room per frame.
    const FRAME_MAX = 1 + 8 * 4;
    for (const id of this.#pendingResets) {
      if (limit - w.offset < FRAME_MAX) return;
      this.#pendingResets.delete(id);
      const send = this.#streams.get(id)?.send;
      if (!send || !send.state.resetFramePending) continue;
      const reliable = send.state.reliableSize ?? 0;
      const finalSize = send.buffer.finalSizeForReset;
      const code = send.state.resetErrorCode ?? 0;
      if (reliable > 0) {
        putVarint(w, FrameType.RESET_STREAM_AT);
        putVarint(w, id);
        putVarint(w, code);
        putVarint(w, finalSize);
        putVarint(w, reliable);
      } else {
        w.u8(FrameType.RESET_STREAM);
        putVarint(w, id);
        putVarint(w, code);
        putVarint(w, finalSize);
      }
      send.state.onResetFrameSent();
      tokens.push(token(TokenKind.RESET_STREAM, id, reliable));
    }
    for (const id of this.#pendingStopSending) {
      if (limit - w.offset < FRAME_MAX) return;
      this.#pendingStopSending.delete(id);
      const recv = this.#streams.get(id)?.recv;
      if (!recv || !recv.state.stopSendingPending) continue;
      w.u8(FrameType.STOP_SENDING);
      putVarint(w, id);
      putVarint(w, recv.state.stopSendingErrorCode ?? 0);
      recv.state.onStopSendingSent();
      tokens.push(token(TokenKind.STOP_SENDING, id));
    }
    if (this.#connWindow.updatePending && limit - w.offset >= FRAME_MAX) {
      const max = this.#connWindow.takeUpdate();
      w.u8(FrameType.MAX_DATA);
      putVarint(w, max);
      tokens.push(token(TokenKind.MAX_DATA, 0, max));
    }
    for (const id of this.#pendingMaxStreamData) {
      if (limit - w.offset < FRAME_MAX) return;
      this.#pendingMaxStreamData.delete(id);
      const recv = this.#streams.get(id)?.recv;
      if (!recv || !recv.window.updatePending || !recv.state.wantsFlowControlUpdates) continue;
      const max = recv.window.takeUpdate();
      w.u8(FrameType.MAX_STREAM_DATA);
      putVarint(w, id);
      putVarint(w, max);
      tokens.push(token(TokenKind.MAX_STREAM_DATA, id, max));
    }
    if (limit - w.offset >= FRAME_MAX) this.#writeMaxStreams(w, this.#remoteBidi, true, tokens);
    if (limit - w.offset >= FRAME_MAX) this.#writeMaxStreams(w, this.#remoteUni, false, tokens);
    if (this.#connCredit.shouldSendBlocked(this.#connectionBlocked.size > 0) && limit - w.offset >= FRAME_MAX) {
      w.u8(FrameType.DATA_BLOCKED);
      putVarint(w, this.#connCredit.limit);
      this.#connCredit.onBlockedSent();
      tokens.push(token(TokenKind.DATA_BLOCKED, 0, this.#connCredit.limit));
    }
    for (const id of this.#pendingStreamBlocked) {
      if (limit - w.offset < FRAME_MAX) return;
      this.#pendingStreamBlocked.delete(id);
      const send = this.#streams.get(id)?.send;
      if (!send || !send.credit.shouldSendBlocked(send.buffer.unsentBytes > 0)) continue;
      w.u8(FrameType.STREAM_DATA_BLOCKED);
      putVarint(w, id);
      putVarint(w, send.credit.limit);
      send.credit.onBlockedSent();
      tokens.push(token(TokenKind.STREAM_DATA_BLOCKED, id, send.credit.limit));
    }
    if (limit - w.offset >= FRAME_MAX) this.#writeStreamsBlocked(w, this.#localBidi, true, tokens);
    if (limit - w.offset >= FRAME_MAX) this.#writeStreamsBlocked(w, this.#localUni, false, tokens);
  }

  /** MAX_STREAMS (§19.11) when credit for the peer's streams of one type is due. */
  #writeMaxStreams(w: ByteWriter, limitState: RemoteStreamLimit, bidi: boolean, tokens: RecoveryToken[]): void {
    if (!limitState.updatePending) return;
    const max = limitState.takeUpdate();
    w.u8(bidi ? 0x12 : 0x13);
    putVarint(w, max);
    tokens.push(token(TokenKind.MAX_STREAMS, 0, max, 0, bidi));
  }

  /** STREAMS_BLOCKED (§19.14) once per limit when the application waits to open a stream. */
  #writeStreamsBlocked(w: ByteWriter, limitState: LocalStreamLimit, bidi: boolean, tokens: RecoveryToken[]): void {
    if (!limitState.shouldSendBlocked(this.#wantsToOpen[bidi ? 'bidi' : 'uni'])) return;
    w.u8(bidi ? 0x16 : 0x17);
    putVarint(w, limitState.max);
    limitState.onBlockedSent();
    tokens.push(token(TokenKind.STREAMS_BLOCKED, 0, limitState.max, 0, bidi));
  }

  /**
   * Writes STREAM frames chosen by the scheduler until `limit`, within flow control.
   * Returns true if anything was written.
   */
  writeStreamFrames(w: ByteWriter, limit: number, tokens: RecoveryToken[]): boolean {
    let wrote = false;
    // Bounded: every round writes a frame or removes a stream from the schedule.
    for (let rounds = 0; rounds < 1024; rounds++) {
      const id = this.#scheduler.peek();
      if (id === undefined) break;
      const s = this.#streams.get(id);
      const send = s?.send;
      if (!s || !send || !send.state.mayCarryData) {
        this.#scheduler.unschedule(id);
        continue;
      }
      // Header bound: type + id + offset (never above what was sent so far) + a 2-byte Length.
      const header = 1 + varintLength(id) + varintLength(Math.max(send.buffer.sentOffset, 1)) + 2;
      const room = limit - w.offset - header;
      if (room < 1 && !(room === 0 && send.buffer.isFinished)) break;
      const credit = Math.min(send.credit.available, this.#connCredit.available);
      const chunk = send.buffer.nextChunk(Math.min(Math.max(room, 0), 0x3fff), credit);
      if (!chunk) {
        // Either this packet has no room for what the stream has (it stays scheduled for the
        // next packet), or the stream is blocked by flow control or has nothing left.
        const blocked = send.buffer.unsentBytes > 0 && credit === 0 && !send.buffer.hasRetransmission();
        if (send.buffer.hasPendingData() && !blocked) break;
        this.#scheduler.unschedule(id);
        if (blocked) {
          if (send.credit.available === 0) this.#pendingStreamBlocked.add(id);
          else {
            s.connectionBlocked = true;
            this.#connectionBlocked.add(id);
          }
        }
        continue;
      }
      writeStreamFrameHeader(w, id, chunk.offset, chunk.length, chunk.fin, true);
      if (chunk.length > 0) {
        send.buffer.copyTo(chunk.offset, chunk.length, w.buf, w.offset);
        w.offset += chunk.length;
      }
      if (!chunk.retransmit) {
        send.credit.consume(chunk.length);
        this.#connCredit.consume(chunk.length);
      }
      send.state.onStreamFrameSent();
      if (chunk.fin) send.state.onFinSent();
      tokens.push(token(TokenKind.STREAM, id, chunk.offset, chunk.length, chunk.fin));
      wrote = true;
      this.#scheduler.onSent(id, send.buffer.hasPendingData());
    }
    return wrote;
  }

  // ------------------------------------------------------------------ token outcomes

  onTokenAcked(t: RecoveryToken): void {
    switch (t.kind) {
      case TokenKind.STREAM: {
        const s = this.#streams.get(t.id);
        const send = s?.send;
        if (!s || !send) return;
        send.buffer.onAcked(t.a, t.b, t.fin);
        if (s.wantsWritable && send.buffer.bufferedBytes < this.sendBufferLimit / 2) {
          s.wantsWritable = false;
          this.#events.push({ type: 'stream-writable', streamId: t.id });
        }
        if (send.buffer.isAllAcked()) {
          send.state.onAllDataAcked();
          if (send.state.state === SendState.DATA_RECVD && !s.finishedSignaled) {
            s.finishedSignaled = true;
            this.#events.push({ type: 'stream-finished', streamId: t.id });
          }
          this.#maybeRemove(s);
        }
        return;
      }
      case TokenKind.RESET_STREAM: {
        const s = this.#streams.get(t.id);
        if (!s?.send) return;
        s.send.state.onResetFrameAcked(t.a);
        this.#maybeRemove(s);
        return;
      }
      default:
        return;
    }
  }

  onTokenLost(t: RecoveryToken): void {
    switch (t.kind) {
      case TokenKind.STREAM: {
        const s = this.#streams.get(t.id);
        const send = s?.send;
        if (!send) return;
        // A reset stream's lost data is not resent (the buffer drops what is above the reliable size).
        send.buffer.onLost(t.a, t.b, t.fin);
        // RFC 9000 §13.3: lost data goes before new data (of streams of the same priority).
        if (send.buffer.hasRetransmission()) this.#scheduler.schedule(t.id, true);
        return;
      }
      case TokenKind.RESET_STREAM: {
        const send = this.#streams.get(t.id)?.send;
        if (send?.state.onResetFrameLost(t.a)) this.#pendingResets.add(t.id);
        return;
      }
      case TokenKind.STOP_SENDING: {
        const recv = this.#streams.get(t.id)?.recv;
        if (recv?.state.onStopSendingLost()) this.#pendingStopSending.add(t.id);
        return;
      }
      case TokenKind.MAX_DATA:
        this.#connWindow.onUpdateLost(t.a);
        return;
      case TokenKind.MAX_STREAM_DATA: {
        const recv = this.#streams.get(t.id)?.recv;
        if (recv) {
          recv.window.onUpdateLost(t.a);
          if (recv.window.updatePending) this.#pendingMaxStreamData.add(t.id);
        }
        return;
      }
      case TokenKind.MAX_STREAMS:
        (t.fin ? this.#remoteBidi : this.#remoteUni).onUpdateLost(t.a);
        return;
      case TokenKind.DATA_BLOCKED:
        this.#connCredit.onBlockedLost(t.a);
        return;
      case TokenKind.STREAM_DATA_BLOCKED: {
        const send = this.#streams.get(t.id)?.send;
        if (send) {
          send.credit.onBlockedLost(t.a);
          this.#pendingStreamBlocked.add(t.id);
        }
        return;
      }
      case TokenKind.STREAMS_BLOCKED:
        (t.fin ? this.#localBidi : this.#localUni).onBlockedLost(t.a);
        return;
      default:
        return;
    }
  }

  /** The connection closed: every stream ends; nothing more is sent. Idempotent. */
  /**
   * The connection closed: every stream ends. With `keepReadable` (the peer closed), the receive
   * sides holding data not yet read stay readable (`readStream`) until `releaseReadable()`.
   */
  closeAll(keepReadable = false): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) {
      s.send?.state.onConnectionClosed();
      s.send?.buffer.reset();
      const recv = s.recv;
      if (keepReadable && recv && !s.finDelivered && (recv.buffer.hasReadable() || recv.buffer.isAllRead()) && recv.state.resetErrorCode === undefined) {
        this.#readableAfterClose.set(s.id, s);
        continue;
      }
      recv?.state.onConnectionClosed();
      recv?.buffer.discard();
    }
    this.#streams.clear();
    this.#pendingResets.clear();
    this.#pendingStopSending.clear();
    this.#pendingMaxStreamData.clear();
    this.#pendingStreamBlocked.clear();
    this.#connectionBlocked.clear();
  }

  /** Whether stream `id` still has data to read after the connection closed. */
  hasReadableAfterClose(id: number): boolean {
    return this.#readableAfterClose.has(id);
  }

  /** Drops what `closeAll(true)` kept (the connection terminates). Idempotent. */
  releaseReadable(): void {
    for (const s of this.#readableAfterClose.values()) {
      s.recv?.state.onConnectionClosed();
      s.recv?.buffer.discard();
    }
    this.#readableAfterClose.clear();
  }

  // ------------------------------------------------------------------ internals

  #create(id: number, local: boolean): StreamState {
    const peer = this.#peer;
    const settings = this.#settings;
    const bidi = isBidirectional(id);
    let send: SendSide | undefined;
    let recv: RecvSide | undefined;
    if (canSendOn(id, this.#isServer)) {
      // RFC 9000 §18.2: the peer's limit for streams we opened is its *_bidi_remote, for its own *_bidi_local.
      const initial = !peer ? 0 : !bidi ? peer.initialMaxStreamDataUni : local ? peer.initialMaxStreamDataBidiRemote : peer.initialMaxStreamDataBidiLocal;
      send = new SendSide(new SendCredit(initial));
    }
    if (canReceiveOn(id, this.#isServer)) {
      const initial = !bidi ? settings.initialMaxStreamDataUni : local ? settings.initialMaxStreamDataBidiLocal : settings.initialMaxStreamDataBidiRemote;
      recv = new RecvSide(new ReceiveWindow({ initialWindow: initial, maxWindow: Math.max(initial, settings.maxStreamWindow) }));
    }
    const s = new StreamState(id, local, send, recv);
    this.#streams.set(id, s);
    // Round-robin by default: fair sharing among streams of equal urgency (RFC 9218 incremental).
    this.#scheduler.setPriority(id, 3, true);
    return s;
  }

  /** The stream a receive-side frame refers to, opening peer streams as needed (§3.2, §4.6). */
  #forReceive(id: number, frameType: number): StreamState | undefined {
    if (this.#closed) return undefined;
    if (!canReceiveOn(id, this.#isServer)) {
      throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `frame for send-only stream ${id}`, frameType);
    }
    return this.#lookup(id, frameType);
  }

  /** The stream a send-side frame refers to (§19.5, §19.10: not for receive-only streams). */
  #forSend(id: number, frameType: number): StreamState | undefined {
    if (this.#closed) return undefined;
    if (!canSendOn(id, this.#isServer)) {
      throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `frame for receive-only stream ${id}`, frameType);
    }
    return this.#lookup(id, frameType);
  }

  #lookup(id: number, frameType: number): StreamState | undefined {
    const existing = this.#streams.get(id);
    if (existing) return existing;
    const index = streamIndex(id);
    if (isLocallyInitiated(id, this.#isServer)) {
      const limit = isBidirectional(id) ? this.#localBidi : this.#localUni;
      // §19.8 etc.: a frame for a stream we have not opened yet is a STREAM_STATE_ERROR.
      if (index >= limit.opened) throw new QuicError(TransportErrorCode.STREAM_STATE_ERROR, `frame for unopened local stream ${id}`, frameType);
      return undefined; // closed and forgotten: late frame
    }
    const remote = isBidirectional(id) ? this.#remoteBidi : this.#remoteUni;
    const firstNew = remote.opened;
    const added = remote.onPeerStream(index); // STREAM_LIMIT_ERROR beyond our limit (§4.6)
    if (added === 0) return undefined; // closed and forgotten
    const type = streamTypeFor(!this.#isServer, !isBidirectional(id));
    const direction: StreamDirection = isBidirectional(id) ? 'bidi' : 'uni';
    for (let i = firstNew; i <= index; i++) {
      const sid = streamIdOf(type, i);
      this.#create(sid, false);
      this.#events.push({ type: 'stream-opened', streamId: sid, direction });
    }
    return this.#streams.get(id);
  }

  #accountReceived(recv: RecvSide, highestBefore: number): void {
    const highest = recv.buffer.highestOffset;
    if (highest <= highestBefore) return;
    recv.window.onReceived(highest); // FLOW_CONTROL_ERROR (§4.1)
    this.#connWindow.onReceivedBytes(highest - highestBefore);
  }

  /** After a reset, bytes never read still count as consumed, so connection credit flows (§4.5). */
  #releaseUnread(recv: RecvSide): void {
    const unread = (recv.buffer.finalSize ?? recv.buffer.highestOffset) - recv.buffer.readOffset;
    recv.buffer.discard();
    if (unread > 0) this.#connWindow.onConsumed(unread, this.now, this.smoothedRtt);
  }

  #signalReadable(s: StreamState): void {
    if (s.readableSignaled || !s.recv) return;
    if (s.recv.buffer.hasReadable() || s.recv.buffer.isAllRead()) {
      s.readableSignaled = true;
      this.#events.push({ type: 'stream-readable', streamId: s.id });
    }
  }

  #signalReset(s: StreamState, errorCode: number, finalSize: number): void {
    // Even when already told (a plain reset after a reliable one), the state must move on.
    s.recv?.state.onResetRead();
    if (s.resetSignaled) return;
    s.resetSignaled = true;
    this.#events.push({ type: 'stream-reset', streamId: s.id, errorCode, finalSize });
  }

  /** Forgets a stream once both directions are terminal; gives a peer stream's slot back (§4.6). */
  #maybeRemove(s: StreamState): void {
    const sendDone = !s.send || s.send.state.isTerminal;
    const recvDone = !s.recv || s.recv.state.isTerminal;
    if (!sendDone || !recvDone) return;
    if (!this.#streams.delete(s.id)) return;
    this.#scheduler.remove(s.id);
    this.#pendingMaxStreamData.delete(s.id);
    if (!s.local) (isBidirectional(s.id) ? this.#remoteBidi : this.#remoteUni).onStreamClosed();
  }
}
