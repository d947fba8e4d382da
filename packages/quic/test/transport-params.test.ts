import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteReader } from '../src/codec/reader.js';
import { ByteWriter } from '../src/codec/writer.js';
import { QuicError, TransportErrorCode } from '../src/errors.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  TransportParameterId,
  type TransportParameters,
} from '../src/transport-params.js';
import { createPrng } from './helpers/prng.js';
import { fromHex, toHex } from './helpers/vectors.js';

const TPE = TransportErrorCode.TRANSPORT_PARAMETER_ERROR;
const seq = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

function expectTpError(fn: () => unknown, label: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(QuicError.is(e), `${label}: expected QuicError, got ${String(e)}`);
    assert.is((e as QuicError).code, TPE, `${label}: ${(e as QuicError).message}`);
    return;
  }
  assert.unreachable(`${label}: should have thrown`);
}

/** Raw encoding of (id, value) pairs, for inputs our encoder would never produce. */
function raw(...params: [id: number | bigint, value: Uint8Array][]): Uint8Array {
  const w = new ByteWriter(64);
  for (const [id, value] of params) {
    if (typeof id === 'bigint') w.varintBig(id);
    else w.varint(id);
    w.varintPrefixed(value);
  }
  return w.toBytes();
}
const varintBytes = (v: number, len?: 1 | 2 | 4 | 8): Uint8Array => new ByteWriter(8).varint(v, len).toBytes();
const ISCID: [number, Uint8Array] = [TransportParameterId.initial_source_connection_id, seq(4)];
const ODCID: [number, Uint8Array] = [TransportParameterId.original_destination_connection_id, seq(8)];

const FULL_SERVER: TransportParameters = {
  originalDestinationConnectionId: seq(8, 0x10),
  maxIdleTimeout: 30_000,
  statelessResetToken: seq(16, 0x80),
  maxUdpPayloadSize: 1452,
  initialMaxData: 10_000_000,
  initialMaxStreamDataBidiLocal: 1_000_000,
  initialMaxStreamDataBidiRemote: 1_000_001,
  initialMaxStreamDataUni: 1_000_002,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 2 ** 60,
  ackDelayExponent: 20,
  maxAckDelay: 2 ** 14 - 1,
  disableActiveMigration: true,
  preferredAddress: {
    ipv4Address: Uint8Array.of(192, 0, 2, 1),
    ipv4Port: 4433,
    ipv6Address: seq(16, 0x20),
    ipv6Port: 443,
    connectionId: seq(20, 0x40),
    statelessResetToken: seq(16, 0x60),
  },
  activeConnectionIdLimit: 8,
  initialSourceConnectionId: seq(5, 0xa0),
  retrySourceConnectionId: seq(12, 0xb0),
  maxDatagramFrameSize: 65535,
  versionInformation: { chosenVersion: 1, availableVersions: [0x6b3343cf, 1, 0x0a0a0a0a] },
  greaseQuicBit: true,
  resetStreamAt: true,
};

test('§18: a fully populated server set round-trips, and re-encodes byte-identically', () => {
  const bytes = encodeTransportParameters(FULL_SERVER);
  const decoded = decodeTransportParameters(bytes, 'server');
  assert.equal(decoded, FULL_SERVER);
  assert.is(toHex(encodeTransportParameters(decoded)), toHex(bytes));
});

test('§18: a client set (no server-only parameters) round-trips', () => {
  const client: TransportParameters = {
    ...FULL_SERVER,
    originalDestinationConnectionId: undefined,
    statelessResetToken: undefined,
    preferredAddress: undefined,
    retrySourceConnectionId: undefined,
    versionInformation: { chosenVersion: 1, availableVersions: [1, 0x6b3343cf] },
  };
  assert.equal(decodeTransportParameters(encodeTransportParameters(client), 'client'), client);
});

test('§18.2: defaults apply to absent parameters; defaults are not sent', () => {
  const minimal = encodeTransportParameters({ initialSourceConnectionId: new Uint8Array(0) });
  // Only initial_source_connection_id (0x0f), zero-length: a client may use an empty CID.
  assert.is(toHex(minimal), '0f00');
  const p = decodeTransportParameters(minimal, 'client');
  assert.equal(p, { ...defaultTransportParameters(), initialSourceConnectionId: new Uint8Array(0) });
  assert.is(p.maxUdpPayloadSize, 65527);
  assert.is(p.ackDelayExponent, 3);
  assert.is(p.maxAckDelay, 25);
  assert.is(p.activeConnectionIdLimit, 2);
  assert.is(p.initialMaxData, 0);
  assert.is(p.maxDatagramFrameSize, 0);
  assert.is(p.resetStreamAt, false);
  // Values explicitly equal to the default on the wire decode the same.
  const explicit = raw(ISCID, [0x03, varintBytes(65527)], [0x0a, varintBytes(3)], [0x0b, varintBytes(25)], [0x0e, varintBytes(2)]);
  assert.equal(decodeTransportParameters(explicit, 'client'), decodeTransportParameters(raw(ISCID), 'client'));
});

