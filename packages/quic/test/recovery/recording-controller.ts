/**
 * A real NewReno (from @purequic/congestion) with a log of the calls loss recovery made, so
 * tests can assert both the controller's window and the order and arguments of the calls.
 * Also checks, at compile time, that the congestion package's controller fits
 * `CongestionHooks`.
 */

import { NewReno, type AckSample as CongestionAckSample } from '../../../congestion/src/index.js';
import type { AckSample, CongestionHooks } from '../../src/recovery/congestion-hooks.js';

export type ControllerCall =
  | { kind: 'sent'; now: number; bytes: number; packetNumber: number; bytesInFlight: number }
  | { kind: 'acked'; now: number; bytes: number; timeSent: number; appLimited: boolean }
  | { kind: 'ackedAll'; sample: AckSample }
  | { kind: 'lost'; now: number; lostBytes: number; largestLostSentTime: number }
  | { kind: 'persistent'; now: number }
  | { kind: 'ecn'; now: number; sentTime: number }
  | { kind: 'appLimited'; now: number; bytesInFlight: number }
  | { kind: 'spurious'; now: number; bytes: number; largestSentTime: number }
  | { kind: 'lostDetail'; bytes: number; txInFlight: number; lostSinceSent: number; appLimited: boolean };

// Compile-time check: the congestion package's sample and ours are the same shape both ways.
const sampleCompat = (s: AckSample): CongestionAckSample => s;
const sampleCompatBack = (s: CongestionAckSample): AckSample => s;
void sampleCompat;
void sampleCompatBack;

export class RecordingController implements CongestionHooks {
  readonly reno: NewReno;
  readonly calls: ControllerCall[] = [];

  constructor(maxDatagramSize = 1200) {
    this.reno = new NewReno({ maxDatagramSize });
  }

  get congestionWindow(): number {
    return this.reno.congestionWindow;
  }

  /** Calls of one kind since the log was last cleared. */
  of<K extends ControllerCall['kind']>(kind: K): Extract<ControllerCall, { kind: K }>[] {
    return this.calls.filter((c): c is Extract<ControllerCall, { kind: K }> => c.kind === kind);
  }

  clear(): void {
    this.calls.length = 0;
  }

  onPacketSent(now: number, bytes: number, packetNumber: number, isRetransmittable: boolean, bytesInFlight: number): void {
    this.calls.push({ kind: 'sent', now, bytes, packetNumber, bytesInFlight });
    this.reno.onPacketSent(now, bytes, packetNumber, isRetransmittable, bytesInFlight);
  }

  onPacketAcked(now: number, bytes: number, timeSent: number, appLimited: boolean): void {
    this.calls.push({ kind: 'acked', now, bytes, timeSent, appLimited });
    this.reno.onPacketAcked(now, bytes, timeSent, appLimited);
  }

  onPacketsAcked(sample: AckSample): void {
    // The sample object is reused by recovery: keep a copy.
    this.calls.push({ kind: 'ackedAll', sample: { ...sample } });
    this.reno.onPacketsAcked(sample);
  }

  onPacketsLost(now: number, lostBytes: number, largestLostSentTime: number): void {
    this.calls.push({ kind: 'lost', now, lostBytes, largestLostSentTime });
    this.reno.onPacketsLost(now, lostBytes, largestLostSentTime);
  }

  onPersistentCongestion(now: number): void {
    this.calls.push({ kind: 'persistent', now });
    this.reno.onPersistentCongestion(now);
  }

  onEcnCongestionEvent(now: number, sentTimeOfLargestAcked: number): void {
    this.calls.push({ kind: 'ecn', now, sentTime: sentTimeOfLargestAcked });
    this.reno.onEcnCongestionEvent(now, sentTimeOfLargestAcked);
  }

  onPacketLostDetail(_now: number, bytes: number, txInFlight: number, lostSinceSent: number, appLimited: boolean): void {
    this.calls.push({ kind: 'lostDetail', bytes, txInFlight, lostSinceSent, appLimited });
  }

  onSpuriousLoss(now: number, bytes: number, largestSentTime: number): void {
    this.calls.push({ kind: 'spurious', now, bytes, largestSentTime });
  }

  onAppLimited(now: number, bytesInFlight: number): void {
    this.calls.push({ kind: 'appLimited', now, bytesInFlight });
    this.reno.onAppLimited(now, bytesInFlight);
  }
}

/** Compile-time check: NewReno itself is usable as the hooks. */
export const newRenoFitsHooks: (r: NewReno) => CongestionHooks = (r) => r;
