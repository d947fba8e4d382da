/**
 * Handshake message framing (RFC 8446 §4): `msg_type(1) length(3) body`, and reassembly of
 * messages that arrive split across, or packed into, CRYPTO frames / records.
 */

import { ByteWriter } from '../../codec/writer.js';
import { TlsAlert, tlsFail } from './tls-reader.js';

/** Largest handshake message we accept; certificate chains are the big ones. */
export const MAX_HANDSHAKE_MESSAGE_LENGTH = 0x10000 * 2;

/** One complete handshake message. `raw` (header included) is what goes into the transcript. */
export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
  raw: Uint8Array;
}

/** Frames a body as a handshake message. */
export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(body.length + 4);
  w.u8(type).u24(body.length).bytes(body);
  return w.finish();
}

/** Builds a handshake message by writing its body into a writer. */
export function buildHandshake(type: number, writeBody: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(256);
  w.u8(type);
  w.lengthPrefixed(3, writeBody);
  return w.finish();
}

/**
 * Collects bytes for one encryption level and yields whole messages.
 *
 * Bytes may come in any split, down to one byte per CRYPTO frame from a peer not yet validated,
 * so the cost is linear in the bytes received: each byte is copied once into the message it
 * belongs to (whose buffer grows by doubling up to the length its header announced), never the
 * whole buffer per push (issue 12 #2).
 */
export class HandshakeReassembler {
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  /** The message being filled (header included), sized up to its announced length. */
  private message: Uint8Array | undefined;
  private messageLength = 0;
  private fill = 0;
  private readonly complete: Uint8Array[] = [];
  private completeHead = 0;
  /** A bad header seen after the complete messages queued before it; thrown once they are taken. */
  private failure: unknown;

  /** True when part of a message is waiting for more bytes. */
  get hasPartial(): boolean {
    return this.headerFill > 0 || this.message !== undefined || this.completeHead < this.complete.length;
  }

  push(data: Uint8Array): void {
    let at = 0;
    // Bounded: each round consumes at least one byte of `data` or stops.
    while (at < data.length && this.failure === undefined) {
      if (this.message === undefined) {
        const n = Math.min(4 - this.headerFill, data.length - at);
        this.header.set(data.subarray(at, at + n), this.headerFill);
        this.headerFill += n;
        at += n;
        if (this.headerFill < 4) return;
        const h = this.header;
        const length = ((h[1] as number) << 16) | ((h[2] as number) << 8) | (h[3] as number);
        if (length > MAX_HANDSHAKE_MESSAGE_LENGTH) {
          try {
            tlsFail(TlsAlert.UNEXPECTED_MESSAGE, `handshake message of ${length} bytes`);
          } catch (e) {
            this.failure = e;
          }
          return;
        }
        this.messageLength = 4 + length;
        this.message = new Uint8Array(Math.min(this.messageLength, Math.max(256, data.length - at + 4)));
        this.message.set(h);
        this.fill = 4;
        this.headerFill = 0;
      }
      const n = Math.min(this.messageLength - this.fill, data.length - at);
      if (this.fill + n > this.message.length) {
        let size = this.message.length * 2;
        while (size < this.fill + n) size *= 2;
        const grown = new Uint8Array(Math.min(size, this.messageLength));
        grown.set(this.message.subarray(0, this.fill));
        this.message = grown;
      }
      this.message.set(data.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.messageLength) {
        this.complete.push(this.message);
        this.message = undefined;
      }
    }
  }

  /** The next complete message, or undefined until more bytes arrive. */
  next(): HandshakeMessage | undefined {
    if (this.completeHead === this.complete.length) {
      if (this.failure !== undefined) throw this.failure;
      // An empty message (header only) completes at once.
      if (this.message !== undefined && this.fill === this.messageLength) {
        this.complete.push(this.message);
        this.message = undefined;
      } else return undefined;
    }
    const raw = this.complete[this.completeHead] as Uint8Array;
    this.complete[this.completeHead++] = EMPTY;
    if (this.completeHead === this.complete.length) {
      this.complete.length = 0;
      this.completeHead = 0;
    }
    return { type: raw[0] as number, body: raw.subarray(4), raw };
  }
}

const EMPTY = new Uint8Array(0);
