/**
 * What the interop runner reads from its packet capture, without decryption: the cleartext
 * parts of long-header packets (RFC 8999 §5.1, RFC 9000 §17.2) seen by the relay between client
 * and server. The tests use it the way the runner's checks use the pcap: which versions the
 * Initial and Handshake packets used (runner `v2`), whether a Retry came and the next client
 * Initial carried its token (`retry`), how many handshakes there were (`resumption`/`zerortt`),
 * whether the client sent 0-RTT packets (`zerortt`), and how much the server sent before the
 * client's address was validated (`amplificationlimit`, RFC 9000 §8.1).
 *
 * It is written apart from the library's parser on purpose: an independent reading of the wire.
 * Short-header packets are counted as bytes only (their contents are encrypted).
 */

import { performance } from 'node:perf_hooks';

export type Direction = 'toServer' | 'toClient';

export type LongPacketKind = 'initial' | '0rtt' | 'handshake' | 'retry' | 'version-negotiation';

/** One long-header packet as it crossed the relay. */
export interface LongPacketRecord {
  direction: Direction;
  /** Index of the datagram it came in (per direction, from 0). */
  datagram: number;
  version: number;
  kind: LongPacketKind;
  /** Source Connection ID, hex. */
  scid: string;
  /** Destination Connection ID, hex. */
  dcid: string;
  /** Initial: the token, hex ('' when none). Retry: the Retry token, hex. */
  token: string;
}

const QUIC_V2 = 0x6b3343cf;
// Long Packet Type bits (first byte & 0x30 >> 4) per version (RFC 9000 §17.2, RFC 9369 §3.2).
const V1_KINDS: readonly LongPacketKind[] = ['initial', '0rtt', 'handshake', 'retry'];
const V2_KINDS: readonly LongPacketKind[] = ['retry', 'initial', '0rtt', 'handshake'];
/** Retry Integrity Tag length (RFC 9001 §5.8). */
const RETRY_TAG_BYTES = 16;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** A QUIC variable-length integer at `offset` (RFC 9000 §16), or undefined past `end`. */
function varint(buf: Uint8Array, offset: number, end: number): { value: number; next: number } | undefined {
  if (offset >= end) return undefined;
  const length = 1 << (buf[offset]! >> 6);
  if (offset + length > end) return undefined;
  let value = buf[offset]! & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + buf[offset + i]!;
  return { value, next: offset + length };
}

/**
 * The long-header packets of one datagram (coalesced ones too, RFC 9000 §12.2), stopping at a
 * short-header packet or anything malformed.
 */
export function parseLongHeaders(datagram: Uint8Array, direction: Direction, index: number): LongPacketRecord[] {
  const out: LongPacketRecord[] = [];
  let offset = 0;
  // Bounded by the datagram: each turn consumes at least the 7-byte minimal header.
  while (offset + 7 <= datagram.length && (datagram[offset]! & 0x80) !== 0) {
    const first = datagram[offset]!;
    const version = new DataView(datagram.buffer, datagram.byteOffset + offset + 1, 4).getUint32(0);
    let p = offset + 5;
    const dcidLength = datagram[p++]!;
    if (p + dcidLength + 1 > datagram.length) break;
    const dcid = hex(datagram.subarray(p, p + dcidLength));
    p += dcidLength;
    const scidLength = datagram[p++]!;
    if (p + scidLength > datagram.length) break;
    const scid = hex(datagram.subarray(p, p + scidLength));
    p += scidLength;
    if (version === 0) {
      out.push({ direction, datagram: index, version, kind: 'version-negotiation', scid, dcid, token: '' });
      break; // the rest is the version list
    }
    const kind = (version === QUIC_V2 ? V2_KINDS : V1_KINDS)[(first & 0x30) >> 4]!;
    let token = '';
    if (kind === 'retry') {
      token = hex(datagram.subarray(p, Math.max(p, datagram.length - RETRY_TAG_BYTES)));
      out.push({ direction, datagram: index, version, kind, scid, dcid, token });
      break; // a Retry fills its datagram
    }
    if (kind === 'initial') {
      const tokenLength = varint(datagram, p, datagram.length);
      if (!tokenLength || tokenLength.next + tokenLength.value > datagram.length) break;
      token = hex(datagram.subarray(tokenLength.next, tokenLength.next + tokenLength.value));
      p = tokenLength.next + tokenLength.value;
    }
    const length = varint(datagram, p, datagram.length);
    if (!length) break;
    out.push({ direction, datagram: index, version, kind, scid, dcid, token });
    offset = length.next + length.value;
  }
  return out;
}

