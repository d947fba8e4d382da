/**
 * The test-only record layer checked byte-for-byte against RFC 8448 §3: a replay of the trace's
 * engine outputs (the messages and traffic secrets the RFC lists) must produce exactly the RFC's
 * records, and the RFC's records must decrypt to exactly its messages. Then the record-level
 * rules of RFC 8446 §5 that do not need a handshake engine.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import { nobleSymmetric } from '../../src/crypto/noble.js';
import { nodeSymmetric } from '../../src/crypto/node.js';
import type { SymmetricCrypto } from '../../src/crypto/provider.js';
import { TlsAlert, TlsAlertError } from '../../src/tls/alert.js';
import type { TlsOutput } from '../../src/tls/engine-api.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';
import { TlsPeerAlertError, TlsRecordLayer, type TlsEngineLike } from './record-layer.js';
import { hkdfExpandLabel } from '../../src/crypto/keys.js';

interface Rfc8448Records {
  source: string;
  clientHelloRecord: string;
  clientHello: string;
  serverHello: string;
  serverHelloRecord: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
  serverHandshakeWriteKey: string;
  serverHandshakeWriteIv: string;
  serverFlight: string;
  serverFlightRecord: string;
  clientFinished: string;
  clientFinishedRecord: string;
  newSessionTicket: string;
  newSessionTicketRecord: string;
  applicationData: string;
  clientApplicationDataRecord: string;
  serverApplicationDataRecord: string;
  closeNotify: string;
  clientAlertRecord: string;
  serverAlertRecord: string;
}
const v = loadVectors<Rfc8448Records>('rfc8448-3-records.json');
const SUITE = 0x1301;

const providers: [string, SymmetricCrypto][] = [
  ['noble', nobleSymmetric],
  ['node', nodeSymmetric],
];

function secret(level: EncryptionLevel, direction: 'read' | 'write', hex: string): TlsOutput {
  return { kind: 'secret', level, direction, secret: fromHex(hex), cipherSuite: SUITE };
}

function data(level: EncryptionLevel, hex: string): TlsOutput {
  return { kind: 'handshake-data', level, data: fromHex(hex) };
}

/**
 * Replays the engine side of the RFC 8448 trace: what it "produces" on start and after each
 * complete message it is given. It records every byte handed to it, per level.
 */
class TraceReplay implements TlsEngineLike {
  readonly received = new Map<number, string>();
  readonly #queue: TlsOutput[] = [];
  readonly #onStart: TlsOutput[];
  readonly #afterInput: { level: EncryptionLevel; hex: string; outputs: TlsOutput[] }[];

  constructor(onStart: TlsOutput[], afterInput: { level: EncryptionLevel; hex: string; outputs: TlsOutput[] }[]) {
    this.#onStart = onStart;
    this.#afterInput = afterInput;
  }

  start(): void {
    this.#queue.push(...this.#onStart);
  }

  receive(level: EncryptionLevel, bytes: Uint8Array): void {
    const all = (this.received.get(level) ?? '') + toHex(bytes);
    this.received.set(level, all);
    const next = this.#afterInput[0];
    if (next !== undefined && next.level === level && all.endsWith(next.hex)) {
      this.#afterInput.shift();
      this.#queue.push(...next.outputs);
    }
  }

  poll(): TlsOutput | undefined {
    return this.#queue.shift();
  }
}

function serverReplay(): TraceReplay {
  return new TraceReplay(
    [],
    [
      {
        level: EncryptionLevel.INITIAL,
        hex: v.clientHello,
        outputs: [
          data(EncryptionLevel.INITIAL, v.serverHello),
          secret(EncryptionLevel.HANDSHAKE, 'write', v.serverHandshakeTrafficSecret),
          secret(EncryptionLevel.HANDSHAKE, 'read', v.clientHandshakeTrafficSecret),
          data(EncryptionLevel.HANDSHAKE, v.serverFlight),
          secret(EncryptionLevel.APPLICATION, 'write', v.serverApplicationTrafficSecret),
        ],
      },
      {
        level: EncryptionLevel.HANDSHAKE,
        hex: v.clientFinished,
        outputs: [
          secret(EncryptionLevel.APPLICATION, 'read', v.clientApplicationTrafficSecret),
          { kind: 'handshake-complete' },
          data(EncryptionLevel.APPLICATION, v.newSessionTicket),
        ],
      },
    ],
  );
}

