/**
 * QPACK primitives: prefixed integers (RFC 7541 §5.1, C.1), Huffman coding (RFC 7541 §5.2,
 * Appendix B; examples C.4 and C.6), string literals with N-bit prefixes (RFC 9204 §4.1.2).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../src/qpack/huffman-table.js';
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodeAscii,
  huffmanEncodedLength,
  huffmanEncodedLengthOfAscii,
  maxHuffmanDecodedLength,
  minHuffmanDecodedLength,
} from '../../src/qpack/huffman.js';
import { ByteSink, bytesToString, NEED_MORE, Reader, TOO_LARGE, utf8Length } from '../../src/qpack/primitives.js';
import { STATIC_TABLE, staticFieldIndex, staticNameIndex } from '../../src/qpack/static-table.js';
import { fromHex, loadVectors, Rng, toHex } from './helpers.js';

interface HuffmanVectors {
  source: string;
  vectors: { section: string; text: string; hex: string }[];
  integers: { section: string; prefixBits: number; value: number; hex: string }[];
}
const hv = loadVectors<HuffmanVectors>('rfc7541-c4-c6-huffman.json');

function decodeHuffman(bytes: Uint8Array): string | null {
  const out = new Uint8Array(maxHuffmanDecodedLength(bytes.length));
  const n = huffmanDecode(bytes, 0, bytes.length, out, 0);
  return n < 0 ? null : bytesToString(out, 0, n);
}

function encodeHuffman(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLengthOfAscii(s));
  assert.is(huffmanEncodeAscii(s, out, 0), out.length);
  return out;
}

test('RFC 7541 C.1: integer examples encode and decode exactly', () => {
  for (const v of hv.integers) {
    const sink = new ByteSink(4);
    sink.int(0, v.prefixBits, v.value);
    assert.is(toHex(sink.take()), v.hex, v.section);
    const r = new Reader();
    const bytes = fromHex(v.hex);
    r.reset(bytes, 0, bytes.length);
    assert.is(r.int(v.prefixBits), v.value, v.section);
    assert.is(r.pos, bytes.length);
  }
});

test('prefixed integers: round trips for every prefix size at the boundaries, flags kept', () => {
  const r = new Reader();
  for (let prefix = 1; prefix <= 8; prefix++) {
    const max = (1 << prefix) - 1;
    const flags = prefix === 8 ? 0 : 0xff & ~max;
    for (const value of [0, 1, max - 1, max, max + 1, max + 127, max + 128, 16383, 2 ** 32, 2 ** 53 - 1]) {
      if (value < 0) continue;
      const sink = new ByteSink(2);
      sink.int(flags, prefix, value);
      const bytes = sink.take()!;
      assert.is(bytes[0]! & ~max & 0xff, flags, 'flags untouched');
      r.reset(bytes, 0, bytes.length);
      assert.is(r.int(prefix), value, `prefix ${prefix} value ${value}`);
      assert.is(r.pos, bytes.length);
      // Every strict prefix of the encoding is incomplete, and does not move the cursor.
      for (let cut = 0; cut < bytes.length; cut++) {
        r.reset(bytes, 0, cut);
        assert.is(r.int(prefix), NEED_MORE);
        assert.is(r.pos, 0);
      }
    }
  }
});

test('prefixed integers: 2^62 - 1 decodes; 2^62 and over-long encodings are TOO_LARGE', () => {
  const r = new Reader();
  // Exact encodings built with BigInt (a JS number cannot hold 2^62 - 1).
  const encode6 = (v: bigint): Uint8Array => {
    const out = [0x3f];
    let rest = v - 63n;
    while (rest >= 128n) {
      out.push(Number(rest % 128n) | 0x80);
      rest /= 128n;
    }
    out.push(Number(rest));
    return new Uint8Array(out);
  };
  let b = encode6((1n << 62n) - 1n);
  r.reset(b, 0, b.length);
  assert.is(r.int(6), 2 ** 62, '2^62 - 1 accepted (as the nearest double)');
  b = encode6(1n << 62n);
  r.reset(b, 0, b.length);
  assert.is(r.int(6), TOO_LARGE);
  // 0x3f then eleven continuation bytes: rejected after ten, without waiting for the end.
  b = fromHex('3f' + '80'.repeat(11));
  r.reset(b, 0, b.length);
  assert.is(r.int(6), TOO_LARGE);
  // Ten continuation bytes (a zero pad) are still accepted.
  b = fromHex('3f' + '80'.repeat(9) + '00');
  r.reset(b, 0, b.length);
  assert.is(r.int(6), 63);
  b = fromHex('ff' + 'ff'.repeat(9) + '7f');
  r.reset(b, 0, b.length);
  assert.is(r.int(8), TOO_LARGE);
});

test('RFC 7541 C.4/C.6: Huffman examples encode and decode byte for byte', () => {
  for (const v of hv.vectors) {
    assert.is(toHex(encodeHuffman(v.text)), v.hex, `${v.section} encode ${v.text}`);
    assert.is(decodeHuffman(fromHex(v.hex)), v.text, `${v.section} decode ${v.text}`);
    assert.is(huffmanEncodedLengthOfAscii(v.text), v.hex.length / 2);
  }
});

test('Huffman: every byte value round trips alone and in random strings; byte and string encoders agree', () => {
  for (let b = 0; b < 256; b++) {
    const src = new Uint8Array([b]);
    const enc = new Uint8Array(huffmanEncodedLength(src, 0, 1));
    assert.is(huffmanEncode(src, 0, 1, enc, 0), enc.length);
    const out = new Uint8Array(8);
    assert.is(huffmanDecode(enc, 0, enc.length, out, 0), 1, `byte ${b}`);
    assert.is(out[0], b);
  }
  const rng = new Rng(7);
  for (let i = 0; i < 2000; i++) {
    const src = rng.bytes(rng.int(64));
    const enc = new Uint8Array(huffmanEncodedLength(src, 0, src.length));
    assert.is(huffmanEncode(src, 0, src.length, enc, 0), enc.length);
    assert.ok(minHuffmanDecodedLength(enc.length) <= src.length, 'lower bound holds');
    assert.ok(maxHuffmanDecodedLength(enc.length) >= src.length, 'upper bound holds');
    const out = new Uint8Array(maxHuffmanDecodedLength(enc.length));
    const n = huffmanDecode(enc, 0, enc.length, out, 0);
    assert.is(n, src.length);
    assert.equal(out.subarray(0, n), src);
    const latin = String.fromCharCode(...src);
    assert.equal(encodeHuffman(latin), enc);
  }
});

test('Huffman decoder: rejects EOS, padding over 7 bits, padding with a zero bit (RFC 7541 §5.2)', () => {
  // EOS (30 ones) followed by 2 padding ones: 4 bytes of 0xff.
  assert.is(decodeHuffman(fromHex('ffffffff')), null, 'EOS');
  // 'a' (00011, 5 bits) + 3 ones = 0x1f is valid; + a full extra 0xff byte is 11 bits of padding.
  assert.is(decodeHuffman(fromHex('1f')), 'a');
  assert.is(decodeHuffman(fromHex('1fff')), null, 'padding longer than 7 bits');
  assert.is(decodeHuffman(fromHex('ff')), null, '8 bits of padding alone');
  // 'a' + padding 011: not a prefix of EOS.
  assert.is(decodeHuffman(fromHex('1b')), null, 'padding with a zero bit');
  // A complete symbol with no padding ('0' = 00000, '1' = 00001, ... 8 bits = two symbols + 6 bits).
  assert.is(decodeHuffman(new Uint8Array(0)), '');
  // Exhaustive over 1- and 2-byte inputs: an accepted input re-encodes to itself (canonical).
  for (let x = 0; x < 65536; x++) {
    const bytes = x < 256 ? new Uint8Array([x]) : new Uint8Array([x >> 8, x & 0xff]);
    const s = decodeHuffman(bytes);
    if (s === null) continue;
    assert.equal(encodeHuffman(s), bytes, `0x${x.toString(16)}`);
  }
});

test('Huffman table: a prefix code whose lengths satisfy Kraft equality (complete)', () => {
  let kraft = 0;
  for (const len of HUFFMAN_LENGTHS) kraft += 2 ** -len;
  assert.is(kraft, 1);
  assert.is(HUFFMAN_CODES[256], 0x3fffffff);
  assert.is(HUFFMAN_LENGTHS[256], 30);
});

test('string literals: N-bit prefixes 2..8, Huffman only when shorter, UTF-8 sizes', () => {
  const r = new Reader();
  for (const s of ['', 'a', 'www.example.com', '\u00e9t\u00e9', '\u{1f600}x', '~~~~', 'A'.repeat(300)]) {
    for (let n = 2; n <= 8; n++) {
      for (const huffman of [false, true]) {
        const flags = n === 8 ? 0 : 0xff & ~((1 << n) - 1) & 0xaa;
        const sink = new ByteSink(4);
        sink.string(flags, n, s, huffman);
        const bytes = sink.take()!;
        r.reset(bytes, 0, bytes.length);
        assert.is(r.stringHeader(n), 0);
        const raw = new TextEncoder().encode(s);
        if (r.huffman) {
          assert.ok(huffman);
          assert.ok(r.length < raw.length, 'Huffman chosen only when shorter');
          const out = new Uint8Array(maxHuffmanDecodedLength(r.length));
          const len = huffmanDecode(bytes, r.pos, r.pos + r.length, out, 0);
          assert.is(bytesToString(out, 0, len), s);
        } else {
          assert.is(r.length, raw.length);
          assert.is(bytesToString(bytes, r.pos, r.pos + r.length), s);
        }
        assert.is(r.pos + r.length, bytes.length);
        assert.is(utf8Length(s), raw.length);
      }
    }
  }
  // Lone surrogates count as U+FFFD (3 bytes), as TextEncoder writes them.
  assert.is(utf8Length('\ud800'), 3);
  assert.is(utf8Length('a\udc00b'), 5);
});

test('bytesToString: ASCII fast path and UTF-8 (malformed -> U+FFFD)', () => {
  assert.is(bytesToString(fromHex('48656c6c6f'), 0, 5), 'Hello');
  assert.is(bytesToString(fromHex('c3a9'), 0, 2), '\u00e9');
  assert.is(bytesToString(fromHex('ff41'), 0, 2), '\ufffdA');
  const long = new Uint8Array(5000).fill(0x61);
  assert.is(bytesToString(long, 0, 5000), 'a'.repeat(5000));
});

test('static table: 99 entries (RFC 9204 Appendix A); Map lookups agree with a linear scan', () => {
  assert.is(STATIC_TABLE.length, 99);
  assert.equal(STATIC_TABLE[0], [':authority', '']);
  assert.equal(STATIC_TABLE[17], [':method', 'GET']);
  assert.equal(STATIC_TABLE[98], ['x-frame-options', 'sameorigin']);
  assert.equal(STATIC_TABLE[85], ['content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"]);
  for (let i = 0; i < STATIC_TABLE.length; i++) {
    const [name, value] = STATIC_TABLE[i]!;
    assert.is(staticFieldIndex(name, value), STATIC_TABLE.findIndex(([n, v]) => n === name && v === value));
    assert.is(staticNameIndex(name), STATIC_TABLE.findIndex(([n]) => n === name));
  }
  assert.is(staticFieldIndex(':method', 'PATCH'), -1);
  assert.is(staticNameIndex('x-custom'), -1);
});

test.run();
