/**
 * Fuzz targets over everything that reads network input (issue 12): one function per target
 * taking arbitrary bytes. Each throws only when a property breaks (an exception that is not a
 * QuicError with a transport error code, a parser result outside its input, an exception
 * escaping a connection); bad input itself is fine. Driven by the mutation fuzzer
 * (`pnpm fuzz -- <target> [seconds]`, tools/fuzz/run.ts, which says why it is not
 * coverage-guided) and replayed from the committed corpus (test-vectors/fuzz/<target>/) with a
 * short seeded pass by fuzz/corpus.test.ts in `pnpm test`.
 */

import { ByteWriter } from '../../src/codec/writer.js';
import { Connection } from '../../src/connection/connection.js';
import { deriveInitialKeys } from '../../src/crypto/keys.js';
import { AEAD_TAG_LENGTH } from '../../src/crypto/provider.js';
import { protect } from '../../src/crypto/protection.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { parseFrames } from '../../src/frame/parse.js';
import { FrameType } from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { parsePacketHeader, patchLongHeaderLength, writeLongHeader } from '../../src/packet/header.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import { PacketType } from '../../src/packet/types.js';
import { QUIC_V1 } from '../../src/packet/version.js';
import { SimRandom } from '../../src/sim/prng.js';
import { decodeTransportParameters } from '../../src/transport-params.js';
import { CLIENT, makePair, type Pair, seededProvider, TEST_CERT_DER, TEST_KEY_PEM, WALL_CLOCK } from '../connection/harness.js';
import { establish, forge1Rtt } from '../connection/scenario.js';

/** Thrown when a property breaks; anything else a target throws is a bug too. */
export class FuzzPropertyError extends Error {}

const TRANSPORT_CODES = new Set<number>(Object.values(TransportErrorCode as Record<string, unknown>).filter((v): v is number => typeof v === 'number'));

function isTransportCode(code: number): boolean {
  // CRYPTO_ERROR range 0x0100-0x01ff (RFC 9000 §20.1).
  return TRANSPORT_CODES.has(code) || (code >= 0x100 && code <= 0x1ff);
}

