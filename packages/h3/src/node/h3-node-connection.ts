/**
 * Glue between a `QuicConnection` of the node:dgram endpoint and the sans-IO `H3Connection`: it
 * takes the QUIC connection's events, feeds them to HTTP/3, hands the HTTP/3 events to a
 * listener, and keeps one timer for HTTP/3's own deadlines. Client and server both use it.
 */

import type { ConnectionEvent, ProtocolHost, QuicConnection } from '@purequic/quic';
import { H3Connection, type H3ConnectionOptions, type H3Event } from '../connection.js';
import type { BodyHost } from './body.js';

/**
 * An extension of HTTP/3 (WebTransport): the settings and stream types it adds, and a handler
 * per connection for the events of the streams it claims.
 */
export interface H3Extension {
  settings?: Iterable<[number, number]>;
  streamTypes?: { uni?: Iterable<number>; bidi?: Iterable<number> };
  /** Extended CONNECT `:protocol` values it serves (server) or uses (client). */
  protocols?: Iterable<string>;
  /** Called once per HTTP/3 connection, before any event. */
  attach(connection: H3NodeConnection): H3ExtensionHandler;
}

export interface H3ExtensionHandler {
  /** Every HTTP/3 event of the connection comes here first; return true when it was the extension's. */
  onEvent(event: H3Event): boolean;
}

export class H3NodeConnection implements BodyHost {
  readonly h3: H3Connection;
  readonly quic: QuicConnection;
  readonly #host: ProtocolHost;
  #listener: (event: H3Event) => void = () => {};
  readonly #extensions: H3ExtensionHandler[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(quic: QuicConnection, options: Omit<H3ConnectionOptions, 'random'> & { random?: H3ConnectionOptions['random'] }, extensions: readonly H3Extension[] = []) {
    this.quic = quic;
    this.#host = quic.takeEvents((event) => this.#onQuicEvent(event));
    const settings: [number, number][] = [...(options.extraSettings ?? [])];
    const uni: number[] = [...(options.extensionStreamTypes?.uni ?? [])];
    const bidi: number[] = [...(options.extensionStreamTypes?.bidi ?? [])];
    for (const x of extensions) {
      settings.push(...(x.settings ?? []));
      uni.push(...(x.streamTypes?.uni ?? []));
      bidi.push(...(x.streamTypes?.bidi ?? []));
    }
    this.h3 = new H3Connection(this.#host.connection, {
      ...options,
      random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
      extraSettings: settings,
      extensionStreamTypes: { uni, bidi },
    });
    for (const x of extensions) this.#extensions.push(x.attach(this));
  }

  /** Where HTTP/3 events go (after the extensions had their look). */
  setListener(listener: (event: H3Event) => void): void {
    this.#listener = listener;
  }

  now(): number {
    return this.#host.now();
  }

  /** Have the endpoint send what HTTP/3 queued, and re-arm HTTP/3's timer. */
  flush(): void {
    this.#host.flush();
    this.#armTimer();
  }

  #onQuicEvent(event: ConnectionEvent): void {
    this.h3.handleQuicEvent(event, this.#host.now());
    this.#drain();
  }

  #drain(): void {
    // Bounded: the H3 layer queues a finite number of events per QUIC event.
    for (let e = this.h3.pollEvent(); e !== undefined; e = this.h3.pollEvent()) {
      let taken = false;
      for (const x of this.#extensions) {
        if (x.onEvent(e)) {
          taken = true;
          break;
        }
      }
      if (!taken) this.#listener(e);
      if (e.type === 'closed') this.#clearTimer();
    }
    this.flush();
  }

  /** Application calls that may raise events (reads, cancels) drain them here. */
  pump(): void {
    this.#drain();
  }

  #armTimer(): void {
    const at = this.h3.isClosed ? undefined : this.h3.nextTimeout();
    if (at === undefined) {
      this.#clearTimer();
      return;
    }
    if (this.#timer && at >= this.#timerAt) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.h3.handleTimeout(this.#host.now());
      this.#drain();
    }, Math.max(0, at - this.#host.now()));
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
