/**
 * The sans-IO shape the simulator drives: anything that takes datagrams and timeouts and
 * produces datagrams and a next timer (a QUIC connection or endpoint wrapper, or a toy node).
 * Addresses are strings such as "10.0.0.1:4433"; times are absolute virtual milliseconds.
 */

/** A datagram a node wants to send. */
export interface SimTransmit {
  /** Destination address, e.g. "10.0.0.2:443". */
  to: string;
  /** The bytes; the simulator copies them, so the node may reuse the buffer afterwards. */
  data: Uint8Array;
  /**
   * Source address to send from when the node owns several (see `Simulator.alias`): a client
   * migrating to a new local address. Default: the address the node was added at.
   */
  from?: string;
  /** ECN codepoint of the IP header (RFC 3168: 0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE); default 0. */
  ecn?: number;
}

export interface SimNode {
  /**
   * A datagram from `from` arrived at virtual time `now`, with the ECN codepoint the network
   * delivered (`ecn`, 0 when not-ECT) at the node's address `to`.
   */
  handleDatagram(data: Uint8Array, from: string, now: number, ecn?: number, to?: string): void;
  /** The next datagram to send now, or undefined when there is none. Polled until undefined. */
  pollTransmit(now: number): SimTransmit | undefined;
  /** Absolute virtual time of the node's next timer, or undefined if none is armed. */
  nextTimeout(): number | undefined;
  /** The timer returned by `nextTimeout` is due (`now` >= it). */
  handleTimeout(now: number): void;
}
