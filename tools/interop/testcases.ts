/**
 * What each interop-runner TESTCASE asks of our endpoint, per role.
 *
 * The runner hands each container the name of the behaviour it wants, which is not always the
 * matrix name: `multiplexing`, `transferloss`, `blackhole`, `ipv6` ... all run `transfer`, and
 * `handshakeloss` runs `multiconnect` on the client (the loss comes from the runner's network
 * simulator, not from us). A name missing here makes the endpoint exit 127 ("unsupported"),
 * which is how the runner probes what an endpoint implements.
 */

import { QUIC_V1, QUIC_V2, type TransportSettings } from '@purequic/quic';

export type InteropRole = 'client' | 'server';

/**
 * Client: how many connections and how the later one starts (runner `resumption`/`zerortt`):
 * the first connection fetches the first URL, then a second connection on the same endpoint
 * resumes with the first one's session ticket and fetches the rest, in 0-RTT for `early-data`.
 */
export type ResumptionMode = 'none' | 'resume' | 'early-data';

/** How our endpoint behaves for one test case. */
export interface TestcasePlan {
  /** Transport settings for our side (merged over the defaults). */
  transport: Partial<TransportSettings>;
  /** Offer / accept only TLS_CHACHA20_POLY1305_SHA256 (runner `chacha20`). */
  chacha20Only: boolean;
  /** Client: a new connection per URL, one after another (runner `multiconnect`). */
  connectionPerRequest: boolean;
  /** Server: send a Retry to every new client (RFC 9000 §8.1.2; runner `retry`). */
  retry: boolean;
  /** Server: accept 0-RTT from resumed clients (runner `zerortt`). Client: see `resumption`. */
  earlyData: boolean;
  /** Client: one connection, or a first one then a resumed one (runner `resumption`/`zerortt`). */
  resumption: ResumptionMode;
  /** Client: start a 1-RTT key update as soon as the handshake is confirmed (runner `keyupdate`). */
  initiateKeyUpdate: boolean;
  /**
   * Client: migrate actively to a new local port once the handshake is confirmed, during the
   * transfer (RFC 9000 §9.2; runner `connectionmigration` as the client's test name).
   */
  migrate: boolean;
  /**
   * Server: offer a preferred address (RFC 9000 §9.6; runner `connectionmigration` as the
   * server's test name): clients move there after the handshake.
   */
  preferredAddress: boolean;
  /**
   * QUIC versions by preference. Client: the first is used for the first flight, every one is
   * listed in version_information (RFC 9368 §3). Server: the compatible version it switches a
   * client to (RFC 9368 §2.3). Undefined: the library's default.
   */
  versions: number[] | undefined;
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
    retry: plan({}, { retry: true }),
    // Session tickets are on by default; a resumed handshake sends no Certificate.
    resumption: plan({}),
    zerortt: plan({}, { earlyData: true }),
    // RFC 9369 §4 / RFC 9368 §2.3: prefer v2, so v1 clients that offer v2 are switched to it.
    v2: plan({}, { versions: [QUIC_V2, QUIC_V1] }),
    // The runner gives the server `transfer` here (with a 9-certificate chain); the name is
    // accepted too for direct runs. The 3x limit of RFC 9000 §8.1 is always enforced.
    amplificationlimit: plan({}),
    // The runner runs `transfer` on the server for keyupdate; accepted for direct runs.
    keyupdate: plan({}),
    // The runner gives the server `transfer`: a client's new port or address is validated with
    // PATH_CHALLENGE before the connection moves there (RFC 9000 §9). Accepted for direct runs.
    'rebind-port': plan({}),
    'rebind-addr': plan({}),
    // HTTP/3 (RFC 9114) with @purequic/h3 (tools/interop/h3-files.ts); with ALPN=h3 the
    // endpoint speaks it in every other case too (h3-only peers).
    http3: plan({}),
    // The runner gives the server this name to make it advertise a preferred_address (RFC 9000
    // §9.6); the client runs `transfer` and moves there after the handshake.
    connectionmigration: plan({}, { preferredAddress: true }),
  },
  client: {
    handshake: plan({}),
    transfer: plan(SMALL_CLIENT_WINDOWS),
    multiplexing: plan(SMALL_CLIENT_WINDOWS),
    multiconnect: plan({}, { connectionPerRequest: true }),
    chacha20: plan({}, { chacha20Only: true }),
    // Nothing to ask for: a client always follows a Retry (RFC 9000 §17.2.5.2).
    retry: plan({}),
    resumption: plan({}, { resumption: 'resume' }),
    zerortt: plan({}, { resumption: 'early-data' }),
    keyupdate: plan({}, { initiateKeyUpdate: true }),
    // Prefers v2, first flight in v1 (the default first flight when v1 is offered, RFC 9368 §5):
    // version_information lists v2 first, so a server following the client's order picks v2.
    v2: plan({}, { versions: [QUIC_V2, QUIC_V1] }),
    amplificationlimit: plan(SMALL_CLIENT_WINDOWS),
    'rebind-port': plan(SMALL_CLIENT_WINDOWS),
    'rebind-addr': plan(SMALL_CLIENT_WINDOWS),
    // Given to a client (some runner versions): it migrates actively during the transfer. With
    // `transfer` our client moves to a server's preferred address by itself (RFC 9000 §9.6.1).
    connectionmigration: plan(SMALL_CLIENT_WINDOWS, { migrate: true }),
    // The runner's http3: 3 files in parallel over HTTP/3 (ALPN h3).
    http3: plan({}),
  },
};

function plan(transport: Partial<TransportSettings>, extra: Partial<Omit<TestcasePlan, 'transport'>> = {}): TestcasePlan {
  return {
    transport,
    chacha20Only: false,
    connectionPerRequest: false,
    retry: false,
    earlyData: false,
    resumption: 'none',
    initiateKeyUpdate: false,
    migrate: false,
    preferredAddress: false,
    versions: undefined,
    ...extra,
  };
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
