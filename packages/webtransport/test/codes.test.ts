/**
 * The pure parts: application error codes to and from the HTTP/3 space (draft-16 §4.4, GREASE
 * codepoints skipped), WT_CLOSE_SESSION encoding with the 1,024-byte cut at a UTF-8 boundary
 * (§6), the structured fields of subprotocol negotiation (§3.3, RFC 9651), and the settings of
 * every generation.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isGreaseCode } from '@purequic/h3';
import {
  DEFAULT_LIMITS,
  WtSetting,
  decodeCloseSession,
  encodeCloseSession,
  http3CodeToWebTransport,
  parseSfString,
  parseSfStringList,
  serializeSfStringList,
  webTransportCodeToHttp3,
  webTransportSettings,
} from '../src/index.js';

test('error codes: the draft\'s end points, GREASE skipped, a round trip over a sample of the 32-bit space', () => {
  assert.is(webTransportCodeToHttp3(0), 0x52e4a40fa8db);
  assert.is(webTransportCodeToHttp3(0xffffffff), 0x52e5ac983162);
  assert.is(http3CodeToWebTransport(0x52e4a40fa8db), 0);
  assert.is(http3CodeToWebTransport(0x52e5ac983162), 0xffffffff);
  // Outside the range, and GREASE values inside it, carry no application code.
  assert.is(http3CodeToWebTransport(0x100), null);
  assert.is(http3CodeToWebTransport(0x52e4a40fa8db - 1), null);
  assert.is(http3CodeToWebTransport(0x52e5ac983162 + 1), null);
  let grease = 0;
  for (let h = 0x52e4a40fa8db; h < 0x52e4a40fa8db + 200; h++) {
    if (isGreaseCode(h)) {
      grease++;
      assert.is(http3CodeToWebTransport(h), null);
    }
  }
  assert.ok(grease >= 6);
  const sample = [0, 1, 0x1d, 0x1e, 0x1f, 0x20, 42, 1000, 65535, 0x7fffffff, 0xfffffffe, 0xffffffff];
  for (let i = 0; i < 2000; i++) sample.push((i * 2654435761) >>> 0);
  let prev = -1;
  for (const n of [...new Set(sample)].sort((a, b) => a - b)) {
    const h = webTransportCodeToHttp3(n);
    assert.not.ok(isGreaseCode(h), `code ${n} mapped onto GREASE ${h}`);
    assert.is(http3CodeToWebTransport(h), n);
    assert.ok(h > prev);
    prev = h;
  }
  assert.throws(() => webTransportCodeToHttp3(-1), RangeError);
  assert.throws(() => webTransportCodeToHttp3(2 ** 32), RangeError);
});

test('WT_CLOSE_SESSION: code and reason round-trip; over 1,024 bytes cut at a character boundary; malformed values refused', () => {
  assert.equal(decodeCloseSession(encodeCloseSession(7, 'bye')), { code: 7, reason: 'bye' });
  assert.equal([...encodeCloseSession(0x01020304, 'a')], [1, 2, 3, 4, 0x61]);
  const cut = encodeCloseSession(1, 'é'.repeat(600)); // 2 bytes each
  assert.is(cut.length, 4 + 1024);
  assert.is(decodeCloseSession(cut)!.reason, 'é'.repeat(512));
  const odd = encodeCloseSession(1, `x${'€'.repeat(400)}`); // 1 + 3 * 341 = 1,024
  assert.is(odd.length, 4 + 1024);
  const odd2 = encodeCloseSession(1, `xy${'€'.repeat(400)}`); // the 342nd euro would cross 1,024
  assert.is(odd2.length, 4 + 2 + 3 * 340);
  assert.is(decodeCloseSession(new Uint8Array(3)), undefined);
  assert.is(decodeCloseSession(new Uint8Array(4 + 1025)), undefined);
  assert.is(decodeCloseSession(new Uint8Array([0, 0, 0, 1, 0xff])), undefined); // not UTF-8
});

test('WT-Available-Protocols / WT-Protocol: lists of strings, parameters ignored, anything else ignores the field', () => {
  assert.equal(parseSfStringList('"a", "b"'), ['a', 'b']);
  assert.equal(parseSfStringList('"chat.v2";q=1, "x\\"y"'), ['chat.v2', 'x"y']);
  assert.equal(parseSfStringList(''), []);
  assert.is(parseSfStringList('"a", b'), undefined); // a token is not a String
  assert.is(parseSfStringList('"a",'), undefined);
  assert.is(parseSfStringList('"unterminated'), undefined);
  assert.is(parseSfString('"v1"'), 'v1');
  assert.is(parseSfString('"v1";p=2'), 'v1');
  assert.is(parseSfString('v1'), undefined);
  assert.is(serializeSfStringList(['a', 'q"\\']), '"a", "q\\"\\\\"');
  assert.throws(() => serializeSfStringList(['é']), TypeError);
});

test('settings: every generation at once, 0x2b603742 exactly 1 (Chromium closes on other values), flow-control windows', () => {
  const s = new Map(webTransportSettings(DEFAULT_LIMITS));
  assert.is(s.get(WtSetting.WEBTRANS_DRAFT00), 1);
  assert.is(s.get(WtSetting.WT_ENABLED), 1);
  assert.is(s.get(WtSetting.MAX_SESSIONS), DEFAULT_LIMITS.maxSessions);
  assert.is(s.get(WtSetting.MAX_SESSIONS_DRAFT07), DEFAULT_LIMITS.maxSessions);
  assert.is(s.get(WtSetting.INITIAL_MAX_DATA), DEFAULT_LIMITS.maxData);
  assert.is(s.get(WtSetting.INITIAL_MAX_STREAMS_BIDI), DEFAULT_LIMITS.maxStreamsBidi);
  assert.is(s.get(WtSetting.INITIAL_MAX_STREAMS_UNI), DEFAULT_LIMITS.maxStreamsUni);
  // No id collides with another setting we send.
  assert.is(new Set(webTransportSettings(DEFAULT_LIMITS).map(([id]) => id)).size, webTransportSettings(DEFAULT_LIMITS).length);
  const noFc = new Map(webTransportSettings({ ...DEFAULT_LIMITS, flowControl: false }));
  assert.is(noFc.get(WtSetting.INITIAL_MAX_DATA), undefined);
});

test.run();
