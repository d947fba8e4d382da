/**
 * TEST-ONLY plumbing for the TLS-over-TCP tests: time bounds, a seeded PRNG, node:tls servers
 * and clients on 127.0.0.1 with random ports, and a net.Server that runs our server engine.
 * Everything opened here is tracked so `closeAll()` can release it even when a test fails.
 */

import { createServer, type Server, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { acceptTls, type TlsSocketConnection, type TlsSocketOptions } from './tls-socket.js';

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles to the rejection reason, or fails if `promise` resolves. */
export async function rejectionOf(promise: Promise<unknown>, ms: number, what: string): Promise<Error> {
  try {
    await withTimeout(promise, ms, what);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${what} to fail, it succeeded`);
}

/** Polls `condition` every 25 ms, at most 200 times. */
export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A deterministic byte source (splitmix32) for the engines' `random` option. */
export function seededRandom(seed: number): (length: number) => Uint8Array {
  let state = seed >>> 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      out[i] = (z ^ (z >>> 16)) & 0xff;
    }
    return out;
  };
}

const sockets = new Set<Socket>();
/** TCP sockets a node:tls server accepted that no TLSSocket has claimed (yet). */
const rawSockets = new Set<Socket>();
const servers: Server[] = [];

/**
 * Releases every server and socket opened through this module (call in `test.after.each`):
 * TLS and plain sockets first, then raw sockets no TLSSocket owns, then the servers.
 *
 * Never destroy the raw TCP socket under a live server-side TLSSocket: on Node 20.20 destroying
 * both corrupts the native heap (glibc "malloc_consolidate(): invalid chunk size", then SIGSEGV
 * later in the process). Hence the hand-over in `adoptTlsSocket`.
 */
export async function closeAll(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const socket of rawSockets) if (!socket.destroyed) socket.destroy();
  rawSockets.clear();
  const closing = servers.splice(0);
  await Promise.all(closing.map((server) => closeServer(server)));
}

function trackSocket(socket: Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}

/** A server-side TLSSocket now owns its TCP socket (`_parent`): track it instead of the raw one. */
function adoptTlsSocket(socket: tls.TLSSocket): void {
  const parent = (socket as unknown as { _parent?: Socket | null })._parent;
  if (parent) rawSockets.delete(parent);
  trackSocket(socket);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A node:tls (OpenSSL) server whose connections are collected. */
export interface NodeTlsServer {
  server: tls.Server;
  port: number;
  /** Resolves with the next secure connection (in arrival order). */
  nextConnection(): Promise<tls.TLSSocket>;
  /** Handshake failures the server saw (`tlsClientError`). */
  clientErrors: Error[];
  /** `keylog` lines OpenSSL produced, as text. */
  keyLogLines: string[];
}

/** Starts `tls.createServer(options)` on 127.0.0.1 with TLS 1.3 only. */
export async function startNodeTlsServer(options: tls.TlsOptions): Promise<NodeTlsServer> {
  const server = tls.createServer({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ...options });
  const queue: tls.TLSSocket[] = [];
  const waiters: ((socket: tls.TLSSocket) => void)[] = [];
  const clientErrors: Error[] = [];
  const keyLogLines: string[] = [];
  server.on('secureConnection', (socket) => {
    adoptTlsSocket(socket);
    socket.on('error', () => undefined);
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else queue.push(socket);
  });
  server.on('tlsClientError', (error, socket) => {
    clientErrors.push(error);
    adoptTlsSocket(socket);
    socket.destroy();
  });
  server.on('keylog', (line: Buffer) => keyLogLines.push(line.toString('latin1')));
  server.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  const port = await listen(server);
  servers.push(server);
  return {
    server,
    port,
    clientErrors,
    keyLogLines,
    nextConnection: () =>
      new Promise((resolve) => {
        const socket = queue.shift();
        if (socket) resolve(socket);
        else waiters.push(resolve);
      }),
  };
}

/** A node:tls client connection; `secure` settles with the handshake outcome. */
export interface NodeTlsClient {
  socket: tls.TLSSocket;
  secure: Promise<void>;
  /** Everything the server sent, as it arrives. */
  received: Uint8Array[];
}

/** `tls.connect` to 127.0.0.1:port with TLS 1.3 only. */
export function connectNodeTls(port: number, options: tls.ConnectionOptions): NodeTlsClient {
  const socket = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ...options });
  trackSocket(socket);
  const received: Uint8Array[] = [];
  socket.on('data', (data: Buffer) => received.push(new Uint8Array(data)));
  const secure = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before secureConnect')));
  });
  secure.catch(() => undefined);
  return { socket, secure, received };
}

/** A plain TCP server that runs our server engine on each accepted socket. */
export interface OurTlsServer {
  port: number;
  /** Resolves with the next accepted connection (handshake started). */
  nextConnection(): Promise<TlsSocketConnection>;
}

/** Starts a net.Server whose connections run `makeOptions()` (a fresh engine per connection). */
export async function startOurTlsServer(makeOptions: () => TlsSocketOptions): Promise<OurTlsServer> {
  const queue: TlsSocketConnection[] = [];
  const waiters: ((connection: TlsSocketConnection) => void)[] = [];
  const server = createServer((socket) => {
    trackSocket(socket);
    const connection = acceptTls(socket, makeOptions());
    const waiter = waiters.shift();
    if (waiter) waiter(connection);
    else queue.push(connection);
  });
  const port = await listen(server);
  servers.push(server);
  return {
    port,
    nextConnection: () =>
      new Promise((resolve) => {
        const connection = queue.shift();
        if (connection) resolve(connection);
        else waiters.push(resolve);
      }),
  };
}

/** Resolves with the first `data` chunks totalling `length` bytes from a node socket. */
export function readNode(socket: tls.TLSSocket, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let total = 0;
    const onData = (data: Buffer): void => {
      parts.push(data);
      total += data.length;
      if (total >= length) {
        socket.off('data', onData);
        resolve(new Uint8Array(Buffer.concat(parts)));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error(`ended after ${total} of ${length} bytes`)));
  });
}

/** Echoes everything a node socket receives back to it. */
export function echoNode(socket: tls.TLSSocket): void {
  socket.on('data', (data: Buffer) => socket.write(data));
}

/** Echoes everything our connection receives back to it. */
export function echoOurs(connection: TlsSocketConnection): void {
  connection.onData((data) => {
    if (!connection.layer.closed) connection.write(data);
  });
}