/** Runs `f`; a QuicError with a transport code is fine, anything else breaks the property. */
function onlyQuicErrors(what: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (QuicError.is(e) && isTransportCode(e.code)) return;
    throw new FuzzPropertyError(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

const reader = new CoalescedPacketReader({ shortDcidLength: 8 });

function packet(data: Uint8Array): void {
  onlyQuicErrors('parsePacketHeader', () => {
    const h = parsePacketHeader(data, 0, data.length, { shortDcidLength: 8 });
    if (h.end > data.length || h.start < 0) throw new FuzzPropertyError(`header ends at ${h.end} of ${data.length}`);
  });
  onlyQuicErrors('parseInvariantHeader', () => void parseInvariantHeader(data, 8));
  reader.reset(data);
  let end = 0;
  // Bounded: the reader consumes at least one byte per packet.
  for (let h = reader.next(); h !== undefined; h = reader.next()) {
    if (h.start < end || h.end > data.length) throw new FuzzPropertyError(`coalesced packet [${h.start}, ${h.end}) after ${end}`);
    end = h.end;
  }
}

const PACKET_TYPES = [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE, PacketType.ONE_RTT];

function frames(data: Uint8Array): void {
  const type = PACKET_TYPES[data.length % PACKET_TYPES.length]!;
  onlyQuicErrors('parseFrames', () => {
    for (const f of parseFrames(data, type)) {
      if ('data' in f && f.data instanceof Uint8Array && f.data.length > data.length) throw new FuzzPropertyError('frame data longer than the payload');
    }
  });
}

function transportParams(data: Uint8Array): void {
  onlyQuicErrors('decodeTransportParameters(client)', () => void decodeTransportParameters(data, 'client'));
  onlyQuicErrors('decodeTransportParameters(server)', () => void decodeTransportParameters(data, 'server'));
}

// ---- connection targets: a real server Connection fed forged, properly protected packets ----

const random = new SimRandom(0xf022);
const crypto = seededProvider(random);
const key = crypto.importSigningKey(TEST_KEY_PEM);
const scratch = new Uint8Array(1500);

/** A fresh server connection for a client Initial with this DCID. */
function acceptFor(dcid: Uint8Array, scid: Uint8Array): Connection {
  return Connection.accept({
    crypto,
    random: (n) => random.bytes(n),
    wallClock: () => WALL_CLOCK,
    alpnProtocols: ['test'],
    certificateChain: [TEST_CERT_DER],
    key,
    remote: { address: CLIENT, port: 443 },
    now: 0,
    originalDcid: dcid,
    clientScid: scid,
    version: QUIC_V1,
  });
}

/** Feeds one datagram and lets the connection send and time out; nothing may escape it. */
function exercise(conn: Connection, datagram: Uint8Array, now: number): void {
  try {
    conn.handleDatagram(datagram, { address: CLIENT, port: 443 }, now);
    // Bounded: a connection sends within its congestion window and anti-amplification limit.
    for (let i = 0; i < 64 && conn.pollTransmit(now, scratch) !== undefined; i++);
    const t = conn.nextTimeout();
    if (t !== undefined) conn.handleTimeout(Math.max(now, t));
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent());
  } catch (e) {
    throw new FuzzPropertyError(`exception escaped the connection: ${e instanceof Error ? e.stack : String(e)}`);
  }
  const reason = conn.closeReason;
  if (reason?.kind === 'transport' && !reason.remote && !isTransportCode(reason.code)) {
    throw new FuzzPropertyError(`closed with non-transport code 0x${reason.code.toString(16)}`);
  }
}

/** `data` as the ClientHello bytes of a client's first Initial (CRYPTO at offset 0), properly protected. */
function tls(data: Uint8Array): void {
  const dcid = random.bytes(8);
  const scid = random.bytes(8);
  const buf = new Uint8Array(1400 + Math.min(data.length, 60_000));
  const pnOffset = writeLongHeader(buf, 0, { type: PacketType.INITIAL, version: QUIC_V1, dcid, scid, packetNumber: 0, pnLength: 4, lengthFieldSize: 4 });
  const w = new ByteWriter(buf, pnOffset + 4);
  writeFrame(w, { type: FrameType.CRYPTO, offset: 0, data: data.subarray(0, buf.length - pnOffset - 64) });
  const payloadEnd = Math.max(w.offset, 1200 - AEAD_TAG_LENGTH);
  patchLongHeaderLength(buf, pnOffset - 4, payloadEnd - pnOffset + AEAD_TAG_LENGTH);
  const keys = deriveInitialKeys(crypto, QUIC_V1, dcid).client;
  const end = protect(keys, buf, 0, pnOffset, 4, payloadEnd, 0);
  exercise(acceptFor(dcid, scid), buf.subarray(0, end), 0);
}

let pair: Pair | undefined;
let now = 0;

/** `data` as the payload of a 1-RTT packet from an established client, protected with its real keys. */
function connection(data: Uint8Array): void {
  if (pair === undefined || pair.server().isClosed || pair.client.isClosed) {
    pair = makePair({ seed: 7, link: { delayMs: 1 }, checkInvariants: false });
    establish(pair);
    now = pair.sim.now;
  }
  const payload = data.subarray(0, 1100);
  const datagram = forge1Rtt(pair.client, payload.length >= 4 ? payload : new Uint8Array([FrameType.PING, 0, 0, 0]));
  now += 1;
  exercise(pair.server(), datagram, now);
  pair.server().recovery.assertInvariants();
}

/** The targets by name. */
export const FUZZ_TARGETS: Record<string, (data: Uint8Array) => void> = {
  packet,
  frames,
  'transport-params': transportParams,
  tls,
  connection,
};
