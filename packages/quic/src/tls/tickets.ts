/**
 * Server-side session tickets (RFC 8446 §4.6.1): the ticket is the server's resumption state,
 * sealed with an AEAD under a ticket key the server rotates. Only this server can open one, and
 * any change to it fails authentication, so a forged or modified ticket just falls back to a
 * full handshake.
 *
 * Ticket format: key_id(4) || nonce(12) || AEAD(key, nonce, aad = key_id, state).
 */

import { ByteWriter } from '../codec/writer.js';
import type { Aead, CryptoProvider } from '../crypto/provider.js';
import type { TlsCipherSuite } from './engine-api.js';
import { TlsReader } from './messages/tls-reader.js';

const KEY_ID_LENGTH = 4;
const NONCE_LENGTH = 12;
const STATE_VERSION = 1;
/** RFC 8446 §4.6.1: ticket lifetimes are at most seven days. */
export const MAX_TICKET_LIFETIME_SECONDS = 604_800;

export interface SessionTicketKeysOptions {
  crypto: CryptoProvider;
  /** Random bytes (keys, ids, nonces): injected like everything in the sans-IO core. */
  random: (length: number) => Uint8Array;
  /** How long a key seals new tickets; it then still opens tickets for one more interval. Default 12 h. */
  rotationIntervalMs?: number;
  /**
   * Derive the keys from this secret (at least 32 bytes) and the number of the wall-clock
   * rotation interval instead of drawing them at random, so that every endpoint given the same
   * secret (the workers of one server, see cluster/) seals and opens the same tickets.
   */
  secret?: Uint8Array;
}

interface TicketKey {
  id: Uint8Array;
  aead: Aead;
  createdAtMs: number;
  /** Shared-secret mode: the rotation interval number the key derives from. */
  epoch?: number;
}

const ID_LABEL = new TextEncoder().encode('purequic ticket key id ');
const KEY_LABEL = new TextEncoder().encode('purequic ticket key ');

/** The rotating ticket keys of one server (share one instance across its connections). */
export class SessionTicketKeys {
  readonly rotationIntervalMs: number;
  private readonly crypto: CryptoProvider;
  private readonly random: (length: number) => Uint8Array;
  private current: TicketKey | undefined;
  private previous: TicketKey | undefined;
  private readonly secret: Uint8Array | undefined;

  constructor(options: SessionTicketKeysOptions) {
    this.crypto = options.crypto;
    this.random = options.random;
    this.rotationIntervalMs = options.rotationIntervalMs ?? 12 * 3600_000;
    if (options.secret !== undefined && options.secret.length < 32) throw new RangeError('session ticket secret must be at least 32 bytes');
    this.secret = options.secret?.slice();
  }

  /** Seals ticket state with the current key, rotating first if it is due. */
  seal(state: Uint8Array, nowMs: number): Uint8Array {
    const key = this.currentKey(nowMs);
    const nonce = this.random(NONCE_LENGTH);
    const sealed = key.aead.seal(nonce, key.id, state);
    const out = new Uint8Array(KEY_ID_LENGTH + NONCE_LENGTH + sealed.length);
    out.set(key.id);
    out.set(nonce, KEY_ID_LENGTH);
    out.set(sealed, KEY_ID_LENGTH + NONCE_LENGTH);
    return out;
  }

  /** The state in a ticket, or undefined if no live key opens it (unknown, expired, forged, modified). */
  open(ticket: Uint8Array, nowMs: number): Uint8Array | undefined {
    if (ticket.length < KEY_ID_LENGTH + NONCE_LENGTH + 16) return undefined;
    if (this.secret !== undefined) this.currentKey(nowMs); // derive this interval's keys
    else this.expire(nowMs);
    const id = ticket.subarray(0, KEY_ID_LENGTH);
    for (const key of [this.current, this.previous]) {
      if (!key || !sameBytes(key.id, id)) continue;
      const plain = key.aead.open(ticket.subarray(KEY_ID_LENGTH, KEY_ID_LENGTH + NONCE_LENGTH), id, ticket.subarray(KEY_ID_LENGTH + NONCE_LENGTH));
      return plain ?? undefined;
    }
    return undefined;
  }

