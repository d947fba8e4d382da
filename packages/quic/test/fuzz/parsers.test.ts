/**
 * Fuzzing every parser that reads network input: packet headers, the coalesced-datagram walker,
 * the invariant view, frames and transport parameters.
 *
 * Inputs come from a seeded PRNG (replay a run with FUZZ_SEED=<n>; the seed is printed): random
 * bytes, structured random headers, and mutations of valid packets, frame payloads and transport
 * parameter blocks (bit flips, byte overwrites, truncation, insertion, deletion, duplication,
 * splicing, and varint/length fields rewritten with boundary values). The property: a parser
 * either returns or throws a QuicError whose code is a transport error code (RFC 9000 §20.1) —
 * never a TypeError, RangeError or anything else — and what it returns stays inside the input.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeVarintBig } from '../../src/codec/varint.js';
import { ByteWriter } from '../../src/codec/writer.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { parseFrames } from '../../src/frame/parse.js';
import { FrameType, type Frame } from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import {
  encodeRetryPacket,
  encodeVersionNegotiation,
  MAX_CID_LENGTH,
  MIN_PROTECTED_LENGTH,
  parsePacketHeader,
  patchLongHeaderLength,
  writeLongHeader,
  writeShortHeader,
} from '../../src/packet/header.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import type { PacketNumberLength } from '../../src/packet/number.js';
import { PacketType } from '../../src/packet/types.js';
import { greaseVersion, QUIC_V1, QUIC_V2 } from '../../src/packet/version.js';
import { decodeTransportParameters, encodeTransportParameters } from '../../src/transport-params.js';
import { createPrng, type Prng, seedFromEnv } from '../helpers/prng.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

const SEED = seedFromEnv('FUZZ_SEED', 0x0f0220ed);
console.log(`[fuzz] FUZZ_SEED=${SEED} (set it to replay this run)`);

// Inputs per target; 145,000 in all.
const HEADER_INPUTS = 45_000;
const COALESCED_INPUTS = 25_000;
const FRAME_INPUTS = 45_000;
const TRANSPORT_PARAMETER_INPUTS = 30_000;
const MAX_INPUT = 3000;
const MAX_REPORTED = 10;

// ---------------------------------------------------------------------------------------------
// Failure collection

interface Failure {
  target: string;
  input: string;
  error: string;
}

function isTransportErrorCode(code: unknown): boolean {
  return (
    typeof code === 'number' &&
    Number.isInteger(code) &&
    ((code >= TransportErrorCode.NO_ERROR && code <= TransportErrorCode.VERSION_NEGOTIATION_ERROR) || (code >= 0x100 && code <= 0x1ff))
  );
}

class FailureLog {
  readonly failures: Failure[] = [];
  count = 0;
  /** Inputs the parser accepted, and inputs it rejected with an acceptable QuicError. */
  accepted = 0;
  rejected = 0;

  /** Records `e` unless it is a QuicError with a transport code (and, if given, an expected one). */
  check(target: string, input: Uint8Array, e: unknown, expectedCodes?: readonly number[], countRejection = true): void {
    let problem: string | undefined;
    if (!QuicError.is(e)) problem = `not a QuicError: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    else if (!isTransportErrorCode(e.code)) problem = `QuicError with invalid code ${e.code}: ${e.message}`;
    else if (expectedCodes !== undefined && !expectedCodes.includes(e.code)) problem = `unexpected code: ${e.message}`;
    if (problem !== undefined) this.fail(target, input, problem);
    else if (countRejection) this.rejected++;
  }

  fail(target: string, input: Uint8Array, problem: string): void {
    this.count++;
    if (this.failures.length < MAX_REPORTED) this.failures.push({ target, input: toHex(input), error: problem });
  }

  assertNone(): void {
    if (this.count === 0) return;
    const lines = this.failures.map((f) => `  [${f.target}] ${f.error.split('\n').slice(0, 4).join(' | ')}\n    input: ${f.input}`);
    assert.unreachable(`${this.count} failing inputs (FUZZ_SEED=${SEED}); first ${this.failures.length}:\n${lines.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

const INTERESTING_BYTES = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff, 0x14, 0x15, 0x10];

function interestingVarint(rng: Prng, remaining: number): bigint {
  switch (rng.int(12)) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return 0x3fn;
    case 3: return 0x3fffn;
    case 4: return 0x3fff_ffffn;
    case 5: return (1n << 62n) - 1n;
    case 6: return BigInt(Number.MAX_SAFE_INTEGER);
    case 7: return BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    case 8: return BigInt(Math.max(0, remaining - 1));
    case 9: return BigInt(remaining);
    case 10: return BigInt(remaining + 1);
    default: return BigInt(rng.u32());
  }
}

