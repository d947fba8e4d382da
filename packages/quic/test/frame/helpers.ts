/** Assertion helpers shared by the frame tests. */

import * as assert from 'uvu/assert';
import { QuicError } from '../../src/errors.js';

/** Runs `fn` and asserts it throws a QuicError with `code` (and `frameType` when given). */
export function expectQuicError(fn: () => unknown, code: number, frameType?: number, label = ''): QuicError {
  try {
    fn();
  } catch (e) {
    assert.ok(QuicError.is(e), `${label}: expected QuicError, got ${String(e)}`);
    const err = e as QuicError;
    assert.is(err.code, code, `${label}: error code (${err.message})`);
    if (frameType !== undefined) assert.is(err.frameType, frameType, `${label}: frameType (${err.message})`);
    return err;
  }
  assert.unreachable(`${label}: should have thrown`);
  throw new Error('unreachable');
}