function clientReplay(): TraceReplay {
  return new TraceReplay(
    [data(EncryptionLevel.INITIAL, v.clientHello)],
    [
      {
        level: EncryptionLevel.INITIAL,
        hex: v.serverHello,
        outputs: [
          secret(EncryptionLevel.HANDSHAKE, 'write', v.clientHandshakeTrafficSecret),
          secret(EncryptionLevel.HANDSHAKE, 'read', v.serverHandshakeTrafficSecret),
        ],
      },
      {
        level: EncryptionLevel.HANDSHAKE,
        hex: v.serverFlight,
        outputs: [
          data(EncryptionLevel.HANDSHAKE, v.clientFinished),
          secret(EncryptionLevel.APPLICATION, 'write', v.clientApplicationTrafficSecret),
          secret(EncryptionLevel.APPLICATION, 'read', v.serverApplicationTrafficSecret),
          { kind: 'handshake-complete' },
        ],
      },
    ],
  );
}

function layer(engine: TlsEngineLike, crypto: SymmetricCrypto) {
  const sent: string[] = [];
  const appData: string[] = [];
  const state = { complete: false, closed: false, error: undefined as Error | undefined };
  const l = new TlsRecordLayer(engine, crypto, {
    transmit: (bytes) => sent.push(toHex(bytes)),
    handshakeComplete: () => (state.complete = true),
    applicationData: (d) => appData.push(toHex(d)),
    closed: (error) => {
      state.closed = true;
      state.error = error;
    },
  });
  return { layer: l, sent, appData, state };
}

for (const [name, crypto] of providers) {
  test(`${name}: RFC 8446 §7.3 key and iv from the server handshake secret match RFC 8448`, () => {
    const s = fromHex(v.serverHandshakeTrafficSecret);
    assert.is(toHex(hkdfExpandLabel(crypto, 'sha256', s, 'key', new Uint8Array(0), 16)), v.serverHandshakeWriteKey);
    assert.is(toHex(hkdfExpandLabel(crypto, 'sha256', s, 'iv', new Uint8Array(0), 12)), v.serverHandshakeWriteIv);
  });

  test(`${name}: server side of RFC 8448 §3 produces the RFC's records byte for byte`, () => {
    const engine = serverReplay();
    const s = layer(engine, crypto);
    s.layer.start();
    assert.equal(s.sent, []);
    s.layer.receive(fromHex(v.clientHelloRecord));
    assert.is(engine.received.get(EncryptionLevel.INITIAL), v.clientHello);
    assert.equal(s.sent, [v.serverHelloRecord, v.serverFlightRecord]);
    s.layer.receive(fromHex(v.clientFinishedRecord));
    assert.is(engine.received.get(EncryptionLevel.HANDSHAKE), v.clientFinished, 'Finished decrypted with client handshake keys');
    assert.ok(s.state.complete);
    assert.equal(s.sent.slice(2), [v.newSessionTicketRecord]);
    s.layer.receive(fromHex(v.clientApplicationDataRecord));
    assert.equal(s.appData, [v.applicationData]);
    s.layer.writeApplicationData(fromHex(v.applicationData));
    assert.is(s.sent[3], v.serverApplicationDataRecord);
    // §6.1: the client's close_notify is answered with our own, under application keys.
    s.layer.receive(fromHex(v.clientAlertRecord));
    assert.is(s.sent[4], v.serverAlertRecord);
    assert.ok(s.state.closed);
    assert.is(s.state.error, undefined);
  });

  test(`${name}: client side of RFC 8448 §3, with the server's bytes arriving one at a time`, () => {
    const engine = clientReplay();
    const c = layer(engine, crypto);
    c.layer.start();
    // §5.1: the initial ClientHello record may carry legacy_record_version 0x0301, as in the RFC.
    assert.equal(c.sent, [v.clientHelloRecord]);
    const fromServer = fromHex(v.serverHelloRecord + v.serverFlightRecord + v.newSessionTicketRecord + v.serverApplicationDataRecord);
    for (let i = 0; i < fromServer.length; i++) c.layer.receive(fromServer.subarray(i, i + 1));
    assert.is(engine.received.get(EncryptionLevel.INITIAL), v.serverHello);
    assert.is(engine.received.get(EncryptionLevel.HANDSHAKE), v.serverFlight);
    assert.is(engine.received.get(EncryptionLevel.APPLICATION), v.newSessionTicket);
    assert.equal(c.sent.slice(1, 2), [v.clientFinishedRecord]);
    assert.equal(c.appData, [v.applicationData]);
    c.layer.writeApplicationData(fromHex(v.applicationData));
    c.layer.close();
    assert.equal(c.sent.slice(2), [v.clientApplicationDataRecord, v.clientAlertRecord]);
    assert.ok(c.state.closed);
  });

  test(`${name}: §5.2 a flipped ciphertext bit fails with bad_record_mac, sent under handshake keys`, () => {
    const c = layer(clientReplay(), crypto);
    c.layer.start();
    c.layer.receive(fromHex(v.serverHelloRecord));
    const flight = fromHex(v.serverFlightRecord);
    flight[100] = (flight[100] as number) ^ 0x80;
    c.layer.receive(flight);
    assert.ok(c.state.closed);
    assert.instance(c.state.error, TlsAlertError);
    assert.is((c.state.error as TlsAlertError).alert, TlsAlert.BAD_RECORD_MAC);
    // The alert is protected: outer type application_data, 2 + 1 + 16 bytes.
    assert.is(c.sent[1]!.slice(0, 10), '1703030013');
    // The RFC's server can read it: decrypting with the client handshake keys gives alert 20.
    const s = layer(serverReplay(), crypto);
    s.layer.start();
    s.layer.receive(fromHex(v.clientHelloRecord));
    s.layer.receive(fromHex(c.sent[1]!));
    assert.instance(s.state.error, TlsPeerAlertError);
    assert.is((s.state.error as TlsPeerAlertError).alert, TlsAlert.BAD_RECORD_MAC);
  });
}

