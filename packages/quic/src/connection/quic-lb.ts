/**
 * Routable connection IDs, plaintext algorithm of QUIC-LB (draft-ietf-quic-load-balancers-19
 * §3 and §5.2): a server (or one worker of a multi-core server) puts its server ID in the clear
 * right after the first octet of every connection ID it issues, so that a layer-4 load balancer
 * or a front thread can send every datagram of a connection to the same place without keeping
 * per-connection state, even after the client migrates (RFC 9000 §9.5 changes the CID, not the
 * server ID inside it). See docs/ARCHITECTURE.md, "More than one core".
 *
 *   first octet: config rotation (3 high bits) | CID length - 1 or random (5 low bits)
 *   then:        server ID (serverIdLength bytes) | nonce (nonceLength bytes, random)
 *
 * Plaintext server IDs let an observer link the connection IDs of one server; the draft's
 * encrypted variants (§5.3, §5.4) hide that and would take the same configuration plus a key.
 */

/** Config rotation 0b111 marks a connection ID no load balancer can route (§3.1). */
export const QUIC_LB_UNROUTABLE = 0b111;

/** One QUIC-LB plaintext configuration, as shared by the load balancer and its servers (§7). */
export interface QuicLbConfig {
  /** Config rotation codepoint, 0-6 (§3.1). */
  readonly configRotation: number;
  /** Length of every server ID in this configuration, 1-15 bytes (§5.2). */
  readonly serverIdLength: number;
  /** Random bytes after the server ID, 4-18 (§5.2: at least 4 so IDs rarely repeat). */
  readonly nonceLength: number;
  /** The low 5 bits of the first octet carry the CID length minus one (§3.2); else random. */
  readonly lengthSelfEncoding: boolean;
}

function checkConfig(config: QuicLbConfig): void {
  const { configRotation, serverIdLength, nonceLength } = config;
  if (!Number.isInteger(configRotation) || configRotation < 0 || configRotation > 6) throw new RangeError('QUIC-LB config rotation must be 0-6');
  if (!Number.isInteger(serverIdLength) || serverIdLength < 1 || serverIdLength > 15) throw new RangeError('QUIC-LB server ID length must be 1-15');
  if (!Number.isInteger(nonceLength) || nonceLength < 4 || nonceLength > 18) throw new RangeError('QUIC-LB nonce length must be 4-18');
  // RFC 9000 §17.2: a connection ID is at most 20 bytes.
  if (1 + serverIdLength + nonceLength > 20) throw new RangeError('QUIC-LB connection ID would exceed 20 bytes');
}

/** Bytes of every connection ID under `config`. */
export function quicLbCidLength(config: QuicLbConfig): number {
  return 1 + config.serverIdLength + config.nonceLength;
}

/**
 * A connection ID generator for one server ID (`random(n)` gives n random bytes), to hand to
 * whatever issues this server's connection IDs.
 */
export function quicLbCidFactory(config: QuicLbConfig, serverId: Uint8Array, random: (length: number) => Uint8Array): () => Uint8Array {
  checkConfig(config);
  if (serverId.length !== config.serverIdLength) throw new RangeError(`QUIC-LB server ID must be ${config.serverIdLength} bytes`);
  const id = serverId.slice();
  const length = quicLbCidLength(config);
  return () => {
    const cid = new Uint8Array(length);
    const nonce = random(config.nonceLength + 1);
    const low = config.lengthSelfEncoding ? length - 1 : (nonce[config.nonceLength] as number) & 0x1f;
    cid[0] = (config.configRotation << 5) | low;
    cid.set(id, 1);
    cid.set(nonce.subarray(0, config.nonceLength), 1 + id.length);
    return cid;
  };
}

/**
 * The load balancer's side (§5.2.1): the server ID in a connection ID under `config`, or
 * undefined when the connection ID does not follow it (another config rotation, the unroutable
 * codepoint, too short, or a self-encoded length that disagrees) and the datagram must be
 * routed some other way (§4: e.g. by a hash of the 4-tuple, as for a client's first Initial,
 * whose DCID the client chose).
 */
export function quicLbServerId(config: QuicLbConfig, cid: Uint8Array): Uint8Array | undefined {
  if (cid.length < quicLbCidLength(config)) return undefined;
  const first = cid[0] as number;
  if (first >>> 5 !== config.configRotation) return undefined;
  if (config.lengthSelfEncoding && (first & 0x1f) + 1 !== cid.length) return undefined;
  return cid.subarray(1, 1 + config.serverIdLength);
}

/**
 * `quicLbServerId` for a router's hot path: the server ID of the connection ID at
 * `bytes[offset, offset + cidLength)` read as a big-endian number (server IDs of at most 6
 * bytes), or -1 when the connection ID does not follow `config`. Allocates nothing.
 */
export function quicLbServerIdAt(config: QuicLbConfig, bytes: Uint8Array, offset: number, cidLength: number): number {
  if (cidLength < quicLbCidLength(config) || config.serverIdLength > 6 || offset + cidLength > bytes.length) return -1;
  const first = bytes[offset] as number;
  if (first >>> 5 !== config.configRotation) return -1;
  if (config.lengthSelfEncoding && (first & 0x1f) + 1 !== cidLength) return -1;
  let id = 0;
  for (let i = 1; i <= config.serverIdLength; i++) id = id * 256 + (bytes[offset + i] as number);
  return id;
}
