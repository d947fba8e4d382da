/** Loads RFC test vectors from the repository's `test-vectors/` folder. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../../test-vectors/', import.meta.url));

export interface VectorFile {
  /** The RFC section the values come from. */
  source: string;
}

export function loadVectors<T extends VectorFile>(name: string): T {
  const data = JSON.parse(readFileSync(dir + name, 'utf8')) as T;
  if (typeof data.source !== 'string' || data.source.length === 0) throw new Error(`${name} has no source`);
  return data;
}

export { fromHex, toHex } from '../../src/codec/hex.js';
