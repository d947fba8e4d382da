/**
 * Heap measurement for memory-bound tests: a forced full GC (exposed at run time, so no
 * per-file Node flag is needed) and the bytes then held by JS objects and ArrayBuffers.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as (options?: unknown) => void;

/** Runs a full garbage collection (twice, so weak callbacks and finalizers settle). */
export function fullGc(): void {
  gcFn();
  gcFn();
}

/** Heap used plus ArrayBuffer memory, in bytes, right after a full GC. */
export function retainedBytes(): number {
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
