/**
 * The server's preferred address (RFC 9000 §9.6, transport parameter §18.2), both roles.
 *
 * Server: the transport parameter is built from the addresses the endpoint bound, with the
 * connection ID of sequence number 1 (§5.1.1) and its stateless reset token; datagrams arriving
 * at a preferred address reach the connection with that local address, so the paths there are
 * distinct paths (path.ts keys server paths by local address too) and the server moves to one
 * only once the client sends non-probing packets on it and it is validated (§9.6.2, §9.3).
 *
 * Client: the parameter's CID joins the peer's CIDs as sequence 1 (its token indexed for
 * Stateless Reset); once the handshake is confirmed the client probes the preferred address of
 * the family it uses with PATH_CHALLENGE and that CID, and moves there when the PATH_RESPONSE
 * arrives (§9.6.1); if validation fails it stays where it was (§9.6.1: "the client MUST
 * continue sending all future packets to the server's original IP address").
 *
 * Addresses are the strings node:dgram reports; the IPv6 text form here is the one libuv's
 * inet_ntop writes (RFC 5952 compression, IPv4-mapped tail), so a path's address compares equal
 * to the address of the datagrams that come back from it.
 */

import type { PreferredAddress } from '../transport-params.js';
import type { ConnectionCore } from './core.js';
import type { PathAddress } from './types.js';

/** What a server offers: an address per family, either may be absent (§18.2: sent as zeros). */
export interface PreferredAddressConfig {
  ipv4?: PathAddress;
  ipv6?: PathAddress;
}

/** "192.0.2.1" -> 4 bytes, or undefined when it is not a dotted quad. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** IPv6 text (with "::" and an optional dotted IPv4 tail, no zone) -> 16 bytes, or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('%')) text = text.slice(0, text.indexOf('%'));
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const words = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** 16 bytes -> the text inet_ntop writes: the longest run (>= 2) of zero groups as "::". */
export function formatIpv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLength - 1;
      continue;
    }
    // An IPv4-mapped address (::ffff:a.b.c.d) ends in dotted form.
    if (i === 6 && bestStart === 0 && bestLength === 5 && words[5] === 0xffff) {
      out += (out.endsWith(':') ? '' : ':') + formatIpv4(b.subarray(12));
      break;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16);
  }
  return out;
}

/** The transport parameter for `config`, with the connection ID of sequence 1 and its token. */
export function preferredAddressParameter(config: PreferredAddressConfig, cid: Uint8Array, resetToken: Uint8Array): PreferredAddress {
  const v4 = config.ipv4 ? parseIpv4(config.ipv4.address) : undefined;
  const v6 = config.ipv6 ? parseIpv6(config.ipv6.address) : undefined;
  if (config.ipv4 && !v4) throw new RangeError(`preferred address ${config.ipv4.address} is not an IPv4 address`);
  if (config.ipv6 && !v6) throw new RangeError(`preferred address ${config.ipv6.address} is not an IPv6 address`);
  return {
    ipv4Address: v4 ?? new Uint8Array(4),
    ipv4Port: config.ipv4?.port ?? 0,
    ipv6Address: v6 ?? new Uint8Array(16),
    ipv6Port: config.ipv6?.port ?? 0,
    connectionId: cid,
    statelessResetToken: resetToken,
  };
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/**
 * Where a client now sending to `current` should go (§9.6.1): the preferred address of the same
 * family (an IPv4-mapped one when `current` is IPv4-mapped, as a dual-stack socket reports), or
 * undefined when the server offers none we can use, or offers the address we already use.
 */
export function preferredTarget(p: PreferredAddress, current: PathAddress): PathAddress | undefined {
  const mapped = current.address.startsWith('::ffff:') && parseIpv4(current.address.slice(7)) !== undefined;
  const v6 = !mapped && current.address.includes(':');
  let target: PathAddress | undefined;
  if (v6) {
    if (!isZero(p.ipv6Address) && p.ipv6Port !== 0) target = { address: formatIpv6(p.ipv6Address), port: p.ipv6Port, family: 'IPv6' };
  } else if (!isZero(p.ipv4Address) && p.ipv4Port !== 0) {
    const v4 = formatIpv4(p.ipv4Address);
    target = mapped ? { address: `::ffff:${v4}`, port: p.ipv4Port, family: 'IPv6' } : { address: v4, port: p.ipv4Port, family: 'IPv4' };
  }
  if (target && target.address === current.address && target.port === current.port) return undefined;
  return target;
}

/**
 * Client, on handshake confirmation (§9.6.1: the client SHOULD migrate then): starts validating
 * the preferred address of the family in use, unless disabled, absent, unusable, or the CID it
 * came with was already retired. The move itself happens on PATH_RESPONSE (migration.ts).
 */
export function startPreferredAddressMigration(core: ConnectionCore, enabled: boolean): boolean {
  if (core.isServer || !enabled || core.isClosed) return false;
  const p = core.peerParams?.preferredAddress;
  if (!p) return false;
  const target = preferredTarget(p, core.remote);
  if (!target) return false;
  // The probes use the lowest unused peer CID (send.ts), sequence 1 unless a NEW_CONNECTION_ID
  // with Retire Prior To already moved past it; either way one must be spare (§9.5).
  if (core.peerCids.peekNext() === undefined) return false;
  core.paths.probeRemote(target, core.paths.active.local, core.now, core.ptoMs());
  if (core.qlog) core.qlog.migrationState(core.now, 'probing_started', target, core.paths.active.local);
  return true;
}
