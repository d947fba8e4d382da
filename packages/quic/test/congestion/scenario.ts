/**
 * Congestion scenarios with real QUIC connections on the deterministic simulator: one or more
 * client/server pairs whose downloads (server -> client) share ONE bottleneck link (see
 * bottleneck.ts), with every flow's congestion window, bytes in flight, goodput and the
 * bottleneck's queue sampled every `sampleEveryMs` of virtual time.
 *
 * Topology for flow i:  server_i -> router (shared bottleneck: bandwidth, drop-tail buffer,
 * random loss, one-way delay) -> client_i;  client_i -> server_i directly (the ACK path:
 * the same one-way delay, no bandwidth limit). Used by the tests in this directory and by
 * `pnpm netsim` (tools/netsim).
 */

import type { Connection } from '../../src/connection/connection.js';
import type { ConnectionEvent, TransportSettings } from '../../src/connection/types.js';
import { Connection as QuicConnection } from '../../src/connection/connection.js';
import { parseInvariantHeader } from '../../src/packet/invariants.js';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';
import { seededProvider, TEST_CERT_DER, TEST_CERT_PEM, TEST_KEY_PEM, WALL_CLOCK } from '../connection/harness.js';
import { BottleneckRouter } from './bottleneck.js';
import { jainIndex, mean, quantile } from './metrics.js';

export type ControllerName = TransportSettings['congestionControl'];

export interface BottleneckConfig {
  /** Bottleneck rate, bits per second. */
  bandwidthBps: number;
  /** Minimum round-trip time (propagation only), ms; half of it each way. */
  rttMs: number;
  /** Drop-tail buffer, bytes. */
  bufferBytes: number;
  /** Independent random loss per datagram on the bottleneck (before the queue). */
  lossRate?: number;
}

export interface FlowConfig {
  controller: ControllerName;
  /** Bytes the server sends to the client on one stream. */
  bytes: number;
  /** Virtual time (ms) the client connects (default 0). */
  startMs?: number;
}

export interface ScenarioConfig {
  name: string;
  seed: number;
  bottleneck: BottleneckConfig;
  flows: FlowConfig[];
  /** Sampling period of the time series, virtual ms (default 50). */
  sampleEveryMs?: number;
  /** Give up after this much virtual time (default: 4x the ideal time of all bytes, plus 10 s). */
  maxTimeMs?: number;
  /**
   * Start of the window over which fairness is measured, ms after the last flow started
   * (default 5,000): the flows must have converged by then.
   */
  convergenceMs?: number;
  /** Check the recovery invariants after every event (slow; default false). */
  checkInvariants?: boolean;
}

/** One sample of one flow. */
export interface FlowSample {
  time: number;
  cwnd: number;
  bytesInFlight: number;
  /** Bytes the client application read since the previous sample, per second of the period (bit/s). */
  goodputBps: number;
  smoothedRttMs: number;
}

export interface FlowResult {
  controller: ControllerName;
  /** Time the client connected, and the time its last byte was read (NaN if it never was). */
  startMs: number;
  endMs: number;
  /** Bytes the client application read. */
  receivedBytes: number;
  complete: boolean;
  /** Bytes the server declared lost (and so retransmitted), from its congestion controller's view. */
  lostBytes: number;
  lostPackets: number;
  /** Goodput over the whole transfer (handshake included), bit/s. */
  goodputBps: number;
  samples: FlowSample[];
}

export interface ScenarioResult {
  name: string;
  config: ScenarioConfig;
  flows: FlowResult[];
  /** Bottleneck queue occupancy expressed as delay, sampled with the flows (ms). */
  queueSamples: { time: number; delayMs: number }[];
  /** Time the first flow started and the last flow finished (or the run stopped). */
  startMs: number;
  endMs: number;
  /** Fraction of the bottleneck's capacity used between `startMs` and `endMs` (wire bytes). */
  utilisation: number;
  /** Application bytes of all flows per second over [startMs, endMs], bit/s. */
  goodputBps: number;
  /** Queueing delay of the datagrams the bottleneck accepted over the run: mean and p95 (ms). */
  meanQueueDelayMs: number;
  p95QueueDelayMs: number;
  /** Datagrams dropped by the full buffer and by random loss. */
  droppedByQueue: number;
  droppedByLoss: number;
  /**
   * Jain's index of the flows' goodput over [fairnessFromMs, fairnessToMs]: from `convergenceMs`
   * after the last flow started to the first flow's completion. 1 for a single flow.
   */
  fairness: number;
  fairnessFromMs: number;
  fairnessToMs: number;
  /** Virtual ms simulated and simulator events processed. */
  virtualMs: number;
  events: number;
}

