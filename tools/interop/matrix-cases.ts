/**
 * The interop matrix's test cases with the public runner's meanings
 * (../shared/specs/quic-interop-runner-testcases-summary.md): what each side is told (TESTCASE),
 * the files, what the relay does to the link (delay, loss, corruption, black holes, NAT
 * rebinding, a bottleneck), and the checks the runner makes on its packet capture, made here
 * from the relay's wire log, the endpoints' log lines and our qlogs.
 *
 * Two scales: `runner` uses the runner's file sizes and connection counts; `quick` (the
 * regression test, `pnpm test:interop`) shrinks them so that a cell takes a few seconds while
 * keeping what the case is about (flow-control windows that must grow, a stream limit that must
 * be raised, loss and corruption that must be repaired, a black hole mid-transfer).
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUIC_V1 } from '@purequic/quic';
import type { LossSettings } from './lossy-relay.js';
import { ECN_REASON } from './peers-config.js';
import { checkAmplification, checkHandshakeCount, checkNoRetry, checkRetry, checkV2, checkZeroRtt, receivedFrameCounts } from './runner-checks.js';
import type { InteropCase, InteropFile, InteropOutcome } from './runner.js';

export type Scale = 'runner' | 'quick';

/** What a case sets up; the matrix adds server, client, seed, directory and timeout. */
export type CaseArrangement = Omit<InteropCase, 'server' | 'client' | 'seed' | 'directory' | 'timeoutMs' | 'observeWire'>;

export interface MatrixCase {
  name: string;
  /** The runner's matrix abbreviation. */
  abbreviation: string;
  /** `measurement`: a figure, not pass/fail (goodput, crosstraffic). */
  kind: 'test' | 'measurement';
  /** Why no pair here can run it (the cell says so). */
  impossible?: string;
  arrange(scale: Scale, seed: number): CaseArrangement;
  /** The runner's capture checks; empty when they pass. */
  check(outcome: InteropOutcome, arrangement: CaseArrangement): string[];
  /** Measurements: the figure for the cell. */
  figure?(outcome: InteropOutcome, arrangement: CaseArrangement): string | undefined;
  /** Bound on one cell. */
  timeoutMs: Record<Scale, number>;
}

const KiB = 1024;
const MiB = 1024 * 1024;

/** The runner's link: 15 ms each way. */
const LINK_DELAY_MS = 15;
/** The runner's goodput/crosstraffic link: 10 Mbit/s with a 25-packet queue. */
const BOTTLENECK = { bitsPerSecond: 10_000_000, queuePackets: 25 };

const file = (name: string, size: number): InteropFile => ({ name, size });
const files = (prefix: string, count: number, size: number, width = 4): InteropFile[] => Array.from({ length: count }, (_, i) => file(`${prefix}${String(i).padStart(width, '0')}.bin`, size));
const bySize = (scale: Scale, runner: number, quick: number): number => (scale === 'runner' ? runner : quick);

/** Every long-header packet in QUIC v1 (the runner's version check, all cases but v2). */
function checkVersion1(outcome: InteropOutcome): string[] {
  const other = outcome.wire?.packets.filter((p) => p.kind !== 'version-negotiation' && p.version !== QUIC_V1) ?? [];
  return other.length === 0 ? [] : [`${other.length} long-header packets in versions other than v1 (${[...new Set(other.map((p) => p.version.toString(16)))].join(', ')})`];
}

/** One handshake, no Retry, v1: what most cases check. */
function basicChecks(outcome: InteropOutcome, handshakes = 1): string[] {
  const wire = outcome.wire;
  if (!wire) return ['no wire log'];
  return [...checkHandshakeCount(wire, handshakes), ...checkNoRetry(wire), ...checkVersion1(outcome)];
}

/** `handshake complete` lines of a log. */
function handshakeLines(log: string): string[] {
  return log.split('\n').filter((l) => l.includes('handshake complete:'));
}

