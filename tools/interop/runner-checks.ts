/**
 * The interop runner's packet-capture checks for the handshake-related cases, applied to what
 * our relay recorded (`WireLog`): only what can be read without decrypting (long headers,
 * datagram sizes). Each function returns the problems found (empty: the check passed), in the
 * spirit of quic-interop-runner's testcases_quic.py (see
 * ../shared/specs/quic-interop-runner-testcases-summary.md).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUIC_V1, QUIC_V2 } from '@purequic/quic';
import type { WireLog } from './wire-log.js';

/** RFC 9000 §8.1: before validating the client's address a server sends at most 3x what it got. */
export const AMPLIFICATION_FACTOR = 3;

const hexVersion = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** Exactly `expected` handshakes (distinct server SCIDs in server Initials). */
export function checkHandshakeCount(wire: WireLog, expected: number): string[] {
  const count = wire.handshakes;
  return count === expected ? [] : [`${count} handshakes on the wire, expected ${expected}`];
}

/** `handshake` and most others: no Retry at all. */
export function checkNoRetry(wire: WireLog): string[] {
  const retries = wire.long('toClient', 'retry').length;
  return retries === 0 ? [] : [`${retries} Retry packets where none was expected`];
}

/**
 * `retry`: at least one Retry with a token, and a later client Initial carrying one of those
 * tokens (RFC 9000 §17.2.5.2); one handshake.
 */
export function checkRetry(wire: WireLog): string[] {
  const problems: string[] = [];
  const retries = wire.long('toClient', 'retry');
  const tokens = new Set(retries.map((r) => r.token).filter((t) => t !== ''));
  if (tokens.size === 0) problems.push('no Retry packet with a token');
  const echoed = wire.long('toServer', 'initial').some((p) => tokens.has(p.token));
  if (tokens.size > 0 && !echoed) problems.push('no client Initial carried the Retry token');
  return [...problems, ...checkHandshakeCount(wire, 1)];
}

/**
 * `zerortt`: two handshakes, 0-RTT packets from the client, and little client 1-RTT data on the
 * second connection: the runner wants the client's 1-RTT payload under half of the request bytes
 * (most requests in 0-RTT). Datagrams holding only 1-RTT packets are counted whole (an upper
 * bound of their payload).
 */
export function checkZeroRtt(wire: WireLog, requestBytes: number): string[] {
  const problems = checkHandshakeCount(wire, 2);
  const zeroRtt = wire.long('toServer', '0rtt');
  if (zeroRtt.length === 0) return [...problems, 'the client sent no 0-RTT packet'];
  const firstEarly = zeroRtt[0]!.datagram;
  const withLongHeaders = new Set(wire.packets.filter((p) => p.direction === 'toServer').map((p) => p.datagram));
  let shortOnly = 0;
  for (const d of wire.datagrams) {
    if (d.direction === 'toServer' && d.index > firstEarly && !withLongHeaders.has(d.index)) shortOnly += d.size;
  }
  if (shortOnly >= requestBytes / 2) problems.push(`client 1-RTT datagrams on the 0-RTT connection: ${shortOnly} bytes, not under half of ${requestBytes}`);
  return problems;
}

/**
 * `v2`: the client's Initials include v1 (its first flight), the server's Initials include v2,
 * and every Handshake packet of both sides is v2 (RFC 9368 §2.3 compatible negotiation).
 */
export function checkV2(wire: WireLog): string[] {
  const problems: string[] = [];
  if (!wire.long('toServer', 'initial').some((p) => p.version === QUIC_V1)) problems.push('no client Initial in QUIC v1');
  if (!wire.long('toClient', 'initial').some((p) => p.version === QUIC_V2)) problems.push('no server Initial in QUIC v2');
  const handshakes = wire.packets.filter((p) => p.kind === 'handshake');
  if (handshakes.length === 0) problems.push('no Handshake packets');
  const other = handshakes.filter((p) => p.version !== QUIC_V2);
  if (other.length > 0) problems.push(`Handshake packets in ${[...new Set(other.map((p) => hexVersion(p.version)))].join(', ')}`);
  return [...problems, ...checkHandshakeCount(wire, 1)];
}

