/**
 * Stream ID arithmetic (RFC 9000 §2.1): the two low bits give the type (bit 0 = initiator,
 * 0 client / 1 server; bit 1 = direction, 0 bidirectional / 1 unidirectional), the rest is the
 * index within that type. IDs reach 2^62 - 1, beyond 32-bit integers, so this uses arithmetic
 * rather than bitwise operators.
 */

/** The four stream types, each the value of an ID's two low bits (RFC 9000 §2.1, Table 1). */
export const StreamType = {
  CLIENT_BIDI: 0,
  SERVER_BIDI: 1,
  CLIENT_UNI: 2,
  SERVER_UNI: 3,
} as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

/**
 * Largest encodable stream ID (a varint, RFC 9000 §16). As a double it rounds to 2^62; IDs are
 * exact up to 2^53 - 1, far beyond what stream limits let a peer reach in practice.
 */
export const MAX_STREAM_ID = 2 ** 62 - 1;

/** Largest value of a stream count limit (RFC 9000 §4.6: 2^60). */
export const MAX_STREAMS_LIMIT = 2 ** 60;

/** The type of a stream, from its two low bits. */
export function streamTypeOf(id: number): StreamType {
  return (id % 4) as StreamType;
}

/** The type for streams opened by the client or server in one direction. */
export function streamTypeFor(serverInitiated: boolean, unidirectional: boolean): StreamType {
  return ((serverInitiated ? 1 : 0) + (unidirectional ? 2 : 0)) as StreamType;
}

/** True if bit 0x1 is clear: the client opened the stream. */
export function isClientInitiated(id: number): boolean {
  return id % 2 === 0;
}

/** True if the server opened the stream. */
export function isServerInitiated(id: number): boolean {
  return id % 2 === 1;
}

/** True if bit 0x2 is clear: data flows both ways. */
export function isBidirectional(id: number): boolean {
  return id % 4 < 2;
}

/** True if data flows only from the initiator. */
export function isUnidirectional(id: number): boolean {
  return id % 4 >= 2;
}

/** True if the endpoint (`isServer` says which one it is) opened the stream. */
export function isLocallyInitiated(id: number, isServer: boolean): boolean {
  return isServer ? isServerInitiated(id) : isClientInitiated(id);
}

/** Index of the stream among streams of its type: 0 for the first one opened. */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The ID of the `index`-th stream (0-based) of `type`. */
export function streamIdOf(type: StreamType, index: number): number {
  return index * 4 + type;
}

/** True if the endpoint may send on the stream: bidirectional, or unidirectional opened by itself. */
export function canSendOn(id: number, isServer: boolean): boolean {
  return isBidirectional(id) || isLocallyInitiated(id, isServer);
}

/** True if the endpoint may receive on the stream: bidirectional, or unidirectional opened by the peer. */
export function canReceiveOn(id: number, isServer: boolean): boolean {
  return isBidirectional(id) || !isLocallyInitiated(id, isServer);
}
