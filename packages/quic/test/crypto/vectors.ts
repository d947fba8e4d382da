/** Typed loaders for the RFC 9001 / RFC 9369 Appendix A vector files. */

import { loadVectors } from '../helpers/vectors.js';

export interface DirectionKeys {
  secret: string;
  key: string;
  iv: string;
  hp: string;
}

export interface KeysVectors {
  source: string;
  version: string;
  clientDcid: string;
  initialSalt: string;
  hkdfLabels: Record<string, string>;
  initialSecret: string;
  client: DirectionKeys;
  server: DirectionKeys;
}

interface PacketVectorsBase {
  source: string;
  version: string;
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  pnOffset: number;
  header: string;
  sample: string;
  mask: string;
  protectedHeader: string;
  packet: string;
}

export interface ClientInitialVectors extends PacketVectorsBase {
  clientDcid: string;
  payloadFrames: string;
  payloadLength: number;
}

export interface ServerInitialVectors extends PacketVectorsBase {
  clientDcid: string;
  payload: string;
}

export interface RetryVectors {
  source: string;
  version: string;
  originalDcid: string;
  packet: string;
  key: string;
  nonce: string;
  secret: string;
}

export interface ChaChaVectors extends PacketVectorsBase {
  cipherSuite: string;
  secret: string;
  key: string;
  iv: string;
  hp: string;
  ku: string;
  nonce: string;
  payload: string;
  ciphertext: string;
}

export interface VersionVectors {
  /** "RFC 9001" or "RFC 9369". */
  rfc: string;
  version: number;
  keys: KeysVectors;
  clientInitial: ClientInitialVectors;
  serverInitial: ServerInitialVectors;
  retry: RetryVectors;
  chacha: ChaChaVectors;
}

function load(prefix: string, rfc: string): VersionVectors {
  const keys = loadVectors<KeysVectors>(`${prefix}-a1-keys.json`);
  return {
    rfc,
    version: parseInt(keys.version, 16),
    keys,
    clientInitial: loadVectors<ClientInitialVectors>(`${prefix}-a2-client-initial.json`),
    serverInitial: loadVectors<ServerInitialVectors>(`${prefix}-a3-server-initial.json`),
    retry: loadVectors<RetryVectors>(`${prefix}-a4-retry.json`),
    chacha: loadVectors<ChaChaVectors>(`${prefix}-a5-chacha20-short-header.json`),
  };
}

/** QUIC v1 (RFC 9001 Appendix A) and v2 (RFC 9369 Appendix A). */
export const VERSION_VECTORS: readonly VersionVectors[] = [load('rfc9001', 'RFC 9001'), load('rfc9369', 'RFC 9369')];