  private currentKey(nowMs: number): TicketKey {
    if (this.secret !== undefined) return this.derivedKey(nowMs, this.secret);
    this.expire(nowMs);
    if (!this.current || nowMs - this.current.createdAtMs >= this.rotationIntervalMs) {
      this.previous = this.current;
      this.current = { id: this.random(KEY_ID_LENGTH), aead: this.crypto.createAead('aes-256-gcm', this.random(32)), createdAtMs: nowMs };
    }
    return this.current;
  }

  /** Shared-secret mode: the key of this interval, the previous interval's kept for opening. */
  private derivedKey(nowMs: number, secret: Uint8Array): TicketKey {
    const epoch = Math.floor(nowMs / this.rotationIntervalMs);
    if (this.current?.epoch === epoch) return this.current;
    this.previous = this.current?.epoch === epoch - 1 ? this.current : this.deriveKey(epoch - 1, secret);
    this.current = this.deriveKey(epoch, secret);
    return this.current;
  }

  private deriveKey(epoch: number, secret: Uint8Array): TicketKey {
    const label = (prefix: Uint8Array): Uint8Array => {
      const data = new Uint8Array(prefix.length + 8);
      data.set(prefix);
      new DataView(data.buffer).setFloat64(prefix.length, epoch);
      return data;
    };
    const id = this.crypto.hmac('sha256', secret, label(ID_LABEL)).slice(0, KEY_ID_LENGTH);
    const key = this.crypto.hmac('sha256', secret, label(KEY_LABEL));
    return { id, aead: this.crypto.createAead('aes-256-gcm', key), createdAtMs: epoch * this.rotationIntervalMs, epoch };
  }

  /** Drops keys past their acceptance window: one interval sealing plus one interval opening. */
  private expire(nowMs: number): void {
    if (this.previous && nowMs - this.previous.createdAtMs >= 2 * this.rotationIntervalMs) this.previous = undefined;
    if (this.current && nowMs - this.current.createdAtMs >= 2 * this.rotationIntervalMs) {
      this.previous = undefined;
      this.current = undefined;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What a ticket remembers of the connection that issued it. */
export interface TicketState {
  cipherSuite: TlsCipherSuite;
  psk: Uint8Array;
  issuedAtMs: number;
  lifetimeSeconds: number;
  ageAdd: number;
  maxEarlyDataSize: number;
  alpn: string | undefined;
  serverName: string | undefined;
  /** Our transport parameters when the ticket was issued (RFC 9001 §4.6.2). */
  transportParameters: Uint8Array | undefined;
}

function writeOptionalString(w: ByteWriter, value: string | undefined): void {
  if (value === undefined) w.u8(0);
  else w.u8(1).u16Prefixed(new TextEncoder().encode(value));
}

function readOptionalString(r: TlsReader): string | undefined {
  return r.u8() === 0 ? undefined : new TextDecoder().decode(r.u16Prefixed());
}

export function encodeTicketState(s: TicketState): Uint8Array {
  const w = new ByteWriter(128);
  w.u8(STATE_VERSION).u16(s.cipherSuite).u8Prefixed(s.psk);
  // issuedAtMs < 2^53: high and low 32-bit halves.
  w.u32(Math.floor(s.issuedAtMs / 2 ** 32)).u32(s.issuedAtMs >>> 0);
  w.u32(s.lifetimeSeconds).u32(s.ageAdd).u32(s.maxEarlyDataSize);
  writeOptionalString(w, s.alpn);
  writeOptionalString(w, s.serverName);
  if (s.transportParameters === undefined) w.u8(0);
  else w.u8(1).u16Prefixed(s.transportParameters);
  return w.finish();
}

/** Decodes state we sealed ourselves; undefined for another format version. */
export function decodeTicketState(data: Uint8Array): TicketState | undefined {
  const r = new TlsReader(data);
  if (r.u8() !== STATE_VERSION) return undefined;
  const cipherSuite = r.u16() as TlsCipherSuite;
  const psk = r.u8Prefixed().slice();
  const issuedAtMs = r.u32() * 2 ** 32 + r.u32();
  const lifetimeSeconds = r.u32();
  const ageAdd = r.u32();
  const maxEarlyDataSize = r.u32();
  const alpn = readOptionalString(r);
  const serverName = readOptionalString(r);
  const transportParameters = r.u8() === 0 ? undefined : r.u16Prefixed().slice();
  r.expectEnd('ticket state');
  return { cipherSuite, psk, issuedAtMs, lifetimeSeconds, ageAdd, maxEarlyDataSize, alpn, serverName, transportParameters };
}