const VARINT_SIZES = [1, 2, 4, 8] as const;

/** Overwrites (or inserts) a varint with a boundary value at `at`: tampers with length fields. */
function tamperVarint(rng: Prng, input: Uint8Array, at: number): Uint8Array {
  const value = interestingVarint(rng, input.length - at);
  const tmp = new Uint8Array(8);
  let minimal = 8;
  for (const size of VARINT_SIZES) {
    if (value < 1n << BigInt(8 * size - 2)) {
      minimal = size;
      break;
    }
  }
  const choices = VARINT_SIZES.filter((s) => s >= minimal);
  const size = rng.pick(choices);
  writeVarintBig(tmp, 0, value, size);
  const encoded = tmp.subarray(0, size);
  if (rng.chance(0.5)) return concat(input.subarray(0, at), encoded, input.subarray(at));
  const out = new Uint8Array(Math.max(input.length, at + size));
  out.set(input);
  out.set(encoded, at);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function mutate(rng: Prng, seed: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  let data: Uint8Array = seed.slice();
  const rounds = 1 + rng.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = rng.int(data.length + 1);
    switch (rng.int(9)) {
      case 0: // bit flips
        if (data.length > 0) for (let k = 1 + rng.int(4); k > 0; k--) data[rng.int(data.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // byte overwrite with a random or interesting value
        if (data.length > 0) data[rng.int(data.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
        break;
      case 2: // truncation
        data = data.subarray(0, at);
        break;
      case 3: // insertion of random bytes
        data = concat(data.subarray(0, at), rng.bytes(1 + rng.int(16)), data.subarray(at));
        break;
      case 4: // deletion of a range
        data = concat(data.subarray(0, at), data.subarray(Math.min(data.length, at + 1 + rng.int(16))));
        break;
      case 5: // duplication of a range
        data = concat(data.subarray(0, at), data.subarray(at, at + 1 + rng.int(32)), data.subarray(at));
        break;
      case 6: // splice with another corpus entry
        data = concat(data.subarray(0, at), rng.pick(corpus).subarray(rng.int(8)));
        break;
      default: // varint / length field tampering
        data = tamperVarint(rng, data, Math.min(at, Math.max(0, data.length - 1)));
        break;
    }
  }
  return data.length > MAX_INPUT ? data.subarray(0, MAX_INPUT) : data;
}

function randomBytes(rng: Prng): Uint8Array {
  // Mostly short inputs, where every branch of a parser is near.
  const n = rng.chance(0.8) ? rng.int(64) : rng.int(1500);
  return rng.bytes(n);
}

// ---------------------------------------------------------------------------------------------
// Seed corpora

const VERSIONS = [QUIC_V1, QUIC_V2];
const LONG_TYPES = [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE];

function validLongPacket(rng: Prng, version: number, type: PacketType, dcid: Uint8Array, scid: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1600);
  const pnLength = (1 + rng.int(4)) as PacketNumberLength;
  const token = type === PacketType.INITIAL ? rng.bytes(rng.chance(0.5) ? 0 : rng.int(60)) : undefined;
  const pnOffset = writeLongHeader(buf, 0, { type, version, dcid, scid, token, packetNumber: rng.u32(), pnLength });
  const length = Math.max(MIN_PROTECTED_LENGTH, pnLength + rng.int(200));
  rng.fill(buf.subarray(pnOffset + pnLength, pnOffset + length));
  patchLongHeaderLength(buf, pnOffset - 2, length);
  return buf.slice(0, pnOffset + length);
}

function validShortPacket(rng: Prng, dcid: Uint8Array): Uint8Array {
  const pnLength = (1 + rng.int(4)) as PacketNumberLength;
  const buf = new Uint8Array(1 + dcid.length + MIN_PROTECTED_LENGTH + rng.int(200));
  rng.fill(buf);
  writeShortHeader(buf, 0, { dcid, packetNumber: rng.u32(), pnLength, keyPhase: rng.int(2) as 0 | 1, spinBit: rng.chance(0.5) });
  return buf;
}

// The RFC 9001 / RFC 9369 Appendix A packets and frame payloads join the corpora as they are.
interface AppendixVector {
  source: string;
  packet: string;
  payload?: string;
  payloadFrames?: string;
}
const APPENDIX = ['rfc9001', 'rfc9369'].flatMap((rfc) =>
  ['a2-client-initial', 'a3-server-initial', 'a4-retry', 'a5-chacha20-short-header'].map((name) => loadVectors<AppendixVector>(`${rfc}-${name}.json`)),
);

const appendixPackets = APPENDIX.map((v) => fromHex(v.packet));

function packetCorpus(rng: Prng): Uint8Array[] {
  const out: Uint8Array[] = [...appendixPackets];
  for (let i = 0; i < 120; i++) {
    const version = rng.pick(VERSIONS);
    const dcid = rng.bytes(rng.int(MAX_CID_LENGTH + 1));
    const scid = rng.bytes(rng.int(MAX_CID_LENGTH + 1));
    out.push(validLongPacket(rng, version, rng.pick(LONG_TYPES), dcid, scid));
    if (i % 4 === 0) out.push(validShortPacket(rng, rng.bytes(8)));
    if (i % 6 === 0) out.push(encodeRetryPacket({ version, dcid, scid, token: rng.bytes(1 + rng.int(40)), unusedBits: rng.int(16) }, rng.bytes(16)));
    if (i % 6 === 3) {
      const versions = Array.from({ length: rng.int(5) }, () => (rng.chance(0.5) ? rng.pick(VERSIONS) : greaseVersion(rng.u32())));
      out.push(encodeVersionNegotiation({ dcid: rng.bytes(rng.int(40)), scid: rng.bytes(rng.int(40)), supportedVersions: versions, unusedBits: rng.u32() }));
    }
    if (i % 5 === 0) {
      // A coalesced Initial + Handshake + 1-RTT datagram sharing one DCID (8 bytes, as the fuzz
      // target's short-header DCID length often is).
      const cid = rng.bytes(8);
      out.push(concat(validLongPacket(rng, version, PacketType.INITIAL, cid, scid), validLongPacket(rng, version, PacketType.HANDSHAKE, cid, scid), validShortPacket(rng, cid)));
    }
  }
  return out;
}

/** A structured random header: plausible first byte, version and CID lengths, random rest. */
function structuredHeader(rng: Prng): Uint8Array {
  const w = new ByteWriter(64);
  w.u8(rng.chance(0.7) ? 0xc0 | rng.int(64) : rng.int(256));
  w.u32(rng.pick([QUIC_V1, QUIC_V2, 0, greaseVersion(rng.u32()), rng.u32()]));
  for (let k = 0; k < 2; k++) {
    const len = rng.chance(0.8) ? rng.int(MAX_CID_LENGTH + 1) : rng.int(256);
    w.u8(len).bytes(rng.bytes(Math.min(len, rng.chance(0.9) ? len : rng.int(len + 1))));
  }
  w.bytes(rng.bytes(rng.int(80)));
  return w.finish();
}

function writeInterestingVarint(rng: Prng, w: ByteWriter, remaining: number): void {
  const value = interestingVarint(rng, remaining);
  const tmp = new Uint8Array(8);
  const end = writeVarintBig(tmp, 0, value);
  w.bytes(tmp.subarray(0, end));
}

const KNOWN_FRAME_TYPES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x24, 0x30, 0x31];

/** A known frame type followed by boundary-valued varints and random bytes. */
function structuredFrames(rng: Prng): Uint8Array {
  const w = new ByteWriter(64);
  for (let f = 1 + rng.int(3); f > 0; f--) {
    w.u8(rng.pick(KNOWN_FRAME_TYPES));
    for (let k = rng.int(7); k > 0; k--) writeInterestingVarint(rng, w, rng.int(64));
    w.bytes(rng.bytes(rng.int(24)));
  }
  return w.finish();
}

const TRANSPORT_PARAMETER_IDS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x1d, 0x20, 0x2ab2, 0x17f7586d2cb571, 27, 31 * 5 + 27];

/** Parameters with known ids, right or wrong lengths, and boundary-valued varint values. */
function structuredTransportParameters(rng: Prng): Uint8Array {
  const w = new ByteWriter(64);
  for (let n = rng.int(6); n > 0; n--) {
    const id = rng.pick(TRANSPORT_PARAMETER_IDS);
    w.varint(id);
    const value = new ByteWriter(16);
    if (rng.chance(0.6)) writeInterestingVarint(rng, value, 8);
    else value.bytes(rng.bytes(rng.pick([0, 1, 4, 8, 16, 20, 21, 41, 45, 60])));
    const bytes = value.finish();
    w.varint(rng.chance(0.9) ? bytes.length : rng.int(64)).bytes(bytes);
  }
  return w.finish();
}

const PACKET_TYPES = [PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE, PacketType.ONE_RTT, PacketType.RETRY, PacketType.VERSION_NEGOTIATION] as const;

function sampleFrames(rng: Prng): Frame[] {
  const small = (): number => rng.int(1 << 20);
  const data = (): Uint8Array => rng.bytes(rng.int(40));
  return [
    { type: FrameType.PADDING, length: 1 + rng.int(10) },
    { type: FrameType.PING },
    { type: FrameType.ACK, ackDelay: rng.int(1000), ranges: [{ smallest: 900, largest: 1000 }, { smallest: 500, largest: 800 }, { smallest: 0, largest: 10 }] },
    { type: FrameType.ACK, ackDelay: 0, ranges: [{ smallest: 7, largest: 7 }], ecn: { ect0: small(), ect1: small(), ce: small() } },
    { type: FrameType.RESET_STREAM, streamId: 4 * rng.int(100), errorCode: small(), finalSize: small() },
    { type: FrameType.STOP_SENDING, streamId: 4 * rng.int(100) + 1, errorCode: small() },
    { type: FrameType.CRYPTO, offset: small(), data: data() },
    { type: FrameType.NEW_TOKEN, token: rng.bytes(1 + rng.int(40)) },
    { type: FrameType.STREAM, streamId: rng.int(1000), offset: rng.chance(0.5) ? 0 : small(), data: data(), fin: rng.chance(0.5), hasLength: true },
    { type: FrameType.MAX_DATA, maximum: small() },
    { type: FrameType.MAX_STREAM_DATA, streamId: rng.int(1000), maximum: small() },
    { type: FrameType.MAX_STREAMS, bidirectional: rng.chance(0.5), maximum: small() },
    { type: FrameType.DATA_BLOCKED, limit: small() },
    { type: FrameType.STREAM_DATA_BLOCKED, streamId: rng.int(1000), limit: small() },
    { type: FrameType.STREAMS_BLOCKED, bidirectional: rng.chance(0.5), limit: small() },
    { type: FrameType.NEW_CONNECTION_ID, sequenceNumber: 5, retirePriorTo: 2, connectionId: rng.bytes(1 + rng.int(20)), statelessResetToken: rng.bytes(16) },
    { type: FrameType.RETIRE_CONNECTION_ID, sequenceNumber: rng.int(100) },
    { type: FrameType.PATH_CHALLENGE, data: rng.bytes(8) },
    { type: FrameType.PATH_RESPONSE, data: rng.bytes(8) },
    { type: FrameType.CONNECTION_CLOSE, application: false, errorCode: rng.int(0x20), frameType: rng.int(0x20), reason: data() },
    { type: FrameType.CONNECTION_CLOSE, application: true, errorCode: small(), frameType: 0, reason: data() },
    { type: FrameType.HANDSHAKE_DONE },
    { type: FrameType.RESET_STREAM_AT, streamId: 4 * rng.int(100), errorCode: small(), finalSize: 5000, reliableSize: 1000 },
    { type: FrameType.DATAGRAM, data: data(), hasLength: true },
  ];
}

function framePayloadCorpus(rng: Prng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of APPENDIX) {
    const payload = v.payload ?? v.payloadFrames;
    if (payload !== undefined) out.push(fromHex(payload));
  }
  for (let i = 0; i < 300; i++) {
    const pool = sampleFrames(rng);
    const w = new ByteWriter(256);
    const count = 1 + rng.int(5);
    for (let k = 0; k < count; k++) writeFrame(w, rng.pick(pool));
    // Frames whose data runs to the end of the packet can only come last.
    if (rng.chance(0.2)) writeFrame(w, { type: FrameType.STREAM, streamId: 8, offset: 3, data: rng.bytes(rng.int(30)), fin: false, hasLength: false });
    else if (rng.chance(0.1)) writeFrame(w, { type: FrameType.DATAGRAM, data: rng.bytes(rng.int(30)), hasLength: false });
    out.push(w.toBytes());
  }
  return out;
}

