/**
 * The interop matrix with real browsers as HTTP/3 clients of our server: Chromium and Firefox
 * (tools/interop/browser-client.ts) on the cells of tools/interop/expected-matrix.json for
 * `chromium -> purequic` and `firefox -> purequic`, a few cases each so that the suite stays
 * short (`pnpm interop --client chromium,firefox` runs them all).
 */

import { test } from 'uvu';
import { matrixPairTests } from './matrix-helpers.js';

matrixPairTests([
  ['chromium', 'purequic'],
  ['firefox', 'purequic'],
]);

test.run();
