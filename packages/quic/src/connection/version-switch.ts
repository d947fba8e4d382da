/**
 * Compatible version negotiation on a live connection (RFC 9368 §2.3; RFC 9369 §4 for v1/v2):
 * the server switches version after reading the client's version_information and before TLS
 * answers; the client follows the server's first packet into a version it offered; the server
 * keeps reading the client's Initials of the original version until the client follows.
 */

import { deriveInitialKeys } from '../crypto/keys.js';
import type { PacketHeader } from '../packet/header.js';
import { PacketType } from '../packet/types.js';
import type { ConnectionCore } from './core.js';
import { compatibleVersion, peekClientVersionInformation } from './versions.js';

/**
 * A long-header packet of a version other than the connection's. True when it may be processed:
 * at the server, a client Initial of the original version after a switch (read with
 * `originalInitialReadKeys`); at the client, the server's first packet in a version it offered,
 * which switches the connection (Initial keys re-derived for that version).
 */
export function acceptOtherVersion(core: ConnectionCore, h: PacketHeader): boolean {
  if (core.isServer) return h.version === core.originalVersion && h.type === PacketType.INITIAL && core.originalInitialReadKeys !== undefined;
  if (core.receivedAnyPacket || h.type !== PacketType.INITIAL || !core.offeredVersions.includes(h.version)) return false;
  // Undone if the packet does not authenticate under the new version's keys (`undoVersionSwitch`).
  core.versionBeforeSwitch = { version: core.version, write: core.spaces[0].writeKeys, read: core.spaces[0].readKeys };
  core.version = h.version;
  // RFC 9369 §3.3.1: the version's own Initial salt, over the DCID of our Initial.
  const keys = deriveInitialKeys(core.crypto, h.version, core.peerCids.currentCid);
  core.spaces[0].writeKeys = keys.client;
  core.spaces[0].readKeys = keys.server;
  return true;
}

/**
 * Server: holds the client's first Initial CRYPTO bytes until the ClientHello is whole, then
 * switches to the most preferred version the client offered (if not the one in use) and
 * returns the bytes for TLS. Chunks after that pass through.
 */
export function peekClientHello(core: ConnectionCore, chunk: Uint8Array): Uint8Array | undefined {
  const peek = core.helloPeek!;
  if (peek.done) return chunk;
  const hello = peek.push(chunk);
  if (hello === undefined) return undefined;
  const version = compatibleVersion(core.version, peekClientVersionInformation(hello), core.preferredVersions);
  if (version !== core.version) switchServerVersion(core, version);
  return hello;
}

function switchServerVersion(core: ConnectionCore, version: number): void {
  core.originalInitialReadKeys = core.spaces[0].readKeys;
  core.version = version;
  // Same client DCID, the new version's salt: our Initials from now on are in `version`.
  const keys = deriveInitialKeys(core.crypto, version, core.originalDcid);
  core.spaces[0].writeKeys = keys.server;
  core.spaces[0].readKeys = keys.client;
  core.onVersionChanged();
}

/** Client: a forged or corrupt packet of another version switched us: go back. */
export function undoVersionSwitch(core: ConnectionCore): void {
  const before = core.versionBeforeSwitch;
  if (!before) return;
  core.versionBeforeSwitch = undefined;
  core.version = before.version;
  core.spaces[0].writeKeys = before.write;
  core.spaces[0].readKeys = before.read;
}
