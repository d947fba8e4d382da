/**
 * A client acting on a Retry packet (RFC 9000 §17.2.5.2, §17.2.5.3; RFC 9001 §5.8; RFC 9002
 * §6.3): verify it, then start the Initial exchange over towards the connection ID the server
 * chose, with its token, keys derived from that CID, and the ClientHello resent from offset 0.
 */

import { deriveInitialKeys } from '../crypto/keys.js';
import { verifyRetryIntegrityTag } from '../crypto/retry.js';
import type { PacketHeader } from '../packet/header.js';
import { PacketNumberSpace } from '../recovery/packet-number-space.js';
import { equalBytes } from './cid.js';
import type { ConnectionCore } from './core.js';
import { onPacketLost } from './token-outcomes.js';
import { TokenKind } from './recovery-token.js';

/**
 * Processes a Retry at the client. Returns false when the packet must be discarded (a server,
 * a second Retry, one after any packet from the server, a bad integrity tag, another version,
 * an empty token, or the server's CID equal to the one we sent to); it is then ignored.
 */
export function acceptRetry(core: ConnectionCore, h: PacketHeader, now: number): boolean {
  // §17.2.5.2: at most one Retry per attempt, and none after any Initial from the server.
  if (core.isServer || core.retrySourceCid !== undefined || core.receivedAnyPacket) return false;
  if (h.version !== core.version || h.token.length === 0) return false;
  // §17.2.5.1: the server's new CID differs from the DCID of our Initial.
  if (equalBytes(h.scid, core.peerCids.currentCid)) return false;
  // RFC 9001 §5.8: the tag over the pseudo-packet proves the sender saw our first Initial.
  if (!verifyRetryIntegrityTag(core.crypto, core.version, core.originalDcid, h.packet)) return false;

  const scid = h.scid.slice();
  core.retrySourceCid = scid;
  core.initialToken = h.token.slice();
  core.peerCids.replaceInitial(scid);
  // RFC 9001 §5.2: Initial keys derive from the DCID of the client's Initial, now the Retry's SCID.
  const initial = core.spaces[PacketNumberSpace.INITIAL];
  const keys = deriveInitialKeys(core.crypto, core.version, scid);
  initial.writeKeys = keys.client;
  initial.readKeys = keys.server;
  // RFC 9002 §6.3: the Initial packets sent so far leave bytes in flight unacknowledged; their
  // CRYPTO data goes again (the same ClientHello, §17.2.5.3) under the new keys. Packet
  // numbers keep increasing (§17.2.5.3: they are not reset).
  const released = core.recovery.onRetry(now);
  for (const p of released) {
    if (p.tokens.some((t) => t.kind === TokenKind.CRYPTO)) {
      for (const t of p.tokens) if (t.kind === TokenKind.CRYPTO) initial.cryptoSend.onLost(t.a, t.b, false);
    } else {
      // 0-RTT packets (the Application space, RFC 9002 §6.3) the server never read: their
      // content is requeued like a loss, to go again in 0-RTT or 1-RTT.
      onPacketLost(core, PacketNumberSpace.APPLICATION, p);
    }
  }
  return true;
}
