/**
 * The QPACK static table (RFC 9204 Appendix A), indexed from 0, and the lookups the encoder runs for
 * every field line, precomputed into Maps once at load.
 */

/** RFC 9204 Appendix A, in index order: [name, value]. */
export const STATIC_TABLE: readonly (readonly [name: string, value: string])[] = [
  [":authority", ""], // 0
  [":path", "/"], // 1
  ["age", "0"], // 2
  ["content-disposition", ""], // 3
  ["content-length", "0"], // 4
  ["cookie", ""], // 5
  ["date", ""], // 6
  ["etag", ""], // 7
  ["if-modified-since", ""], // 8
  ["if-none-match", ""], // 9
  ["last-modified", ""], // 10
  ["link", ""], // 11
  ["location", ""], // 12
  ["referer", ""], // 13
  ["set-cookie", ""], // 14
  [":method", "CONNECT"], // 15
  [":method", "DELETE"], // 16
  [":method", "GET"], // 17
  [":method", "HEAD"], // 18
  [":method", "OPTIONS"], // 19
  [":method", "POST"], // 20
  [":method", "PUT"], // 21
  [":scheme", "http"], // 22
  [":scheme", "https"], // 23
  [":status", "103"], // 24
  [":status", "200"], // 25
  [":status", "304"], // 26
  [":status", "404"], // 27
  [":status", "503"], // 28
  ["accept", "*/*"], // 29
  ["accept", "application/dns-message"], // 30
  ["accept-encoding", "gzip, deflate, br"], // 31
  ["accept-ranges", "bytes"], // 32
  ["access-control-allow-headers", "cache-control"], // 33
  ["access-control-allow-headers", "content-type"], // 34
  ["access-control-allow-origin", "*"], // 35
  ["cache-control", "max-age=0"], // 36
  ["cache-control", "max-age=2592000"], // 37
  ["cache-control", "max-age=604800"], // 38
  ["cache-control", "no-cache"], // 39
  ["cache-control", "no-store"], // 40
  ["cache-control", "public, max-age=31536000"], // 41
  ["content-encoding", "br"], // 42
  ["content-encoding", "gzip"], // 43
  ["content-type", "application/dns-message"], // 44
  ["content-type", "application/javascript"], // 45
  ["content-type", "application/json"], // 46
  ["content-type", "application/x-www-form-urlencoded"], // 47
  ["content-type", "image/gif"], // 48
  ["content-type", "image/jpeg"], // 49
  ["content-type", "image/png"], // 50
  ["content-type", "text/css"], // 51
  ["content-type", "text/html; charset=utf-8"], // 52
  ["content-type", "text/plain"], // 53
  ["content-type", "text/plain;charset=utf-8"], // 54
  ["range", "bytes=0-"], // 55
  ["strict-transport-security", "max-age=31536000"], // 56
  ["strict-transport-security", "max-age=31536000; includesubdomains"], // 57
  ["strict-transport-security", "max-age=31536000; includesubdomains; preload"], // 58
  ["vary", "accept-encoding"], // 59
  ["vary", "origin"], // 60
  ["x-content-type-options", "nosniff"], // 61
  ["x-xss-protection", "1; mode=block"], // 62
  [":status", "100"], // 63
  [":status", "204"], // 64
  [":status", "206"], // 65
  [":status", "302"], // 66
  [":status", "400"], // 67
  [":status", "403"], // 68
  [":status", "421"], // 69
  [":status", "425"], // 70
  [":status", "500"], // 71
  ["accept-language", ""], // 72
  ["access-control-allow-credentials", "FALSE"], // 73
  ["access-control-allow-credentials", "TRUE"], // 74
  ["access-control-allow-headers", "*"], // 75
  ["access-control-allow-methods", "get"], // 76
  ["access-control-allow-methods", "get, post, options"], // 77
  ["access-control-allow-methods", "options"], // 78
  ["access-control-expose-headers", "content-length"], // 79
  ["access-control-request-headers", "content-type"], // 80
  ["access-control-request-method", "get"], // 81
  ["access-control-request-method", "post"], // 82
  ["alt-svc", "clear"], // 83
  ["authorization", ""], // 84
  ["content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"], // 85
  ["early-data", "1"], // 86
  ["expect-ct", ""], // 87
  ["forwarded", ""], // 88
  ["if-range", ""], // 89
  ["origin", ""], // 90
  ["purpose", "prefetch"], // 91
  ["server", ""], // 92
  ["timing-allow-origin", "*"], // 93
  ["upgrade-insecure-requests", "1"], // 94
  ["user-agent", ""], // 95
  ["x-forwarded-for", ""], // 96
  ["x-frame-options", "deny"], // 97
  ["x-frame-options", "sameorigin"], // 98
];

/** Number of static entries; an index at or past it is invalid (RFC 9204 §3.1). */
export const STATIC_TABLE_SIZE = STATIC_TABLE.length;

/** Byte sizes (name + value + 32, RFC 9204 §3.2.1; every static string is ASCII) per index. */
export const STATIC_ENTRY_SIZES: readonly number[] = STATIC_TABLE.map(([n, v]) => n.length + v.length + 32);

/** name -> value -> index, for exact matches. */
const exact = new Map<string, Map<string, number>>();
/** name -> lowest index with that name, for name references. */
const byName = new Map<string, number>();
for (let i = 0; i < STATIC_TABLE.length; i++) {
  const [name, value] = STATIC_TABLE[i]!;
  let values = exact.get(name);
  if (values === undefined) exact.set(name, (values = new Map()));
  if (!values.has(value)) values.set(value, i);
  if (!byName.has(name)) byName.set(name, i);
}

/** The static index of exactly (name, value), or -1. */
export function staticFieldIndex(name: string, value: string): number {
  const values = exact.get(name);
  if (values === undefined) return -1;
  return values.get(value) ?? -1;
}

/** The lowest static index whose name is `name`, or -1. */
export function staticNameIndex(name: string): number {
  return byName.get(name) ?? -1;
}
