/** One or more sample frames of every type, shared by the frame test files. */

import { FrameType, type Frame } from '../../src/frame/types.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const seq = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

/** Named samples: every FrameType, every STREAM flag combination, both variants of the flagged types. */
export const SAMPLE_FRAMES: readonly (readonly [name: string, frame: Frame])[] = [
  ['PADDING x1', { type: FrameType.PADDING, length: 1 }],
  ['PADDING x37', { type: FrameType.PADDING, length: 37 }],
  ['PING', { type: FrameType.PING }],
  ['ACK one range', { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] }],
  [
    'ACK three ranges',
    {
      type: FrameType.ACK,
      ackDelay: 1234,
      ranges: [
        { smallest: 95, largest: 100 },
        { smallest: 50, largest: 90 },
        { smallest: 0, largest: 48 },
      ],
    },
  ],
  [
    'ACK_ECN',
    { type: FrameType.ACK, ackDelay: 3, ranges: [{ smallest: 70000, largest: 70010 }], ecn: { ect0: 70010, ect1: 0, ce: 17 } },
  ],
  ['RESET_STREAM', { type: FrameType.RESET_STREAM, streamId: 4, errorCode: 0x010c, finalSize: 1_000_000 }],
  ['STOP_SENDING', { type: FrameType.STOP_SENDING, streamId: 2 ** 40 + 3, errorCode: 0 }],
  ['CRYPTO', { type: FrameType.CRYPTO, offset: 0, data: seq(50) }],
  ['CRYPTO at offset', { type: FrameType.CRYPTO, offset: 16384, data: seq(3, 9) }],
  ['NEW_TOKEN', { type: FrameType.NEW_TOKEN, token: seq(20, 100) }],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((flags): [string, Frame] => [
    `STREAM 0x${(8 + flags).toString(16)}`,
    {
      type: FrameType.STREAM,
      streamId: 8 + flags,
      offset: (flags & 4) !== 0 ? 1_000_000 + flags : 0,
      data: seq(5 + flags, flags),
      fin: (flags & 1) !== 0,
      hasLength: (flags & 2) !== 0,
    },
  ]),
  ['STREAM empty FIN', { type: FrameType.STREAM, streamId: 0, offset: 77, data: seq(0), fin: true, hasLength: true }],
  ['MAX_DATA', { type: FrameType.MAX_DATA, maximum: 2 ** 50 }],
  ['MAX_STREAM_DATA', { type: FrameType.MAX_STREAM_DATA, streamId: 7, maximum: 65536 }],
  ['MAX_STREAMS bidi', { type: FrameType.MAX_STREAMS, bidirectional: true, maximum: 100 }],
  ['MAX_STREAMS uni at 2^60', { type: FrameType.MAX_STREAMS, bidirectional: false, maximum: 2 ** 60 }],
  ['DATA_BLOCKED', { type: FrameType.DATA_BLOCKED, limit: 12345 }],
  ['STREAM_DATA_BLOCKED', { type: FrameType.STREAM_DATA_BLOCKED, streamId: 11, limit: 0 }],
  ['STREAMS_BLOCKED bidi', { type: FrameType.STREAMS_BLOCKED, bidirectional: true, limit: 3 }],
  ['STREAMS_BLOCKED uni', { type: FrameType.STREAMS_BLOCKED, bidirectional: false, limit: 2 ** 30 }],
  [
    'NEW_CONNECTION_ID',
    { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 5, retirePriorTo: 2, connectionId: seq(8, 0xa0), statelessResetToken: seq(16, 0xe0) },
  ],
  [
    'NEW_CONNECTION_ID 20-byte CID',
    { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 1, retirePriorTo: 1, connectionId: seq(20), statelessResetToken: seq(16) },
  ],
  ['RETIRE_CONNECTION_ID', { type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: 300 }],
  ['PATH_CHALLENGE', { type: FrameType.PATH_CHALLENGE, data: seq(8, 0x10) }],
  ['PATH_RESPONSE', { type: FrameType.PATH_RESPONSE, data: seq(8, 0xf8) }],
  [
    'CONNECTION_CLOSE transport',
    { type: FrameType.CONNECTION_CLOSE, application: false, errorCode: 0x07, frameType: 0x1a, reason: new TextEncoder().encode('bad frame') },
  ],
  ['CONNECTION_CLOSE crypto error', { type: FrameType.CONNECTION_CLOSE, application: false, errorCode: 0x128, frameType: 0x06, reason: bytes() }],
  [
    'CONNECTION_CLOSE application',
    { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: 0x0101, frameType: 0, reason: new TextEncoder().encode('bye') },
  ],
  ['HANDSHAKE_DONE', { type: FrameType.HANDSHAKE_DONE }],
  ['RESET_STREAM_AT', { type: FrameType.RESET_STREAM_AT, streamId: 4, errorCode: 9, finalSize: 5000, reliableSize: 1200 }],
  ['RESET_STREAM_AT reliable = final', { type: FrameType.RESET_STREAM_AT, streamId: 3, errorCode: 0, finalSize: 10, reliableSize: 10 }],
  ['DATAGRAM with length', { type: FrameType.DATAGRAM, data: seq(100), hasLength: true }],
  ['DATAGRAM to end', { type: FrameType.DATAGRAM, data: seq(9), hasLength: false }],
  ['DATAGRAM empty', { type: FrameType.DATAGRAM, data: seq(0), hasLength: true }],
];
