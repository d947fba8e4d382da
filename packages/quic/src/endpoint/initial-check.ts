/**
 * Opening a client's first Initial before any connection exists (RFC 9001 §5.2: Initial keys
 * derive from the packet's own Destination Connection ID, so a server can check a packet
 * statelessly). A datagram that is only Initial-shaped (right size, random payload) then costs
 * one key derivation and one AEAD open and no state, instead of a whole server connection held
 * for the idle timeout and counted as a handshake in progress (issue 12 #1).
 */

import { deriveInitialKeys, type InitialKeys } from '../crypto/keys.js';
import type { SymmetricCrypto } from '../crypto/provider.js';
import { unprotect } from '../crypto/protection.js';
import { CoalescedPacketReader } from '../packet/coalesced.js';
import { PacketType } from '../packet/types.js';

/**
 * The client and server Initial keys of the DCID when the first packet of `datagram` is an
 * Initial of `version` that authenticates under the client ones; undefined otherwise. Works on
 * a copy: the datagram is left as it was for the connection that will process it, and the keys
 * go to that connection (`AcceptOptions.initialKeys`) so they are derived once per handshake.
 */
export function openInitial(crypto: SymmetricCrypto, version: number, datagram: Uint8Array, cidLength: number): InitialKeys | undefined {
  const reader = new CoalescedPacketReader({ shortDcidLength: cidLength });
  reader.reset(datagram);
  const h = reader.next();
  if (h === undefined || h.type !== PacketType.INITIAL || h.version !== version) return undefined;
  const keys = deriveInitialKeys(crypto, version, h.dcid);
  const packet = datagram.slice(h.start, h.end);
  return unprotect(keys.client, packet, 0, h.pnOffset - h.start, packet.length, -1) !== null ? keys : undefined;
}
