import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EncryptionLevel } from '../../src/crypto/encryption-level.js';
import type { TlsOutput } from '../../src/tls/engine-api.js';
import { formatKeyLogLine, KEY_LOG_LABELS, KeyLogger } from '../../src/tls/keylog.js';
import { fromHex, loadVectors, toHex } from '../helpers/vectors.js';

interface TraceVectors {
  source: string;
  clientHello: string;
  clientHandshakeTrafficSecret: string;
  serverHandshakeTrafficSecret: string;
  clientApplicationTrafficSecret: string;
  serverApplicationTrafficSecret: string;
}
const rfc = loadVectors<TraceVectors>('rfc8448-3-records.json');
// RFC 8446 §4.1.2: the random follows the 4-byte handshake header and legacy_version.
const clientRandom = fromHex(rfc.clientHello).slice(6, 38);

function entry(label: (typeof KEY_LOG_LABELS)[number], secretHex: string): Extract<TlsOutput, { kind: 'key-log' }> {
  return { kind: 'key-log', label, clientRandom, secret: fromHex(secretHex) };
}

test('RFC 8448 §3: lines are LABEL <client random hex> <secret hex>', () => {
  assert.is(toHex(clientRandom), 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7');
  assert.is(
    formatKeyLogLine(entry('CLIENT_HANDSHAKE_TRAFFIC_SECRET', rfc.clientHandshakeTrafficSecret)),
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${toHex(clientRandom)} ${rfc.clientHandshakeTrafficSecret}`,
  );
  assert.is(
    formatKeyLogLine(entry('SERVER_TRAFFIC_SECRET_0', rfc.serverApplicationTrafficSecret)),
    `SERVER_TRAFFIC_SECRET_0 ${toHex(clientRandom)} ${rfc.serverApplicationTrafficSecret}`,
  );
});

test('a handshake logs four secrets, one newline-terminated line each, in order', () => {
  const lines: string[] = [];
  const logger = new KeyLogger({ write: (line) => lines.push(line) });
  assert.ok(logger.enabled);
  const outputs: TlsOutput[] = [
    entry('CLIENT_HANDSHAKE_TRAFFIC_SECRET', rfc.clientHandshakeTrafficSecret),
    entry('SERVER_HANDSHAKE_TRAFFIC_SECRET', rfc.serverHandshakeTrafficSecret),
    { kind: 'handshake-complete' },
    entry('CLIENT_TRAFFIC_SECRET_0', rfc.clientApplicationTrafficSecret),
    entry('SERVER_TRAFFIC_SECRET_0', rfc.serverApplicationTrafficSecret),
  ];
  const written = outputs.map((o) => logger.log(o));
  assert.equal(written, [true, true, false, true, true]);
  assert.is(lines.length, 4);
  assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
  assert.equal(
    lines.map((l) => l.split(' ')[0]),
    ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0'],
  );
  assert.equal(
    lines.map((l) => l.trimEnd().split(' ')[2]),
    [rfc.clientHandshakeTrafficSecret, rfc.serverHandshakeTrafficSecret, rfc.clientApplicationTrafficSecret, rfc.serverApplicationTrafficSecret],
  );
});

test('off by default: without a sink nothing is written and secrets are not touched', () => {
  const logger = new KeyLogger();
  assert.is(logger.enabled, false);
  assert.is(logger.log(entry('CLIENT_TRAFFIC_SECRET_0', rfc.clientApplicationTrafficSecret)), false);
});

test('non key-log outputs are ignored even with a sink', () => {
  const lines: string[] = [];
  const logger = new KeyLogger({ write: (line) => lines.push(line) });
  const secret: TlsOutput = {
    kind: 'secret',
    level: EncryptionLevel.HANDSHAKE,
    direction: 'write',
    secret: fromHex(rfc.serverHandshakeTrafficSecret),
    cipherSuite: 0x1301,
  };
  assert.is(logger.log(secret), false);
  assert.is(lines.length, 0);
});

test('SHA-384 suites log 48-byte secrets as 96 hex digits', () => {
  const secret = new Uint8Array(48).map((_, i) => i);
  const line = formatKeyLogLine({ label: 'SERVER_HANDSHAKE_TRAFFIC_SECRET', clientRandom, secret });
  assert.is(line.split(' ')[2]!.length, 96);
});

test('a client random that is not 32 bytes, or an empty secret, is a programming error', () => {
  assert.throws(() => formatKeyLogLine({ label: 'CLIENT_TRAFFIC_SECRET_0', clientRandom: new Uint8Array(31), secret: new Uint8Array(32) }), RangeError);
  assert.throws(() => formatKeyLogLine({ label: 'CLIENT_TRAFFIC_SECRET_0', clientRandom, secret: new Uint8Array(0) }), RangeError);
});

test.run();