const tpSenders = new Map<Uint8Array, 'client' | 'server'>();

function transportParameterCorpus(rng: Prng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const server = rng.chance(0.5);
    const encoded = encodeTransportParameters(
      {
        maxIdleTimeout: rng.int(60_000),
        maxUdpPayloadSize: 1200 + rng.int(64_000),
        initialMaxData: rng.u32(),
        initialMaxStreamDataBidiLocal: rng.int(1 << 24),
        initialMaxStreamDataBidiRemote: rng.int(1 << 24),
        initialMaxStreamDataUni: rng.int(1 << 24),
        initialMaxStreamsBidi: rng.int(1000),
        initialMaxStreamsUni: rng.int(1000),
        ackDelayExponent: rng.int(21),
        maxAckDelay: rng.int(1 << 14),
        disableActiveMigration: rng.chance(0.5),
        activeConnectionIdLimit: 2 + rng.int(8),
        // RFC 9000 §18.2: a server with a zero-length CID sends no preferred_address; keep it non-empty there.
        initialSourceConnectionId: rng.bytes(server ? 1 + rng.int(20) : rng.int(21)),
        maxDatagramFrameSize: rng.chance(0.5) ? 0 : rng.int(65_536),
        greaseQuicBit: rng.chance(0.5),
        resetStreamAt: rng.chance(0.3),
        versionInformation: rng.chance(0.5) ? { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1, QUIC_V2] } : undefined,
        ...(server
          ? {
              originalDestinationConnectionId: rng.bytes(8 + rng.int(13)),
              statelessResetToken: rng.bytes(16),
              retrySourceConnectionId: rng.chance(0.3) ? rng.bytes(rng.int(21)) : undefined,
              preferredAddress: rng.chance(0.3)
                ? { ipv4Address: rng.bytes(4), ipv4Port: rng.int(65_536), ipv6Address: rng.bytes(16), ipv6Port: rng.int(65_536), connectionId: rng.bytes(1 + rng.int(20)), statelessResetToken: rng.bytes(16) }
                : undefined,
            }
          : {}),
      },
      { greaseRandom: (n) => rng.bytes(n) },
    );
    out.push(encoded);
    tpSenders.set(encoded, server ? 'server' : 'client');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Targets