/** One connection endpoint as a simulator node, sending everything to `sendTo`. */
class EndpointNode implements SimNode {
  conn: Connection | undefined;
  readonly buffer = new Uint8Array(2048);
  onEvent: (event: ConnectionEvent, conn: Connection) => void = () => {};
  checkInvariants = false;

  /**
   * `sendTo`: where datagrams go (the router for a server); `peerAddress`: the address reported
   * to the connection as the datagram's source (the router is invisible to it).
   */
  constructor(
    readonly sendTo: string,
    readonly peerAddress: string,
    readonly create?: (datagram: Uint8Array, now: number) => Connection | undefined,
  ) {}

  handleDatagram(data: Uint8Array, _from: string, now: number): void {
    if (this.conn === undefined && this.create !== undefined) this.conn = this.create(data, now);
    this.conn?.handleDatagram(data, { address: this.peerAddress, port: 443 }, now);
    this.drain();
  }

  pollTransmit(now: number): SimTransmit | undefined {
    const conn = this.conn;
    if (conn === undefined) return undefined;
    const t = conn.pollTransmit(now, this.buffer);
    if (this.checkInvariants) conn.recovery.assertInvariants();
    return t ? { to: this.sendTo, data: this.buffer.subarray(0, t.length) } : undefined;
  }

  nextTimeout(): number | undefined {
    return this.conn?.nextTimeout();
  }

  handleTimeout(now: number): void {
    this.conn?.handleTimeout(now);
    this.drain();
  }

  private drain(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    if (this.checkInvariants) conn.recovery.assertInvariants();
    // Bounded by the events the connection queued.
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) this.onEvent(e, conn);
  }
}

/** A node with only a timer: calls `tick` every `period` ms of virtual time, from `start`. */
class Ticker implements SimNode {
  private next: number;
  constructor(
    start: number,
    private readonly period: number,
    private readonly tick: (now: number) => void,
  ) {
    this.next = start;
  }
  handleDatagram(): void {}
  pollTransmit(): SimTransmit | undefined {
    return undefined;
  }
  nextTimeout(): number | undefined {
    return this.next;
  }
  handleTimeout(now: number): void {
    this.tick(now);
    this.next = now + this.period;
  }
}

/** Everything the run keeps per flow. */
interface FlowState {
  config: FlowConfig;
  client: EndpointNode;
  server: EndpointNode;
  received: number;
  receivedAtLastSample: number;
  endMs: number;
  lostBytes: number;
  lostPackets: number;
  samples: FlowSample[];
  /** Bytes read by the client, sampled with `samples` (for windowed goodput). */
  receivedAt: number[];
}

/** A stream body that is never read by the sender: all flows send views of one zeroed buffer. */
let sharedBody = new Uint8Array(0);
function body(bytes: number): Uint8Array {
  if (sharedBody.length < bytes) sharedBody = new Uint8Array(bytes);
  return sharedBody.subarray(0, bytes);
}

/** Server side: answers the client's first stream with `bytes` bytes and FIN, as flow control allows. */
function serveDownload(server: EndpointNode, bytes: number): void {
  const data = body(bytes);
  let streamId = -1;
  let offset = 0;
  const pump = (conn: Connection): void => {
    if (streamId < 0 || offset > data.length) return;
    offset += conn.writeStream(streamId, data.subarray(offset), true);
    if (offset === data.length) offset = data.length + 1; // FIN queued
  };
  server.onEvent = (e, conn) => {
    if (e.type === 'stream-opened' && streamId < 0) {
      streamId = e.streamId;
      pump(conn);
    } else if (e.type === 'stream-writable' && e.streamId === streamId) pump(conn);
    else if (e.type === 'stream-readable') {
      // Bounded by the bytes buffered: the request's bytes are discarded.
      for (let r = conn.readStream(e.streamId); r !== undefined && !r.fin; r = conn.readStream(e.streamId)) {}
    }
  };
}

/** Counts a connection controller's lost bytes without changing what it does. */
function countLosses(conn: Connection, flow: FlowState): void {
  const cc = conn.congestion;
  const onPacketsLost = cc.onPacketsLost.bind(cc);
  cc.onPacketsLost = (now: number, lostBytes: number, largestLostSentTime: number): void => {
    flow.lostBytes += lostBytes;
    onPacketsLost(now, lostBytes, largestLostSentTime);
  };
}

