/**
 * What each interop-runner TESTCASE asks of our endpoint, per role.
 *
 * The runner hands each container the name of the behaviour it wants, which is not always the
 * matrix name: `multiplexing`, `transferloss`, `blackhole`, `ipv6` ... all run `transfer`, and
 * `handshakeloss` runs `multiconnect` on the client (the loss comes from the runner's network
 * simulator, not from us). A name missing here makes the endpoint exit 127 ("unsupported"),
 * which is how the runner probes what an endpoint implements.
 */

import type { TransportSettings } from '@purequic/quic';

export type InteropRole = 'client' | 'server';

/** How our endpoint behaves for one test case. */
export interface TestcasePlan {
  /** Transport settings for our side (merged over the defaults). */
  transport: Partial<TransportSettings>;
  /** Offer / accept only TLS_CHACHA20_POLY1305_SHA256 (runner `chacha20`). */
  chacha20Only: boolean;
  /** Client: a new connection per URL, one after another (runner `multiconnect`). */
  connectionPerRequest: boolean;
}

/**
 * Runner `transfer`: "the client should use small initial flow control windows ... such that
 * during the transfer of files on the order of 1 MB the flow control window needs to be
 * increased". 64 KiB per stream and 256 KiB per connection force several window updates for
 * the 2-5 MiB files of that case; the connection's auto-tuning then grows them.
 */
const SMALL_CLIENT_WINDOWS: Partial<TransportSettings> = {
  initialMaxData: 256 * 1024,
  initialMaxStreamDataBidiLocal: 64 * 1024,
  initialMaxStreamDataBidiRemote: 64 * 1024,
  initialMaxStreamDataUni: 64 * 1024,
};

/**
 * Runner `multiplexing` checks that the server's initial_max_streams_bidi is at most 1000 so that
 * 2,000 requests need MAX_STREAMS updates; 100 (our default) makes it raise the limit ~20 times.
 */
export const SERVER_INITIAL_MAX_STREAMS_BIDI = 100;

const PLANS: Record<InteropRole, Record<string, TestcasePlan>> = {
  server: {
    handshake: plan({}),
    transfer: plan({}),
    multiplexing: plan({}),
    multiconnect: plan({}),
    chacha20: plan({}, { chacha20Only: true }),
  },
  client: {
    handshake: plan({}),
    transfer: plan(SMALL_CLIENT_WINDOWS),
    multiplexing: plan(SMALL_CLIENT_WINDOWS),
    multiconnect: plan({}, { connectionPerRequest: true }),
    chacha20: plan({}, { chacha20Only: true }),
  },
};

function plan(transport: Partial<TransportSettings>, extra: Partial<Omit<TestcasePlan, 'transport'>> = {}): TestcasePlan {
  return { transport, chacha20Only: false, connectionPerRequest: false, ...extra };
}

/** The plan for a test case, or undefined when we do not support it (exit 127). */
export function planTestcase(role: InteropRole, testcase: string): TestcasePlan | undefined {
  const found = Object.hasOwn(PLANS[role], testcase) ? PLANS[role][testcase] : undefined;
  if (!found) return undefined;
  if (role === 'server') {
    return { ...found, transport: { initialMaxStreamsBidi: SERVER_INITIAL_MAX_STREAMS_BIDI, ...found.transport } };
  }
  return found;
}

/** Test case names we support in a role (for the README and `--help`). */
export function supportedTestcases(role: InteropRole): string[] {
  return Object.keys(PLANS[role]);
}
