/**
 * Address validation tokens (RFC 9000 §8.1.2-§8.1.4): what a server puts in a Retry packet and
 * in NEW_TOKEN frames, and checks when a client's Initial brings one back.
 *
 * A token is sealed with AES-128-GCM under a key derived from the endpoint's static key, so
 * only the server (or a restarted one with the same key) can read or forge it. It is bound to
 * the client's address through the associated data, and carries its issue time so it expires:
 *
 *   kind (1, in clear) | nonce (12) | AEAD( issued_at (8) | [odcid_len | odcid | rscid_len | rscid] )
 *   associated data = kind | address
 *
 * A Retry token binds the full address (IP and port: the Initial that echoes it follows within
 * a round trip) and carries the original Destination Connection ID and the Retry's Source
 * Connection ID, which the server needs for the transport parameters of RFC 9000 §7.3. A
 * NEW_TOKEN token binds the IP address only: the client comes back later, probably from another
 * port (§8.1.3). The kind byte is outside the ciphertext so a server can tell a bad Retry token
 * (INVALID_TOKEN, §8.1.3) from a stale NEW_TOKEN one (ignored) without decrypting.
 *
 * Sans-IO: time (`wallClockMs`, milliseconds since the epoch, so tokens survive a restart) and
 * randomness are passed in.
 */

import type { Aead, SymmetricCrypto } from '../crypto/provider.js';
import type { PathAddress } from '../connection/types.js';

/** First byte of a token from a Retry packet. */
export const RETRY_TOKEN_KIND = 0x52;
/** First byte of a token from a NEW_TOKEN frame. */
export const NEW_TOKEN_KIND = 0x4e;

/** Default lifetime of a Retry token: the client echoes it within one round trip. */
export const DEFAULT_RETRY_TOKEN_LIFETIME_MS = 10_000;
/** Default lifetime of a NEW_TOKEN token (RFC 9000 §8.1.3: SHOULD expire; a day is ours). */
export const DEFAULT_NEW_TOKEN_LIFETIME_MS = 24 * 3600_000;
/** Tolerated clock skew for tokens "issued in the future" (another server of a fleet, a restart). */
const MAX_FUTURE_SKEW_MS = 10_000;

const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LABEL = new TextEncoder().encode('purequic address token key v1');

/** What a valid token says. */
export type AddressTokenCheck =
  | { valid: true; kind: 'retry'; originalDcid: Uint8Array; retrySourceCid: Uint8Array; issuedAtMs: number }
  | { valid: true; kind: 'new-token'; issuedAtMs: number }
  /** `kind` is what the token claims to be (from its clear first byte), or 'unknown'. */
  | { valid: false; kind: 'retry' | 'new-token' | 'unknown'; why: string };

export interface AddressTokenOptions {
  crypto: SymmetricCrypto;
  /** The endpoint's static key (at least 16 bytes); the AEAD key is derived from it. */
  staticKey: Uint8Array;
  random: (n: number) => Uint8Array;
  retryLifetimeMs?: number;
  newTokenLifetimeMs?: number;
}

/** Mints and checks Retry and NEW_TOKEN tokens for one server endpoint. */
export class AddressTokens {
  readonly #aead: Aead;
  readonly #random: (n: number) => Uint8Array;
  readonly retryLifetimeMs: number;
  readonly newTokenLifetimeMs: number;

  constructor(options: AddressTokenOptions) {
    if (options.staticKey.length < 16) throw new RangeError('address token key must be at least 16 bytes');
    // A key of its own, so the same static key can also derive stateless reset tokens.
    const key = options.crypto.hmac('sha256', options.staticKey, KEY_LABEL).slice(0, 16);
    this.#aead = options.crypto.createAead('aes-128-gcm', key);
    this.#random = options.random;
    this.retryLifetimeMs = options.retryLifetimeMs ?? DEFAULT_RETRY_TOKEN_LIFETIME_MS;
    this.newTokenLifetimeMs = options.newTokenLifetimeMs ?? DEFAULT_NEW_TOKEN_LIFETIME_MS;
  }

