/**
 * What the ngtcp2 interop tests share: a bound on each step and ngtcp2's log without its
 * per-packet debug records, for failure messages.
 */

export { freeUdpPort } from '../../bench/udp-port.js';

/** `promise`, or a rejection naming `what` after `ms`. */
export function withStepTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** ngtcp2's log without its per-packet lines (I0000... debug records): the last `lines` lines. */
export function summary(log: string, lines = 30): string {
  return log
    .split('\n')
    .filter((l) => !l.startsWith('I0'))
    .slice(-lines)
    .join('\n');
}
