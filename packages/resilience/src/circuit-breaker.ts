import { ConsecutiveBreaker, CountBreaker, CircuitState } from 'cockatiel';
import type { BreakerState, BreakerStateMessage, ComponentIdentity, RejectedMessage } from '@berth/core-types';
import { cappedExponentialMs } from './backoff.js';
import { createInProcessBreakerStore } from './breaker-store.js';
import type { BreakerRecord, BreakerStore } from './breaker-store.js';
import { channels, eventError, identity } from './channels.js';
import { breakerOutcomeOfError } from './classify.js';
import type { BreakerOutcome } from './classify.js';
import { CircuitOpenError } from './errors.js';
import { checkCircuitBreakerOptions, resolveOptions } from './options.js';
import type { CircuitBreakerOptions, ResolvedCircuitBreakerOptions } from './options.js';

/** One admission through a breaker; report its outcome exactly once. */
export interface BreakerPermit {
  /** Breaker key. */
  readonly key: string;
  /** True when admitted as a half-open probe. */
  readonly probe: boolean;
  /** Reports the outcome: `success`, `failure`, or `ignore` (says nothing about the upstream). Later calls are ignored. */
  report(outcome: BreakerOutcome): Promise<void>;
}

/** Stats of one breaker key, as last seen by this process. */
export interface BreakerKeyStats {
  /** Current state. */
  readonly state: BreakerState;
  /** Wall-clock ms when probes are admitted again, while open. */
  readonly retryAt?: number;
  /** Probes in flight, while half-open. */
  readonly probes?: number;
  /** Requests refused with `ERR_BERTH_CIRCUIT_OPEN` since creation. */
  readonly rejected: number;
  /** Times the breaker opened since creation. */
  readonly opened: number;
}

/** Snapshot of a {@link CircuitBreaker}. */
export interface BreakerStats {
  /** Per key. */
  readonly keys: Readonly<Record<string, BreakerKeyStats>>;
}

interface KeyMirror {
  record: BreakerRecord | undefined;
  rejected: number;
  opened: number;
}

const MAX_MIRRORED_KEYS = 10_000;

/**
 * A circuit breaker per key (origin, region …), built on cockatiel 3.2.1's failure detectors:
 * `ConsecutiveBreaker` (n failures in a row) and `CountBreaker` (failure ratio over a sliding
 * window of calls, with a minimum number of calls). The state machine around them is
 * hand-written because cockatiel 3.x admits exactly one half-open trial call (multi-call
 * `halfOpenSampling` is cockatiel #73, 4.0 only, Node ≥ 22) and keeps state in the policy
 * object, where Berth needs it behind a {@link BreakerStore}. Pitfalls avoided, from opossum:
 * - #119/#120 (half-open let everything through): at most `halfOpenProbes` probes at once;
 * - #276/#277 (stuck half-open): a probe place is freed by any outcome, including an abort,
 *   and probe places held longer than `openMs` are reclaimed;
 * - #385 (never reaching half-open): the open → half-open move is decided from the time on
 *   the next admission, not by a timer that simultaneous failures can reset;
 * - #484 (close did not stick): closing starts fresh detectors, and outcomes from an older
 *   generation are dropped.
 */
export class CircuitBreaker {
  readonly #options: ResolvedCircuitBreakerOptions;
  readonly #store: BreakerStore;
  readonly #identity: ComponentIdentity;
  readonly #consecutive: ConsecutiveBreaker;
  readonly #count: CountBreaker;
  readonly #freshWindow: unknown;
  readonly #mirror = new Map<string, KeyMirror>();

  /** @internal use {@link createCircuitBreaker}. */
  constructor(options: ResolvedCircuitBreakerOptions, component?: ComponentIdentity) {
    this.#options = options;
    this.#store = options.store ?? createInProcessBreakerStore();
    this.#identity = component ?? identity(options.name);
    this.#consecutive = new ConsecutiveBreaker(options.consecutiveFailures);
    const countOptions = { threshold: options.failureRate, size: options.windowSize, minimumNumberOfCalls: options.minimumRequests };
    this.#count = new CountBreaker(countOptions);
    this.#freshWindow = structuredClone(new CountBreaker(countOptions).state);
  }