function fuzzHeader(log: FailureLog, input: Uint8Array, rng: Prng): void {
  const offset = rng.chance(0.8) ? 0 : rng.int(input.length + 1);
  const options = { shortDcidLength: rng.chance(0.5) ? 8 : rng.int(MAX_CID_LENGTH + 1), allowClearedFixedBit: rng.chance(0.2) };
  try {
    const h = parsePacketHeader(input, offset, input.length, options);
    // What it returns stays inside the input and is self-consistent.
    const ok =
      h.start === offset &&
      h.end > h.start &&
      h.end <= input.length &&
      h.packet.length === h.end - h.start &&
      (h.pnOffset === -1 ? h.type === PacketType.RETRY || h.type === PacketType.VERSION_NEGOTIATION : h.pnOffset > h.start && h.pnOffset + MIN_PROTECTED_LENGTH <= h.end && h.length === h.end - h.pnOffset) &&
      (h.type === PacketType.VERSION_NEGOTIATION || (h.dcid.length <= MAX_CID_LENGTH && h.scid.length <= MAX_CID_LENGTH));
    if (ok) log.accepted++;
    else log.fail('header', input, `inconsistent header at offset ${offset}: ${JSON.stringify({ ...h, packet: undefined, dcid: h.dcid.length, scid: h.scid.length, token: h.token.length })}`);
  } catch (e) {
    log.check('header', input, e, [TransportErrorCode.PROTOCOL_VIOLATION]);
  }
  try {
    const inv = parseInvariantHeader(input, options.shortDcidLength);
    if (inv.dcid.length > 255 || inv.scid.length > 255) log.fail('invariants', input, 'CID longer than 255');
  } catch (e) {
    log.check('invariants', input, e, [TransportErrorCode.PROTOCOL_VIOLATION], false);
  }
}

