/**
 * The interop matrix, our client against our server: every case of
 * tools/interop/expected-matrix.json for the pair, at the quick scale (matrix-helpers.ts).
 */

import { test } from 'uvu';
import { matrixPairTests } from './matrix-helpers.js';

matrixPairTests([['purequic', 'purequic']]);

test.run();
