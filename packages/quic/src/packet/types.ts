/**
 * Packet types after version-specific decoding (RFC 9000 §17, RFC 9369 §3.2 remaps the
 * long-header type bits for v2; the rest of the stack only ever sees these values).
 */
export const PacketType = {
  INITIAL: 0,
  ZERO_RTT: 1,
  HANDSHAKE: 2,
  RETRY: 3,
  ONE_RTT: 4,
  VERSION_NEGOTIATION: 5,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const PACKET_TYPE_NAMES: Record<PacketType, string> = {
  [PacketType.INITIAL]: 'initial',
  [PacketType.ZERO_RTT]: '0RTT',
  [PacketType.HANDSHAKE]: 'handshake',
  [PacketType.RETRY]: 'retry',
  [PacketType.ONE_RTT]: '1RTT',
  [PacketType.VERSION_NEGOTIATION]: 'version_negotiation',
};