test('exact bytes: integer parameters are (id, length, varint value) per §18', () => {
  const bytes = encodeTransportParameters({ initialSourceConnectionId: fromHex('c0ffee'), maxIdleTimeout: 30_000, initialMaxStreamsBidi: 100 });
  // 01 04 80007530 | 08 02 4064 | 0f 03 c0ffee
  assert.is(toHex(bytes), '01048000753008024064' + '0f03c0ffee');
});

test('§18.2: integer values are accepted in any varint length but must fill the parameter exactly', () => {
  const p = decodeTransportParameters(raw(ISCID, [0x04, varintBytes(5, 8)]), 'client');
  assert.is(p.initialMaxData, 5);
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x04, Uint8Array.of(0x05, 0x00)]), 'client'), 'extra byte');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x04, new Uint8Array(0)]), 'client'), 'empty integer');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x04, Uint8Array.of(0x40)]), 'client'), 'truncated integer');
});

test('§7.4: a duplicated parameter is TRANSPORT_PARAMETER_ERROR (known, unknown and reserved ones)', () => {
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x04, varintBytes(1)], [0x04, varintBytes(1)]), 'client'), 'known');
  expectTpError(() => decodeTransportParameters(raw(ISCID, ISCID), 'client'), 'cid');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x4000, seq(1)], [0x4000, seq(2)]), 'client'), 'unknown');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [27, seq(1)], [27, seq(1)]), 'client'), 'reserved');
  // Two different ids above 2^53 that round to the same double are not duplicates.
  decodeTransportParameters(raw(ISCID, [2n ** 62n - 1n, seq(1)], [2n ** 62n - 2n, seq(1)]), 'client');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [2n ** 62n - 1n, seq(1)], [2n ** 62n - 1n, seq(1)]), 'client'), 'huge');
});

test('§18.2: values out of range are TRANSPORT_PARAMETER_ERROR, the limits themselves are accepted', () => {
  const cases: [name: string, id: number, bad: number | bigint, good: number | bigint][] = [
    ['max_udp_payload_size < 1200', 0x03, 1199, 1200],
    ['ack_delay_exponent > 20', 0x0a, 21, 20],
    ['max_ack_delay >= 2^14', 0x0b, 2 ** 14, 2 ** 14 - 1],
    ['active_connection_id_limit < 2', 0x0e, 1, 2],
    ['active_connection_id_limit 0', 0x0e, 0, 3],
    ['initial_max_streams_bidi > 2^60', 0x08, 2n ** 60n + 1n, 2n ** 60n],
    ['initial_max_streams_uni > 2^60', 0x09, 2n ** 62n - 1n, 2n ** 60n],
  ];
  for (const [name, id, bad, good] of cases) {
    const enc = (v: number | bigint) => (typeof v === 'bigint' ? new ByteWriter(8).varintBig(v).toBytes() : varintBytes(v));
    expectTpError(() => decodeTransportParameters(raw(ISCID, [id, enc(bad)]), 'client'), name);
    decodeTransportParameters(raw(ISCID, [id, enc(good)]), 'client');
  }
});

test('wrong lengths: tokens, empty-valued flags, connection IDs, preferred_address', () => {
  const server = (...params: [number | bigint, Uint8Array][]) => () => decodeTransportParameters(raw(ISCID, ODCID, ...params), 'server');
  expectTpError(server([0x02, seq(15)]), 'stateless_reset_token 15 bytes');
  expectTpError(server([0x02, seq(17)]), 'stateless_reset_token 17 bytes');
  expectTpError(server([0x0c, seq(1)]), 'disable_active_migration with a value');
  expectTpError(server([0x2ab2, seq(1)]), 'grease_quic_bit with a value');
  expectTpError(server([0x1d, seq(1)]), 'reset_stream_at with a value');
  expectTpError(server([0x17f7586d2cb571, seq(1)]), 'reset_stream_at (draft-07) with a value');
  expectTpError(server([0x10, seq(21)]), 'retry_source_connection_id 21 bytes');
  expectTpError(() => decodeTransportParameters(raw([0x0f, seq(21)]), 'client'), 'initial_source_connection_id 21 bytes');
  expectTpError(() => decodeTransportParameters(raw(ISCID, [0x00, seq(21)]), 'server'), 'original_destination_connection_id 21 bytes');
  const pa = (cidLength: number, tail = 16) => {
    const w = new ByteWriter(64);
    w.bytes(seq(4)).u16(1).bytes(seq(16)).u16(2).u8(cidLength).bytes(seq(cidLength)).bytes(seq(tail));
    return w.toBytes();
  };
  assert.is(decodeTransportParameters(raw(ISCID, ODCID, [0x0d, pa(8)]), 'server').preferredAddress?.connectionId.length, 8);
  expectTpError(server([0x0d, pa(0)]), 'preferred_address zero-length CID');
  expectTpError(server([0x0d, pa(21)]), 'preferred_address 21-byte CID');
  expectTpError(server([0x0d, pa(8, 15)]), 'preferred_address short token');
  expectTpError(server([0x0d, pa(8, 17)]), 'preferred_address trailing byte');
  expectTpError(server([0x0d, seq(10)]), 'preferred_address truncated');
});

