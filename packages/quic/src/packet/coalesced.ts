/**
 * Walking the QUIC packets coalesced in one UDP datagram (RFC 9000 §12.2).
 *
 * Initial, 0-RTT and Handshake packets end where their Length field says; a short header,
 * Retry or Version Negotiation packet takes the rest of the datagram. Iteration stops at the
 * first packet that cannot be parsed: whatever follows (say, zero bytes some stacks pad with)
 * cannot be delimited and is ignored. Packets already returned stay valid and must each be
 * processed (§12.2: a failure in one packet does not affect the others).
 */

import { QuicError } from '../errors.js';
import { type HeaderParseOptions, type PacketHeader, parsePacketHeader } from './header.js';

const EMPTY = new Uint8Array(0);

/**
 * A reusable cursor over the packets of a datagram: `reset(datagram)`, then `next()` until it
 * returns undefined. No closures or generator frames; one header object per packet, whose
 * `packet`, `dcid`, `scid` and `token` are views into the datagram.
 */
export class CoalescedPacketReader {
  private readonly options: HeaderParseOptions;
  private datagram: Uint8Array = EMPTY;
  private offset = 0;
  private firstDcid: Uint8Array | undefined = undefined;
  /** The parse error that ended iteration early, if one did (the rest of the datagram was dropped). */
  error: QuicError | undefined = undefined;
  /** Packets skipped because their DCID differed from the first packet's (RFC 9000 §12.2). */
  ignored = 0;

  constructor(options: HeaderParseOptions) {
    this.options = options;
  }

  /** Starts over on a new datagram. */
  reset(datagram: Uint8Array): this {
    this.datagram = datagram;
    this.offset = 0;
    this.firstDcid = undefined;
    this.error = undefined;
    this.ignored = 0;
    return this;
  }

  /** The next packet's header, or undefined at the end of the datagram or after a bad packet. */
  next(): PacketHeader | undefined {
    const datagram = this.datagram;
    // Each round consumes at least one byte, so the datagram length bounds the loop.
    for (let rounds = 0; this.offset < datagram.length && rounds <= datagram.length; rounds++) {
      let header: PacketHeader;
      try {
        header = parsePacketHeader(datagram, this.offset, datagram.length, this.options);
      } catch (e) {
        if (!QuicError.is(e)) throw e;
        this.error = e;
        this.offset = datagram.length;
        return undefined;
      }
      this.offset = header.end;
      if (this.firstDcid === undefined) {
        this.firstDcid = header.dcid;
      } else if (!sameBytes(header.dcid, this.firstDcid)) {
        // RFC 9000 §12.2: receivers SHOULD ignore later packets with a different DCID.
        this.ignored++;
        continue;
      }
      return header;
    }
    return undefined;
  }
}

/**
 * All parseable packets of `datagram`, in order (convenience over `CoalescedPacketReader` for
 * tests and tools; the receive path reuses one reader).
 */
export function splitCoalescedPackets(datagram: Uint8Array, options: HeaderParseOptions): PacketHeader[] {
  const reader = new CoalescedPacketReader(options).reset(datagram);
  const out: PacketHeader[] = [];
  for (let h = reader.next(); h !== undefined; h = reader.next()) out.push(h);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