/** One datagram as it reached the relay. */
export interface DatagramRecord {
  direction: Direction;
  /** Index per direction, from 0. */
  index: number;
  size: number;
  /** False when the relay dropped it (on purpose: loss, or the amplificationlimit pattern). */
  forwarded: boolean;
  /** The client's address and port as the relay saw it (`address|port`): a new one after migration. */
  flow: string;
  /**
   * Destination Connection ID of the datagram's first packet, hex: from the long header, or for
   * a short header the `shortDcidLength` bytes after the first byte ('' when unknown).
   */
  dcid: string;
  /** When the relay got it (performance.now() ms). */
  at: number;
}

/** Everything the relay saw, in arrival order (both directions). */
export class WireLog {
  readonly packets: LongPacketRecord[] = [];
  readonly datagrams: DatagramRecord[] = [];
  readonly #counts = { toServer: 0, toClient: 0 };

  /**
   * @param shortDcidLength the length of the connection IDs the receiver of short-header
   *   packets chose (RFC 9000 §17.3: not on the wire); 8 is our default, and quic-go's is 4.
   */
  constructor(readonly shortDcidLength = 8) {}

  /** Records one datagram, whether the relay forwarded it, and the client flow it belongs to. */
  record(direction: Direction, datagram: Uint8Array, forwarded: boolean, flow = ''): void {
    const index = this.#counts[direction]++;
    const long = parseLongHeaders(datagram, direction, index);
    this.packets.push(...long);
    const short = datagram.length > this.shortDcidLength && ((datagram[0] ?? 0x80) & 0x80) === 0;
    const dcid = long[0]?.dcid ?? (short ? hex(datagram.subarray(1, 1 + this.shortDcidLength)) : '');
    this.datagrams.push({ direction, index, size: datagram.length, forwarded, flow, dcid, at: performance.now() });
  }

  /** Client flows (address|port) in the order they first appeared. */
  get flows(): string[] {
    return [...new Set(this.datagrams.filter((d) => d.direction === 'toServer').map((d) => d.flow))];
  }

  /** Long-header packets of a kind in a direction. */
  long(direction: Direction, kind: LongPacketKind): LongPacketRecord[] {
    return this.packets.filter((p) => p.direction === direction && p.kind === kind);
  }

  /** The runner's handshake count: distinct server Source Connection IDs in server Initials. */
  get handshakes(): number {
    return new Set(this.long('toClient', 'initial').map((p) => p.scid)).size;
  }

  /**
   * RFC 9000 §8.1 as the runner's amplificationlimit check sees it: the bytes the server sent
   * and the bytes it received (client datagrams the relay forwarded) before the first client
   * Handshake packet reached it.
   */
  bytesBeforeClientHandshake(): { sent: number; received: number } {
    const firstHandshake = this.packets.find(
      (p) => p.direction === 'toServer' && p.kind === 'handshake' && this.datagrams.some((d) => d.direction === 'toServer' && d.index === p.datagram && d.forwarded),
    );
    let sent = 0;
    let received = 0;
    for (const d of this.datagrams) {
      if (firstHandshake && d.direction === 'toServer' && d.index === firstHandshake.datagram) break;
      if (d.direction === 'toClient') sent += d.size;
      else if (d.forwarded) received += d.size;
    }
    return { sent, received };
  }
}