test('§18.2: server-only parameters from a client are TRANSPORT_PARAMETER_ERROR', () => {
  const serverOnly: [string, [number, Uint8Array]][] = [
    ['original_destination_connection_id', ODCID],
    ['stateless_reset_token', [0x02, seq(16)]],
    ['preferred_address', [0x0d, encodeTransportParameters({ preferredAddress: FULL_SERVER.preferredAddress }).subarray(2)]],
    ['retry_source_connection_id', [0x10, seq(8)]],
  ];
  for (const [name, param] of serverOnly) {
    expectTpError(() => decodeTransportParameters(raw(ISCID, param), 'client'), name);
    decodeTransportParameters(raw(ISCID, ODCID, ...(param === ODCID ? [] : [param])), 'server');
  }
});

test('§7.3: initial_source_connection_id is mandatory, original_destination_connection_id too from a server', () => {
  expectTpError(() => decodeTransportParameters(new Uint8Array(0), 'client'), 'client without ISCID');
  expectTpError(() => decodeTransportParameters(raw(ODCID), 'server'), 'server without ISCID');
  expectTpError(() => decodeTransportParameters(raw(ISCID), 'server'), 'server without ODCID');
  // §18.2: a server with a zero-length connection ID cannot offer a preferred address.
  const bytes = encodeTransportParameters({ ...FULL_SERVER, initialSourceConnectionId: new Uint8Array(0) });
  expectTpError(() => decodeTransportParameters(bytes, 'server'), 'preferred_address with empty SCID');
});

test('RFC 9368 §4: version_information parsing failures', () => {
  const vi = (...versions: number[]) => {
    const w = new ByteWriter(16);
    for (const v of versions) w.u32(v);
    return w.toBytes();
  };
  const client = (value: Uint8Array) => () => decodeTransportParameters(raw(ISCID, [0x11, value]), 'client');
  const server = (value: Uint8Array) => () => decodeTransportParameters(raw(ISCID, ODCID, [0x11, value]), 'server');
  expectTpError(client(new Uint8Array(0)), 'empty');
  expectTpError(client(seq(6)), 'length not a multiple of 4');
  expectTpError(client(vi(0, 1)), 'Chosen Version 0');
  expectTpError(client(vi(1, 0, 1)), 'Available Version 0');
  expectTpError(client(vi(1, 0x6b3343cf)), 'client Chosen Version not in Available Versions');
  assert.equal(client(vi(1, 0x6b3343cf, 1))().versionInformation, { chosenVersion: 1, availableVersions: [0x6b3343cf, 1] });
  // A server's Available Versions may omit the chosen one, or be empty.
  assert.equal(server(vi(1))().versionInformation, { chosenVersion: 1, availableVersions: [] });
  assert.equal(server(vi(1, 0x6b3343cf))().versionInformation, { chosenVersion: 1, availableVersions: [0x6b3343cf] });
});

test('reset_stream_at: both codepoints are accepted, alone or together, and the encoder sends both', () => {
  for (const ids of [[0x1d], [0x17f7586d2cb571], [0x1d, 0x17f7586d2cb571]]) {
    const p = decodeTransportParameters(raw(ISCID, ...ids.map((id): [number, Uint8Array] => [id, new Uint8Array(0)])), 'client');
    assert.is(p.resetStreamAt, true, ids.join());
  }
  const bytes = encodeTransportParameters({ initialSourceConnectionId: new Uint8Array(0), resetStreamAt: true });
  const r = new ByteReader(bytes);
  const ids: number[] = [];
  for (let i = 0; i < 10 && !r.isEmpty(); i++) {
    ids.push(r.varint());
    r.varintPrefixed();
  }
  assert.equal(ids, [0x0f, 0x1d, 0x17f7586d2cb571]);
  assert.is(toHex(bytes), '0f00' + '1d00' + 'c017f7586d2cb571' + '00');
});