test('§5: change_cipher_spec 0x01 is dropped before the peer Finished; any other value is unexpected_message', () => {
  const c = layer(clientReplay(), nobleSymmetric);
  c.layer.start();
  c.layer.receive(fromHex(v.serverHelloRecord + '140303000101' + v.serverFlightRecord));
  assert.ok(c.state.complete);
  assert.is(c.layer.changeCipherSpecDropped, 1);

  const bad = layer(clientReplay(), nobleSymmetric);
  bad.layer.start();
  bad.layer.receive(fromHex(v.serverHelloRecord + '140303000102'));
  assert.is((bad.state.error as TlsAlertError).alert, TlsAlert.UNEXPECTED_MESSAGE);
  assert.is(bad.layer.sentAlert, TlsAlert.UNEXPECTED_MESSAGE);
});

test('§5.2: a record longer than 2^14 + 256 is record_overflow', () => {
  const c = layer(clientReplay(), nobleSymmetric);
  c.layer.start();
  c.layer.receive(fromHex(v.serverHelloRecord + '1703034101'));
  assert.is((c.state.error as TlsAlertError).alert, TlsAlert.RECORD_OVERFLOW);
});

test('§5: a plaintext handshake record after handshake keys is unexpected_message', () => {
  const c = layer(clientReplay(), nobleSymmetric);
  c.layer.start();
  c.layer.receive(fromHex(v.serverHelloRecord + v.serverHelloRecord));
  assert.is((c.state.error as TlsAlertError).alert, TlsAlert.UNEXPECTED_MESSAGE);
});

test('§6.2: a plaintext fatal alert from the peer ends the handshake with its description', () => {
  const c = layer(clientReplay(), nobleSymmetric);
  c.layer.start();
  c.layer.receive(fromHex('15030300020228'));
  assert.instance(c.state.error, TlsPeerAlertError);
  assert.is((c.state.error as TlsPeerAlertError).alert, TlsAlert.HANDSHAKE_FAILURE);
  assert.is(c.layer.sentAlert, undefined, 'no alert is sent back for a fatal alert');
});

test.run();
