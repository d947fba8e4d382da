/**
 * The interop matrix against ngtcp2 0.12 (HTTP/3 only), both roles: every case of
 * tools/interop/expected-matrix.json for the pairs, at the quick scale (matrix-helpers.ts).
 * Skipped (reason printed) when Debian's ngtcp2 examples are absent.
 */

import { test } from 'uvu';
import { matrixPairTests } from './matrix-helpers.js';

matrixPairTests([
  ['purequic', 'ngtcp2'],
  ['ngtcp2', 'purequic'],
]);

test.run();
