/**
 * Frame -> bytes. `frameLength(f)` is exactly what `writeFrame(w, f)` writes, so the packet
 * builder can check space before writing. The hot send path writes STREAM/CRYPTO/DATAGRAM
 * headers with the in-place helpers of stream.ts, crypto.ts and datagram.ts instead.
 */

import type { ByteWriter } from '../codec/writer.js';
import { ackFrameLength, writeAck } from './ack.js';
import { newConnectionIdLength, retireConnectionIdLength, writeNewConnectionId, writeRetireConnectionId } from './cid.js';
import { connectionCloseLength, writeConnectionClose } from './close.js';
import { cryptoFrameLength, writeCrypto } from './crypto.js';
import { datagramFrameLength, writeDatagram } from './datagram.js';
import {
  dataBlockedLength,
  maxDataLength,
  maxStreamDataLength,
  maxStreamsLength,
  streamDataBlockedLength,
  streamsBlockedLength,
  writeDataBlocked,
  writeMaxData,
  writeMaxStreamData,
  writeMaxStreams,
  writeStreamDataBlocked,
  writeStreamsBlocked,
} from './flow.js';
import { newTokenLength, writeNewToken, writePadding, writePathFrame } from './misc.js';
import {
  resetStreamAtLength,
  resetStreamLength,
  stopSendingLength,
  streamFrameLength,
  writeResetStream,
  writeResetStreamAt,
  writeStopSending,
  writeStream,
} from './stream.js';
import { FrameType, PATH_DATA_LENGTH, type Frame } from './types.js';

/**
 * Writes one frame. Bad frame contents (our own values) throw RangeError. An ACK frame is
 * written with all its ranges; use `writeAck(w, f, maxRanges)` to bound them.
 */
export function writeFrame(w: ByteWriter, f: Frame): void {
  switch (f.type) {
    case FrameType.PADDING:
      return writePadding(w, f);
    case FrameType.PING:
    case FrameType.HANDSHAKE_DONE:
      w.u8(f.type);
      return;
    case FrameType.ACK:
      return writeAck(w, f);
    case FrameType.RESET_STREAM:
      return writeResetStream(w, f);
    case FrameType.STOP_SENDING:
      return writeStopSending(w, f);
    case FrameType.CRYPTO:
      return writeCrypto(w, f);
    case FrameType.NEW_TOKEN:
      return writeNewToken(w, f);
    case FrameType.STREAM:
      return writeStream(w, f);
    case FrameType.MAX_DATA:
      return writeMaxData(w, f);
    case FrameType.MAX_STREAM_DATA:
      return writeMaxStreamData(w, f);
    case FrameType.MAX_STREAMS:
      return writeMaxStreams(w, f);
    case FrameType.DATA_BLOCKED:
      return writeDataBlocked(w, f);
    case FrameType.STREAM_DATA_BLOCKED:
      return writeStreamDataBlocked(w, f);
    case FrameType.STREAMS_BLOCKED:
      return writeStreamsBlocked(w, f);
    case FrameType.NEW_CONNECTION_ID:
      return writeNewConnectionId(w, f);
    case FrameType.RETIRE_CONNECTION_ID:
      return writeRetireConnectionId(w, f);
    case FrameType.PATH_CHALLENGE:
    case FrameType.PATH_RESPONSE:
      return writePathFrame(w, f);
    case FrameType.CONNECTION_CLOSE:
      return writeConnectionClose(w, f);
    case FrameType.RESET_STREAM_AT:
      return writeResetStreamAt(w, f);
    case FrameType.DATAGRAM:
      return writeDatagram(w, f);
    default:
      throw new RangeError(`cannot write unknown frame ${(f as { type: unknown }).type}`);
  }
}

/** The exact number of bytes `writeFrame(w, f)` writes. */
export function frameLength(f: Frame): number {
  switch (f.type) {
    case FrameType.PADDING:
      return f.length;
    case FrameType.PING:
    case FrameType.HANDSHAKE_DONE:
      return 1;
    case FrameType.ACK:
      return ackFrameLength(f);
    case FrameType.RESET_STREAM:
      return resetStreamLength(f);
    case FrameType.STOP_SENDING:
      return stopSendingLength(f);
    case FrameType.CRYPTO:
      return cryptoFrameLength(f);
    case FrameType.NEW_TOKEN:
      return newTokenLength(f);
    case FrameType.STREAM:
      return streamFrameLength(f);
    case FrameType.MAX_DATA:
      return maxDataLength(f);
    case FrameType.MAX_STREAM_DATA:
      return maxStreamDataLength(f);
    case FrameType.MAX_STREAMS:
      return maxStreamsLength(f);
    case FrameType.DATA_BLOCKED:
      return dataBlockedLength(f);
    case FrameType.STREAM_DATA_BLOCKED:
      return streamDataBlockedLength(f);
    case FrameType.STREAMS_BLOCKED:
      return streamsBlockedLength(f);
    case FrameType.NEW_CONNECTION_ID:
      return newConnectionIdLength(f);
    case FrameType.RETIRE_CONNECTION_ID:
      return retireConnectionIdLength(f);
    case FrameType.PATH_CHALLENGE:
    case FrameType.PATH_RESPONSE:
      return 1 + PATH_DATA_LENGTH;
    case FrameType.CONNECTION_CLOSE:
      return connectionCloseLength(f);
    case FrameType.RESET_STREAM_AT:
      return resetStreamAtLength(f);
    case FrameType.DATAGRAM:
      return datagramFrameLength(f);
    default:
      throw new RangeError(`unknown frame ${(f as { type: unknown }).type}`);
  }
}
