/**
 * Extensible priorities (RFC 9218): the Priority field value (a Structured Field Dictionary,
 * RFC 9651 §3.2) with the parameters `u` (urgency 0-7, default 3) and `i` (incremental, default
 * false). Unknown members and malformed values are ignored (§4: "MUST ignore").
 */

export interface Priority {
  urgency: number;
  incremental: boolean;
}

export const DEFAULT_PRIORITY: Readonly<Priority> = { urgency: 3, incremental: false };

/** Parses `u=1, i` and the like; what it cannot parse keeps its default. */
export function parsePriority(value: string, base: Priority = DEFAULT_PRIORITY): Priority {
  const out = { ...base };
  for (const member of value.split(',')) {
    const [rawKey, rawValue] = member.split('=', 2) as [string, string | undefined];
    const key = rawKey.trim().split(';')[0]!;
    const v = rawValue?.trim().split(';')[0];
    if (key === 'u') {
      if (v !== undefined && /^\d$/.test(v) && Number(v) <= 7) out.urgency = Number(v);
    } else if (key === 'i') {
      if (v === undefined || v === '?1') out.incremental = true;
      else if (v === '?0') out.incremental = false;
    }
  }
  return out;
}

/** Serialises a priority, leaving out defaults (RFC 9218 §4). */
export function formatPriority(p: Priority): string {
  const parts: string[] = [];
  if (p.urgency !== DEFAULT_PRIORITY.urgency) parts.push(`u=${p.urgency}`);
  if (p.incremental) parts.push('i');
  return parts.join(', ');
}