const coalescedReaders = [new CoalescedPacketReader({ shortDcidLength: 8 }), new CoalescedPacketReader({ shortDcidLength: 0, allowClearedFixedBit: true })];

function fuzzCoalesced(log: FailureLog, input: Uint8Array, rng: Prng): void {
  const reader = rng.pick(coalescedReaders).reset(input);
  try {
    let last = 0;
    // At most one packet per byte, plus the final undefined.
    for (let i = 0; i <= input.length + 1; i++) {
      const h = reader.next();
      if (h === undefined) break;
      if (h.start < last || h.end <= h.start || h.end > input.length) {
        log.fail('coalesced', input, `packet ${i} out of order or bounds: ${h.start}..${h.end} after ${last}`);
        break;
      }
      last = h.end;
    }
    if (reader.error !== undefined) log.check('coalesced.error', input, reader.error, [TransportErrorCode.PROTOCOL_VIOLATION]);
    if (last > 0) log.accepted++;
  } catch (e) {
    // The reader itself never throws: a QuicError from a packet ends iteration instead.
    log.fail('coalesced', input, `reader threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

function fuzzFrames(log: FailureLog, input: Uint8Array, rng: Prng): void {
  // Half the time 1-RTT, where every frame type is allowed and the frame decoders are reached.
  const packetType = rng.chance(0.5) ? PacketType.ONE_RTT : rng.pick(PACKET_TYPES);
  try {
    const frames = parseFrames(input, packetType);
    if (!Array.isArray(frames) || frames.length === 0) log.fail('frames', input, 'parseFrames returned no frames without throwing');
    else log.accepted++;
  } catch (e) {
    log.check(`frames(packetType ${packetType})`, input, e);
  }
}

function fuzzTransportParameters(log: FailureLog, input: Uint8Array, rng: Prng): void {
  const sender = rng.chance(0.5) ? 'client' : 'server';
  try {
    decodeTransportParameters(input, sender);
    log.accepted++;
  } catch (e) {
    log.check(`transport-params(${sender})`, input, e, [TransportErrorCode.TRANSPORT_PARAMETER_ERROR]);
  }
}

function run(name: string, count: number, corpus: Uint8Array[], extra: ((rng: Prng) => Uint8Array) | undefined, target: (log: FailureLog, input: Uint8Array, rng: Prng) => void): void {
  // One generator per target, derived from the run seed, so targets replay independently.
  const rng = createPrng((SEED ^ hashName(name)) >>> 0);
  const log = new FailureLog();
  for (let i = 0; i < count; i++) {
    const pick = rng.int(10);
    let input: Uint8Array;
    if (pick < 2) input = randomBytes(rng);
    else if (pick < 3 && extra !== undefined) input = extra(rng);
    else if (pick < 4) input = rng.pick(corpus);
    else input = mutate(rng, rng.pick(corpus), corpus);
    target(log, input, rng);
  }
  console.log(`[fuzz] ${name}: ${count} inputs, ${log.accepted} accepted, ${log.rejected} rejected with a QuicError, ${log.count} failing`);
  log.assertNone();
  // The corpus and mutations must reach both outcomes, or the run proves little.
  assert.ok(log.accepted >= count / 50, `${name}: only ${log.accepted} inputs accepted`);
  assert.ok(log.rejected >= count / 50, `${name}: only ${log.rejected} inputs rejected`);
}

function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------

const corpusRng = createPrng(SEED);
const packets = packetCorpus(corpusRng);
const framePayloads = framePayloadCorpus(corpusRng);
const transportParameters = transportParameterCorpus(corpusRng);

test('the harness flags anything but a QuicError with a transport error code', () => {
  const log = new FailureLog();
  const input = new Uint8Array([1, 2]);
  log.check('t', input, new TypeError('boom'));
  log.check('t', input, new RangeError('boom'));
  log.check('t', input, 'a string');
  log.check('t', input, new QuicError(0x99, 'no such code'));
  log.check('t', input, new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'wrong code'), [TransportErrorCode.PROTOCOL_VIOLATION]);
  assert.is(log.count, 5);
  assert.is(log.failures[0]!.input, '0102');
  log.check('t', input, new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'fine'), [TransportErrorCode.PROTOCOL_VIOLATION]);
  log.check('t', input, new QuicError(0x128, 'CRYPTO_ERROR is a transport code'));
  assert.is(log.count, 5);
  assert.is(log.rejected, 2);
});

test('seed corpora are valid: every seed parses', () => {
  // The appendix short-header packet has an empty DCID; the generated ones use 8 bytes.
  for (const p of packets) parsePacketHeader(p, 0, p.length, { shortDcidLength: appendixPackets.includes(p) ? 0 : 8 });
  for (const p of framePayloads) parseFrames(p, PacketType.ONE_RTT);
  for (const t of transportParameters) decodeTransportParameters(t, tpSenders.get(t)!);
});

test(`packet header parser and invariant view: ${HEADER_INPUTS} inputs throw only QuicError(PROTOCOL_VIOLATION)`, () => {
  run('header', HEADER_INPUTS, packets, structuredHeader, fuzzHeader);
});

test(`coalesced datagram reader: ${COALESCED_INPUTS} inputs never throw, stop on QuicError`, () => {
  run('coalesced', COALESCED_INPUTS, packets, structuredHeader, fuzzCoalesced);
});

test(`frame parser: ${FRAME_INPUTS} payloads throw only QuicError with a transport error code`, () => {
  run('frames', FRAME_INPUTS, framePayloads, structuredFrames, fuzzFrames);
});

test(`transport parameter decoder: ${TRANSPORT_PARAMETER_INPUTS} inputs throw only QuicError(TRANSPORT_PARAMETER_ERROR)`, () => {
  run('transport-params', TRANSPORT_PARAMETER_INPUTS, transportParameters, structuredTransportParameters, fuzzTransportParameters);
});

test.run();
