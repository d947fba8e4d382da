/**
 * What loss recovery calls on a congestion controller: the event half of `CongestionController`
 * from @purequic/congestion (the queries — window, pacing rate — are the connection's to ask).
 * Recovery owns bytes in flight; a controller only hears about sends, acknowledgments, losses and
 * congestion signals, so it can never release a packet's bytes twice.
 */

import type { CongestionController } from '@purequic/congestion';

export type { AckSample, RttView as RttSnapshot } from '@purequic/congestion';

export type CongestionHooks = Pick<
  CongestionController,
  | 'onPacketSent'
  | 'onPacketAcked'
  | 'onPacketsAcked'
  | 'onPacketsLost'
  | 'onPacketLostDetail'
  | 'onPersistentCongestion'
  | 'onEcnCongestionEvent'
  | 'onAppLimited'
  | 'onSpuriousLoss'
>;
