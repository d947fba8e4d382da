/**
 * How `QuicEndpoint.connect` reaches a server named by host name: resolve every address
 * (`node:dns` lookup, as `node:net` does), order them Happy Eyeballs style (RFC 8305 §4: the
 * resolver's first family first, then alternating families), start one handshake, and start the
 * next address whenever the previous one has not succeeded within 250 ms (RFC 8305 §5) or failed
 * without hearing from the server. The first handshake to complete wins; the others are dropped.
 * The whole attempt is bounded by a handshake timeout with its own error.
 */

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** RFC 8305 §5: the recommended Connection Attempt Delay. */
export const ATTEMPT_DELAY_MS = 250;
/** Default bound on `connect()`: resolving, every attempt, and the handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Why `QuicEndpoint.connect` failed before a connection existed: `code` is 'ETIMEDOUT' when no
 * handshake completed within `handshakeTimeoutMs`, 'EAFNOSUPPORT' when no resolved address fits
 * the endpoint's socket, or the socket's error code (e.g. 'EACCES', 'ENETUNREACH') when sending
 * failed. DNS failures are rethrown as `node:dns` reports them ('ENOTFOUND', 'EAI_AGAIN', ...).
 */
export class QuicConnectError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** Every address tried, as "host:port" ("[v6]:port" for IPv6). */
    readonly addresses: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QuicConnectError';
  }
}

/** A resolver: every address of `hostname`, in the order to prefer them (`family` 4 or 6). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: HostLookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** One address for a handshake attempt. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** "127.0.0.1:9", "[::1]:4433" (an IPv4-mapped address is shown as IPv4). */
export function formatAddress(address: string, port: number): string {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return isIP(plain) === 6 ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** "10 s", "1.5 s", "250 ms". */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${Math.round(ms)} ms`;
}

/**
 * The addresses to try for `host`, in Happy Eyeballs order, limited to those the endpoint's socket
 * can reach (`socketFamily` 'IPv4': IPv4 only; 'IPv6' dual-stack on '::' reaches both, otherwise
 * IPv6 only). An IP literal is used as is. Rejects with the resolver's error (its `code`).
 */
export async function resolveAddresses(host: string, socketFamily: string, socketAddress: string, resolver: HostLookup = systemLookup): Promise<ResolvedAddress[]> {
  const literal = host.replace(/^\[(.*)\]$/, '$1');
  const found: ResolvedAddress[] =
    isIP(literal) !== 0
      ? [{ address: literal, family: isIP(literal) as 4 | 6 }]
      : (await resolver(host)).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  const dualStack = socketFamily === 'IPv6' && (socketAddress === '::' || socketAddress === '::0');
  const usable = found.filter((a) => (socketFamily === 'IPv4' ? a.family === 4 : dualStack || a.family === 6));
  if (usable.length === 0) {
    const list = found.map((a) => a.address).join(', ');
    throw new QuicConnectError(
      `${host} resolves to ${list}, none of which this endpoint's socket (${socketFamily}, bound to ${socketAddress}) can reach`,
      'EAFNOSUPPORT',
      found.map((a) => a.address),
    );
  }
  // RFC 8305 §4: interleave the families, starting with the resolver's first.
  const first = usable[0]!.family;
  const a = usable.filter((x) => x.family === first);
  const b = usable.filter((x) => x.family !== first);
  const ordered: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) ordered.push(a[i]!);
    if (i < b.length) ordered.push(b[i]!);
  }
  return ordered;
}

/** One handshake attempt to one address, as the endpoint runs it. */
export interface Attempt<T> {
  /** Resolves with the connection once usable; rejects when this attempt fails. */
  readonly result: Promise<T>;
  /** Whether anything came back from the server on this attempt. */
  heardFromPeer(): boolean;
  /** Stops the attempt (it lost the race or the time ran out). Idempotent. */
  abandon(): void;
}

/**
 * Runs attempts over `addresses` (RFC 8305 §5) until one succeeds, one fails after the server
 * answered (that failure is the answer: a wrong certificate does not improve at another
 * address), all fail, or `timeoutMs` passes.
 */
export function raceAttempts<T>(
  addresses: ResolvedAddress[],
  port: number,
  start: (address: ResolvedAddress) => Attempt<T>,
  timeoutMs: number,
  attemptDelayMs = ATTEMPT_DELAY_MS,
): Promise<T> {
  const names = addresses.map((a) => formatAddress(a.address, port));
  return new Promise<T>((resolve, reject) => {
    const running = new Set<Attempt<T>>();
    const failures: unknown[] = [];
    let next = 0;
    let settled = false;
    let delayTimer: NodeJS.Timeout | undefined;

    const settle = (winner: Attempt<T> | undefined): void => {
      settled = true;
      clearTimeout(delayTimer);
      clearTimeout(deadline);
      for (const a of running) if (a !== winner) a.abandon();
      running.clear();
    };

    const launch = (): void => {
      clearTimeout(delayTimer);
      if (settled || next >= addresses.length) return;
      const attempt = start(addresses[next++]!);
      running.add(attempt);
      attempt.result.then(
        (value) => {
          if (settled) return attempt.abandon();
          settle(attempt);
          resolve(value);
        },
        (error: unknown) => {
          running.delete(attempt);
          if (settled) return;
          if (attempt.heardFromPeer()) {
            settle(undefined);
            reject(error);
            return;
          }
          failures.push(error);
          if (next < addresses.length) launch();
          else if (running.size === 0) {
            settle(undefined);
            reject(failures[0]);
          }
        },
      );
      if (next < addresses.length) delayTimer = setTimeout(launch, attemptDelayMs);
    };

    const deadline = setTimeout(() => {
      if (settled) return;
      const heard = [...running].some((a) => a.heardFromPeer());
      settle(undefined);
      const tried = names.slice(0, next).join(' or ');
      const message = heard
        ? `handshake with ${tried} did not complete within ${formatDuration(timeoutMs)}`
        : `no response from ${tried} within ${formatDuration(timeoutMs)}`;
      reject(new QuicConnectError(message, 'ETIMEDOUT', names.slice(0, next), failures.length ? { cause: failures[0] } : undefined));
    }, timeoutMs);

    launch();
  });
}
