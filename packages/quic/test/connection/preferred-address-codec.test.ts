/**
 * preferred_address (RFC 9000 §18.2) as this stack builds and reads it: the parameter's bytes
 * for given addresses (a hand-assembled vector), address text both ways (the IPv6 form must be
 * the one node:dgram reports, so a path's address equals the datagrams' source), the family a
 * client picks (§9.6.1), and the server-only / zero-length CID rules.
 */

import { SocketAddress } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { formatIpv6, parseIpv4, parseIpv6, preferredAddressParameter, preferredTarget } from '../../src/connection/preferred-address.js';
import { QuicError, TransportErrorCode } from '../../src/errors.js';
import { decodeTransportParameters, encodeTransportParameters } from '../../src/transport-params.js';

const CID = fromHex('0102030405060708');
const TOKEN = fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');

test('§18.2 layout: the parameter for 192.0.2.1:4433 and [2001:db8::1]:443, byte for byte', () => {
  const pa = preferredAddressParameter({ ipv4: { address: '192.0.2.1', port: 4433 }, ipv6: { address: '2001:db8::1', port: 443 } }, CID, TOKEN);
  const bytes = encodeTransportParameters({ preferredAddress: pa });
  // id 0x0d, length 4+2+16+2+1+8+16 = 49 (0x31), then the fields in order.
  const expected = '0d31' + 'c0000201' + '1151' + '20010db8000000000000000000000001' + '01bb' + '08' + '0102030405060708' + 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
  assert.is(toHex(bytes), expected);
  const iscid = '0f0411223344' + '0004' + 'deadbeef';
  const p = decodeTransportParameters(fromHex(iscid + expected), 'server');
  assert.equal(p.preferredAddress, pa);
});

test('§18.2: an absent family is all zeros; a client picks the family it uses (§9.6.1)', () => {
  const v4only = preferredAddressParameter({ ipv4: { address: '127.0.0.1', port: 5000 } }, CID, TOKEN);
  assert.equal(v4only.ipv6Address, new Uint8Array(16));
  assert.is(v4only.ipv6Port, 0);
  assert.equal(preferredTarget(v4only, { address: '127.0.0.1', port: 4433 }), { address: '127.0.0.1', port: 5000, family: 'IPv4' });
  // A dual-stack socket reports IPv4 peers as IPv4-mapped addresses: keep that form.
  assert.equal(preferredTarget(v4only, { address: '::ffff:127.0.0.1', port: 4433 }), { address: '::ffff:127.0.0.1', port: 5000, family: 'IPv6' });
  assert.is(preferredTarget(v4only, { address: '::1', port: 4433 }), undefined, 'no IPv6 address offered');
  const both = preferredAddressParameter({ ipv4: { address: '127.0.0.1', port: 5000 }, ipv6: { address: '::1', port: 5001 } }, CID, TOKEN);
  assert.equal(preferredTarget(both, { address: '::1', port: 4433 }), { address: '::1', port: 5001, family: 'IPv6' });
  // Already there: nothing to do.
  assert.is(preferredTarget(both, { address: '127.0.0.1', port: 5000 }), undefined);
  assert.throws(() => preferredAddressParameter({ ipv4: { address: '::1', port: 1 } }, CID, TOKEN), /not an IPv4/);
});

test('address text: parse and format as node:dgram reports it (inet_ntop form)', () => {
  assert.equal(parseIpv4('192.0.2.255'), Uint8Array.of(192, 0, 2, 255));
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '']) assert.is(parseIpv4(bad), undefined, bad);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '::1.2.3']) assert.is(parseIpv6(bad), undefined, bad);
  const cases = ['2001:DB8:0:0:1:0:0:1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::1', '2001:db8::', '0:0:0:0:0:0:0:0', '1:0:0:2:0:0:0:3', 'fe80::1:0:0:0', '1:2:3:4:5:6:7:8', '1::8', 'fe80::1%eth0'];
  for (const text of cases) {
    const bytes = parseIpv6(text);
    assert.ok(bytes, text);
    const node = new SocketAddress({ address: text.split('%')[0]!, family: 'ipv6' }).address;
    assert.is(formatIpv6(bytes!), node, text);
  }
});

test('§18.2: zero-length CID in preferred_address, or with a zero-length server CID, is TRANSPORT_PARAMETER_ERROR; a client must not send it', () => {
  const expectTpError = (f: () => unknown, what: string) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof QuicError && e.code === TransportErrorCode.TRANSPORT_PARAMETER_ERROR, what);
      return;
    }
    assert.unreachable(what);
  };
  const pa = preferredAddressParameter({ ipv4: { address: '192.0.2.1', port: 4433 } }, CID, TOKEN);
  const body = encodeTransportParameters({ preferredAddress: pa });
  const zeroCid = body.slice();
  zeroCid[1] = 0x31 - 8; // length without the CID
  zeroCid.set(TOKEN, 2 + 24 + 1);
  const withZero = new Uint8Array([...zeroCid.subarray(0, 2 + 24), 0, ...TOKEN]);
  const odcid = fromHex('0004deadbeef');
  expectTpError(() => decodeTransportParameters(new Uint8Array([...fromHex('0f0411223344'), ...odcid, ...withZero]), 'server'), 'zero-length CID');
  expectTpError(() => decodeTransportParameters(new Uint8Array([...fromHex('0f00'), ...odcid, ...body]), 'server'), 'server with a zero-length CID');
  expectTpError(() => decodeTransportParameters(new Uint8Array([...fromHex('0f0411223344'), ...body]), 'client'), 'from a client');
  // Our encoder refuses to build one with a zero-length CID (a programming error).
  assert.throws(() => encodeTransportParameters({ preferredAddress: { ...pa, connectionId: new Uint8Array(0) } }), RangeError);
});

test.run();