/** `chacha20`: every side that prints its cipher suite negotiated TLS_CHACHA20_POLY1305_SHA256. */
function checkChaCha(outcome: InteropOutcome): string[] {
  const problems: string[] = [];
  for (const [side, log] of [['server', outcome.serverLog], ['client', outcome.clientLog]] as const) {
    for (const m of log.matchAll(/handshake complete:.*cipher=(\S+)/g)) {
      if (m[1] !== 'TLS_CHACHA20_POLY1305_SHA256') problems.push(`the ${side} negotiated ${m[1]}`);
    }
  }
  return problems;
}

/**
 * `keyupdate`: the client updated its keys and the server followed (the runner: both sent key
 * phase 1). From the endpoints' own lines: ours and our quic-go tracer print
 * `key updates: local=N remote=M`, ngtcp2's client logs `key update confirmed`.
 */
function checkKeyUpdate(outcome: InteropOutcome): string[] {
  const problems: string[] = [];
  let evidence = 0;
  const client = /key updates: local=(\d+)/.exec(outcome.clientLog);
  if (client) {
    evidence++;
    if (Number(client[1]) < 1) problems.push('the client started no key update');
  }
  if (/Initiate key update/.test(outcome.clientLog)) {
    evidence++;
    if (!/key update confirmed/.test(outcome.clientLog)) problems.push('ngtcp2 client: its key update was never confirmed');
  }
  const servers = [...outcome.serverLog.matchAll(/key updates: local=[-\d]+ remote=(\d+)/g)];
  if (servers.length > 0) {
    evidence++;
    if (!servers.some((m) => Number(m[1]) >= 1)) problems.push('the server followed no key update');
  }
  if (evidence === 0) problems.push('neither side reports key updates');
  return problems;
}

/** `resumption` / `zerortt`: where a side prints it, the second handshake resumed (and took 0-RTT). */
function checkResumedLines(outcome: InteropOutcome, earlyData: boolean): string[] {
  const problems: string[] = [];
  for (const [side, log] of [['server', outcome.serverLog], ['client', outcome.clientLog]] as const) {
    const lines = handshakeLines(log);
    if (lines.length < 2) continue;
    const second = lines[1]!;
    if (!/resumed=yes/.test(second)) problems.push(`the ${side}'s second handshake did not resume`);
    if (earlyData && !/(early-data|0rtt)=yes/.test(second)) problems.push(`the ${side}'s second connection used no 0-RTT`);
  }
  return problems;
}

/**
 * `longrtt`: the client sent its ClientHello at least twice (the runner counts ClientHellos):
 * with 750 ms each way, its Initial's PTO fires before the server's answer arrives. Read without
 * timing: until a client has the server's first Initial, its Initials go to the Destination
 * Connection ID it chose; afterwards to the server's Source Connection ID (RFC 9000 §7.2). So
 * the datagrams with an Initial to the first DCID are the ClientHello and its retransmissions.
 */
function checkClientHelloRepeated(outcome: InteropOutcome): string[] {
  const initials = outcome.wire!.long('toServer', 'initial');
  const first = initials[0];
  if (!first) return ['no client Initial on the wire'];
  const count = new Set(initials.filter((p) => p.dcid === first.dcid).map((p) => p.datagram)).size;
  return count >= 2 ? [] : [`the client sent ${count} datagram(s) with an Initial to its first DCID; expected a retransmitted ClientHello`];
}

/** The loss or corruption the case asked for happened. */
function checkImpairment(outcome: InteropOutcome, what: 'dropped' | 'corrupted' | 'blackholed'): string[] {
  const r = outcome.relay;
  if (!r) return ['no relay statistics'];
  const count = what === 'dropped' ? r.toServer.dropped + r.toClient.dropped : what === 'corrupted' ? r.corrupted : r.blackholed;
  return count > 0 ? [] : [`the relay ${what} nothing`];
}

