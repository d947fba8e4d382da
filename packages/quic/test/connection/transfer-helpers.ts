/** A request/response transfer used by several simulation tests: the client sends `upload` bytes on a bidi stream, the server answers with `download` bytes. */

import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { type Pair, payload, sameBytes } from './harness.js';

export interface TransferResult {
  ok: boolean;
  receivedByServer: Uint8Array;
  receivedByClient: Uint8Array;
  virtualMs: number;
}

function collect(conn: Connection, id: number, chunks: Uint8Array[]): boolean {
  // Bounded by the bytes buffered.
  for (let r = conn.readStream(id); r !== undefined; r = conn.readStream(id)) {
    if (r.data.length) chunks.push(r.data.slice());
    if (r.fin) return true;
  }
  return false;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Pumps `data` into a stream as back-pressure allows. */
class Writer {
  offset = 0;
  constructor(readonly conn: Connection, readonly id: number, readonly data: Uint8Array) {}
  pump(): void {
    if (this.offset > this.data.length) return;
    const n = this.conn.writeStream(this.id, this.data.subarray(this.offset), true);
    this.offset += n;
    if (this.offset === this.data.length) this.offset = this.data.length + 1; // FIN queued
  }
}

export function runTransfer(pair: Pair, uploadBytes: number, downloadBytes: number, maxTimeMs = 120_000): TransferResult {
  const upload = payload(uploadBytes, 11);
  const download = payload(downloadBytes, 12);
  const serverChunks: Uint8Array[] = [];
  const clientChunks: Uint8Array[] = [];
  let serverDone = false;
  let clientDone = false;
  let clientWriter: Writer | undefined;
  let serverWriter: Writer | undefined;
  let streamId = -1;

  pair.serverNode.onEvent = (e, conn) => {
    if (e.type === 'stream-opened') streamId = e.streamId;
    if (e.type === 'stream-readable' && !serverDone) {
      serverDone = collect(conn, e.streamId, serverChunks);
      if (serverDone) {
        serverWriter = new Writer(conn, e.streamId, download);
        serverWriter.pump();
      }
    }
    if (e.type === 'stream-writable') serverWriter?.pump();
  };
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'handshake-complete') {
      const id = conn.openStream('bidi');
      assert.ok(id !== undefined, 'could not open a stream');
      clientWriter = new Writer(conn, id!, upload);
      clientWriter.pump();
    }
    if (e.type === 'stream-writable') clientWriter?.pump();
    if (e.type === 'stream-readable' && !clientDone) clientDone = collect(conn, e.streamId, clientChunks);
  };
  const start = pair.sim.now;
  const ok = pair.run(() => clientDone && serverDone, maxTimeMs, 5_000_000);
  void streamId;
  const receivedByServer = concat(serverChunks);
  const receivedByClient = concat(clientChunks);
  return {
    ok: ok && sameBytes(receivedByServer, upload) && sameBytes(receivedByClient, download),
    receivedByServer,
    receivedByClient,
    virtualMs: pair.sim.now - start,
  };
}
