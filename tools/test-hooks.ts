/**
 * Preloaded by tools/run-tests.ts into every test process (`--import`). uvu runs a suite's
 * `test.before` hooks inside a try whose `finally` returns, so an error thrown by a hook (say, a
 * failed build of an interop peer) vanishes: the suite reports "0 / N" with no reason. This wraps
 * the hooks of uvu's default suite so such an error is printed, with its stack, before uvu drops
 * it; the runner then counts the suite's tests as failed (Total - Passed).
 *
 * Only the default `test` export is wrapped; suites made with `suite()` are not (none are used).
 */

import { test, type Callback, type Context } from 'uvu';

type Hook = Callback<Context>;

let hookFailed = false;
// uvu sets process.exitCode from its own count when it finishes, which a hook error never reaches.
process.on('exit', () => {
  if (hookFailed) process.exitCode = 1;
});

function reporting(kind: string, register: (fn: Hook) => void): (fn: Hook) => void {
  return (fn) =>
    register(async (state) => {
      try {
        await fn(state);
      } catch (err) {
        const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
        process.stderr.write(`\n[run-tests] error thrown in ${kind}:\n${text}\n`);
        hookFailed = true;
        throw err;
      }
    });
}

const before = test.before;
const after = test.after;
test.before = Object.assign(reporting('test.before', before), { each: reporting('test.before.each', before.each) });
test.after = Object.assign(reporting('test.after', after), { each: reporting('test.after.each', after.each) });