/**
 * `rebind-port` / `rebind-addr`: the NAT rebound at least once and, where the server writes our
 * qlog, the client answered its PATH_CHALLENGEs (the runner: every challenge got a response).
 */
function checkRebinding(outcome: InteropOutcome): string[] {
  if (outcome.rebinds < 1) return ['the NAT never rebound (the transfer ended first)'];
  const problems: string[] = [];
  // Where the server prints them (ours): the connection ended on another client address than
  // it started on, i.e. it followed the rebinding.
  const first = /handshake complete: remote=(\S+)/.exec(outcome.serverLog)?.[1];
  const last = /connection ended: .*; remote=(\S+)\s*$/m.exec(outcome.serverLog)?.[1];
  if (first && last && first === last) problems.push(`the server ended on the client's first address ${first}`);
  const dir = join(outcome.directory, 'logs', 'qlog-server');
  let counts: Map<string, number>;
  try {
    counts = readdirSync(dir).some((n) => n.endsWith('.sqlog')) ? receivedFrameCounts(dir) : new Map();
  } catch {
    counts = new Map();
  }
  if (counts.size > 0 && (counts.get('path_response') ?? 0) < 1) problems.push('the server received no PATH_RESPONSE after the rebinding');
  return problems;
}

/** Frames received per type from one side's qlog directory (empty when it wrote none we read). */
function qlogFrames(outcome: InteropOutcome, role: 'server' | 'client'): Map<string, number> {
  const dir = join(outcome.directory, 'logs', `qlog-${role}`);
  try {
    return readdirSync(dir).some((n) => n.endsWith('.sqlog')) ? receivedFrameCounts(dir) : new Map();
  } catch {
    return new Map();
  }
}

/**
 * `connectionmigration` (the runner: the server offers a preferred_address, RFC 9000 §9.6; the
 * client runs transfer and moves there). The servers here bind the address they offer, so the
 * new path bypasses the relay: the wire log covers the original path, where the basic checks
 * hold, and shows the move as the bulk of the file no longer passing through it. Where a side
 * writes our qlog, the server received PATH_CHALLENGE on the new path and the client its
 * PATH_RESPONSE (the runner's "every challenge got a response").
 */
function checkPreferredAddressMove(outcome: InteropOutcome, arrangement: CaseArrangement): string[] {
  const problems = basicChecks(outcome);
  const fileBytes = arrangement.files.reduce((sum, f) => sum + f.size, 0);
  const relayed = outcome.relay?.toClientBytes ?? fileBytes;
  if (relayed >= fileBytes) problems.push(`the client did not move to the preferred address: ${relayed} bytes of ${fileBytes} came over the original path`);
  const server = qlogFrames(outcome, 'server');
  if (server.size > 0 && (server.get('path_challenge') ?? 0) < 1) problems.push('the server received no PATH_CHALLENGE (the client did not validate the preferred address)');
  const client = qlogFrames(outcome, 'client');
  if (client.size > 0 && (client.get('path_response') ?? 0) < 1) problems.push('the client received no PATH_RESPONSE');
  return problems;
}

/** Goodput in kbit/s from the relay: file bytes over first client datagram to last datagram to a client. */
function goodput(outcome: InteropOutcome, arrangement: CaseArrangement): string | undefined {
  const r = outcome.relay;
  if (!r || r.lastToClientAt <= r.firstToServerAt) return undefined;
  const bytes = arrangement.files.reduce((sum, f) => sum + f.size, 0) * Math.max(1, arrangement.parallelClients ?? 1);
  const kbps = (bytes * 8) / (r.lastToClientAt - r.firstToServerAt);
  return `${Math.round(kbps)} kbit/s`;
}

/** NAT rebindings at fixed fractions of the transfer (4 at runner scale, 2 quick). */
function rebindings(scale: Scale, changeAddress: boolean): CaseArrangement['rebind'] {
  const size = bySize(scale, 10 * MiB, 2 * MiB);
  const fractions = scale === 'runner' ? [0.2, 0.4, 0.6, 0.8] : [0.25, 0.6];
  return { firstMs: 0, everyMs: 0, changeAddress, atBytes: fractions.map((f) => Math.round(size * f)) };
}