/**
 * `amplificationlimit`: before the client's first Handshake packet reaches it, the server sent
 * at most 3x the bytes it received (RFC 9000 §8.1), and its flight was large enough to matter.
 */
export function checkAmplification(wire: WireLog): string[] {
  const { sent, received } = wire.bytesBeforeClientHandshake();
  const problems: string[] = [];
  if (sent > AMPLIFICATION_FACTOR * received) problems.push(`the server sent ${sent} bytes before validation, over ${AMPLIFICATION_FACTOR}x the ${received} it received`);
  return [...problems, ...checkHandshakeCount(wire, 1)];
}

/**
 * The wire checks of a runner case by its matrix name (`files`: what the client requested;
 * hq-interop requests are `GET /name\r\n`). Unknown names get the common ones: one handshake,
 * no Retry.
 */
export function wireChecks(testcase: string, wire: WireLog, files: readonly { name: string }[]): string[] {
  switch (testcase) {
    case 'retry':
      return checkRetry(wire);
    case 'resumption':
      return [...checkHandshakeCount(wire, 2), ...checkNoRetry(wire)];
    case 'zerortt': {
      // The second connection requests every file but the first.
      const requestBytes = files.slice(1).reduce((sum, f) => sum + `GET /${f.name}\r\n`.length, 0);
      return [...checkZeroRtt(wire, requestBytes), ...checkNoRetry(wire)];
    }
    case 'v2':
      return [...checkV2(wire), ...checkNoRetry(wire)];
    case 'amplificationlimit':
      return [...checkAmplification(wire), ...checkNoRetry(wire)];
    case 'multiconnect':
      return [...checkHandshakeCount(wire, files.length), ...checkNoRetry(wire)];
    case 'connectionmigration':
      return [...checkMigration(wire), ...checkNoRetry(wire)];
    default:
      return [...checkHandshakeCount(wire, 1), ...checkNoRetry(wire)];
  }
}

/**
 * `connectionmigration` (the runner's newer definition: the client migrates actively): the
 * server saw more than one client address, and the client's first datagram from each new
 * address uses a Destination Connection ID it never used before (RFC 9000 §9.5: no linkability).
 */
export function checkMigration(wire: WireLog): string[] {
  const flows = wire.flows;
  if (flows.length < 2) return [`the client used ${flows.length} address(es); no migration seen`];
  const problems: string[] = [];
  const used = new Set<string>();
  for (const flow of flows) {
    const datagrams = wire.datagrams.filter((d) => d.direction === 'toServer' && d.flow === flow);
    const first = datagrams[0]!;
    if (used.size > 0 && used.has(first.dcid)) problems.push(`the first datagram from ${flow} reuses DCID ${first.dcid}`);
    for (const d of datagrams) used.add(d.dcid);
  }
  return [...problems, ...checkHandshakeCount(wire, 1)];
}

/**
 * Frames of each type an endpoint received, from the qlog files (`*.sqlog`, JSON-SEQ) in its
 * QLOGDIR: what a capture would show after decryption (PATH_CHALLENGE / PATH_RESPONSE for the
 * runner's rebind and migration checks).
 */
export function receivedFrameCounts(qlogDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(qlogDir)) {
    if (!name.endsWith('.sqlog')) continue;
    // JSON-SEQ (RFC 7464): records start with RS (0x1e).
    for (const record of readFileSync(join(qlogDir, name), 'utf8').split('\x1e')) {
      if (!record.includes('"quic:packet_received"')) continue;
      const event = JSON.parse(record) as { data?: { frames?: { frame_type?: string }[] } };
      for (const frame of event.data?.frames ?? []) {
        const type = frame.frame_type ?? 'unknown';
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
  }
  return counts;
}