  /** Whether a response status counts as a failure. */
  isFailureStatus(status: number): boolean {
    return this.#options.failureStatuses.has(status);
  }

  /**
   * Asks to send one request for `key`. Resolves with a permit, or rejects with
   * `ERR_BERTH_CIRCUIT_OPEN` (a {@link CircuitOpenError} carrying `retryAt`).
   */
  async admit(key: string): Promise<BreakerPermit> {
    const now = this.#options.clock.wallNow();
    const halfOpenProbes = this.#options.halfOpenProbes;
    const leaseMs = this.#options.openMs;
    let admitted: { probe: boolean; generation: number } | undefined;
    let retryAt = 0;
    let before: BreakerRecord | undefined;
    const after = await this.#store.update(key, (current) => {
      before = current;
      admitted = undefined;
      const record = current ?? this.#fresh(0);
      switch (record.t) {
        case 'closed':
          admitted = { probe: false, generation: record.generation };
          return record;
        case 'open':
          if (now < record.retryAt) {
            retryAt = record.retryAt;
            return record;
          }
          admitted = { probe: true, generation: record.generation + 1 };
          return { t: 'half-open', generation: record.generation + 1, since: now, probes: 1, successes: 0, reopens: record.reopens };
        case 'half-open':
          if (record.probes < halfOpenProbes) {
            admitted = { probe: true, generation: record.generation };
            return { ...record, probes: record.probes + 1 };
          }
          if (now - record.since >= leaseMs) {
            // Probes that never reported (a crashed peer sharing the store, a lost promise) give their places back.
            admitted = { probe: true, generation: record.generation };
            return { ...record, since: now, probes: 1 };
          }
          retryAt = record.since + leaseMs;
          return record;
      }
    });
    this.#observe(key, before, after);
    if (admitted === undefined) {
      const mirror = this.#mirrorOf(key);
      mirror.rejected += 1;
      const error = new CircuitOpenError(
        `circuit breaker ${key} is ${after.t}; probes are admitted again at ${new Date(retryAt).toISOString()} (in ${Math.max(0, retryAt - now)} ms)`,
        { key, retryAt },
      );
      if (channels.rejected.hasSubscribers) {
        channels.rejected.publish({ component: this.#identity, key, error: eventError(error) } satisfies RejectedMessage);
      }
      throw error;
    }
    return this.#permit(key, admitted.probe, admitted.generation);
  }

  /**
   * Runs `fn` through the breaker of `key`. A thrown error counts as a failure unless it is
   * a local refusal or an abort; `classify` can judge a returned value (e.g. a 503 response).
   */
  async execute<T>(key: string, fn: () => Promise<T>, classify: (value: T) => BreakerOutcome = () => 'success'): Promise<T> {
    const permit = await this.admit(key);
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      await permit.report(breakerOutcomeOfError(error));
      throw error;
    }
    await permit.report(classify(value));
    return value;
  }

  /** The state of `key` as last seen by this process (`closed` when unknown). */
  state(key: string): BreakerState {
    return this.#mirror.get(key)?.record?.t ?? 'closed';
  }

  /** Snapshot per key. */
  stats(): BreakerStats {
    const keys: Record<string, BreakerKeyStats> = {};
    for (const [key, m] of this.#mirror) {
      const r = m.record;
      keys[key] = {
        state: r?.t ?? 'closed',
        ...(r?.t === 'open' ? { retryAt: r.retryAt } : {}),
        ...(r?.t === 'half-open' ? { probes: r.probes } : {}),
        rejected: m.rejected,
        opened: m.opened,
      };
    }
    return { keys };
  }

  #permit(key: string, probe: boolean, generation: number): BreakerPermit {
    let reported = false;
    return {
      key,
      probe,
      report: async (outcome) => {
        if (reported) return;
        reported = true;
        await this.#record(key, probe, generation, outcome);
      },
    };
  }

  async #record(key: string, probe: boolean, generation: number, outcome: BreakerOutcome): Promise<void> {
    const now = this.#options.clock.wallNow();
    let before: BreakerRecord | undefined;
    const after = await this.#store.update(key, (current) => {
      before = current;
      const record = current ?? this.#fresh(0);
      if (record.generation !== generation) return record;
      if (record.t === 'closed' && !probe) return this.#closedOutcome(record, outcome, now);
      if (record.t === 'half-open' && probe) {
        const probes = Math.max(0, record.probes - 1);
        if (outcome === 'ignore') return { ...record, probes };
        if (outcome === 'failure') return this.#open(record.generation + 1, now, record.reopens + 1);
        const successes = record.successes + 1;
        if (successes >= this.#options.successesToClose) return this.#fresh(record.generation + 1);
        return { ...record, probes, successes };
      }
      return record;
    });
    this.#observe(key, before, after);
  }

  #closedOutcome(record: Extract<BreakerRecord, { t: 'closed' }>, outcome: BreakerOutcome, now: number): BreakerRecord {
    if (outcome === 'ignore') return record;
    this.#consecutive.state = record.consecutive as number;
    this.#count.state = structuredClone(record.window);
    if (outcome === 'success') {
      this.#consecutive.success();
      this.#count.success(CircuitState.Closed);
      return { ...record, consecutive: this.#consecutive.state, window: this.#count.state };
    }
    // Both detectors must see the failure (no short-circuit), so the window stays truthful.
    const inARow = this.#consecutive.failure();
    const byRate = this.#count.failure(CircuitState.Closed);
    if (inARow || byRate) return this.#open(record.generation + 1, now, 0);
    return { ...record, consecutive: this.#consecutive.state, window: this.#count.state };
  }

  #open(generation: number, now: number, reopens: number): BreakerRecord {
    const periodMs = cappedExponentialMs(this.#options.openMs, this.#options.maxOpenMs, reopens);
    return { t: 'open', generation, openedAt: now, retryAt: now + periodMs, reopens };
  }

  #fresh(generation: number): BreakerRecord {
    return { t: 'closed', generation, consecutive: 0, window: structuredClone(this.#freshWindow) };
  }

  #mirrorOf(key: string): KeyMirror {
    let mirror = this.#mirror.get(key);
    if (mirror === undefined) {
      mirror = { record: undefined, rejected: 0, opened: 0 };
      this.#mirror.set(key, mirror);
      if (this.#mirror.size > MAX_MIRRORED_KEYS) {
        const oldest = this.#mirror.keys().next().value;
        if (oldest !== undefined) this.#mirror.delete(oldest);
      }
    }
    return mirror;
  }

  #observe(key: string, before: BreakerRecord | undefined, after: BreakerRecord): void {
    const mirror = this.#mirrorOf(key);
    mirror.record = after;
    const from = before?.t ?? 'closed';
    if (from === after.t) return;
    if (after.t === 'open') {
      mirror.opened += 1;
      this.#options.logger.warn('circuit breaker opened', { key, from, retryAt: after.retryAt, reopens: after.reopens });
    } else if (after.t === 'closed') {
      this.#options.logger.info('circuit breaker closed', { key });
    }
    if (channels.breaker.hasSubscribers) {
      channels.breaker.publish({
        component: this.#identity,
        key,
        from,
        to: after.t,
        ...(after.t === 'open' ? { retryAt: after.retryAt } : {}),
      } satisfies BreakerStateMessage);
    }
  }
}

/**
 * Creates a {@link CircuitBreaker}. Throws `ERR_BERTH_CONFIG` listing every bad option.
 *
 * @example
 * const breaker = createCircuitBreaker({ consecutiveFailures: 5, openMs: 10_000, halfOpenProbes: 3 });
 * const res = await breaker.execute('https://api.example.com', () => pool.request({ path: '/' }), (r) => (r.status >= 500 ? 'failure' : 'success'));
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker(resolveOptions('circuit-breaker', options, checkCircuitBreakerOptions));
}

