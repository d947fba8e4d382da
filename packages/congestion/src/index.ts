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
