/**
 * What happens when a sent packet is acknowledged or declared lost: each recovery token goes
 * back to its owner (RFC 9000 §13.3: retransmission by content): CRYPTO and stream buffers,
 * flow-control and CID frames, DATAGRAM events, path MTU probes, ECN validation.
 */

import type { SentPacket } from '../recovery/sent-packet-tracker.js';
import type { PacketNumberSpace } from '../recovery/packet-number-space.js';
import type { ConnectionCore } from './core.js';
import { type RecoveryToken, TokenKind } from './recovery-token.js';

export function onPacketAcked(core: ConnectionCore, space: PacketNumberSpace, p: SentPacket<RecoveryToken[]>): void {
  const sp = core.spaces[space];
  core.ecn.onPacketAcked(space, p.packetNumber);
  if (p.size >= core.pmtud.current && !p.congestionExempt) core.pmtud.onLargePacketAcked();
  for (const t of p.tokens) {
    switch (t.kind) {
      case TokenKind.ACK:
        sp.ack.onAckFrameAcked(t.a);
        break;
      case TokenKind.CRYPTO:
        sp.cryptoSend.onAcked(t.a, t.b, false);
        break;
      case TokenKind.DATAGRAM:
        core.events.push({ type: 'datagram-acked', id: t.a });
        break;
      case TokenKind.NEW_TOKEN:
        core.newTokens.onAcked(t.a);
        break;
      case TokenKind.HANDSHAKE_DONE:
      case TokenKind.NEW_CONNECTION_ID:
      case TokenKind.RETIRE_CONNECTION_ID:
      case TokenKind.PING:
        break;
      case TokenKind.PMTU_PROBE:
        core.pmtud.onProbeAcked(t.a);
        break;
      default:
        core.streams.onTokenAcked(t);
    }
  }
}

/** A packet was declared lost: requeue exactly what it carried that still matters (§13.3). */
export function onPacketLost(core: ConnectionCore, space: PacketNumberSpace, p: SentPacket<RecoveryToken[]>): void {
  core.stats.packetsLost++;
  if (core.qlog) core.qlog.packetLost(core.now, space, p.packetNumber);
  const sp = core.spaces[space];
  core.ecn.onPacketLost(space, p.packetNumber);
  if (p.size >= core.pmtud.current && !p.congestionExempt) core.pmtud.onLargePacketLost();
  for (const t of p.tokens) {
    switch (t.kind) {
      case TokenKind.ACK:
      case TokenKind.PING:
        break;
      case TokenKind.CRYPTO:
        if (!sp.discarded) sp.cryptoSend.onLost(t.a, t.b, false);
        break;
      case TokenKind.HANDSHAKE_DONE:
        core.handshakeDonePending = true;
        break;
      case TokenKind.NEW_CONNECTION_ID:
        core.localCids.onAnnouncementLost(t.a);
        break;
      case TokenKind.RETIRE_CONNECTION_ID:
        core.peerCids.onRetirementLost(t.a);
        break;
      case TokenKind.DATAGRAM:
        core.events.push({ type: 'datagram-lost', id: t.a });
        break;
      case TokenKind.PMTU_PROBE:
        core.pmtud.onProbeLost(t.a, core.now); // never retransmitted (RFC 9000 §14.4)
        break;
      case TokenKind.NEW_TOKEN:
        core.newTokens.onLost(t.a);
        break;
      default:
        core.streams.onTokenLost(t);
    }
  }
}
