/**
 * Writes the seed corpus of each fuzz target to test-vectors/fuzz/<target>/ (valid inputs the
 * fuzzer mutates from): real packets, frames, transport parameters and a ClientHello, all from
 * seeded sans-IO connections. Run once (`node --conditions=@purequic/source --import tsx
 * tools/fuzz/make-corpus.ts`); inputs that broke a property (crash-*, saved by `pnpm fuzz`) sit
 * beside the seeds and are replayed as regressions by packages/quic/test/fuzz/corpus.test.ts.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ByteWriter } from '../../packages/quic/src/codec/writer.js';
import { FrameType, type Frame } from '../../packages/quic/src/frame/types.js';
import { writeFrame } from '../../packages/quic/src/frame/write.js';
import { encodeTransportParameters } from '../../packages/quic/src/transport-params.js';
import { autoSymmetric } from '../../packages/quic/src/crypto/auto.js';
import { deriveInitialKeys } from '../../packages/quic/src/crypto/keys.js';
import { unprotect } from '../../packages/quic/src/crypto/protection.js';
import { parseFrames } from '../../packages/quic/src/frame/parse.js';
import { CoalescedPacketReader } from '../../packages/quic/src/packet/coalesced.js';
import { PacketType } from '../../packages/quic/src/packet/types.js';
import { QUIC_V1 } from '../../packages/quic/src/packet/version.js';
import { makePair } from '../../packages/quic/test/connection/harness.js';

const root = fileURLToPath(new URL('../../test-vectors/fuzz/', import.meta.url));

function put(target: string, name: string, data: Uint8Array): void {
  mkdirSync(root + target, { recursive: true });
  writeFileSync(`${root}${target}/${name}`, data);
}

function encodeFrames(frames: Frame[]): Uint8Array {
  const w = new ByteWriter(new Uint8Array(2048));
  for (const f of frames) writeFrame(w, f);
  return w.buf.slice(0, w.offset);
}

// A real client's first datagram, and the ClientHello inside it.
const pair = makePair({ seed: 11, link: { delayMs: 5 } });
const seen: Uint8Array[] = [];
let clientHello: Uint8Array | undefined;
{
  const buf = new Uint8Array(1500);
  const t = pair.client.pollTransmit(0, buf)!;
  const datagram = buf.slice(0, t.length);
  seen.push(datagram);
  const reader = new CoalescedPacketReader({ shortDcidLength: 8 });
  const h = reader.reset(datagram.slice()).next()!;
  const copy = datagram.slice();
  const keys = deriveInitialKeys(autoSymmetric, QUIC_V1, h.dcid).client;
  const opened = unprotect(keys, copy, h.start, h.pnOffset, h.end, -1)!;
  for (const f of parseFrames(opened.payload, PacketType.INITIAL)) if (f.type === FrameType.CRYPTO) clientHello = f.data.slice();
}
seen.forEach((d, i) => put('packet', `client-initial-${i}`, d));
put('packet', 'short-header', Uint8Array.from([0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, ...new Uint8Array(40)]));

const stream: Frame[] = [
  { type: FrameType.STREAM, streamId: 0, offset: 0, data: new TextEncoder().encode('GET /\r\n'), fin: true, hasLength: true },
  { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 0, largest: 3 }] },
  { type: FrameType.MAX_DATA, maximum: 1 << 20 },
  { type: FrameType.MAX_STREAM_DATA, streamId: 0, maximum: 1 << 18 },
  { type: FrameType.PING },
];
put('frames', 'stream-ack-max', encodeFrames(stream));
put('frames', 'crypto', encodeFrames([{ type: FrameType.CRYPTO, offset: 0, data: new Uint8Array([1, 0, 0, 4, 3, 3, 0, 0]) }]));
put('connection', 'stream-ack-max', encodeFrames(stream));
put('connection', 'path-challenge', encodeFrames([{ type: FrameType.PATH_CHALLENGE, data: new Uint8Array(8).fill(7) }, { type: FrameType.PING }]));
put('connection', 'reset-stop', encodeFrames([
  { type: FrameType.RESET_STREAM, streamId: 4, errorCode: 1, finalSize: 10 },
  { type: FrameType.STOP_SENDING, streamId: 0, errorCode: 2 },
]));

put('transport-params', 'client', encodeTransportParameters({ initialMaxData: 1 << 20, initialMaxStreamsBidi: 100, maxIdleTimeout: 30_000, initialSourceConnectionId: new Uint8Array(8) }));

if (clientHello) put('tls', 'client-hello', clientHello);
console.log(`corpus written to ${root}`);