const loss = (rate: number, seed: number): LossSettings => ({ rate, maxBurst: 3, seed });

function transferFiles(scale: Scale): InteropFile[] {
  return scale === 'runner'
    ? [file('transfer-2m.bin', 2 * MiB), file('transfer-3m.bin', 3 * MiB), file('transfer-5m.bin', 5 * MiB)]
    : [file('transfer-512k.bin', 512 * KiB), file('transfer-768k.bin', 768 * KiB), file('transfer-1m.bin', MiB)];
}

/** Every case, in the public runner's matrix order, then the measurements. */
export const MATRIX_CASES: readonly MatrixCase[] = [
  {
    name: 'handshake',
    abbreviation: 'H',
    kind: 'test',
    arrange: () => ({ testcase: 'handshake', files: [file('handshake-1k.bin', KiB)], delayMs: LINK_DELAY_MS }),
    check: (o) => basicChecks(o),
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'transfer',
    abbreviation: 'DC',
    kind: 'test',
    arrange: (scale) => ({ testcase: 'transfer', files: transferFiles(scale), delayMs: LINK_DELAY_MS }),
    check: (o) => basicChecks(o),
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'longrtt',
    abbreviation: 'LR',
    kind: 'test',
    // The client runs handshake over a 750 ms (one-way) link.
    arrange: () => ({ testcase: 'handshake', files: [file('longrtt-1k.bin', KiB)], delayMs: 750 }),
    check: (o) => [...basicChecks(o), ...checkClientHelloRepeated(o)],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'chacha20',
    abbreviation: 'C20',
    kind: 'test',
    arrange: (scale) => ({ testcase: 'chacha20', files: [file('chacha20.bin', bySize(scale, 3 * MiB, 512 * KiB))], delayMs: LINK_DELAY_MS }),
    check: (o) => [...basicChecks(o), ...checkChaCha(o)],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'multiplexing',
    abbreviation: 'M',
    kind: 'test',
    // Runs transfer with many small files: more than the server's stream limit (ours: 100, at
    // most 1000 for the runner), so MAX_STREAMS must raise it.
    arrange: (scale) => ({ testcase: 'multiplexing', files: files('m', scale === 'runner' ? 2000 : 300, 32), delayMs: LINK_DELAY_MS }),
    check: (o) => basicChecks(o),
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'retry',
    abbreviation: 'S',
    kind: 'test',
    arrange: () => ({ testcase: 'retry', files: [file('retry-10k.bin', 10 * KiB)], delayMs: LINK_DELAY_MS }),
    check: (o) => (o.wire ? [...checkRetry(o.wire), ...checkVersion1(o)] : ['no wire log']),
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'resumption',
    abbreviation: 'R',
    kind: 'test',
    arrange: () => ({ testcase: 'resumption', files: [file('resumption-5k.bin', 5 * KiB), file('resumption-10k.bin', 10 * KiB)], delayMs: LINK_DELAY_MS }),
    check: (o) => [...basicChecks(o, 2), ...checkResumedLines(o, false)],
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'zerortt',
    abbreviation: 'Z',
    kind: 'test',
    // 40 files of 32 bytes with 250-character names, so that the requests weigh.
    arrange: () => ({ testcase: 'zerortt', files: Array.from({ length: 40 }, (_, i) => file(`z${String(i).padStart(2, '0')}`.padEnd(250, 'x'), 32)), delayMs: LINK_DELAY_MS }),
    check: (o, a) => {
      if (!o.wire) return ['no wire log'];
      // The second connection requests every file but the first (hq: `GET /name\r\n`).
      const requestBytes = a.files.slice(1).reduce((sum, f) => sum + `GET /${f.name}\r\n`.length, 0);
      return [...checkZeroRtt(o.wire, requestBytes), ...checkNoRetry(o.wire), ...checkVersion1(o), ...checkResumedLines(o, true)];
    },
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'http3',
    abbreviation: '3',
    kind: 'test',
    arrange: () => ({ testcase: 'http3', files: [file('http3-5k.bin', 5 * KiB), file('http3-10k.bin', 10 * KiB), file('http3-500k.bin', 500 * KiB)], delayMs: LINK_DELAY_MS }),
    check: (o) => basicChecks(o),
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'blackhole',
    abbreviation: 'B',
    kind: 'test',
    // Runs transfer; the link goes dark mid-transfer (the runner: 2 s every 5 s of a 10 MiB
    // transfer at 10 Mbit/s; here 2 s (quick: 1 s) after a quarter and again after 60% of the
    // bytes, since loopback is faster).
    arrange: (scale) => {
      const size = bySize(scale, 10 * MiB, 2 * MiB);
      return {
        testcase: 'transfer',
        files: [file('blackhole.bin', size)],
        delayMs: LINK_DELAY_MS,
        blackhole: scale === 'runner' ? { atBytes: [size / 4, (size * 3) / 5], durationMs: 2_000 } : { atBytes: [size / 4], durationMs: 1_000 },
      };
    },
    check: (o) => [...basicChecks(o), ...checkImpairment(o, 'blackholed')],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'keyupdate',
    abbreviation: 'U',
    kind: 'test',
    // The client updates keys early; the server runs transfer.
    arrange: (scale) => ({ testcase: 'keyupdate', serverTestcase: 'transfer', files: [file('keyupdate.bin', bySize(scale, 3 * MiB, MiB))], delayMs: LINK_DELAY_MS }),
    check: (o) => [...basicChecks(o), ...checkKeyUpdate(o)],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'ecn',
    abbreviation: 'E',
    kind: 'test',
    impossible: ECN_REASON,
    arrange: () => ({ testcase: 'handshake', files: [file('ecn.bin', 100 * KiB)], delayMs: LINK_DELAY_MS }),
    check: () => ['ECN cannot be observed here'],
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'amplificationlimit',
    abbreviation: 'A',
    kind: 'test',
    // Both run transfer; 9-certificate chain; the client's datagrams 2-7 are dropped.
    arrange: () => ({
      testcase: 'transfer',
      serverTestcase: 'transfer',
      files: [file('amplification-5k.bin', 5 * KiB)],
      delayMs: LINK_DELAY_MS,
      certificateChainLength: 9,
      dropToServer: (i) => i >= 1 && i <= 6,
    }),
    check: (o) => (o.wire ? [...checkAmplification(o.wire), ...checkNoRetry(o.wire), ...checkVersion1(o)] : ['no wire log']),
    // Six client datagrams lost in a row cost PTO backoff: 1 + 2 + 4 + 8 s at worst.
    timeoutMs: { runner: 90_000, quick: 60_000 },
  },
  {
    name: 'handshakeloss',
    abbreviation: 'L1',
    kind: 'test',
    // The client runs multiconnect: one connection per file; 30% loss in bursts of up to 3.
    arrange: (scale, seed) => ({
      testcase: 'multiconnect',
      serverTestcase: 'transfer',
      files: files('hl', scale === 'runner' ? 50 : 3, KiB, 2),
      delayMs: LINK_DELAY_MS,
      loss: loss(0.3, seed),
    }),
    check: (o, a) => [...basicChecks(o, a.files.length), ...checkImpairment(o, 'dropped')],
    timeoutMs: { runner: 300_000, quick: 60_000 },
  },
  {
    name: 'transferloss',
    abbreviation: 'L2',
    kind: 'test',
    arrange: (scale, seed) => ({ testcase: 'transfer', files: [file('transferloss.bin', bySize(scale, 2 * MiB, MiB))], delayMs: LINK_DELAY_MS, loss: loss(0.02, seed) }),
    check: (o) => [...basicChecks(o), ...checkImpairment(o, 'dropped')],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'handshakecorruption',
    abbreviation: 'C1',
    kind: 'test',
    arrange: (scale, seed) => ({
      testcase: 'multiconnect',
      serverTestcase: 'transfer',
      files: files('hc', scale === 'runner' ? 50 : 3, KiB, 2),
      delayMs: LINK_DELAY_MS,
      corrupt: loss(0.3, seed),
    }),
    check: (o, a) => [...basicChecks(o, a.files.length), ...checkImpairment(o, 'corrupted')],
    timeoutMs: { runner: 300_000, quick: 60_000 },
  },
  {
    name: 'transfercorruption',
    abbreviation: 'C2',
    kind: 'test',
    arrange: (scale, seed) => ({ testcase: 'transfer', files: [file('transfercorruption.bin', bySize(scale, 2 * MiB, MiB))], delayMs: LINK_DELAY_MS, corrupt: loss(0.02, seed) }),
    check: (o) => [...basicChecks(o), ...checkImpairment(o, 'corrupted')],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'ipv6',
    abbreviation: '6',
    kind: 'test',
    // Runs transfer over ::1 (the relay listens and forwards on IPv6 only).
    arrange: () => ({ testcase: 'transfer', files: [file('ipv6-5k.bin', 5 * KiB), file('ipv6-10k.bin', 10 * KiB)], delayMs: LINK_DELAY_MS, ipv6: true }),
    check: (o) => basicChecks(o),
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'v2',
    abbreviation: 'V2',
    kind: 'test',
    arrange: () => ({ testcase: 'v2', files: [file('v2-1k.bin', KiB)], delayMs: LINK_DELAY_MS }),
    check: (o) => (o.wire ? [...checkV2(o.wire), ...checkNoRetry(o.wire)] : ['no wire log']),
    timeoutMs: { runner: 60_000, quick: 30_000 },
  },
  {
    name: 'rebind-port',
    abbreviation: 'BP',
    kind: 'test',
    // Both run transfer; the NAT gives the client a new port after 1 s and every 5 s in the
    // runner; here after a fifth, two fifths ... of the bytes (a loopback transfer is short).
    arrange: (scale) => ({
      testcase: 'transfer',
      serverTestcase: 'transfer',
      files: [file('rebind-port.bin', bySize(scale, 10 * MiB, 2 * MiB))],
      delayMs: LINK_DELAY_MS,
      rebind: rebindings(scale, false),
    }),
    check: (o) => [...basicChecks(o), ...checkRebinding(o)],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'rebind-addr',
    abbreviation: 'BA',
    kind: 'test',
    arrange: (scale) => ({
      testcase: 'transfer',
      serverTestcase: 'transfer',
      files: [file('rebind-addr.bin', bySize(scale, 10 * MiB, 2 * MiB))],
      delayMs: LINK_DELAY_MS,
      rebind: rebindings(scale, true),
    }),
    check: (o) => [...basicChecks(o), ...checkRebinding(o)],
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'connectionmigration',
    abbreviation: 'CM',
    kind: 'test',
    // The runner's definition: the server (TESTCASE connectionmigration) offers a preferred
    // address (RFC 9000 §9.6); the client runs transfer and moves there after the handshake.
    arrange: (scale) => ({ testcase: 'transfer', serverTestcase: 'connectionmigration', preferredAddress: true, files: [file('migration.bin', bySize(scale, 2 * MiB, 2 * MiB))], delayMs: LINK_DELAY_MS }),
    check: (o, arrangement) => checkPreferredAddressMove(o, arrangement),
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'goodput',
    abbreviation: 'G',
    kind: 'measurement',
    // Runs transfer over a 10 Mbit/s link with a 25-packet queue (the runner: 10 MiB, 5 times).
    arrange: (scale) => ({ testcase: 'transfer', files: [file('goodput.bin', bySize(scale, 10 * MiB, MiB))], delayMs: LINK_DELAY_MS, bottleneck: BOTTLENECK }),
    check: (o) => basicChecks(o),
    figure: goodput,
    timeoutMs: { runner: 120_000, quick: 40_000 },
  },
  {
    name: 'crosstraffic',
    abbreviation: 'C',
    kind: 'measurement',
    // The runner competes with a TCP Cubic iperf flow on the 10 Mbit/s link; a UDP relay cannot
    // carry TCP, so here two clients of the pair share the bottleneck (QUIC against itself);
    // the figure is their combined goodput.
    arrange: (scale) => ({ testcase: 'transfer', files: [file('crosstraffic.bin', bySize(scale, 10 * MiB, MiB))], delayMs: LINK_DELAY_MS, bottleneck: BOTTLENECK, parallelClients: 2 }),
    // Two clients: two handshakes.
    check: (o) => basicChecks(o, 2),
    figure: goodput,
    timeoutMs: { runner: 180_000, quick: 60_000 },
  },
  ...webTransportCases(),
];

