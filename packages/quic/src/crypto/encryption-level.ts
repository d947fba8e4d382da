/**
 * TLS encryption levels as QUIC uses them (RFC 9001 §4.1.4). Each level but EARLY_DATA has
 * its own packet-number space; 0-RTT and 1-RTT packets share the application space (RFC 9000 §12.3).
 */
export const EncryptionLevel = {
  INITIAL: 0,
  EARLY_DATA: 1,
  HANDSHAKE: 2,
  APPLICATION: 3,
} as const;
export type EncryptionLevel = (typeof EncryptionLevel)[keyof typeof EncryptionLevel];

export const ENCRYPTION_LEVEL_NAMES: Record<EncryptionLevel, string> = {
  [EncryptionLevel.INITIAL]: 'initial',
  [EncryptionLevel.EARLY_DATA]: 'early_data',
  [EncryptionLevel.HANDSHAKE]: 'handshake',
  [EncryptionLevel.APPLICATION]: 'application',
};
