/**
 * HPACK/QPACK static Huffman coding (RFC 7541 §5.2 and Appendix B, used unmodified by RFC 9204
 * §4.1.2).
 *
 * Decoding runs a nibble-at-a-time state machine built once at load from the code table: each
 * state is an internal node of the code tree (256 of them), and each (state, 4-bit nibble) pair
 * gives the next state and at most one emitted symbol (no code is shorter than 5 bits). A state
 * "accepts" the end of input when the bits read since the last symbol are at most 7 ones: the
 * padding rule of RFC 7541 §5.2 (padding longer than 7 bits, padding that is not a prefix of EOS,
 * and an encoded EOS are all decoding errors).
 */

import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.js';

// Local typed copies: hot loops index these directly (an imported binding can cost an accessor
// call per read under some loaders).
const CODES = Uint32Array.from(HUFFMAN_CODES);
const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS);

const EOS = 256;
/** Sentinel in EMIT: no symbol completed in this nibble. */
const NONE = -1;
/** Sentinel in EMIT: the nibble completes EOS, which must never appear (RFC 7541 §5.2). */
const FAIL = -2;

// ---- state machine construction -------------------------------------------------------------

/** Transition table: index state * 16 + nibble. */
const NEXT = new Uint8Array(256 * 16);
const EMIT = new Int16Array(256 * 16);
/** 1 when ending the input in this state is valid padding. */
const ACCEPT = new Uint8Array(256);

(function build(): void {
  // Code tree: node 0 is the root; child[node * 2 + bit]; leaf symbol in sym (or -1).
  const child: number[] = [0, 0];
  const sym: number[] = [-1];
  for (let s = 0; s <= EOS; s++) {
    const code = CODES[s]!;
    const len = LENGTHS[s]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      let next = child[node * 2 + bit]!;
      if (next === 0) {
        next = sym.length;
        sym.push(-1);
        child.push(0, 0);
        child[node * 2 + bit] = next;
      }
      node = next;
    }
    sym[node] = s;
  }
  // Number the internal nodes 0..255 (root first) so a state fits a byte.
  const stateOf = new Int32Array(sym.length).fill(-1);
  const nodeOf: number[] = [];
  for (let n = 0; n < sym.length; n++) {
    if (sym[n] === -1) {
      stateOf[n] = nodeOf.length;
      nodeOf.push(n);
    }
  }
  if (nodeOf.length !== 256) throw new Error('huffman: the code tree must have 256 internal nodes');
  // Accepting nodes: the root, and the nodes reached from it by 1 to 7 one-bits (a prefix of EOS).
  let n = 0;
  ACCEPT[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    n = child[n * 2 + 1]!;
    ACCEPT[stateOf[n]!] = 1;
  }
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = nodeOf[state]!;
      let emit = NONE;
      for (let i = 3; i >= 0; i--) {
        node = child[node * 2 + ((nibble >>> i) & 1)]!;
        const s = sym[node]!;
        if (s !== -1) {
          if (s === EOS) {
            emit = FAIL;
            node = 0;
            break;
          }
          emit = s;
          node = 0;
        }
      }
      NEXT[state * 16 + nibble] = stateOf[node]!;
      EMIT[state * 16 + nibble] = emit;
    }
  }
})();

/**
 * Decodes the Huffman string in src[start, end) into out from outPos. Returns the position after
 * the last decoded byte, or -1 if the input is invalid (EOS, bad padding). `out` must have room for
 * `maxHuffmanDecodedLength(end - start)` bytes from outPos.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array, outPos: number): number {
  let state = 0;
  let o = outPos;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let t = state * 16 + (b >>> 4);
    let e = EMIT[t]!;
    if (e >= 0) out[o++] = e;
    else if (e === FAIL) return -1;
    state = NEXT[t]!;
    t = state * 16 + (b & 0x0f);
    e = EMIT[t]!;
    if (e >= 0) out[o++] = e;
    else if (e === FAIL) return -1;
    state = NEXT[t]!;
  }
  return ACCEPT[state] === 1 ? o : -1;
}

/** Upper bound of the decoded length of `encodedLength` Huffman bytes (the shortest code is 5 bits). */
export function maxHuffmanDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}

/**
 * Lower bound of the decoded length of `encodedLength` Huffman bytes (the longest code is 30 bits,
 * and at most 7 bits are padding). Lets a streaming parser reject an oversized string before it
 * has arrived.
 */
export function minHuffmanDecodedLength(encodedLength: number): number {
  return encodedLength === 0 ? 0 : Math.floor((encodedLength * 8 - 7) / 30);
}

/** Huffman-encoded length in bytes of the string's char codes (each must be < 256). */
export function huffmanEncodedLengthOfAscii(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i)]!;
  return (bits + 7) >>> 3;
}

/** Huffman-encoded length in bytes of src[start, end). */
export function huffmanEncodedLength(src: Uint8Array, start: number, end: number): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += LENGTHS[src[i]!]!;
  return (bits + 7) >>> 3;
}

// The encoder keeps fewer than 8 pending bits in `acc` between symbols; a code of up to 24 bits is
// shifted in whole (at most 31 bits, inside int32), longer ones (25..30 bits, rare bytes) in two
// parts. The final byte is padded with the most significant bits of EOS (all ones).

// The bit writer both encoders share: module state, so no object or closure per string (one
// string is encoded at a time, synchronously).
const EMPTY_OUT = new Uint8Array(0);
let wOut: Uint8Array = EMPTY_OUT;
let wPos = 0;
let wAcc = 0;
let wBits = 0;

/** Appends the code of symbol `c` (RFC 7541 Appendix B), flushing whole bytes. */
function putSymbol(c: number): void {
  let code = CODES[c]!;
  let len = LENGTHS[c]!;
  if (len > 24) {
    // Longer codes would overflow 32-bit arithmetic with up to 7 pending bits: write the high part first.
    const hiLen = len - 16;
    wAcc = (wAcc << hiLen) | (code >>> 16);
    wBits += hiLen;
    while (wBits >= 8) {
      wBits -= 8;
      wOut[wPos++] = wAcc >>> wBits;
    }
    wAcc &= (1 << wBits) - 1;
    code &= 0xffff;
    len = 16;
  }
  wAcc = (wAcc << len) | code;
  wBits += len;
  while (wBits >= 8) {
    wBits -= 8;
    wOut[wPos++] = wAcc >>> wBits;
  }
  wAcc &= (1 << wBits) - 1;
}

/** Pads the last byte with the most significant bits of EOS (all ones, RFC 7541 §5.2). */
function finish(): number {
  if (wBits > 0) wOut[wPos++] = (wAcc << (8 - wBits)) | (0xff >>> wBits);
  const end = wPos;
  wOut = EMPTY_OUT;
  return end;
}

function begin(out: Uint8Array, pos: number): void {
  wOut = out;
  wPos = pos;
  wAcc = 0;
  wBits = 0;
}

/**
 * Huffman-encodes the char codes of `s` (each < 256) into out from pos; returns the end position.
 * `out` must have room for `huffmanEncodedLengthOfAscii(s)` bytes.
 */
export function huffmanEncodeAscii(s: string, out: Uint8Array, pos: number): number {
  begin(out, pos);
  for (let i = 0; i < s.length; i++) putSymbol(s.charCodeAt(i));
  return finish();
}

/** Huffman-encodes src[start, end) into out from pos; returns the end position. */
export function huffmanEncode(src: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  begin(out, pos);
  for (let i = start; i < end; i++) putSymbol(src[i]!);
  return finish();
}
