import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hkdfExpandLabel, versionKeyParameters } from '../../src/crypto/keys.js';
import {
  computeRetryIntegrityTag,
  constantTimeEqual,
  RETRY_INTEGRITY_TAG_LENGTH,
  retryIntegrityParameters,
  verifyRetryIntegrityTag,
} from '../../src/crypto/retry.js';
import { fromHex, toHex } from '../helpers/vectors.js';
import { SYMMETRIC_PROVIDERS } from './symmetric-providers.js';
import { VERSION_VECTORS } from './vectors.js';

const EMPTY = new Uint8Array(0);

for (const v of VERSION_VECTORS) {
  test(`${v.rfc} retry key and nonce are HKDF-Expand-Label of the retry secret with the version's labels`, () => {
    const r = v.retry;
    const params = retryIntegrityParameters(v.version);
    assert.is(toHex(params.key), r.key);
    assert.is(toHex(params.nonce), r.nonce);
    assert.is(toHex(params.secret), r.secret);
    const labels = versionKeyParameters(v.version);
    for (const p of SYMMETRIC_PROVIDERS) {
      assert.is(toHex(hkdfExpandLabel(p, 'sha256', fromHex(r.secret), labels.keyLabel, EMPTY, 16)), r.key, p.name);
      assert.is(toHex(hkdfExpandLabel(p, 'sha256', fromHex(r.secret), labels.ivLabel, EMPTY, 12)), r.nonce, p.name);
    }
  });

  for (const p of SYMMETRIC_PROVIDERS) {
    test(`${v.rfc} A.4 [${p.name}]: Retry Integrity Tag computed byte-for-byte and verified`, () => {
      const r = v.retry;
      const packet = fromHex(r.packet);
      const odcid = fromHex(r.originalDcid);
      const tagStart = packet.length - RETRY_INTEGRITY_TAG_LENGTH;
      const tag = computeRetryIntegrityTag(p, v.version, odcid, packet.subarray(0, tagStart));
      assert.is(toHex(tag), toHex(packet.subarray(tagStart)));
      assert.ok(verifyRetryIntegrityTag(p, v.version, odcid, packet));
    });

    test(`${v.rfc} A.4 [${p.name}]: any changed byte, another ODCID, another version or a short packet fails`, () => {
      const r = v.retry;
      const packet = fromHex(r.packet);
      const odcid = fromHex(r.originalDcid);
      for (let i = 0; i < packet.length; i++) {
        const bad = packet.slice();
        bad[i]! ^= 0x01;
        assert.not.ok(verifyRetryIntegrityTag(p, v.version, odcid, bad), `byte ${i}`);
      }
      const otherOdcid = odcid.slice();
      otherOdcid[0]! ^= 0xff;
      assert.not.ok(verifyRetryIntegrityTag(p, v.version, otherOdcid, packet));
      assert.not.ok(verifyRetryIntegrityTag(p, v.version, odcid.subarray(1), packet));
      const otherVersion = VERSION_VECTORS.find((o) => o.version !== v.version)!.version;
      assert.not.ok(verifyRetryIntegrityTag(p, otherVersion, odcid, packet));
      assert.not.ok(verifyRetryIntegrityTag(p, v.version, odcid, packet.subarray(0, 15)));
      assert.not.ok(verifyRetryIntegrityTag(p, v.version, odcid, packet.subarray(0, packet.length - 1)));
    });
  }
}

test('retry: unsupported versions are refused; constantTimeEqual compares whole strings', () => {
  assert.throws(() => retryIntegrityParameters(0xff00_001d), RangeError);
  assert.ok(constantTimeEqual(fromHex('00ff'), fromHex('00ff')));
  assert.not.ok(constantTimeEqual(fromHex('00ff'), fromHex('01ff')));
  assert.not.ok(constantTimeEqual(fromHex('00ff'), fromHex('00fe')));
  assert.not.ok(constantTimeEqual(fromHex('00ff'), fromHex('00')));
  assert.ok(constantTimeEqual(EMPTY, EMPTY));
});

test.run();
