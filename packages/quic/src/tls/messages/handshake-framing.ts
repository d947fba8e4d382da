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
 * Bytes may come in any split; the buffer only grows to one message plus what follows it.
 */
export class HandshakeReassembler {
  private buffer = new Uint8Array(0);

  /** True when part of a message is waiting for more bytes. */
  get hasPartial(): boolean {
    return this.buffer.length > 0;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.buffer.length === 0) {
      this.buffer = data.slice();
      return;
    }
    const next = new Uint8Array(this.buffer.length + data.length);
    next.set(this.buffer);
    next.set(data, this.buffer.length);
    this.buffer = next;
  }

  /** The next complete message, or undefined until more bytes arrive. */
  next(): HandshakeMessage | undefined {
    const b = this.buffer;
    if (b.length < 4) return undefined;
    const length = ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number);
    if (length > MAX_HANDSHAKE_MESSAGE_LENGTH) tlsFail(TlsAlert.UNEXPECTED_MESSAGE, `handshake message of ${length} bytes`);
    if (b.length < 4 + length) return undefined;
    const raw = b.subarray(0, 4 + length);
    this.buffer = b.subarray(4 + length);
    return { type: b[0] as number, body: raw.subarray(4), raw };
  }
}
