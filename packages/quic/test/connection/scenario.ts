/**
 * Scenario helpers for connection tests on top of `harness.ts`: bring a pair to a confirmed
 * handshake, forge 1-RTT packets as one side (protected with that side's real keys, so the other
 * side opens them like any packet), deliver them at an exact moment, and read streams fully.
 *
 * Forging takes the sender's next packet number and records the packet with loss recovery as
 * neither ack-eliciting nor in flight, so the peer's ACK of it is legitimate and bytes in flight
 * are untouched: the sender's invariants still hold after the injection.
 */

import * as assert from 'uvu/assert';
import { ByteWriter } from '../../src/codec/writer.js';
import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionCloseReason } from '../../src/connection/types.js';
import type { PacketProtectionKeys } from '../../src/crypto/keys.js';
import { AEAD_TAG_LENGTH } from '../../src/crypto/provider.js';
import { decryptPayload, protect, removeHeaderProtection } from '../../src/crypto/protection.js';
import { parseFrames } from '../../src/frame/parse.js';
import { CoalescedPacketReader } from '../../src/packet/coalesced.js';
import { PacketType } from '../../src/packet/types.js';
import type { Frame } from '../../src/frame/types.js';
import { writeFrame } from '../../src/frame/write.js';
import { writeShortHeader } from '../../src/packet/header.js';
import { PacketNumberSpace } from '../../src/recovery/packet-number-space.js';
import { CLIENT, type Pair, SERVER } from './harness.js';

/** Runs until both sides have completed and confirmed the handshake. */
export function establish(pair: Pair, maxMs = 5_000): void {
  const ok = pair.run(
    () => pair.client.handshakeConfirmed && pair.serverNode.conn !== undefined && pair.server().handshakeConfirmed,
    maxMs,
  );
  assert.ok(ok, 'handshake did not complete');
}

/**
 * A 1-RTT packet from `sender` carrying `frames` (or raw payload bytes), protected with its
 * current 1-RTT write keys and addressed to its peer's current CID.
 */
export function forge1Rtt(
  sender: Connection,
  content: Frame[] | Uint8Array,
  options: { reservedBits?: number; keys?: PacketProtectionKeys; keyPhase?: 0 | 1 } = {},
): Uint8Array {
  const keys = options.keys ?? sender.keyPhases.write;
  if (!keys) throw new Error('sender has no 1-RTT keys yet');
  const sp = sender.spaces[PacketNumberSpace.APPLICATION];
  const pn = sp.nextPacketNumber++;
  const buf = new Uint8Array(4096);
  const pnLength = 4;
  const pnOffset = writeShortHeader(buf, 0, { dcid: sender.peerCids.currentCid, packetNumber: pn, pnLength, keyPhase: options.keyPhase ?? sender.keyPhases.phase });
  if (options.reservedBits) buf[0] = (buf[0] as number) | options.reservedBits;
  const w = new ByteWriter(buf, pnOffset + pnLength);
  if (content instanceof Uint8Array) w.bytes(content);
  else for (const f of content) writeFrame(w, f);
  // RFC 9001 §5.4.2: at least 4 bytes of packet number + payload for the header-protection sample.
  while (w.offset < pnOffset + pnLength + 4) w.u8(0);
  const end = protect(keys, buf, 0, pnOffset, pnLength, w.offset, pn);
  if (end > buf.length - AEAD_TAG_LENGTH) throw new Error('forged packet too large');
  sender.recovery.onPacketSent(PacketNumberSpace.APPLICATION, pn, sender.now, end, false, false, []);
  return buf.slice(0, end);
}

/** Hands `datagram` to the server (or client) node now, as if it came over the link. */
export function deliverTo(pair: Pair, to: 'client' | 'server', datagram: Uint8Array): void {
  if (to === 'server') pair.serverNode.handleDatagram(datagram, CLIENT, pair.sim.now);
  else pair.clientNode.handleDatagram(datagram, SERVER, pair.sim.now);
}

/** Forges `frames` from one side and delivers them to the other at once. */
export function injectFrames(pair: Pair, from: 'client' | 'server', content: Frame[] | Uint8Array, options?: { reservedBits?: number }): void {
  const sender = from === 'client' ? pair.client : pair.server();
  deliverTo(pair, from === 'client' ? 'server' : 'client', forge1Rtt(sender, content, options));
}

/** Reads everything readable on a stream; returns the bytes and whether FIN was read. Bounded. */
export function drain(conn: Connection, id: number, into: number[] | undefined = undefined): { bytes: number; fin: boolean } {
  let bytes = 0;
  let fin = false;
  for (let i = 0; i < 100_000; i++) {
    const r = conn.readStream(id);
    if (!r) break;
    bytes += r.data.length;
    if (into) for (const b of r.data) into.push(b);
    if (r.fin) {
      fin = true;
      break;
    }
  }
  return { bytes, fin };
}

/** Runs until both connections are terminated (closing/draining periods over). */
export function runUntilTerminated(pair: Pair, maxMs = 60_000): boolean {
  return pair.run(() => pair.client.isTerminated && pair.serverNode.conn !== undefined && pair.server().isTerminated, maxMs);
}

/** Asserts a transport close with `code`, and who closed. */
export function assertTransportClose(reason: ConnectionCloseReason | undefined, code: number, remote: boolean, what = ''): void {
  assert.ok(reason, `${what}: no close reason`);
  assert.is(reason!.kind, 'transport', `${what}: ${JSON.stringify(reason)}`);
  if (reason!.kind !== 'transport') return;
  assert.is(reason!.code, code, `${what}: code ${reason!.code} reason "${reason!.reason}"`);
  assert.is(reason!.remote, remote, `${what}: remote`);
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Moves events queued by direct application calls (readStream, resetStream, ...) into the node's
 * log and handler, as the node does after each network input.
 */
export function flushEvents(pair: Pair): void {
  for (const node of [pair.clientNode, pair.serverNode]) {
    const conn = node.conn;
    if (!conn) continue;
    // Bounded by the events queued.
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) {
      node.events.push(e);
      node.onEvent(e, conn, pair.sim.now);
    }
  }
}

const spyReader = new CoalescedPacketReader({ shortDcidLength: 8 });

/**
 * The frames of the 1-RTT packets in `datagram`, opened on a copy with `receiver`'s current read
 * keys (call it from a link hook, before the receiver processes the datagram). Packets it cannot
 * open are skipped: a test observer, not a parser under test.
 */
export function peekFrames(receiver: Connection | undefined, datagram: Uint8Array): Frame[] {
  const keys = receiver?.keyPhases.read;
  if (!receiver || !keys) return [];
  const copy = datagram.slice();
  const out: Frame[] = [];
  try {
    spyReader.reset(copy);
    for (let h = spyReader.next(); h !== undefined; h = spyReader.next()) {
      if (h.type !== PacketType.ONE_RTT) continue;
      const largest = receiver.spaces[PacketNumberSpace.APPLICATION].ack.largestReceived;
      const header = removeHeaderProtection(keys.headerProtection, copy, h.start, h.pnOffset, h.end, largest);
      if (!header) continue;
      const payload = decryptPayload(keys, copy, h.start, h.pnOffset, header.pnLength, h.end, header.packetNumber);
      if (payload) out.push(...parseFrames(payload, h.type));
    }
  } catch {
    // not ours to judge
  }
  return out;
}
