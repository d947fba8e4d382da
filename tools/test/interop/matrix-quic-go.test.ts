/**
 * The interop matrix against quic-go 0.29, both roles: every case of
 * tools/interop/expected-matrix.json for the pairs, at the quick scale (matrix-helpers.ts).
 * Skipped (reason printed) when quic-go cannot be built here.
 */

import { test } from 'uvu';
import { buildQuicGoPeer } from './quic-go-helpers.js';
import { matrixPairTests } from './matrix-helpers.js';

test.before(buildQuicGoPeer);

matrixPairTests([
  ['purequic', 'quic-go'],
  ['quic-go', 'purequic'],
]);

test.run();