/** Builds the network and connections of `config`, runs it to completion, and measures it. */
export function runScenario(config: ScenarioConfig): ScenarioResult {
  const { bottleneck, seed } = config;
  const sampleEvery = config.sampleEveryMs ?? 50;
  const oneWay = bottleneck.rttMs / 2;
  const sim = new Simulator({ seed });
  const linkRandom = new SimRandom(seed ^ 0x0b0771e);
  const router = new BottleneckRouter(
    'router',
    { delayMs: oneWay, bandwidthBps: bottleneck.bandwidthBps, bufferBytes: bottleneck.bufferBytes, lossRate: bottleneck.lossRate ?? 0 },
    linkRandom,
  );
  sim.addNode('router', router);

  const flows: FlowState[] = [];
  config.flows.forEach((flowConfig, i) => {
    const clientAddress = `client${i}`;
    const serverAddress = `server${i}`;
    const random = new SimRandom((seed * 31 + i) ^ 0x5eed);
    const crypto = seededProvider(random);
    const rand = (n: number): Uint8Array => random.bytes(n);
    const key = crypto.importSigningKey(TEST_KEY_PEM);
    const transport: Partial<TransportSettings> = { congestionControl: flowConfig.controller, maxIdleTimeoutMs: 0 };
    const flow: FlowState = {
      config: flowConfig,
      client: new EndpointNode(serverAddress, serverAddress),
      server: undefined as unknown as EndpointNode,
      received: 0,
      receivedAtLastSample: 0,
      endMs: Number.NaN,
      lostBytes: 0,
      lostPackets: 0,
      samples: [],
      receivedAt: [],
    };
    flow.server = new EndpointNode('router', clientAddress, (datagram, now) => {
      let header;
      try {
        header = parseInvariantHeader(datagram, 8);
      } catch {
        return undefined;
      }
      if (!header.isLong) return undefined;
      const conn = QuicConnection.accept({
        crypto,
        random: rand,
        wallClock: () => WALL_CLOCK,
        alpnProtocols: ['netsim'],
        transport,
        certificateChain: [TEST_CERT_DER],
        key,
        remote: { address: clientAddress, port: 443 },
        now,
        originalDcid: header.dcid,
        clientScid: header.scid,
        version: header.version,
      });
      countLosses(conn, flow);
      return conn;
    });
    serveDownload(flow.server, flowConfig.bytes);
    flow.client.checkInvariants = config.checkInvariants === true;
    flow.server.checkInvariants = config.checkInvariants === true;

    const startMs = flowConfig.startMs ?? 0;
    const connect = (now: number): void => {
      const conn = QuicConnection.connect({
        crypto,
        random: rand,
        wallClock: () => WALL_CLOCK,
        alpnProtocols: ['netsim'],
        transport,
        serverName: 'localhost',
        verification: { mode: 'chain', trustAnchors: [TEST_CERT_PEM] },
        remote: { address: serverAddress, port: 443 },
        now,
      });
      flow.client.conn = conn;
    };
    let streamId = -1;
    flow.client.onEvent = (e, conn) => {
      if (e.type === 'handshake-complete' && streamId < 0) {
        const id = conn.openStream('bidi');
        if (id === undefined) throw new Error('could not open a stream');
        streamId = id;
        conn.writeStream(id, new TextEncoder().encode('GET /\r\n'), true);
      } else if (e.type === 'stream-readable' && e.streamId === streamId) {
        // Bounded by the bytes buffered.
        for (let r = conn.readStream(streamId); r !== undefined; r = conn.readStream(streamId)) {
          flow.received += r.data.length;
          if (r.fin) {
            flow.endMs = sim.now;
            break;
          }
        }
      }
    };
    if (startMs <= 0) connect(0);
    else {
      // A one-shot timer node that opens the connection at its start time.
      let pending = true;
      sim.addNode(`starter${i}`, {
        handleDatagram() {},
        pollTransmit: () => undefined,
        nextTimeout: () => (pending ? startMs : undefined),
        handleTimeout(now) {
          pending = false;
          connect(now);
        },
      });
    }
    sim.addNode(clientAddress, flow.client);
    sim.addNode(serverAddress, flow.server);
    // ACK path: client -> server directly, the same one-way delay, no bandwidth limit.
    sim.addLink(clientAddress, serverAddress, { delayMs: oneWay });
    // Data path: server -> router (the shared bottleneck carries the delay) -> client.
    sim.addLink(serverAddress, 'router', { delayMs: 0 });
    sim.addLink('router', clientAddress, { delayMs: 0 });
    router.addRoute(serverAddress, clientAddress);
    flows.push(flow);
  });

  const queueSamples: { time: number; delayMs: number }[] = [];
  sim.addNode(
    'sampler',
    new Ticker(0, sampleEvery, (now) => {
      queueSamples.push({ time: now, delayMs: router.queueDelayAt(now) });
      for (const flow of flows) {
        const server = flow.server.conn;
        const delta = flow.received - flow.receivedAtLastSample;
        flow.receivedAtLastSample = flow.received;
        flow.receivedAt.push(flow.received);
        flow.samples.push({
          time: now,
          cwnd: server?.congestion.congestionWindow ?? 0,
          bytesInFlight: server?.recovery.bytesInFlight ?? 0,
          goodputBps: (delta * 8000) / sampleEvery,
          smoothedRttMs: server?.recovery.rtt.smoothedRtt ?? 0,
        });
      }
    }),
  );

  const totalBytes = config.flows.reduce((s, f) => s + f.bytes, 0);
  const lastStart = Math.max(...config.flows.map((f) => f.startMs ?? 0));
  const idealMs = (totalBytes * 8000) / bottleneck.bandwidthBps;
  const maxTime = config.maxTimeMs ?? lastStart + 4 * idealMs + 10_000;
  const allDone = (): boolean => flows.every((f) => !Number.isNaN(f.endMs));
  // Events: every datagram and timer; a generous bound of ~20 per full-size datagram.
  const maxEvents = 20 * Math.ceil(totalBytes / 1000) + 100_000;
  const run = sim.runUntil(allDone, { maxTime, maxEvents });

  for (const flow of flows) flow.lostPackets = flow.server.conn?.stats.packetsLost ?? 0;
  const startMs = Math.min(...config.flows.map((f) => f.startMs ?? 0));
  const endMs = run.now;
  const duration = Math.max(1, endMs - startMs);
  const linkStats = router.link.stats;
  const capacityBytes = (bottleneck.bandwidthBps / 8000) * duration;
  const delays = router.queueDelays.map((s) => s.delayMs);
  const received = flows.reduce((s, f) => s + f.received, 0);

  // Fairness window: from convergence after the last start to the first completion.
  const fairnessFrom = lastStart + (config.convergenceMs ?? 5_000);
  const firstEnd = Math.min(...flows.map((f) => (Number.isNaN(f.endMs) ? endMs : f.endMs)));
  const shares = flows.map((f) => bytesBetween(f, fairnessFrom, firstEnd));

  return {
    name: config.name,
    config,
    flows: flows.map((f) => ({
      controller: f.config.controller,
      startMs: f.config.startMs ?? 0,
      endMs: f.endMs,
      receivedBytes: f.received,
      complete: f.received === f.config.bytes && !Number.isNaN(f.endMs),
      lostBytes: f.lostBytes,
      lostPackets: f.lostPackets,
      goodputBps: (f.received * 8000) / Math.max(1, (Number.isNaN(f.endMs) ? endMs : f.endMs) - (f.config.startMs ?? 0)),
      samples: f.samples,
    })),
    queueSamples,
    startMs,
    endMs,
    // Bytes the link finished serializing: everything accepted, less what is still queued.
    utilisation: (router.acceptedBytes - router.link.queuedBytes(endMs)) / capacityBytes,
    goodputBps: (received * 8000) / duration,
    meanQueueDelayMs: mean(delays),
    p95QueueDelayMs: quantile(delays, 0.95),
    droppedByQueue: linkStats.droppedByQueue,
    droppedByLoss: linkStats.droppedByLoss,
    fairness: flows.length > 1 && firstEnd > fairnessFrom ? jainIndex(shares) : flows.length > 1 ? Number.NaN : 1,
    fairnessFromMs: fairnessFrom,
    fairnessToMs: firstEnd,
    virtualMs: run.now,
    events: run.events,
  };
}

/** Bytes the flow's client read between two times, from the samples (interpolated at sample points). */
function bytesBetween(flow: FlowState, from: number, to: number): number {
  return receivedBy(flow, to) - receivedBy(flow, from);
}

function receivedBy(flow: FlowState, time: number): number {
  let value = 0;
  for (let i = 0; i < flow.samples.length; i++) {
    if ((flow.samples[i] as FlowSample).time > time) break;
    value = flow.receivedAt[i] as number;
  }
  return value;
}
