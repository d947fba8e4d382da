/**
 * What the connection does when its path changes (RFC 9000 §9): following a peer to a new
 * address, and acting on the outcome of a path validation (path.ts decides, this applies it to
 * the connection: send address, peer CID, congestion state, events). Kept out of core.ts, which
 * calls these two functions from its receive path and timer.
 */

import type { ConnectionCore } from './core.js';
import { type NetworkPath, PathOutcome } from './path.js';
import type { PathAddress } from './types.js';

function withLocal(remote: PathAddress, local: PathAddress | undefined): { remote: PathAddress; local?: PathAddress } {
  return local ? { remote, local } : { remote };
}

/**
 * A non-probing packet with the largest packet number so far came from another peer address
 * (RFC 9000 §9.3): NAT rebinding or the peer's migration, or a client moving to our preferred
 * address (§9.6; then `path.local` is that address). Only servers follow the peer (a client's
 * server address moves only by its own choice, to the preferred address: preferred-address.ts), and
 * only after handshake confirmation (§9). Send there at once, limited to 3x what that address
 * sent until it is validated (path.ts starts the validation), with a new peer CID if we hold
 * one (§9.5) and fresh congestion state unless only the port changed (§9.4).
 */
export function onPeerAddressChange(core: ConnectionCore, path: NetworkPath, now: number): void {
  if (!core.isServer || !core.handshakeConfirmed) return;
  // A client moving to our preferred address (§9.6) may keep its own address: the path still
  // changed (our side of it), so congestion state starts over unless only its port changed.
  const portOnly = path.remote.address === core.paths.active.remote.address && path.local === core.paths.active.local;
  core.paths.switchTo(path, now, core.ptoMs());
  core.remote = path.remote;
  core.peerCids.rotate();
  core.resetPathState(now, portOnly);
  core.events.push({ type: 'path', change: 'migrated', ...withLocal(path.remote, path.local) });
}

/** Applies what a PATH_RESPONSE or a path timer changed (see `PathOutcome`). */
export function onPathOutcome(core: ConnectionCore, outcome: PathOutcome, now: number): void {
  const active = core.paths.active;
  switch (outcome) {
    case PathOutcome.ACTIVE_VALIDATED:
      core.events.push({ type: 'path', change: 'validated', ...withLocal(active.remote, active.local) });
      return;
    case PathOutcome.MIGRATED:
      // The client's probed local address answered: move there with the peer CID the probes
      // used (§9.5), retiring the old one, and start congestion control and RTT afresh (§9.4).
      core.peerCids.rotate();
      core.remote = active.remote;
      core.resetPathState(now, false);
      core.events.push({ type: 'path', change: 'migrated', ...withLocal(active.remote, active.local) });
      return;
    case PathOutcome.PROBE_FAILED: {
      // §8.2.4: the probed path is abandoned; the connection carries on where it was.
      const failed = core.paths.left;
      core.events.push({ type: 'path', change: 'probe-failed', ...withLocal(failed?.remote ?? active.remote, failed?.local) });
      return;
    }
    case PathOutcome.REVERTED:
      // §9.3.2: back to the last validated peer address.
      core.remote = active.remote;
      core.resetPathState(now, false);
      core.events.push({ type: 'path', change: 'reverted', remote: active.remote });
      return;
    case PathOutcome.ACTIVE_FAILED:
      core.events.push({ type: 'path', change: 'failed', remote: active.remote });
      return;
  }
}
