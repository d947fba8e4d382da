/**
 * BBR constants and state names (draft-ietf-ccwg-bbr, "Terminology" and "Summary of Control
 * Behavior in the State Machine"). The draft states times in seconds and rates in bytes per
 * second; here times are ms and rates bytes per ms.
 */

/** BBR.state (draft "State Transition Diagram"). */
export const BbrState = {
  STARTUP: 0,
  DRAIN: 1,
  PROBE_BW_DOWN: 2,
  PROBE_BW_CRUISE: 3,
  PROBE_BW_REFILL: 4,
  PROBE_BW_UP: 5,
  PROBE_RTT: 6,
} as const;
export type BbrState = (typeof BbrState)[keyof typeof BbrState];

/** Printable names of {@link BbrState}, for logs and qlog. */
export const BBR_STATE_NAMES: Record<BbrState, string> = {
  [BbrState.STARTUP]: 'Startup',
  [BbrState.DRAIN]: 'Drain',
  [BbrState.PROBE_BW_DOWN]: 'ProbeBW_DOWN',
  [BbrState.PROBE_BW_CRUISE]: 'ProbeBW_CRUISE',
  [BbrState.PROBE_BW_REFILL]: 'ProbeBW_REFILL',
  [BbrState.PROBE_BW_UP]: 'ProbeBW_UP',
  [BbrState.PROBE_RTT]: 'ProbeRTT',
};

/** BBR.ack_phase (draft "ProbeBW State"). */
export const BbrAckPhase = {
  INIT: 0,
  REFILLING: 1,
  PROBE_STARTING: 2,
  PROBE_FEEDBACK: 3,
  PROBE_STOPPING: 4,
} as const;
export type BbrAckPhase = (typeof BbrAckPhase)[keyof typeof BbrAckPhase];

/** BBR.StartupPacingGain = 4 ln 2, rounded as the draft gives it. */
export const BBR_STARTUP_PACING_GAIN = 2.77;
/** BBR.DrainPacingGain (the draft uses 0.5, at or below 1 / DefaultCwndGain). */
export const BBR_DRAIN_PACING_GAIN = 0.5;
/** BBR.DefaultCwndGain. */
export const BBR_DEFAULT_CWND_GAIN = 2;
/** ProbeBW_DOWN pacing gain. */
export const BBR_PROBE_BW_DOWN_PACING_GAIN = 0.9;
/** ProbeBW_CRUISE and ProbeBW_REFILL pacing gain. */
export const BBR_PROBE_BW_CRUISE_PACING_GAIN = 1.0;
/** ProbeBW_UP pacing gain. */
export const BBR_PROBE_BW_UP_PACING_GAIN = 1.25;
/** ProbeBW_UP cwnd gain. */
export const BBR_PROBE_BW_UP_CWND_GAIN = 2.25;
/** BBR.ProbeRTTCwndGain. */
export const BBR_PROBE_RTT_CWND_GAIN = 0.5;
/** BBR.PacingMarginPercent. */
export const BBR_PACING_MARGIN_PERCENT = 1;
/** BBR.LossThresh: tolerated loss rate per round while probing. */
export const BBR_LOSS_THRESH = 0.02;
/** BBR.Beta: multiplicative decrease per round with loss. */
export const BBR_BETA = 0.7;
/** BBR.Headroom: share of inflight_longterm left free for cross traffic. */
export const BBR_HEADROOM = 0.15;
/** BBR.MinPipeCwnd in datagrams. */
export const BBR_MIN_PIPE_CWND_SEGMENTS = 4;
/** BBR.MaxBwFilterLen, in ProbeBW cycles. */
export const BBR_MAX_BW_FILTER_LEN = 2;
/** BBR.ExtraAckedFilterLen, in rounds. */
export const BBR_EXTRA_ACKED_FILTER_LEN = 10;
/** BBR.MinRTTFilterLen, ms. */
export const BBR_MIN_RTT_FILTER_LEN_MS = 10_000;
/** BBR.ProbeRTTDuration, ms. */
export const BBR_PROBE_RTT_DURATION_MS = 200;
/** BBR.ProbeRTTInterval, ms. */
export const BBR_PROBE_RTT_INTERVAL_MS = 5_000;
/** Startup growth that counts as "still growing" (CheckFullBWReached: 25 %). */
export const BBR_FULL_BW_GROWTH = 1.25;
/** Rounds without that growth before the pipe counts as full. */
export const BBR_FULL_BW_COUNT = 3;
/** BBRStartupFullLossCnt: lost ranges in a round for the Startup high-loss exit. */
export const BBR_STARTUP_FULL_LOSS_COUNT = 6;
/** Upper bound of C.send_quantum, bytes. */
export const BBR_MAX_SEND_QUANTUM = 64 * 1024;
/** Cap on the Reno-coexistence probe interval in rounds (IsRenoCoexistenceProbeTime). */
export const BBR_MAX_RENO_PROBE_ROUNDS = 63;
