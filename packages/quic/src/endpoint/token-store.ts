/**
 * The client's store of NEW_TOKEN tokens (RFC 9000 §8.1.3): kept per server, used once each
 * (a token reused across connections would let observers link them), newest first, and only a
 * few per server.
 */

/** Tokens kept per server. */
const MAX_TOKENS_PER_SERVER = 4;
/** Servers remembered; the least recently used is forgotten first. */
const MAX_SERVERS = 256;

/** A client's NEW_TOKEN tokens per server (RFC 9000 §8.1.3), offered on its next connection. */
export class ClientTokenStore {
  readonly #byServer = new Map<string, Uint8Array[]>();

  /** Remembers a token from the server identified by `server` (e.g. its name and port). */
  add(server: string, token: Uint8Array): void {
    const list = this.#byServer.get(server) ?? [];
    this.#byServer.delete(server);
    list.unshift(token);
    if (list.length > MAX_TOKENS_PER_SERVER) list.length = MAX_TOKENS_PER_SERVER;
    this.#byServer.set(server, list);
    if (this.#byServer.size > MAX_SERVERS) {
      const oldest = this.#byServer.keys().next().value;
      if (oldest !== undefined) this.#byServer.delete(oldest);
    }
  }

  /** Takes (removes) the newest token for `server`, if any. */
  take(server: string): Uint8Array | undefined {
    const list = this.#byServer.get(server);
    const token = list?.shift();
    if (list && list.length === 0) this.#byServer.delete(server);
    return token;
  }

  /** Tokens held for `server`. */
  count(server: string): number {
    return this.#byServer.get(server)?.length ?? 0;
  }
}
