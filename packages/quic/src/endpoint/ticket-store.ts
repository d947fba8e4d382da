/**
 * The client endpoint's session tickets, per server (RFC 8446 §4.6.1), so that `connect()`
 * resumes (and may send 0-RTT) when it has one. Each ticket is used once (RFC 8446 §C.4:
 * reuse lets observers link connections); memory is bounded per server and in servers.
 */

import type { SessionTicket } from '../tls/engine-api.js';

export interface SessionTicketStoreOptions {
  /** Tickets kept per server (newest win). Default 4. */
  perServer?: number;
  /** Servers remembered (least recently stored forgotten first). Default 256. */
  servers?: number;
}

/** A client's TLS session tickets per server ("name:port"), newest first, for resumption and 0-RTT. */
export class SessionTicketStore {
  readonly #byServer = new Map<string, SessionTicket[]>();
  readonly #perServer: number;
  readonly #servers: number;

  constructor(options: SessionTicketStoreOptions = {}) {
    this.#perServer = options.perServer ?? 4;
    this.#servers = options.servers ?? 256;
  }

  /** Servers with at least one ticket. */
  get size(): number {
    return this.#byServer.size;
  }

  /** Tickets held for `server`. */
  count(server: string): number {
    return this.#byServer.get(server)?.length ?? 0;
  }

  add(server: string, ticket: SessionTicket): void {
    const list = this.#byServer.get(server) ?? [];
    this.#byServer.delete(server); // re-insert: most recently stored last
    list.push(ticket);
    if (list.length > this.#perServer) list.shift();
    this.#byServer.set(server, list);
    if (this.#byServer.size > this.#servers) {
      const oldest = this.#byServer.keys().next().value;
      if (oldest !== undefined) this.#byServer.delete(oldest);
    }
  }

  /** Removes and returns the newest ticket for `server` still within its lifetime at `nowMs`. */
  take(server: string, nowMs: number): SessionTicket | undefined {
    const list = this.#byServer.get(server);
    if (!list) return undefined;
    let ticket: SessionTicket | undefined;
    // Bounded by perServer.
    while (list.length > 0 && ticket === undefined) {
      const t = list.pop()!;
      const ageMs = nowMs - t.receivedAtMs;
      if (ageMs >= 0 && ageMs < t.lifetimeSeconds * 1000) ticket = t;
    }
    if (list.length === 0) this.#byServer.delete(server);
    return ticket;
  }
}
