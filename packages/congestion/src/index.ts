export {
  type AckSample,
  type CongestionController,
  type RttView,
  createAckSample,
  initialWindowFor,
  minimumWindowFor,
  windowPacingRate,
  PACING_GAIN,
} from './controller.js';
export { NewReno, type NewRenoOptions, LOSS_REDUCTION_FACTOR } from './new-reno.js';
export { Pacer, type PacerOptions } from './pacer.js';
export {
  HyStartPlusPlus,
  HyStartPhase,
  type HyStartOptions,
  HYSTART_MIN_RTT_THRESH_MS,
  HYSTART_MAX_RTT_THRESH_MS,
  HYSTART_MIN_RTT_DIVISOR,
  HYSTART_N_RTT_SAMPLE,
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
} from './hystart.js';
export { Cubic, type CubicOptions, CUBIC_C, CUBIC_BETA, CUBIC_ALPHA, cubicK, cubicWindow } from './cubic.js';
export {
  DeliveryRateEstimator,
  type DeliveryPacketState,
  type RateSample,
  createRateSample,
} from './delivery-rate.js';
export { Bbr, type BbrOptions } from './bbr/bbr.js';
export { BbrModel } from './bbr/model.js';
export { WindowedMaxFilter } from './bbr/filters.js';
export * from './bbr/constants.js';
export {
  pacingRateWithGain,
  sendQuantumFor,
  quantizationBudget,
  inflightWithHeadroom,
  modelCwndCap,
  grownCwnd,
} from './bbr/control.js';
