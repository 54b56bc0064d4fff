import type { BerthEvent, EventError } from './events.js';

/** Channels of `@berth/adaptive-scaler`. */
export const SCALER_CHANNELS = {
  /** {@link ScalerDecisionMessage} */
  decision: 'berth:scaler:decision',
  /** {@link ScalerResizeErrorMessage} */
  resizeError: 'berth:scaler:resize-error',
} as const;

/** One decision of the control loop (holds included). */
export interface ScalerDecisionMessage extends BerthEvent {
  /** What it decided. */
  readonly action: 'up' | 'down' | 'hold';
  /** Size before. */
  readonly from: number;
  /** Size after. */
  readonly to: number;
  /**
   * Why: `acquire-wait`, `low-utilization`, `no-gain` (a growth step raised latency, not
   * throughput, and was undone), `congestion`, `saturated`, `demand-cap`, `cooldown`, `bound`,
   * `tolerance`, `stabilizing`, `demand-floor`, `steady` or `warmup`. A bounded set: usable as a metric label.
   */
  readonly reason: string;
  /** The inputs the decision used (acquire wait, utilization, gradient, Little's-law target …). */
  readonly inputs: Readonly<Record<string, number>>;
}

/** `resize()` threw; retried at the next interval. */
export interface ScalerResizeErrorMessage extends BerthEvent {
  /** The size asked for. */
  readonly target: number;
  /** The failure. */
  readonly error: EventError;
}
