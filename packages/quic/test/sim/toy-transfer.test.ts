/**
 * The stream pieces composed over the simulator: a toy reliable transfer (not QUIC framing) with
 * SendBuffer + SendCredit on one side, RecvBuffer + ReceiveWindow on the other, time-based loss
 * detection, over lossy, reordering, duplicating links. It checks that the pieces fit together:
 * every byte arrives once and in order, flow control is never violated, and all data ends acked.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SimNode, SimTransmit } from '../../src/sim/node.js';
import { SimRandom } from '../../src/sim/prng.js';
import { Simulator } from '../../src/sim/simulator.js';
import { ReceiveWindow, SendCredit } from '../../src/stream/flow-control.js';
import { RecvBuffer } from '../../src/stream/recv-buffer.js';
import { SendBuffer } from '../../src/stream/send-buffer.js';

const SENDER = '10.0.0.1:1000';
const RECEIVER = '10.0.0.2:2000';
const HEADER = 1 + 4 + 4 + 2 + 1;
const MAX_PAYLOAD = 1200 - HEADER;
const LOSS_TIMEOUT_MS = 120;
const MAX_IN_FLIGHT = 24;

interface Sent {
  offset: number;
  length: number;
  fin: boolean;
  sentAt: number;
}

class ToySender implements SimNode {
  readonly buffer = new SendBuffer();
  readonly credit: SendCredit;
  private readonly inFlight = new Map<number, Sent>();
  private nextPacket = 0;
  private readonly out = new Uint8Array(1200);
  private readonly view = new DataView(this.out.buffer);

  constructor(data: Uint8Array, initialWindow: number) {
    this.credit = new SendCredit(initialWindow);
    // Write in uneven pieces, like an application would.
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = Math.min(data.length - at, 1000 + ((i * 7919) % 9000));
      this.buffer.write(data.subarray(at, at + n));
      at += n;
    }
    this.buffer.finish();
  }

  handleDatagram(data: Uint8Array): void {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const pn = v.getUint32(1);
    this.credit.onMaxUpdate(v.getUint32(5));
    const sent = this.inFlight.get(pn);
    if (sent === undefined) return;
    this.inFlight.delete(pn);
    this.buffer.onAcked(sent.offset, sent.length, sent.fin);
  }

  pollTransmit(now: number): SimTransmit | undefined {
    if (this.inFlight.size >= MAX_IN_FLIGHT) return undefined;
    const c = this.buffer.nextChunk(MAX_PAYLOAD, this.credit.available);
    if (c === undefined) return undefined;
    if (!c.retransmit) this.credit.consume(c.length);
    const pn = this.nextPacket++;
    const v = this.view;
    v.setUint8(0, 0);
    v.setUint32(1, pn);
    v.setUint32(5, c.offset);
    v.setUint16(9, c.length);
    v.setUint8(11, c.fin ? 1 : 0);
    this.buffer.copyTo(c.offset, c.length, this.out, HEADER);
    this.inFlight.set(pn, { offset: c.offset, length: c.length, fin: c.fin, sentAt: now });
    return { to: RECEIVER, data: this.out.subarray(0, HEADER + c.length) };
  }

  nextTimeout(): number | undefined {
    let earliest: number | undefined;
    for (const s of this.inFlight.values()) {
      const t = s.sentAt + LOSS_TIMEOUT_MS;
      if (earliest === undefined || t < earliest) earliest = t;
    }
    return earliest;
  }

  handleTimeout(now: number): void {
    for (const [pn, s] of this.inFlight) {
      if (s.sentAt + LOSS_TIMEOUT_MS > now) continue;
      this.inFlight.delete(pn);
      this.buffer.onLost(s.offset, s.length, s.fin);
    }
  }
}

class ToyReceiver implements SimNode {
  readonly buffer = new RecvBuffer();
  readonly window: ReceiveWindow;
  readonly chunks: Uint8Array[] = [];
  private readonly acks: SimTransmit[] = [];

  constructor(initialWindow: number, maxWindow: number) {
    this.window = new ReceiveWindow({ initialWindow, maxWindow });
  }

  handleDatagram(data: Uint8Array, from: string, now: number): void {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const pn = v.getUint32(1);
    const offset = v.getUint32(5);
    const length = v.getUint16(9);
    const fin = v.getUint8(11) === 1;
    // Flow control first (throws FLOW_CONTROL_ERROR on a violation), then reassembly.
    this.window.onReceived(offset + length);
    this.buffer.insert(offset, data.subarray(HEADER, HEADER + length), fin);
    for (let chunk = this.buffer.read(); chunk !== undefined; chunk = this.buffer.read()) {
      this.chunks.push(chunk);
      this.window.onConsumed(chunk.length, now, 40);
    }
    const limit = this.window.updatePending ? this.window.takeUpdate() : this.window.limit;
    const ack = new Uint8Array(9);
    const av = new DataView(ack.buffer);
    av.setUint8(0, 1);
    av.setUint32(1, pn);
    av.setUint32(5, limit);
    this.acks.push({ to: from, data: ack });
  }

  pollTransmit(): SimTransmit | undefined {
    return this.acks.shift();
  }

  nextTimeout(): number | undefined {
    return undefined;
  }

  handleTimeout(): void {}
}

function transfer(seed: number, size: number) {
  const source = new SimRandom(seed).bytes(size);
  const sim = new Simulator({ seed });
  const sender = new ToySender(source, 16_384);
  const receiver = new ToyReceiver(16_384, 262_144);
  sim.addNode(SENDER, sender);
  sim.addNode(RECEIVER, receiver);
  sim.connect(SENDER, RECEIVER, {
    delayMs: 20,
    jitterMs: 3,
    lossRate: 0.05,
    reorderRate: 0.03,
    duplicateRate: 0.02,
    bandwidthBps: 50_000_000,
    bufferBytes: 60_000,
  });
  const result = sim.runUntil(() => sender.buffer.isAllAcked() && receiver.buffer.isAllRead(), { maxTime: 120_000, maxEvents: 2_000_000 });
  return { result, source, sender, receiver, sim };
}

test('toy transfer of 1 MB over a lossy link: exact bytes, all acked, window grew', () => {
  const { result, source, sender, receiver, sim } = transfer(31, 1_000_000);
  assert.ok(result.satisfied, `finished (${result.reason} at ${result.now} ms)`);
  const received = new Uint8Array(source.length);
  let at = 0;
  for (const c of receiver.chunks) {
    received.set(c, at);
    at += c.length;
  }
  assert.is(at, source.length);
  assert.equal(received, source);
  assert.is(sender.buffer.bufferedBytes, 0);
  assert.is(sender.credit.used, source.length, 'flow control charged each byte once');
  assert.ok((sim.link(SENDER, RECEIVER)?.stats.droppedByLoss ?? 0) > 0, 'some datagrams were lost');
  assert.ok(receiver.window.window > 16_384, `window auto-tuned to ${receiver.window.window}`);
});

test('toy transfer is deterministic for a seed', () => {
  const a = transfer(5, 200_000);
  const b = transfer(5, 200_000);
  assert.ok(a.result.satisfied);
  assert.equal(a.result, b.result);
});

test.run();
