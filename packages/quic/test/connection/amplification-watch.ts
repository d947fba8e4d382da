/**
 * Shared by amplification.test.ts.
 *
 * The anti-amplification limit (RFC 9000 §8.1): until the client's address is validated (a
 * Handshake packet from it, §8.1), the server sends at most three times the bytes it received.
 * Checked independently of the connection's own counters: a hook on the server->client link
 * sums what the server emits and compares it, datagram by datagram, with what the
 * client->server link delivered. The server's certificate flight is made larger than 3 x 1200
 * bytes so the limit bites, and the client's second flight is lost in some runs.
 */

import type { Connection } from '../../src/connection/connection.js';
import type { DatagramHook } from '../../src/sim/link.js';
import { CLIENT, makePair, type Pair, SERVER, TEST_CERT_DER } from './harness.js';

export const SEED = Number(process.env.SIM_SEED ?? 1);
/** About 5.8 KB of certificates: the server's first flight needs more than 3 x 1200 bytes. */
export const BIG_CHAIN = Array.from({ length: 14 }, () => TEST_CERT_DER);

export interface Watch {
  pair: Pair;
  /** Bytes the server emitted before its peer's address was validated. */
  sentUnvalidated: () => number;
  /** Most the ratio sent/received reached while unvalidated. */
  maxRatio: () => number;
  violations: string[];
}

export function watchedPair(seed: number, dropFromClient: (index: number, now: number) => boolean, delayMs = 10): Watch {
  let sent = 0;
  let maxRatio = 0;
  const violations: string[] = [];
  let pairRef: Pair | undefined;
  const serverConn = (): Connection | undefined => pairRef?.serverNode.conn;
  const fromServer: DatagramHook = (d, info) => {
    const conn = serverConn();
    if (info.from === SERVER && conn && !conn.addressValidated) {
      sent += d.length;
      const received = pairRef!.sim.link(CLIENT, SERVER)!.stats.deliveredBytes;
      maxRatio = Math.max(maxRatio, sent / received);
      if (sent > 3 * received) violations.push(`t=${info.now}: sent ${sent} > 3 x ${received}`);
    }
    return d;
  };
  const fromClient: DatagramHook = (d, info) => (dropFromClient(info.index, info.now) ? null : d);
  const pair = makePair({ seed, link: { delayMs, hook: fromClient }, back: { delayMs, hook: fromServer }, serverCertificateChain: BIG_CHAIN });
  pairRef = pair;
  // The connection's own view, after every event, too.
  const check = pair.serverNode.afterEvent;
  pair.serverNode.afterEvent = (c) => {
    check(c);
    if (!c.addressValidated && c.bytesSent > 3 * c.bytesReceived) violations.push(`own counters: ${c.bytesSent} > 3 x ${c.bytesReceived}`);
  };
  return { pair, sentUnvalidated: () => sent, maxRatio: () => maxRatio, violations };
}

export function complete(pair: Pair): () => boolean {
  return () => pair.client.handshakeConfirmed && pair.serverNode.conn !== undefined && pair.server().handshakeConfirmed;
}

