import type { TimerHandle, Transport } from '@berth/core-types';
import { createRegionHealth } from './health.js';
import type { RegionHealth } from './health.js';
import { createLatencyWindow } from './latency-window.js';
import type { LatencyWindow } from './latency-window.js';
import type { ResolvedRegion } from './options.js';
import { createPeakEwma } from './peak-ewma.js';
import type { PeakEwma } from './peak-ewma.js';
import type { Candidate, Preference } from './selector.js';

/** Why the router stopped waiting for one of its own attempts. */
export type CutCause = 'ejected' | 'attempt-timeout' | 'hedge-lost';

/**
 * One attempt in flight to a region. The router can `cut` it: stop waiting at once (and abort it
 * when the attempt has its own controller; otherwise its late response is dumped). A per-attempt
 * `AbortController` costs microseconds in Node, more than the whole routing decision, so only
 * hedged and `attemptTimeoutMs` attempts get one.
 */
export interface LiveAttempt {
  /** Only replayable attempts are cut when their region is ejected. */
  readonly replayable: boolean;
  /** Its index in the region's list of waiting attempts while it waits; owned by {@link Region}. */
  slot: number;
  /** Ends the attempt now with `cause`; no-op once it has settled. */
  cut(cause: CutCause): void;
}

/** @internal The router's record of one region: estimator, health, counters and timers. */
export class Region implements Candidate {
  readonly name: string;
  readonly transport: Transport;
  readonly priority: number;
  readonly weight: number;
  readonly ewma: PeakEwma;
  readonly health: RegionHealth = createRegionHealth();
  readonly window: LatencyWindow = createLatencyWindow();
  // Attempts waiting on the region, each knowing its index: O(1) add and remove with no
  // allocation. A Set churned by one add and one delete per request rehashes every few requests.
  readonly #live: LiveAttempt[] = [];
  pending = 0;
  requests = 0;
  errors = 0;
  failovers = 0;
  /** Good answers (status < 500) from requests and probes. */
  successes = 0;
  probes = 0;
  probeFailures = 0;
  /** `lowest-latency` hysteresis state of its priority level; `undefined` for the fallback region (outside the levels). */
  preference: Preference | undefined;
  probeTimer: TimerHandle | undefined;
  probeController: AbortController | undefined;
  ejectTimer: TimerHandle | undefined;

  constructor(config: ResolvedRegion, priorMs: number, now: number) {
    this.name = config.name;
    this.transport = config.transport;
    this.priority = config.priority;
    this.weight = config.weight;
    this.ewma = createPeakEwma(priorMs, now);
  }

  /** Latency estimate as of the last sample, in ms. */
  get costMs(): number {
    return this.ewma.cost;
  }

  /** Whether the estimate comes from samples rather than the prior. */
  get measured(): boolean {
    return this.ewma.samples > 0;
  }

  /** Records an attempt now waiting on the region. */
  track(live: LiveAttempt): void {
    live.slot = this.#live.length;
    this.#live.push(live);
  }

  /** Forgets an attempt that stopped waiting; no-op for one not tracked. */
  untrack(live: LiveAttempt): void {
    const i = live.slot;
    if (i < 0 || this.#live[i] !== live) return;
    const last = this.#live.pop() as LiveAttempt;
    if (last !== live) {
      this.#live[i] = last;
      last.slot = i;
    }
    live.slot = -1;
  }

  /** A copy of the attempts waiting on the region (safe to cut them while iterating). */
  waiting(): LiveAttempt[] {
    return this.#live.slice();
  }

  /** Whether normal routing may pick it: healthy, or on probation when no probe will judge it. */
  selectable(probing: boolean): boolean {
    const t = this.health.phase.t;
    return t === 'healthy' || (t === 'probation' && !probing);
  }
}
