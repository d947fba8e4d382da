/**
 * Network paths of one connection (RFC 9000 §8.2 path validation, §9 migration).
 *
 * A path is a (local address, peer address) pair. The connection sends on `active`; other
 * paths are candidates: a new local address a client probes before moving to it (`migrate`),
 * or a peer address we answer PATH_CHALLENGE on. Each path counts the bytes it received and
 * sent, for the 3x anti-amplification limit that holds until the peer address is validated
 * (§8.1, §9.3), and carries its own PATH_CHALLENGE / PATH_RESPONSE frames: responses go out
 * on the path the challenge arrived on (§8.2.2), challenges on the path they test (§8.2.1).
 *
 * Frame-blind and sans-IO: the connection reports datagrams and frames, asks `nextPathFrame`
 * for a probing datagram to build, and acts on what `onResponse`/`onTimeout` return (switch the
 * send path, reset congestion state, rotate the peer CID). Challenge data comes from the
 * injected RNG.
 */

import { INITIAL_RTT_MS } from '../recovery/rtt.js';
import { equalBytes } from './cid.js';
import type { PathAddress } from './types.js';

/** Outstanding PATH_CHALLENGE data per path (we send a fresh one per retry). */
const MAX_CHALLENGES = 4;
/** PATH_RESPONSEs queued per path (RFC 9000 §8.2.2: responding to each is not required). */
const MAX_RESPONSES = 4;
/** Response credit per byte of challenge datagram (the §8 anti-amplification factor). */
const AMPLIFICATION = 3;
/** Response credit never banks beyond a few responses. */
const MAX_RESPONSE_CREDIT = 8 * 1200;
/** The smallest anti-amplification allowance worth building a packet in (bytes). */
export const MIN_PATH_ROOM = 64;
/** Peer addresses remembered besides the active path (bounds state an attacker can create). */
const MAX_CANDIDATES = 4;

/** The key of a peer address: "address|port". */
export function addressKey(a: PathAddress): string {
  return `${a.address}|${a.port}`;
}

export function sameAddress(a: PathAddress, b: PathAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

export class NetworkPath {
  readonly remote: PathAddress;
  /** The local address to send from when it is not the default one (client migration). */
  readonly local: PathAddress | undefined;
  /** Peer address validated (§8.2): no amplification limit any more. */
  validated: boolean;
  bytesReceived = 0;
  bytesSent = 0;
  /** A client probing this path intends to move to it once validated (§9.2). */
  readonly migrating: boolean;
  /** Outstanding challenge data (the newest last). */
  readonly challenges: Uint8Array[] = [];
  /** A new PATH_CHALLENGE should go out. */
  challengePending = false;
  /**
   * Retry challenges after the connection's PTO, doubled after each (as Initial packets back
   * off, §8.2.1), without the 2 x kInitialRtt floor: the path to a server's preferred address
   * leads to the same server (RFC 9000 §9.6), so the current path's RTT is the best estimate
   * there is. The doubling also bounds what a server naming someone else's address can make
   * us send there (a handful of datagrams before the validation deadline, §21.5.3).
   */
  retryAtPto = false;
  /** PATH_CHALLENGE datagrams taken for this path so far. */
  challengesTaken = 0;
  /** When to send the next challenge if no response came (ms). */
  nextChallengeAt = Infinity;
  /** Validation fails at this time (§8.2.4); Infinity when not validating. */
  validationDeadline = Infinity;
  /** PATH_RESPONSE data to send on this path. */
  readonly responses: Uint8Array[] = [];
  /**
   * Bytes we may still send in datagrams carrying PATH_RESPONSE here: three times the size of
   * the datagrams that carried PATH_CHALLENGE (as the anti-amplification limit, §8), so a peer
   * sending small unpadded challenges cannot make us send 32 times what it sends (§21.9).
   * A conforming challenge is padded to 1200 bytes (§8.2.1) and always earns its response.
   */
  responseCredit = 0;
  /** Probing datagrams sent on this path (tests). */
  probesSent = 0;

  constructor(remote: PathAddress, local: PathAddress | undefined, validated: boolean, migrating = false) {
    this.remote = remote;
    this.local = local;
    this.validated = validated;
    this.migrating = migrating;
  }

  /**
   * RFC 9000 §8.1/§9.3: bytes we may still send before the peer address is validated. A path
   * a client probes from a new local address leads to the peer address it already validated:
   * no limit there.
   */
  get allowance(): number {
    return this.validated || this.migrating ? Infinity : 3 * this.bytesReceived - this.bytesSent;
  }

  /**
   * Nothing fits in the anti-amplification allowance (below MIN_PATH_ROOM bytes): until more
   * bytes arrive from this address the connection can send nothing here, not even an ACK, so
   * it arms no timer for ACKs or pacing either.
   */
  get sendBlocked(): boolean {
    return this.allowance < MIN_PATH_ROOM;
  }

  get validating(): boolean {
    return this.validationDeadline !== Infinity;
  }
}

/** What a PATH_RESPONSE or a timer did to the paths, for the connection to act on. */
export const PathOutcome = {
  NONE: 0,
  /** The active path's peer address is now validated (the amplification limit is lifted). */
  ACTIVE_VALIDATED: 1,
  /** A candidate the client probed was validated: move to it (`switched` is the new active path). */
  MIGRATED: 2,
  /** Probing a candidate failed: it was dropped, the connection stays where it was. */
  PROBE_FAILED: 3,
  /** Validating the active path failed: went back to the last validated one (§9.3.2). */
  REVERTED: 4,
  /** Validating the active path failed with nowhere to go back to. */
  ACTIVE_FAILED: 5,
} as const;
export type PathOutcome = (typeof PathOutcome)[keyof typeof PathOutcome];

function sameLocal(a: PathAddress | undefined, b: PathAddress | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && sameAddress(a, b));
}

