import { channel } from 'node:diagnostics_channel';
import { SCALER_CHANNELS } from '@berth/core-types';
import type {
  ComponentIdentity,
  ResizablePool,
  ScalerDecisionMessage,
  ScalerResizeErrorMessage,
  TimerHandle,
} from '@berth/core-types';
import { decide, initialScalerState } from './decide.js';
import type { ScalerDecision, ScalerState } from './decide.js';
import { ScalerResizeError } from './errors.js';
import type { ScalerSample } from './measure.js';
import { resolveScalerOptions } from './options.js';
import type { ResolvedScalerOptions, ScalerOptions } from './options.js';

const decisionChannel = channel(SCALER_CHANNELS.decision);
const resizeErrorChannel = channel(SCALER_CHANNELS.resizeError);

/** The loop's lifecycle: the timer and the period's samples exist only while running. */
type Loop =
  | { readonly t: 'stopped' }
  | { readonly t: 'running'; readonly timer: TimerHandle; samples: ScalerSample[]; ticks: number };

/**
 * Drives a {@link ResizablePool}: samples its stats `samplesPerInterval` times per period,
 * calls the pure {@link decide} once per period and applies the result with `resize`. Create
 * it with {@link createAdaptiveScaler}; it does nothing until {@link AdaptiveScaler.start}.
 */
export class AdaptiveScaler {
  readonly #pool: ResizablePool;
  readonly #options: ResolvedScalerOptions;
  readonly #component: ComponentIdentity;
  readonly #history: ScalerDecision[] = [];
  #state: ScalerState = initialScalerState();
  #loop: Loop = { t: 'stopped' };

  /** Prefer {@link createAdaptiveScaler}. Throws `ERR_BERTH_CONFIG` listing every bad option. */
  constructor(pool: ResizablePool, options: ScalerOptions = {}) {
    this.#pool = pool;
    this.#options = resolveScalerOptions(options, pool.bounds);
    const stats = pool.stats();
    this.#component = {
      kind: 'adaptive-scaler',
      name: this.#options.name ?? stats.name,
      ...(stats.origin === undefined ? {} : { origin: stats.origin }),
      ...(this.#options.region === undefined ? {} : { region: this.#options.region }),
    };
  }

  /** The resolved options (defaults filled in). */
  get options(): ResolvedScalerOptions {
    return this.#options;
  }

  /** `running` between {@link start} and {@link stop}. */
  state(): 'running' | 'stopped' {
    return this.#loop.t;
  }

  /**
   * Starts sampling; the first decision comes one `intervalMs` later. Idempotent. After a
   * {@link stop}, a new start measures from a fresh baseline but keeps the latency average,
   * ceilings and history.
   */
  start(): void {
    if (this.#loop.t === 'running') return;
    const { clock, intervalMs, samplesPerInterval } = this.#options;
    this.#state = { ...this.#state, last: undefined };
    const first = this.#sample();
    const timer = clock.setInterval(() => this.#tick(), intervalMs / samplesPerInterval);
    // A control loop must never be what keeps a process alive.
    timer.unref();
    this.#loop = { t: 'running', timer, samples: first === undefined ? [] : [first], ticks: 0 };
  }

  /** Stops the loop; no timer is left behind. Idempotent. The pool keeps its current size. */
  stop(): void {
    if (this.#loop.t === 'stopped') return;
    this.#options.clock.clearInterval(this.#loop.timer);
    this.#loop = { t: 'stopped' };
  }

  /** The last `historySize` decisions, oldest first (holds included), for dashboards. */
  history(): readonly ScalerDecision[] {
    return [...this.#history];
  }

  #tick(): void {
    const loop = this.#loop;
    if (loop.t !== 'running') return;
    const sample = this.#sample();
    if (sample !== undefined) loop.samples.push(sample);
    loop.ticks += 1;
    if (loop.ticks < this.#options.samplesPerInterval) return;
    loop.ticks = 0;
    const samples = loop.samples;
    loop.samples = [];
    const now = this.#options.clock.now();
    let result;
    try {
      result = decide(samples, this.#state, this.#options, now);
    } catch (error) {
      // Only stats that break the PoolStats contract get here; a throw from a timer callback
      // would take the process down, so the period is dropped and measured afresh.
      this.#options.logger.error('adaptive-scaler: decision failed; period skipped', {
        name: this.#component.name,
        error: String(error),
      });
      this.#state = { ...this.#state, last: undefined };
      return;
    }
    this.#state = result.state;
    this.#record(result.decision);
    if (result.decision.action !== 'hold') this.#resize(result.decision);
  }

  #sample(): ScalerSample | undefined {
    const at = this.#options.clock.now();
    let stats;
    try {
      stats = this.#pool.stats();
    } catch (error) {
      // A pool whose stats() throws breaks its contract; skip the sample rather than the loop.
      this.#options.logger.warn('adaptive-scaler: pool stats() threw; sample skipped', {
        name: this.#component.name,
        error: String(error),
      });
      return undefined;
    }
    const latencyMs = this.#readLatency();
    return latencyMs === undefined ? { at, stats } : { at, stats, latencyMs };
  }

  #readLatency(): number | undefined {
    const signal = this.#options.latency;
    if (signal === undefined) return undefined;
    try {
      const value = signal();
      return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
    } catch (error) {
      this.#options.logger.warn('adaptive-scaler: latency signal threw; falling back to hold time', {
        name: this.#component.name,
        error: String(error),
      });
      return undefined;
    }
  }

  #record(decision: ScalerDecision): void {
    this.#history.push(decision);
    if (this.#history.length > this.#options.historySize) this.#history.shift();
    this.#options.logger.debug('adaptive-scaler: decision', {
      name: this.#component.name,
      action: decision.action,
      from: decision.from,
      to: decision.to,
      reason: decision.reason,
    });
    if (decisionChannel.hasSubscribers) {
      const message: ScalerDecisionMessage = {
        component: this.#component,
        action: decision.action,
        from: decision.from,
        to: decision.to,
        reason: decision.reason,
        inputs: decision.inputs,
      };
      decisionChannel.publish(message);
    }
  }

  #resize(decision: ScalerDecision): void {
    try {
      this.#pool.resize(decision.to);
    } catch (cause) {
      // Retried at the next period: decide() sees the pool's target unchanged and steps again.
      const error = new ScalerResizeError(
        `adaptive-scaler ${this.#component.name}: resize from ${decision.from} to ${decision.to} failed: ${String(cause)}`,
        { cause, target: decision.to },
      );
      this.#options.logger.warn(error.message, { name: this.#component.name, code: error.code, target: decision.to });
      if (resizeErrorChannel.hasSubscribers) {
        const message: ScalerResizeErrorMessage = {
          component: this.#component,
          target: decision.to,
          error: { code: error.code, message: error.message },
        };
        resizeErrorChannel.publish(message);
      }
    }
  }
}

/**
 * Creates an {@link AdaptiveScaler} for `pool` (anything implementing `ResizablePool`, such as
 * an https-pool). Validates `options` against `pool.bounds` at once (`ERR_BERTH_CONFIG` lists
 * every problem). Call `start()` to run it and `stop()` to end it.
 *
 * @example
 * const scaler = createAdaptiveScaler(pool, { latency: () => latencyEstimateMs() });
 * scaler.start();
 * // …
 * scaler.stop();
 */
export function createAdaptiveScaler(pool: ResizablePool, options: ScalerOptions = {}): AdaptiveScaler {
  return new AdaptiveScaler(pool, options);
}