/** The application protocol both WebTransport sides are given (PROTOCOLS). */
export const WT_PROTOCOL = 'wt-interop-1';

/**
 * The WebTransport runner's cases (../shared/specs/quic-interop-runner-webtransport-endpoint-doc.md),
 * `wt-` in front of the runner's names: a handshake, then each of unidirectional streams,
 * bidirectional streams and datagrams with the client requesting (`-receive`: the server runs
 * `transfer` and answers) and with the server requesting (`-send`: the client serves its files).
 * Two endpoints (sessions) on one QUIC connection, as the contract says.
 */
function webTransportCases(): MatrixCase[] {
  const endpoints = ['wt1', 'wt2'];
  const streamFiles = (scale: Scale): InteropFile[] => [file('wt1/a.bin', bySize(scale, 2 * MiB, 256 * KiB)), file('wt1/b.bin', bySize(scale, MiB, 64 * KiB)), file('wt2/c.bin', bySize(scale, MiB, 128 * KiB))];
  // Each answer must fit in one datagram with its `PUSH <name>\n` line.
  const datagramFiles = (): InteropFile[] => [file('wt1/d1.bin', 600), file('wt2/d2.bin', 600)];
  const cases: MatrixCase[] = [
    {
      name: 'wt-handshake',
      abbreviation: 'WH',
      kind: 'test',
      arrange: () => ({ testcase: 'handshake', files: [], delayMs: LINK_DELAY_MS, webtransport: { protocols: [WT_PROTOCOL], endpoints, serverRequests: false } }),
      check: (o) => basicChecks(o),
      timeoutMs: { runner: 60_000, quick: 30_000 },
    },
  ];
  const modes = [
    ['unidirectional', 'WU'],
    ['bidirectional', 'WB'],
    ['datagram', 'WD'],
  ] as const;
  for (const [mode, abbreviation] of modes) {
    for (const direction of ['receive', 'send'] as const) {
      const testcase = `transfer-${mode}-${direction}`;
      cases.push({
        name: `wt-${testcase}`,
        abbreviation: `${abbreviation}${direction === 'receive' ? 'R' : 'S'}`,
        kind: 'test',
        arrange: (scale) => ({
          testcase,
          // `-receive`: the server answers whatever comes (`transfer`); `-send`: it requests.
          serverTestcase: direction === 'receive' ? 'transfer' : testcase,
          files: mode === 'datagram' ? datagramFiles() : streamFiles(scale),
          delayMs: LINK_DELAY_MS,
          webtransport: { protocols: [WT_PROTOCOL], endpoints, serverRequests: direction === 'send' },
        }),
        check: (o) => basicChecks(o),
        timeoutMs: { runner: 120_000, quick: 40_000 },
      });
    }
  }
  return cases;
}

export function findCase(name: string): MatrixCase | undefined {
  return MATRIX_CASES.find((c) => c.name === name || c.abbreviation === name);
}
