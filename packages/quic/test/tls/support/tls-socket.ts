/**
 * TEST-ONLY: drives the record layer over a net.Socket and gives it a small duplex API.
 *
 *   const conn = await connectTls({ host, port, engine, crypto });   // TCP connected, handshake running
 *   await conn.handshake;            // rejects with the local or peer error
 *   conn.write(bytes); for await (const chunk of conn) …; await conn.close();
 *
 * `acceptTls(socket, …)` does the same for a socket a net.Server accepted.
 */

import { connect, type Socket } from 'node:net';
import type { SymmetricCrypto } from '../../../src/crypto/provider.js';
import type { TlsOutput } from '../../../src/tls/engine-api.js';
import { TlsRecordLayer, type RecordLayerOptions, type TlsEngineLike } from '../record-layer.js';

/** Upper bound on iterator turns per connection (test traffic is far below it). */
const MAX_READ_TURNS = 10_000_000;

export interface TlsSocketOptions extends RecordLayerOptions {
  engine: TlsEngineLike;
  /** Symmetric crypto for record protection (usually the engine's provider). */
  crypto: SymmetricCrypto;
}

export interface ConnectTlsOptions extends TlsSocketOptions {
  host?: string;
  port: number;
}

/** A TLS connection over TCP run by our engine. */
export class TlsSocketConnection implements AsyncIterable<Uint8Array> {
  readonly socket: Socket;
  readonly layer: TlsRecordLayer;
  /** Resolves when the handshake completes; rejects with the error that ended it first. */
  readonly handshake: Promise<void>;
  /** Resolves when the connection ended: undefined after close_notify, else the error. */
  readonly ended: Promise<Error | undefined>;
  /** Every engine output seen (session tickets, key log, …), in order. */
  readonly outputs: TlsOutput[] = [];
  readonly #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  #resolveEnded!: (error: Error | undefined) => void;

  constructor(socket: Socket, options: TlsSocketOptions) {
    this.socket = socket;
    let resolveHandshake!: () => void;
    let rejectHandshake!: (error: Error) => void;
    this.handshake = new Promise<void>((resolve, reject) => {
      resolveHandshake = resolve;
      rejectHandshake = reject;
    });
    // Callers that only look at `ended` must not trip unhandled-rejection checks.
    this.handshake.catch(() => undefined);
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.layer = new TlsRecordLayer(
      options.engine,
      options.crypto,
      {
        transmit: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        handshakeComplete: () => resolveHandshake(),
        applicationData: (data) => {
          this.#chunks.push(data);
          this.#wakeReader();
        },
        closed: (error) => {
          rejectHandshake(error ?? new Error('closed before the handshake completed'));
          this.#done = true;
          this.#wakeReader();
          this.#resolveEnded(error);
          // Let queued writes (our alert or close_notify) reach the peer, then half-close.
          if (!socket.destroyed) socket.end();
        },
        output: (output) => this.outputs.push(output),
      },
      options,
    );
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.layer.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    socket.on('end', () => this.layer.transportClosed());
    socket.on('error', (error) => this.layer.transportClosed(error));
    socket.on('close', () => this.layer.transportClosed(new Error('socket closed')));
  }

  /** Sends application data (after the handshake). */
  write(data: Uint8Array | string): void {
    this.layer.writeApplicationData(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  /** Registers a listener for application data. */
  onData(listener: (data: Uint8Array) => void): void {
    void (async () => {
      for await (const chunk of this) listener(chunk);
    })();
  }

  /** Reads until `length` bytes arrived (or the connection ended) and returns them joined. */
  async read(length: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this) {
      parts.push(chunk);
      total += chunk.length;
      if (total >= length) break;
    }
    return joinBytes(parts);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    // Each turn yields a chunk or waits for one; the bound only guards against a runaway peer.
    for (let turn = 0; turn < MAX_READ_TURNS; turn++) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (this.#done) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    throw new Error(`more than ${MAX_READ_TURNS} reads on one connection`);
  }

  /** Sends close_notify, half-closes and waits for the socket to close. */
  async close(): Promise<void> {
    this.layer.close();
    if (!this.socket.destroyed) {
      await new Promise<void>((resolve) => {
        this.socket.once('close', () => resolve());
        this.socket.end();
      });
    }
  }

  /** Tears the socket down at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

export function joinBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Opens TCP to host:port and runs our client engine over it (the handshake starts at once). */
export async function connectTls(options: ConnectTlsOptions): Promise<TlsSocketConnection> {
  const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const connection = new TlsSocketConnection(socket, options);
  connection.layer.start();
  return connection;
}

/** Runs our server engine over a socket a net.Server accepted. */
export function acceptTls(socket: Socket, options: TlsSocketOptions): TlsSocketConnection {
  const connection = new TlsSocketConnection(socket, options);
  connection.layer.start();
  return connection;
}
