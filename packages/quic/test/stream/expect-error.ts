/** Assertion helper for the stream tests: `fn` must throw a QuicError with `code`. */

import * as assert from 'uvu/assert';
import { QuicError, transportErrorName } from '../../src/errors.js';

export function expectQuicError(fn: () => unknown, code: number, message?: string): QuicError {
  try {
    fn();
  } catch (e) {
    if (!QuicError.is(e)) throw e;
    assert.is(transportErrorName(e.code), transportErrorName(code), message);
    return e;
  }
  assert.unreachable(`expected ${transportErrorName(code)}${message === undefined ? '' : `: ${message}`}`);
  throw new Error('unreachable');
}