test('§18.1: greasing adds one reserved parameter 31*N+27 chosen by the injected random, ignored by the decoder', () => {
  const prng = createPrng(42);
  const params = { initialSourceConnectionId: seq(3), initialMaxData: 1000 };
  const plain = encodeTransportParameters(params);
  for (let i = 0; i < 50; i++) {
    const greased = encodeTransportParameters(params, { greaseRandom: (n) => prng.bytes(n) });
    assert.ok(greased.length > plain.length);
    assert.is(toHex(greased.subarray(0, plain.length)), toHex(plain), 'grease goes last');
    const r = new ByteReader(greased, plain.length);
    const id = r.varint();
    const value = r.varintPrefixed();
    assert.ok(r.isEmpty());
    assert.is((id - 27) % 31, 0, `id ${id}`);
    assert.ok(value.length <= 15);
    assert.equal(decodeTransportParameters(greased, 'client'), decodeTransportParameters(plain, 'client'));
  }
  // Same random, same bytes: the encoder adds no randomness of its own.
  const fixed = (n: number) => new Uint8Array(n).fill(3);
  assert.is(toHex(encodeTransportParameters(params, { greaseRandom: fixed })), toHex(encodeTransportParameters(params, { greaseRandom: fixed })));
});

test('§7.4.2: unknown and reserved parameters are ignored', () => {
  const bytes = raw(ISCID, [27, seq(5)], [0x21, seq(3)], [0x3fff, new Uint8Array(0)], [0xff73db, seq(1)], [2n ** 62n - 1n, seq(200)], [0x04, varintBytes(7)]);
  const p = decodeTransportParameters(bytes, 'client');
  assert.equal(p, { ...defaultTransportParameters(), initialSourceConnectionId: seq(4), initialMaxData: 7 });
});

test('decoded byte values are copies, independent of the input buffer', () => {
  const bytes = encodeTransportParameters(FULL_SERVER);
  const p = decodeTransportParameters(bytes, 'server');
  bytes.fill(0);
  assert.equal(p, FULL_SERVER);
});

test('truncation at every byte and seeded mutations: only QuicError(TRANSPORT_PARAMETER_ERROR)', () => {
  const full = encodeTransportParameters(FULL_SERVER, { greaseRandom: (n) => seq(n, 7) });
  for (let cut = 0; cut < full.length; cut++) {
    for (const sender of ['client', 'server'] as const) {
      try {
        decodeTransportParameters(full.subarray(0, cut), sender);
      } catch (e) {
        assert.ok(QuicError.is(e), `cut ${cut}: ${String(e)}`);
        assert.is((e as QuicError).code, TPE);
      }
    }
  }
  const seed = Number(process.env.TP_FUZZ_SEED ?? 0x7a9);
  const rng = createPrng(seed);
  let accepted = 0;
  for (let i = 0; i < 5_000; i++) {
    const input = full.slice(0, rng.chance(0.3) ? rng.int(full.length + 1) : full.length);
    for (let m = 0, n = 1 + rng.int(3); m < n && input.length > 0; m++) input[rng.int(input.length)] = rng.int(256);
    try {
      const p = decodeTransportParameters(input, rng.chance(0.5) ? 'client' : 'server');
      accepted++;
      // Whatever is accepted can be sent back out.
      encodeTransportParameters(p);
    } catch (e) {
      if (!QuicError.is(e)) assert.unreachable(`seed ${seed} iteration ${i}: ${String(e)}`);
      assert.is((e as QuicError).code, TPE);
    }
  }
  assert.ok(accepted > 0);
});

test('the encoder refuses invalid values of our own with RangeError', () => {
  const base = { initialSourceConnectionId: seq(4) };
  assert.throws(() => encodeTransportParameters({ ...base, maxUdpPayloadSize: 1000 }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, ackDelayExponent: 21 }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, maxAckDelay: 2 ** 14 }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, activeConnectionIdLimit: 1 }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, initialMaxStreamsBidi: 2 ** 61 }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, statelessResetToken: seq(15) }), RangeError);
  assert.throws(() => encodeTransportParameters({ initialSourceConnectionId: seq(21) }), RangeError);
  assert.throws(() => encodeTransportParameters({ ...base, versionInformation: { chosenVersion: 0, availableVersions: [] } }), RangeError);
});

test.run();