export class PathManager {
  active: NetworkPath;
  /** The last validated path, kept while a migrated-to path is being validated (§9.3.2). */
  previous: NetworkPath | undefined;
  readonly candidates: NetworkPath[] = [];
  /** Set when `onResponse`/`onTimeout` return MIGRATED, REVERTED (the path left) or PROBE_FAILED (the path given up). */
  left: NetworkPath | undefined;
  readonly stats = { migrations: 0, validations: 0, validationFailures: 0 };

  constructor(
    remote: PathAddress,
    validated: boolean,
    private readonly random: (n: number) => Uint8Array,
    /**
     * Server: paths are told apart by the local address too (`undefined` = the address the
     * connection started on), since a client moving to our preferred address (RFC 9000 §9.6)
     * may keep its own address. A client's paths are keyed by the peer address alone.
     */
    private readonly keyedByLocal = false,
  ) {
    this.active = new NetworkPath(remote, undefined, validated);
  }

  #matches(path: NetworkPath, remote: PathAddress, local: PathAddress | undefined): boolean {
    return sameAddress(path.remote, remote) && (!this.keyedByLocal || sameLocal(path.local, local));
  }

  /** The path for a peer address (and, at a server, the local address it reached; active first), or undefined. */
  find(remote: PathAddress, local?: PathAddress): NetworkPath | undefined {
    if (this.#matches(this.active, remote, local)) return this.active;
    for (const c of this.candidates) if (this.#matches(c, remote, local)) return c;
    return undefined;
  }

  /** A path for a peer address an authenticated packet came from (created unvalidated if new). */
  findOrCreate(remote: PathAddress, local?: PathAddress): NetworkPath {
    const known = this.find(remote, local);
    if (known) return known;
    const path = new NetworkPath({ ...remote }, this.keyedByLocal ? local : undefined, false);
    this.#addCandidate(path);
    return path;
  }

  #addCandidate(path: NetworkPath): void {
    // Bounded: forget the oldest candidate that is not being probed for our own migration.
    if (this.candidates.length >= MAX_CANDIDATES) {
      const i = this.candidates.findIndex((c) => !c.migrating);
      this.candidates.splice(i >= 0 ? i : 0, 1);
    }
    this.candidates.push(path);
  }

  /** Starts validating `path` (§8.2.1): a challenge now, retries, and a failure deadline. */
  startValidation(path: NetworkPath, now: number, ptoMs: number): void {
    path.challengePending = true;
    // §8.2.4: three times the larger of the current PTO and the new path's (kInitialRtt based).
    const newPathPto = 3 * INITIAL_RTT_MS;
    path.validationDeadline = now + 3 * Math.max(ptoMs, newPathPto);
    path.nextChallengeAt = Infinity;
  }

  /** A client moves to a new local address: probe it first (§9.2), move once validated. */
  probeLocal(local: PathAddress, now: number, ptoMs: number): NetworkPath {
    for (const c of this.candidates) {
      if (c.migrating && c.local && sameAddress(c.local, local)) return c;
    }
    const path = new NetworkPath(this.active.remote, { ...local }, false, true);
    this.#addCandidate(path);
    this.startValidation(path, now, ptoMs);
    return path;
  }

  /**
   * A client moves to the server's preferred address (RFC 9000 §9.6.1): probe the new peer
   * address from `local` (the current local address), move once validated. No amplification
   * limit applies to a client (§8.1 limits servers only).
   */
  probeRemote(remote: PathAddress, local: PathAddress | undefined, now: number, ptoMs: number): NetworkPath {
    for (const c of this.candidates) if (c.migrating && sameAddress(c.remote, remote)) return c;
    const path = new NetworkPath({ ...remote }, local, false, true);
    path.retryAtPto = true;
    this.#addCandidate(path);
    this.startValidation(path, now, ptoMs);
    return path;
  }

  /** The peer migrated to `path` (a non-probing packet from it, §9.3): send there now. */
  switchTo(path: NetworkPath, now: number, ptoMs: number): void {
    if (path === this.active) return;
    const old = this.active;
    this.#removeCandidate(path);
    // Going back to the last validated path stays possible until the new one validates.
    if (old.validated) this.previous = old;
    else if (this.previous === path) this.previous = undefined; // back where we were: nothing to revert to
    this.active = path;
    this.stats.migrations++;
    // Keep the old path reachable as a candidate (its late packets, a revert).
    if (old.validated) this.#addCandidate(old);
    if (!path.validated && !path.validating) this.startValidation(path, now, ptoMs);
  }

  #removeCandidate(path: NetworkPath): void {
    const i = this.candidates.indexOf(path);
    if (i >= 0) this.candidates.splice(i, 1);
  }

  /**
   * A PATH_CHALLENGE arrived on `path`: queue the echo for that path (§8.2.2). `datagramBytes`
   * (the size of its datagram, 0 for further challenges in the same one) adds response credit.
   */
  onChallenge(path: NetworkPath, data: Uint8Array, datagramBytes: number): void {
    path.responseCredit = Math.min(path.responseCredit + AMPLIFICATION * datagramBytes, MAX_RESPONSE_CREDIT);
    if (path.responses.length < MAX_RESPONSES) path.responses.push(data);
  }

  /** A PATH_RESPONSE arrived (on any path, §8.2.3): validates the path whose challenge it echoes. */
  onResponse(data: Uint8Array): PathOutcome {
    const path = this.#pathWithChallenge(data);
    if (!path || path.validated) return PathOutcome.NONE;
    path.validated = true;
    path.challenges.length = 0;
    path.challengePending = false;
    path.validationDeadline = Infinity;
    path.nextChallengeAt = Infinity;
    this.stats.validations++;
    if (path === this.active) {
      this.previous = undefined;
      return PathOutcome.ACTIVE_VALIDATED;
    }
    if (path.migrating) {
      this.left = this.active;
      this.#removeCandidate(path);
      this.active = path;
      this.previous = undefined;
      this.stats.migrations++;
      // The old local address is abandoned: forget it and any other probe.
      this.candidates.length = 0;
      return PathOutcome.MIGRATED;
    }
    return PathOutcome.NONE;
  }

  #pathWithChallenge(data: Uint8Array): NetworkPath | undefined {
    const all = [this.active, ...this.candidates];
    for (const p of all) for (const c of p.challenges) if (equalBytes(c, data)) return p;
    return undefined;
  }

  /** Earliest path timer: a challenge retry or a validation deadline. */
  nextTimeout(): number {
    let t = Math.min(this.active.validationDeadline, this.active.nextChallengeAt);
    for (const c of this.candidates) t = Math.min(t, c.validationDeadline, c.nextChallengeAt);
    return t;
  }

  /** Handles due path timers. Returns what changed (at most one outcome per call). */
  onTimeout(now: number): PathOutcome {
    const active = this.active;
    if (now >= active.validationDeadline) {
      // §8.2.4 / §9.3.2: the new peer address did not validate.
      this.stats.validationFailures++;
      active.validationDeadline = Infinity;
      active.nextChallengeAt = Infinity;
      active.challengePending = false;
      active.challenges.length = 0;
      const back = this.previous;
      if (back) {
        this.previous = undefined;
        this.#removeCandidate(back);
        this.left = active;
        this.active = back;
        return PathOutcome.REVERTED;
      }
      return PathOutcome.ACTIVE_FAILED;
    }
    for (let i = 0; i < this.candidates.length; i++) {
      const c = this.candidates[i]!;
      if (now >= c.validationDeadline) {
        this.stats.validationFailures++;
        this.candidates.splice(i, 1);
        if (!c.migrating) return PathOutcome.NONE;
        this.left = c;
        return PathOutcome.PROBE_FAILED;
      }
    }
    // A retry is due: `takeChallenge` re-arms the timer when the challenge goes out.
    if (now >= active.nextChallengeAt) {
      active.challengePending = true;
      active.nextChallengeAt = Infinity;
    }
    for (const c of this.candidates) {
      if (now >= c.nextChallengeAt) {
        c.challengePending = true;
        c.nextChallengeAt = Infinity;
      }
    }
    return PathOutcome.NONE;
  }

  /** The path with a PATH_CHALLENGE or PATH_RESPONSE to send, or undefined. */
  nextPathWithFrames(): NetworkPath | undefined {
    if (this.active.challengePending || this.active.responses.length > 0) return this.active;
    for (const c of this.candidates) if (c.challengePending || c.responses.length > 0) return c;
    return undefined;
  }

  /** Takes the challenge to send on `path` now (fresh data, remembered), or undefined. */
  takeChallenge(path: NetworkPath, now: number, ptoMs: number): Uint8Array | undefined {
    if (!path.challengePending) return undefined;
    path.challengePending = false;
    const data = this.random(8);
    if (path.challenges.length >= MAX_CHALLENGES) path.challenges.shift();
    path.challenges.push(data);
    // Retry with new data after a PTO until the deadline (§8.2.1 allows several).
    path.challengesTaken++;
    const interval = path.retryAtPto ? ptoMs * 2 ** Math.min(path.challengesTaken - 1, 10) : Math.max(ptoMs, 2 * INITIAL_RTT_MS);
    path.nextChallengeAt = Math.min(now + interval, path.validationDeadline);
    return data;
  }
}
