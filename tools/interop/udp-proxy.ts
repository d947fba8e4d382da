/**
 * A small UDP proxy for loopback tests of NAT rebinding (the interop runner's rebind-port and
 * rebind-addr cases): clients talk to the proxy's front socket; for each client the proxy
 * forwards to the target from an upstream socket of its own, as a NAT would, so the server
 * sees the upstream socket's address. `rebind()` gives every client a new upstream socket — a
 * new source port (`port`), or also a new loopback source address (`address`: 127.0.0.2,
 * 127.0.0.3, ... on IPv4; Linux routes all of 127/8 to lo) — and closes the old one, so
 * datagrams the server still sends to the old mapping are lost, exactly like an expired NAT
 * binding. Rebinding can also run on a timer (`everyMs`) or every N client datagrams.
 *
 * The runner's `connectionmigration` case (the client moving to the server's preferred
 * address) is not what this does: we do not use preferred_address.
 *
 * CLI: node --import tsx tools/interop/udp-proxy.ts --listen 127.0.0.1:4443 \
 *        --target 127.0.0.1:4433 [--rebind port|address] [--every-ms 1000] [--every-packets N]
 */

import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

export type RebindMode = 'port' | 'address';

export interface UdpProxyOptions {
  /** Front address clients send to (port 0 picks one). */
  listen: { host: string; port: number };
  /** Where datagrams go (the server). */
  target: { host: string; port: number };
  /** What `rebind()` changes by default. */
  mode?: RebindMode;
  /** Rebind every this many ms (0/absent: only on `rebind()` calls). */
  everyMs?: number;
  /** Rebind after every this many datagrams from clients (0/absent: never). */
  everyPackets?: number;
}

interface Mapping {
  client: { address: string; port: number };
  /** Undefined while the first upstream socket is being bound (datagrams wait in `pending`). */
  upstream: dgram.Socket | undefined;
  pending: Buffer[];
}

/** Counters for tests and logs. */
export interface UdpProxyStats {
  fromClients: number;
  toClients: number;
  rebinds: number;
  /** Upstream source addresses used so far, "host:port". */
  upstreamAddresses: string[];
}

export class UdpProxy {
  readonly stats: UdpProxyStats = { fromClients: 0, toClients: 0, rebinds: 0, upstreamAddresses: [] };
  readonly #options: UdpProxyOptions;
  readonly #front: dgram.Socket;
  readonly #mappings = new Map<string, Mapping>();
  readonly #family: 'udp4' | 'udp6';
  #timer: NodeJS.Timeout | undefined;
  #nextAddress = 2;
  #closed = false;

  private constructor(options: UdpProxyOptions, front: dgram.Socket, family: 'udp4' | 'udp6') {
    this.#options = options;
    this.#front = front;
    this.#family = family;
  }

  /** Binds the front socket and starts forwarding. */
  static async start(options: UdpProxyOptions): Promise<UdpProxy> {
    const family = isIPv6(options.listen.host) ? 'udp6' : 'udp4';
    const front = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(options.listen.port, options.listen.host, () => {
        front.off('error', reject);
        resolve();
      });
    });
    const proxy = new UdpProxy(options, front, family);
    front.on('message', (msg, rinfo) => proxy.#fromClient(msg, rinfo));
    if (options.everyMs && options.everyMs > 0) {
      proxy.#timer = setInterval(() => void proxy.rebind().catch(() => {}), options.everyMs);
      proxy.#timer.unref();
    }
    return proxy;
  }

  /** The front address clients should send to. */
  get address(): { address: string; port: number } {
    const a = this.#front.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Every client gets a new upstream socket (new port; for 'address' also a new loopback
   * address) and the old one closes: the server's packets to the old mapping are dropped.
   */
  async rebind(mode: RebindMode = this.#options.mode ?? 'port'): Promise<void> {
    if (this.#closed) return;
    const host = mode === 'address' ? this.#newLoopbackAddress() : undefined;
    for (const mapping of this.#mappings.values()) {
      const old = mapping.upstream;
      if (!old) continue;
      mapping.upstream = await this.#openUpstream(mapping, host);
      old.close();
    }
    this.stats.rebinds++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const m of this.#mappings.values()) m.upstream?.close();
    this.#mappings.clear();
    this.#front.close();
  }

  #newLoopbackAddress(): string {
    // IPv6 has a single loopback address: an "address" rebind there only changes the port.
    if (this.#family === 'udp6') return '::1';
    const n = this.#nextAddress++;
    return `127.0.0.${2 + ((n - 2) % 250)}`;
  }

  #fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    this.stats.fromClients++;
    const key = `${rinfo.address}|${rinfo.port}`;
    const mapping = this.#mappings.get(key);
    if (mapping) {
      this.#forward(mapping, msg);
    } else {
      // A new client: bind its upstream socket; its datagrams wait until then.
      const created: Mapping = { client: { address: rinfo.address, port: rinfo.port }, upstream: undefined, pending: [msg] };
      this.#mappings.set(key, created);
      void this.#openUpstream(created, undefined).then((sock) => {
        created.upstream = sock;
        for (const m of created.pending) this.#forward(created, m);
        created.pending.length = 0;
      });
      return;
    }
    const every = this.#options.everyPackets ?? 0;
    if (every > 0 && this.stats.fromClients % every === 0) void this.rebind().catch(() => {});
  }

  #forward(mapping: Mapping, msg: Buffer): void {
    if (!mapping.upstream) {
      if (mapping.pending.length < 64) mapping.pending.push(msg);
      return;
    }
    mapping.upstream.send(msg, this.#options.target.port, this.#options.target.host);
  }

  async #openUpstream(mapping: Mapping, host: string | undefined): Promise<dgram.Socket> {
    const sock = dgram.createSocket(this.#family);
    const bindHost = host ?? (this.#family === 'udp6' ? '::1' : '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, bindHost, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => {}); // ICMP errors after a rebind are expected
    sock.on('message', (reply) => {
      if (this.#closed || mapping.upstream !== sock) return; // an old mapping: dropped
      this.stats.toClients++;
      this.#front.send(reply, mapping.client.port, mapping.client.address);
    });
    const a = sock.address();
    this.stats.upstreamAddresses.push(`${a.address}:${a.port}`);
    return sock;
  }
}

function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  if (i <= 0) throw new Error(`expected host:port, got ${value}`);
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}

async function main(argv: string[]): Promise<void> {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const listen = get('--listen');
  const target = get('--target');
  if (!listen || !target) {
    process.stderr.write('usage: udp-proxy --listen host:port --target host:port [--rebind port|address] [--every-ms N] [--every-packets N]\n');
    process.exit(2);
  }
  const mode = (get('--rebind') ?? 'port') as RebindMode;
  const proxy = await UdpProxy.start({
    listen: parseHostPort(listen),
    target: parseHostPort(target),
    mode,
    everyMs: Number(get('--every-ms') ?? 0),
    everyPackets: Number(get('--every-packets') ?? 0),
  });
  process.stdout.write(`udp-proxy ${proxy.address.address}:${proxy.address.port} -> ${target} (rebind ${mode})\n`);
  const stop = (): void => {
    proxy.close();
    process.stdout.write(`udp-proxy: ${JSON.stringify(proxy.stats)}\n`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main(process.argv.slice(2));
