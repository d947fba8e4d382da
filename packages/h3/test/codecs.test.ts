/**
 * HTTP/3 codecs without a connection: field validation (RFC 9114 §4.2, §4.3), SETTINGS
 * (§7.2.4), frame headers split anywhere (§7.1), capsules (RFC 9297 §3.2) and priorities
 * (RFC 9218 §4).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CapsuleParser,
  H3ConnectionError,
  H3ErrorCode,
  H3StreamError,
  encodeCapsule,
  encodeSettings,
  parsePriority,
  parseSettings,
  tryReadFrameHeader,
  validateRequest,
  validateResponse,
  validateTrailers,
  encodeFrame,
  greaseValue,
  isGreaseCode,
} from '../src/index.js';

const f = (pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));
const base: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'a.example'], [':path', '/x?y']];

function messageError(fn: () => unknown, why: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof H3StreamError, `${why}: ${e}`);
    assert.is((e as H3StreamError).code, H3ErrorCode.MESSAGE_ERROR, why);
    return;
  }
  assert.unreachable(`${why}: accepted`);
}

test('request validation: good requests, CONNECT and Extended CONNECT', () => {
  const r = validateRequest(f([...base, ['content-length', '10'], ['accept', '*/*']]), false);
  assert.is(r.method, 'GET');
  assert.is(r.path, '/x?y');
  assert.is(r.contentLength, 10);
  assert.equal(r.fields.map((x) => x.name), ['content-length', 'accept']);
  const c = validateRequest(f([[':method', 'CONNECT'], [':authority', 'proxy:443']]), false);
  assert.is(c.authority, 'proxy:443');
  const x = validateRequest(f([[':method', 'CONNECT'], [':protocol', 'webtransport'], [':scheme', 'https'], [':authority', 'a'], [':path', '/wt']]), true);
  assert.is(x.protocol, 'webtransport');
  // A host field stands in for :authority (§4.3.1).
  assert.is(validateRequest(f([[':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['host', 'h.example']]), false).authority, 'h.example');
});

test('request validation: each malformation is H3_MESSAGE_ERROR', () => {
  messageError(() => validateRequest(f([...base, ['Accept', 'x']]), false), 'uppercase name');
  messageError(() => validateRequest(f([...base, ['transfer-encoding', 'chunked']]), false), 'transfer-encoding');
  messageError(() => validateRequest(f([...base, ['te', 'gzip']]), false), 'te other than trailers');
  validateRequest(f([...base, ['te', 'trailers']]), false);
  messageError(() => validateRequest(f([...base, [':status', '200']]), false), 'response pseudo in a request');
  messageError(() => validateRequest(f([...base, [':foo', 'x']]), false), 'unknown pseudo');
  messageError(() => validateRequest(f(base.filter(([n]) => n !== ':path')), false), 'no :path');
  messageError(() => validateRequest(f(base.filter(([n]) => n !== ':method')), false), 'no :method');
  messageError(() => validateRequest(f([[':method', 'GET'], [':scheme', 'https'], [':path', '/']]), false), 'no authority and no host');
  messageError(() => validateRequest(f([...base, ['host', 'other.example']]), false), ':authority and host differ');
  messageError(() => validateRequest(f([[':method', 'CONNECT'], [':authority', 'a'], [':path', '/']]), false), 'CONNECT with :path');
  messageError(() => validateRequest(f([[':method', 'CONNECT'], [':protocol', 'x'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]), false), ':protocol not enabled');
  messageError(() => validateRequest(f([[':method', 'GET'], [':protocol', 'x'], [':scheme', 'https'], [':authority', 'a'], [':path', '/']]), true), ':protocol on GET');
  messageError(() => validateRequest(f([...base, ['content-length', 'ten']]), false), 'bad content-length');
  messageError(() => validateRequest(f([...base, ['content-length', '1'], ['content-length', '2']]), false), 'conflicting content-length');
  messageError(() => validateRequest(f([...base, ['x', 'a\0b']]), false), 'NUL in a value');
  messageError(() => validateRequest(f([...base, ['', 'x']]), false), 'empty name');
});

test('response and trailer validation', () => {
  assert.is(validateResponse(f([[':status', '204']])).status, 204);
  messageError(() => validateResponse(f([])), 'no :status');
  messageError(() => validateResponse(f([[':status', '2000']])), 'four digits');
  messageError(() => validateResponse(f([[':status', '200'], [':path', '/']])), 'request pseudo in a response');
  assert.equal(validateTrailers(f([['x-sum', '1']])), f([['x-sum', '1']]));
  messageError(() => validateTrailers(f([[':status', '200']])), 'pseudo in trailers');
});

test('SETTINGS: round trip, duplicates and HTTP/2 settings refused, booleans checked', () => {
  const frame = encodeSettings([[0x01, 4096], [0x06, 65536], [0x33, 1], [greaseValue(3), 7]]);
  const h = tryReadFrameHeader(frame, 0)!;
  assert.is(h.type, 0x04);
  const s = parseSettings(frame.subarray(h.headerLength));
  assert.is(s.get(0x06), 65536);
  assert.is(s.get(greaseValue(3)), 7);
  const bad = (bytes: number[], code: number) => {
    try {
      parseSettings(new Uint8Array(bytes));
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(e instanceof H3ConnectionError);
      assert.is((e as H3ConnectionError).code, code);
    }
  };
  bad([0x06, 0x01, 0x06, 0x02], H3ErrorCode.SETTINGS_ERROR);
  bad([0x02, 0x00], H3ErrorCode.SETTINGS_ERROR);
  bad([0x08, 0x02], H3ErrorCode.SETTINGS_ERROR);
  bad([0x06], H3ErrorCode.FRAME_ERROR);
});

test('frame headers split at every byte', () => {
  const frame = encodeFrame(0x21, new Uint8Array(300));
  for (let cut = 0; cut < 3; cut++) assert.is(tryReadFrameHeader(frame, 0, cut), undefined);
  assert.equal(tryReadFrameHeader(frame, 0), { type: 0x21, length: 300, headerLength: 3 });
  assert.ok(isGreaseCode(0x21));
  assert.ok(isGreaseCode(greaseValue(1000)));
  assert.not.ok(isGreaseCode(0x100));
});

test('capsules: any chunking, unknown types skipped, size limit', () => {
  const wire = new Uint8Array([
    ...encodeCapsule(0x2843, new Uint8Array([0, 0, 0, 7, 0x62, 0x79, 0x65])),
    ...encodeCapsule(0x1234, new Uint8Array(5000)),
    ...encodeCapsule(0x00, new Uint8Array([1, 2, 3])),
  ]);
  for (const step of [1, 2, 3, 7, 100, wire.length]) {
    const p = new CapsuleParser({ knownTypes: new Set([0x2843, 0x00]) });
    const got: { type: number; value: number[] }[] = [];
    for (let o = 0; o < wire.length; o += step) for (const c of p.push(wire.subarray(o, o + step))) got.push({ type: c.type, value: [...c.value] });
    assert.equal(got, [
      { type: 0x2843, value: [0, 0, 0, 7, 0x62, 0x79, 0x65] },
      { type: 0x00, value: [1, 2, 3] },
    ], `step ${step}`);
    assert.ok(p.atBoundary);
  }
  const small = new CapsuleParser({ knownTypes: new Set([0x00]), maxCapsuleSize: 10 });
  try {
    small.push(encodeCapsule(0x00, new Uint8Array(11)));
    assert.unreachable('accepted');
  } catch (e) {
    assert.is((e as H3StreamError).code, H3ErrorCode.MESSAGE_ERROR);
  }
});

test('priority field values (RFC 9218 §4)', () => {
  assert.equal(parsePriority('u=1, i'), { urgency: 1, incremental: true });
  assert.equal(parsePriority('i=?0, u=7'), { urgency: 7, incremental: false });
  assert.equal(parsePriority('u=9, x=1, i=3'), { urgency: 3, incremental: false });
  assert.equal(parsePriority(''), { urgency: 3, incremental: false });
});

test.run();
