/**
 * Datagrams between a cluster's front thread and its workers travel in batches: one
 * `ArrayBuffer` holding many datagrams with their peer addresses, transferred (not copied)
 * through a `MessagePort`. A `postMessage` costs a few microseconds whatever it carries, so one
 * message per event-loop turn and direction, instead of one per datagram, keeps the hand-off
 * cheap under load.
 *
 *   record: length (u16) | port (u16) | family (u8: 4 or 6) | address length (u8) |
 *           address (ASCII) | datagram
 *
 * A batch is written once and never reused after it is posted (the receiver may keep views of
 * it: node:dgram holds a datagram until it has left, a connection may keep received bytes).
 */

/**
 * Bytes of one batch buffer, at most; a larger datagram gets a batch of its own size. Each
 * batch is sized from the previous one (twice its use, at least MIN_BATCH_BYTES): a quiet
 * connection's lone datagram does not cost a 64 KB buffer, a busy turn fills a large one.
 */
const BATCH_BYTES = 64 * 1024;
const MIN_BATCH_BYTES = 4 * 1024;
/** Record header before the address: length, port, family, address length. */
const RECORD_HEADER = 6;
/** Longest textual address (an IPv6 address with an IPv4 tail and a zone). */
const MAX_ADDRESS = 64;

/** One batch as posted: the buffer is in the transfer list. */
export interface DatagramBatch {
  buffer: ArrayBuffer;
  length: number;
}

/** Fills batches and hands each full (or flushed) one to `post`. */
export class BatchWriter {
  #bytes: Uint8Array | undefined;
  #used = 0;
  #nextSize = MIN_BATCH_BYTES;
  readonly #post: (batch: DatagramBatch) => void;

  constructor(post: (batch: DatagramBatch) => void) {
    this.#post = post;
  }

  get pending(): boolean {
    return this.#used > 0;
  }

  /** Appends one datagram (copied) for `address:port`. */
  append(data: Uint8Array, offset: number, length: number, port: number, address: string, family: string): void {
    const need = RECORD_HEADER + MAX_ADDRESS + length;
    let bytes = this.#bytes;
    if (bytes === undefined || bytes.length - this.#used < need) {
      this.flush();
      // allocUnsafeSlow: a whole ArrayBuffer of its own (transferable), not zero-filled.
      const b = Buffer.allocUnsafeSlow(Math.max(this.#nextSize, need));
      bytes = new Uint8Array(b.buffer, 0, b.length);
      this.#bytes = bytes;
    }
    let at = this.#used;
    bytes[at] = length >>> 8;
    bytes[at + 1] = length & 0xff;
    bytes[at + 2] = port >>> 8;
    bytes[at + 3] = port & 0xff;
    bytes[at + 4] = family === 'IPv6' ? 6 : 4;
    const n = Math.min(address.length, MAX_ADDRESS);
    bytes[at + 5] = n;
    at += RECORD_HEADER;
    for (let i = 0; i < n; i++) bytes[at + i] = address.charCodeAt(i);
    at += n;
    bytes.set(length === data.length && offset === 0 ? data : data.subarray(offset, offset + length), at);
    this.#used = at + length;
  }

  /** Posts what is buffered (if anything); the next append starts a new batch. */
  flush(): void {
    const bytes = this.#bytes;
    if (bytes === undefined || this.#used === 0) return;
    const batch = { buffer: bytes.buffer as ArrayBuffer, length: this.#used };
    this.#nextSize = Math.min(BATCH_BYTES, Math.max(MIN_BATCH_BYTES, 2 * this.#used));
    this.#bytes = undefined;
    this.#used = 0;
    this.#post(batch);
  }
}

/** Reads a batch, calling `each` per datagram; address strings are reused across records. */
export class BatchReader {
  #lastAddress = '';
  #lastBytes = new Uint8Array(MAX_ADDRESS);
  #lastLength = -1;

  read(batch: DatagramBatch, each: (data: Buffer, port: number, address: string, family: 'IPv4' | 'IPv6') => void): void {
    const { buffer, length: total } = batch;
    const bytes = new Uint8Array(buffer, 0, total);
    let at = 0;
    while (at + RECORD_HEADER <= total) {
      const length = (bytes[at]! << 8) | bytes[at + 1]!;
      const port = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      const family = bytes[at + 4] === 6 ? 'IPv6' : 'IPv4';
      const n = bytes[at + 5]!;
      at += RECORD_HEADER;
      if (at + n + length > total) return; // cannot happen with BatchWriter's batches
      const address = this.#address(bytes, at, n);
      at += n;
      each(Buffer.from(buffer, at, length), port, address, family);
      at += length;
    }
  }

  /** Datagrams come in runs from one peer: decode its address once per run. */
  #address(bytes: Uint8Array, at: number, n: number): string {
    const last = this.#lastBytes;
    if (n === this.#lastLength) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (bytes[at + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#lastAddress;
    }
    last.set(bytes.subarray(at, at + n));
    this.#lastLength = n;
    this.#lastAddress = Buffer.from(bytes.buffer, bytes.byteOffset + at, n).toString('latin1');
    return this.#lastAddress;
  }
}
