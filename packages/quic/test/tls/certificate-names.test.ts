import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsNameMatches, parseIpAddress, subjectAltNamesMatch } from '../../src/tls/certificate-names.js';
import { toHex } from '../helpers/vectors.js';

test('IPv4 literals', () => {
  assert.is(toHex(parseIpAddress('192.0.2.255') as Uint8Array), 'c00002ff');
  for (const bad of ['192.0.2', '192.0.2.256', '1.2.3.4.5', '1.2.3.x', '', 'localhost', '1..2.3']) {
    assert.is(parseIpAddress(bad), undefined, bad);
  }
});

test('IPv6 literals (RFC 4291 §2.2 text forms)', () => {
  assert.is(toHex(parseIpAddress('::1') as Uint8Array), '00000000000000000000000000000001');
  assert.is(toHex(parseIpAddress('::') as Uint8Array), '00000000000000000000000000000000');
  assert.is(toHex(parseIpAddress('2001:DB8::8:800:200C:417A') as Uint8Array), '20010db80000000000080800200c417a');
  assert.is(toHex(parseIpAddress('[fe80::1]') as Uint8Array), 'fe800000000000000000000000000001');
  assert.is(toHex(parseIpAddress('::ffff:192.0.2.1') as Uint8Array), '00000000000000000000ffffc0000201');
  assert.is(toHex(parseIpAddress('1:2:3:4:5:6:7:8') as Uint8Array), '00010002000300040005000600070008');
  for (const bad of ['1:2:3:4:5:6:7', '1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '1:2:3:4::5:6:7:8', ':::']) {
    assert.is(parseIpAddress(bad), undefined, bad);
  }
});

test('DNS names: case-insensitive, trailing dot, wildcard rules', () => {
  assert.ok(dnsNameMatches('Example.COM', 'example.com.'));
  assert.ok(dnsNameMatches('*.example.com', 'WWW.example.com'));
  assert.not.ok(dnsNameMatches('*.example.com', 'example.com'));
  assert.not.ok(dnsNameMatches('*.example.com', 'a.b.example.com'));
  assert.not.ok(dnsNameMatches('*.com', 'example.com'), 'wildcard needs two labels after it');
  assert.not.ok(dnsNameMatches('w*.example.com', 'www.example.com'), 'partial-label wildcard');
  assert.not.ok(dnsNameMatches('www.*.com', 'www.example.com'), 'wildcard not left-most');
  assert.not.ok(dnsNameMatches('*.example.com', 'xn--bcher-kva.example.com'), 'no wildcard over A-labels');
  assert.not.ok(dnsNameMatches('', 'example.com'));
});

test('SAN lists: IPs only match iPAddress entries', () => {
  const names = { dns: ['10.0.0.1', 'host.test'], ip: [Uint8Array.of(10, 0, 0, 2)] };
  assert.ok(subjectAltNamesMatch(names, '10.0.0.2'));
  assert.not.ok(subjectAltNamesMatch(names, '10.0.0.1'));
  assert.ok(subjectAltNamesMatch(names, 'HOST.test'));
  assert.not.ok(subjectAltNamesMatch(names, '::ffff:10.0.0.2'), 'IPv4-mapped IPv6 is a different address');
});

test.run();
