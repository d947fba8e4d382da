/**
 * A connection's qlog written to `<qlogDir>/<ODCID hex>_<client|server>.sqlog` as JSON-SEQ
 * (the naming qvis and other stacks use). Events before the file is named (a client's ODCID is
 * chosen inside `Connection.connect`) are held in memory and written when it opens.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../codec/hex.js';
import type { QlogEvent, QlogObserver } from '../qlog/events.js';
import { jsonSeqRecord, qlogFileHeader } from '../qlog/json-seq.js';

export class QlogFile implements QlogObserver {
  #stream: WriteStream | undefined;
  #pending: string[] | undefined = [];
  /** The file's path once opened. */
  path: string | undefined;

  onEvent(event: QlogEvent): void {
    const record = jsonSeqRecord(event);
    if (this.#stream) this.#stream.write(record);
    else this.#pending?.push(record);
  }

  /** Names and opens the file, writes the header and whatever was held. */
  open(dir: string, originalDcid: Uint8Array, role: 'client' | 'server', wallClockMs: number): void {
    const odcid = toHex(originalDcid);
    this.path = join(dir, `${odcid}_${role}.sqlog`);
    const stream = createWriteStream(this.path, { flags: 'w' });
    stream.on('error', () => {
      // Logging must never take the connection down; a failed qlog file is just incomplete.
    });
    stream.write(qlogFileHeader({ vantagePoint: role, title: `purequic ${role} ${odcid}`, groupId: odcid, wallClockTime: new Date(wallClockMs).toISOString() }));
    for (const record of this.#pending ?? []) stream.write(record);
    this.#pending = undefined;
    this.#stream = stream;
  }

  /** Flushes and closes the file; resolves once it is on disk. */
  close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#pending = undefined;
    if (!stream) return Promise.resolve();
    return new Promise((resolve) => stream.end(() => resolve()));
  }
}