  /** A token for a Retry packet (RFC 9000 §8.1.2) answering an Initial to `originalDcid`. */
  mintRetryToken(remote: PathAddress, originalDcid: Uint8Array, retrySourceCid: Uint8Array, wallClockMs: number): Uint8Array {
    const plain = new Uint8Array(8 + 1 + originalDcid.length + 1 + retrySourceCid.length);
    writeTime(plain, wallClockMs);
    plain[8] = originalDcid.length;
    plain.set(originalDcid, 9);
    plain[9 + originalDcid.length] = retrySourceCid.length;
    plain.set(retrySourceCid, 10 + originalDcid.length);
    return this.#seal(RETRY_TOKEN_KIND, retryAddress(remote), plain);
  }

  /** A token for a NEW_TOKEN frame (RFC 9000 §8.1.3), for later connections from this address. */
  mintNewToken(remote: PathAddress, wallClockMs: number): Uint8Array {
    const plain = new Uint8Array(8);
    writeTime(plain, wallClockMs);
    return this.#seal(NEW_TOKEN_KIND, newTokenAddress(remote), plain);
  }

  /** Checks a token from a client Initial received from `remote`. Never throws. */
  check(token: Uint8Array, remote: PathAddress, wallClockMs: number): AddressTokenCheck {
    const first = token[0];
    const kind = first === RETRY_TOKEN_KIND ? 'retry' : first === NEW_TOKEN_KIND ? 'new-token' : 'unknown';
    if (kind === 'unknown') return { valid: false, kind, why: 'not one of our tokens' };
    if (token.length < 1 + NONCE_LENGTH + TAG_LENGTH + 8) return { valid: false, kind, why: 'too short' };
    const address = kind === 'retry' ? retryAddress(remote) : newTokenAddress(remote);
    const nonce = token.subarray(1, 1 + NONCE_LENGTH);
    const plain = this.#aead.open(nonce, associatedData(first!, address), token.subarray(1 + NONCE_LENGTH));
    // A forged or modified token, or one issued for another address, does not authenticate.
    if (plain === null || plain.length < 8) return { valid: false, kind, why: 'does not authenticate (forged, or another address)' };
    const issuedAtMs = readTime(plain);
    const lifetime = kind === 'retry' ? this.retryLifetimeMs : this.newTokenLifetimeMs;
    if (wallClockMs - issuedAtMs > lifetime) return { valid: false, kind, why: 'expired' };
    if (issuedAtMs - wallClockMs > MAX_FUTURE_SKEW_MS) return { valid: false, kind, why: 'issued in the future' };
    if (kind === 'new-token') return { valid: true, kind, issuedAtMs };
    const odcidLength = plain[8] ?? 255;
    const rscidAt = 9 + odcidLength;
    const rscidLength = plain[rscidAt] ?? 255;
    if (odcidLength > 20 || rscidLength > 20 || rscidAt + 1 + rscidLength !== plain.length) {
      return { valid: false, kind, why: 'malformed' };
    }
    return {
      valid: true,
      kind,
      originalDcid: plain.slice(9, rscidAt),
      retrySourceCid: plain.slice(rscidAt + 1),
      issuedAtMs,
    };
  }

  #seal(kind: number, address: Uint8Array, plain: Uint8Array): Uint8Array {
    const nonce = this.#random(NONCE_LENGTH);
    const sealed = this.#aead.seal(nonce, associatedData(kind, address), plain);
    const out = new Uint8Array(1 + NONCE_LENGTH + sealed.length);
    out[0] = kind;
    out.set(nonce, 1);
    out.set(sealed, 1 + NONCE_LENGTH);
    return out;
  }
}

const encoder = new TextEncoder();

/** IPv4-mapped IPv6 and plain IPv4 spellings of one address compare equal. */
function normalHost(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function retryAddress(remote: PathAddress): Uint8Array {
  return encoder.encode(`${normalHost(remote.address)}|${remote.port}`);
}

function newTokenAddress(remote: PathAddress): Uint8Array {
  return encoder.encode(normalHost(remote.address));
}

function associatedData(kind: number, address: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + address.length);
  out[0] = kind;
  out.set(address, 1);
  return out;
}

function writeTime(out: Uint8Array, ms: number): void {
  const t = Math.max(0, Math.floor(ms));
  const high = Math.floor(t / 0x1_0000_0000);
  const low = t >>> 0;
  const view = new DataView(out.buffer, out.byteOffset, 8);
  view.setUint32(0, high);
  view.setUint32(4, low);
}

function readTime(plain: Uint8Array): number {
  const view = new DataView(plain.buffer, plain.byteOffset, 8);
  return view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
}
