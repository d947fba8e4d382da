/**
 * The entry an application imports, `@purequic/quic`, holds the application API and nothing of
 * the protocol core (issue 14: it exported 220 names, `LossRecovery` and `ByteReader` among them);
 * the core is at `@purequic/quic/sans-io`. A name added to either entry is a decision: this list
 * changes with it.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as quic from '@purequic/quic';
import * as sansIo from '@purequic/quic/sans-io';

test('@purequic/quic exports exactly the application API (runtime names)', () => {
  assert.equal(Object.keys(quic).sort(), [
    'ConnectionClosedError',
    'DEFAULT_TRANSPORT_SETTINGS',
    'QUIC_V1',
    'QUIC_V2',
    'QuicConnectError',
    'QuicConnection',
    'QuicEndpoint',
    'QuicError',
    'QuicStream',
    'QuicStreamError',
    'TlsAlert',
    'TlsCipherSuite',
    'TransportErrorCode',
    'describeClose',
    'generateSelfSignedCertificate',
    'getCryptoProvider',
    'tlsAlertName',
    'transportErrorName',
  ]);
});

test('@purequic/quic/sans-io holds the core the main entry leaves out', () => {
  for (const name of ['Connection', 'LossRecovery', 'SentPacketTracker', 'ByteReader', 'parseFrames', 'Simulator', 'createTlsClient', 'QuicError']) {
    assert.ok(name in sansIo, `${name} missing from @purequic/quic/sans-io`);
    if (name !== 'QuicError') assert.not.ok(name in quic, `${name} leaked into @purequic/quic`);
  }
  // The same class objects from both entries (instanceof works across them).
  assert.is(quic.QuicError, sansIo.QuicError);
});

test.run();
