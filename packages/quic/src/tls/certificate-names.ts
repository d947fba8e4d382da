/**
 * Matching the name the client asked for against a certificate's subjectAltName:
 * dNSName with RFC 6125 §6.4 rules (a whole left-most "*" label only), iPAddress octet for
 * octet (RFC 5280 §4.2.1.6). The subject CN is never consulted (RFC 6125 §6.4.4: only without
 * a SAN, and we require one, as browsers do).
 */

/** Parses an IPv4 dotted quad or an IPv6 literal (optionally in brackets) to 4 / 16 octets. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (host.includes(':')) return parseIpv6(host);
  return parseIpv4(host);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  // RFC 4291 §2.2: up to eight 16-bit groups, one "::" run of zeros, optional dotted IPv4 tail.
  if (text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (groups[i] as number) >>> 8;
    out[2 * i + 1] = (groups[i] as number) & 0xff;
  }
  return out;
}

function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * RFC 6125 §6.4.3: "*" may only be the complete left-most label and matches exactly one
 * label; we also require two labels after it (no "*.com"), and never match it against an
 * IDN A-label ("xn--", §6.4.3 last paragraph).
 */
export function dnsNameMatches(pattern: string, hostname: string): boolean {
  const p = normalizeDnsName(pattern);
  const h = normalizeDnsName(hostname);
  if (p.length === 0 || h.length === 0) return false;
  if (!p.startsWith('*.')) return !p.includes('*') && p === h;
  const suffix = p.slice(1); // ".example.com"
  if (suffix.includes('*') || suffix.split('.').length < 3) return false;
  if (!h.endsWith(suffix)) return false;
  const label = h.slice(0, h.length - suffix.length);
  return label.length > 0 && !label.includes('.') && !label.startsWith('xn--');
}

/** Whether a SAN list covers `hostname` (a DNS name or an IP literal). */
export function subjectAltNamesMatch(names: { dns: readonly string[]; ip: readonly Uint8Array[] }, hostname: string): boolean {
  const ip = parseIpAddress(hostname);
  if (ip !== undefined) {
    for (const candidate of names.ip) {
      if (candidate.length !== ip.length) continue;
      let same = true;
      for (let i = 0; i < ip.length && same; i++) same = candidate[i] === ip[i];
      if (same) return true;
    }
    // RFC 6125 §6.2.1 / RFC 5280: an IP literal matches iPAddress entries only.
    return false;
  }
  for (const pattern of names.dns) if (dnsNameMatches(pattern, hostname)) return true;
  return false;
}
