/**
 * Packet number spaces (RFC 9000 §12.3). 0-RTT and 1-RTT packets share the Application Data
 * space; loss detection runs per space (RFC 9002 §6), RTT and congestion control per path.
 */

import { EncryptionLevel } from '../crypto/encryption-level.js';

export const PacketNumberSpace = {
  INITIAL: 0,
  HANDSHAKE: 1,
  APPLICATION: 2,
} as const;
export type PacketNumberSpace = (typeof PacketNumberSpace)[keyof typeof PacketNumberSpace];

/** Number of packet number spaces, for fixed-size per-space arrays. */
export const PACKET_NUMBER_SPACE_COUNT = 3;

export const PACKET_NUMBER_SPACE_NAMES: Record<PacketNumberSpace, string> = {
  [PacketNumberSpace.INITIAL]: 'initial',
  [PacketNumberSpace.HANDSHAKE]: 'handshake',
  [PacketNumberSpace.APPLICATION]: 'application_data',
};

/** The space packets of an encryption level are numbered in (RFC 9000 §12.3). */
export function packetNumberSpaceOf(level: EncryptionLevel): PacketNumberSpace {
  switch (level) {
    case EncryptionLevel.INITIAL:
      return PacketNumberSpace.INITIAL;
    case EncryptionLevel.HANDSHAKE:
      return PacketNumberSpace.HANDSHAKE;
    default:
      return PacketNumberSpace.APPLICATION;
  }
}
