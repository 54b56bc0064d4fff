import diagnosticsChannel from 'node:diagnostics_channel';
import { BerthError, GEO_CHANNELS, IDEMPOTENT_METHODS, OptionChecker, isBerthError } from '@berth/core-types';
import type {
  CloseOptions,
  ComponentIdentity,
  EventError,
  GeoEjectedMessage,
  GeoEstimateMessage,
  GeoFailoverMessage,
  GeoHedgeMessage,
  GeoRegionSwitchMessage,
  GeoRestoredMessage,
  LifecycleState,
  RequestOptions,
  ResponseData,
  ResponseMeta,
  TimerHandle,
  Transport,
  TransportStats,
} from '@berth/core-types';
import { InFlightAttempt } from './attempt.js';
import type { AttemptResult } from './attempt.js';
import { classifyFailure, isFailoverStatus } from './classify.js';
import type { FailureClass } from './classify.js';
import {
  AttemptTimeoutError,
  RegionUnavailableError,
  RouterAbortedError,
  RouterClosedError,
  RouterInternalError,
  RouterTimeoutError,
} from './errors.js';
import { creditHedgeBudget, createHedgeBudget, trySpendHedge } from './hedge-budget.js';
import type { HedgeBudget } from './hedge-budget.js';
import { eject, endWindow, mayEject, recordOutcome, restore, startProbation, successRateOutliers } from './health.js';
import type { EjectReason, OutcomeVerdict } from './health.js';
import { p95Of, recordLatency } from './latency-window.js';
import { resolveOptions } from './options.js';
import type { GeoRouterOptions, ResolvedOptions, RoutingStrategy } from './options.js';
import { observePeakEwma, readPeakEwma } from './peak-ewma.js';
import { pickLevel, priorityLoads } from './priority.js';
import type { LevelHealth } from './priority.js';
import { Region } from './region.js';
import type { CutCause, LiveAttempt } from './region.js';
import { createPreference, lowestCost, pickP2c, updatePreference } from './selector.js';
import type { Preference } from './selector.js';

/** One region as seen in {@link GeoRouterStats}. */
export interface RegionStats {
  /** Peak-EWMA latency estimate (time to response headers) as of its last sample, in ms; the prior until sampled. */
  readonly latencyMs: number;
  /** p95 of the last 128 times to headers, in ms, when there is any. */
  readonly p95Ms: number | undefined;
  /** Samples the estimate is made of (responses and probes). */
  readonly samples: number;
  /** Attempts waiting for response headers. */
  readonly pending: number;
  /** Taking normal traffic (not ejected, not on probation). */
  readonly healthy: boolean;
  /** `healthy`, `ejected` or `probation` (half-open, waiting for a probe or request to judge it). */
  readonly health: 'healthy' | 'ejected' | 'probation';
  /** When ejected: monotonic clock ms when it goes on probation. */
  readonly ejectedUntil: number | undefined;
  /** Times ejected since creation. */
  readonly ejections: number;
  /** Failures in a row right now. */
  readonly consecutiveFailures: number;
  /** Attempts sent to it (hedges and failovers included), probes excluded. */
  readonly requests: number;
  /** Attempts that failed (errors and 5xx). */
  readonly errors: number;
  /** Requests that failed here and moved on to another region. */
  readonly failovers: number;
  /** Probes sent. */
  readonly probes: number;
  /** Probes that failed (error, timeout or status ≥ 500). */
  readonly probeFailures: number;
  /** Its priority level, from the options. */
  readonly priority: number;
  /** Its weight, from the options. */
  readonly weight: number;
}

/** {@link GeoRouter.stats}: the transport counters plus the routing state of every region. */
export interface GeoRouterStats extends TransportStats {
  readonly kind: 'geo-router';
  /** The configured strategy. */
  readonly strategy: RoutingStrategy;
  /** Region unrestricted traffic goes to now (`lowest-latency`, `ordered`; `p2c` only under fallback or panic). */
  readonly current: string | undefined;
  /**
   * Requests sent to an unhealthy region because every region they were allowed was unhealthy
   * (Envoy's panic mode, within `allowedRegions`). Unrestricted traffic never panics: a region
   * is only ejected while another stays healthy.
   */
  readonly panicked: number;
  /** Requests that moved to another region after a failure. */
  readonly failovers: number;
  /** Hedged copies sent, refused by the budget, and won (the copy answered first). */
  readonly hedges: { readonly sent: number; readonly refused: number; readonly won: number };
  /** Per region, by name. */
  readonly regions: Readonly<Record<string, RegionStats>>;
}

interface RequestPlan {
  readonly options: RequestOptions;
  readonly allowed: readonly Region[];
  readonly pinned: boolean;
  readonly replayable: boolean;
  /** Replaying is possible at all: the body can be sent twice (no stream). */
  readonly bodyReplayable: boolean;
  readonly deadline: number | undefined;
  /** Options passed to region transports: routing fields stripped. */
  readonly inner: RequestOptions;
}

type RouterState = { readonly t: 'ready' } | { readonly t: 'draining'; readonly done: Promise<void> } | { readonly t: 'closed' };

const channels = {
  regionSwitch: diagnosticsChannel.channel(GEO_CHANNELS.regionSwitch),
  ejected: diagnosticsChannel.channel(GEO_CHANNELS.ejected),
  restored: diagnosticsChannel.channel(GEO_CHANNELS.restored),
  failover: diagnosticsChannel.channel(GEO_CHANNELS.failover),
  hedge: diagnosticsChannel.channel(GEO_CHANNELS.hedge),
  estimate: diagnosticsChannel.channel(GEO_CHANNELS.estimate),
};

/** Largest latency peak a failure injects, in ms: above any useful time to headers, and bounded so repeated failures cannot overflow the estimate. */
const MAX_PENALTY_MS = 60_000;

/** The `tried` list of a first attempt: nothing tried yet. */
const NO_REGIONS: readonly Region[] = [];

const CALLER_FAILURE: FailureClass = { kind: 'caller', regionFault: false, ejectNow: false };
// The router cut the attempt itself (region ejected, hedge lost, closing): the region's health
// was already judged, and the request may move on if it is replayable.
const REGION_CUT: FailureClass = { kind: 'maybe-sent', regionFault: false, ejectNow: false };

function eventError(error: unknown): EventError {
  if (isBerthError(error)) return { code: error.code, message: error.message };
  return { code: 'ERR_BERTH_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

function hasReplayableBody(options: RequestOptions): boolean {
  const body = options.body;
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** The lowest estimate among measured regions; a region still at the prior only wins when none is measured. */
function lowestMeasured(regions: readonly Region[]): Region | undefined {
  const measured = regions.filter((r) => r.measured);
  return lowestCost(measured.length > 0 ? measured : regions);
}

/** Whether `region` is the preferred region of its level with no challenger on the clock. */
function holdsPreference(region: Region): boolean {
  const preference = region.preference;
  return preference !== undefined && preference.preferred === region.name && preference.challenger === undefined;
}

function dumpQuietly(response: ResponseData): void {
  response.dump().catch(() => {});
}

/**
 * The response of the region that answered, with `meta.region` and `meta.attempts` (the
 * router's attempts before it plus the region transport's own). Methods delegate, so a
 * transport's response class keeps its `this`.
 */
class RoutedResponse implements ResponseData {
  readonly #inner: ResponseData;
  readonly status: number;
  readonly headers: ResponseData['headers'];
  readonly meta: ResponseMeta;

  constructor(inner: ResponseData, region: string, attempts: number) {
    this.#inner = inner;
    this.status = inner.status;
    this.headers = inner.headers;
    const m = inner.meta;
    this.meta = {
      protocol: m.protocol,
      reused: m.reused,
      connectionId: m.connectionId,
      region,
      attempts: attempts - 1 + m.attempts,
      timings: m.timings,
    };
  }

  /** The inner body, read on demand: pools build their body stream only when it is first asked for. */
  get body(): ResponseData['body'] {
    return this.#inner.body;
  }

  text(): Promise<string> {
    return this.#inner.text();
  }

  json<T = unknown>(): Promise<T> {
    return this.#inner.json<T>();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#inner.arrayBuffer();
  }

  dump(): Promise<void> {
    return this.#inner.dump();
  }
}

/**
 * Sends each request to the best region and fails over without losing idempotent work.
 * A {@link Transport} over one transport per region; build it with {@link createGeoRouter}.
 */
export class GeoRouter implements Transport {
  readonly #o: ResolvedOptions;
  readonly #regions: readonly Region[];
  readonly #byName: ReadonlyMap<string, Region>;
  readonly #fallback: Region | undefined;
  /** Distinct priorities of the non-fallback regions, ascending. */
  readonly #levels: readonly number[];
  /** Non-fallback regions of each level (same order as `#levels`), and those selectable now. */
  readonly #levelRegions: readonly (readonly Region[])[];
  #levelHealthy: readonly (readonly Region[])[] = [];
  /** `lowest-latency` hysteresis state of each level (same order as `#levels`). */
  readonly #preferences: readonly Preference[];
  readonly #identity: ComponentIdentity;
  readonly #hedgeBudget: HedgeBudget = createHedgeBudget();
  readonly #probing: boolean;
  #state: RouterState = { t: 'ready' };
  #current: Region | undefined;
  /** The region unrestricted requests take without any computation, when one does. */
  #fastPick: Region | undefined;
  /** `p2c`: the regions unrestricted requests choose two from, when the top level keeps all traffic. */
  #p2cPool: readonly Region[] | undefined;
  #panicked = 0;
  #sweepTimer: TimerHandle | undefined;
  #initTimer: TimerHandle | undefined;
  #requests = 0;
  #inFlight = 0;
  #errors = 0;
  #failovers = 0;
  #hedgesWon = 0;
  /** Every attempt's `cut` lands here; one function per router rather than one per attempt. */
  readonly #cutHook = (live: InFlightAttempt, cause: CutCause): void => this.#cut(live, cause);

  constructor(options: ResolvedOptions) {
    this.#o = options;
    const now = options.clock.now();
    this.#regions = options.regions.map((r) => new Region(r, options.defaultRttMs, now));
    this.#byName = new Map(this.#regions.map((r) => [r.name, r]));
    this.#fallback = options.fallbackRegion === undefined ? undefined : this.#byName.get(options.fallbackRegion);
    this.#levels = [...new Set(this.#regions.filter((r) => r !== this.#fallback).map((r) => r.priority))].sort((a, b) => a - b);
    this.#preferences = this.#levels.map(() => createPreference());
    this.#levelRegions = this.#levels.map((level) => this.#regions.filter((r) => r !== this.#fallback && r.priority === level));
    this.#levelRegions.forEach((inLevel, i) => {
      for (const r of inLevel) r.preference = this.#preferences[i];
    });
    this.#identity = { kind: 'geo-router', name: options.name };
    this.#probing = options.probe !== undefined;
    this.#refresh(undefined);
    this.#sweepTimer = options.clock.setInterval(() => this.#sweep(), options.outlier.intervalMs);
    this.#sweepTimer.unref();
    this.#initTimer = options.clock.setTimeout(() => this.#checkInit(), options.initTimeoutMs);
    this.#initTimer.unref();
    if (options.probe !== undefined) {
      for (const region of this.#regions) this.#scheduleProbe(region, options.probe.initialDelayMs);
    }
  }

  /** Sends one request to the best allowed region, failing over as the README describes. */
  request(options: RequestOptions): Promise<ResponseData> {
    if (this.#state.t !== 'ready') {
      return Promise.reject(new RouterClosedError(`geo-router ${this.#o.name} is closed`));
    }
    let plan: RequestPlan;
    try {
      plan = this.#plan(options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new RouterInternalError(String(error)));
    }
    return this.#route(plan);
  }

  /** The latency estimate of `region` in ms (Peak-EWMA of time to headers), or `undefined` for an unknown name. */
  estimate(region: string): number | undefined {
    return this.#byName.get(region)?.costMs;
  }

  /** The region unrestricted traffic goes to now, when there is a single one (see {@link GeoRouterStats.current}). */
  currentRegion(): string | undefined {
    return this.#current?.name;
  }

  /** A synchronous snapshot: router counters and every region's estimate and health. */
  stats(): GeoRouterStats {
    const regions: Record<string, RegionStats> = {};
    let queued = 0;
    for (const r of this.#regions) {
      const phase = r.health.phase;
      regions[r.name] = {
        latencyMs: r.costMs,
        p95Ms: p95Of(r.window),
        samples: r.ewma.samples,
        pending: r.pending,
        healthy: phase.t === 'healthy',
        health: phase.t,
        ejectedUntil: phase.t === 'ejected' ? phase.until : undefined,
        ejections: r.health.ejections,
        consecutiveFailures: r.health.consecutiveFailures,
        requests: r.requests,
        errors: r.errors,
        failovers: r.failovers,
        probes: r.probes,
        probeFailures: r.probeFailures,
        priority: r.priority,
        weight: r.weight,
      };
      queued += r.transport.stats().queued;
    }
    const state: LifecycleState = this.#state.t === 'ready' ? 'ready' : this.#state.t;
    return {
      kind: 'geo-router',
      name: this.#o.name,
      state,
      requests: this.#requests,
      inFlight: this.#inFlight,
      queued,
      errors: this.#errors,
      strategy: this.#o.strategy,
      current: this.#current?.name,
      panicked: this.#panicked,
      failovers: this.#failovers,
      hedges: { sent: this.#hedgeBudget.spent, refused: this.#hedgeBudget.refused, won: this.#hedgesWon },
      regions,
    };
  }

  /**
   * Stops probes and outlier sweeps, refuses new requests, and closes every region's transport
   * with the same options (each lets its in-flight work finish up to the deadline). Requests in
   * flight are not failed over any more once closing has begun. Idempotent.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#state.t === 'draining') return this.#state.done;
    if (this.#state.t === 'closed') return Promise.resolve();
    const clock = this.#o.clock;
    clock.clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    clock.clearTimeout(this.#initTimer);
    this.#initTimer = undefined;
    for (const region of this.#regions) {
      clock.clearTimeout(region.probeTimer);
      region.probeTimer = undefined;
      clock.clearTimeout(region.ejectTimer);
      region.ejectTimer = undefined;
      region.probeController?.abort();
    }
    const done = Promise.allSettled(this.#regions.map((r) => r.transport.close(options))).then(() => {
      this.#state = { t: 'closed' };
    });
    this.#state = { t: 'draining', done };
    return done;
  }

  // ---------------------------------------------------------------- planning

  #plan(options: RequestOptions): RequestPlan {
    let allowed: readonly Region[] = this.#regions;
    const pin = options.region;
    const list = options.allowedRegions;
    if (pin !== undefined || list !== undefined) allowed = this.#restrict(pin, list);
    const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(options.method ?? 'GET');
    const bodyReplayable = hasReplayableBody(options);
    let inner = options;
    if (pin !== undefined || list !== undefined) {
      const { region: _region, allowedRegions: _allowed, ...rest } = options;
      inner = rest;
    }
    return {
      options,
      allowed,
      pinned: pin !== undefined,
      replayable: idempotent && bodyReplayable,
      bodyReplayable,
      deadline: options.timeoutMs === undefined ? undefined : this.#o.clock.now() + options.timeoutMs,
      inner,
    };
  }

  // Unknown names are a configuration error of the call, reported all at once like options.
  #restrict(pin: string | undefined, list: readonly string[] | undefined): readonly Region[] {
    const c = new OptionChecker('geo-router request');
    const known = `one of the regions (${[...this.#byName.keys()].join(', ')})`;
    if (pin !== undefined) c.expect(this.#byName.has(pin), 'region', known, pin);
    if (list !== undefined) {
      const names: unknown = list;
      if (!Array.isArray(names) || names.length === 0) c.problem('allowedRegions', 'a non-empty array of region names', list);
      else names.forEach((name: unknown, i) => c.expect(typeof name === 'string' && this.#byName.has(name), `allowedRegions[${i}]`, known, name));
      if (pin !== undefined && Array.isArray(names) && !names.includes(pin)) {
        c.problem('region', 'a region listed in allowedRegions', pin);
      }
    }
    c.done();
    if (pin !== undefined) return [this.#byName.get(pin) as Region];
    const names = new Set(list);
    // Configuration order is kept: `ordered` and tie-breaks depend on it.
    return this.#regions.filter((r) => names.has(r.name));
  }

  // ---------------------------------------------------------------- routing

  /**
   * The common case, a first attempt that answers without a failover status, runs without an
   * async function, a `tried` list or a promise per layer: one promise for the caller, resolved
   * from the attempt's own callback. Anything else continues in {@link GeoRouter.#routeFrom}.
   */
  #route(plan: RequestPlan): Promise<ResponseData> {
    this.#requests += 1;
    this.#inFlight += 1;
    const first = this.#select(plan);
    if (first === undefined) {
      this.#errors += 1;
      this.#inFlight -= 1;
      return Promise.reject(this.#pinUnavailable(plan));
    }
    if (this.#o.hedge !== undefined && plan.replayable) return this.#routeFrom(plan, first, undefined);
    return new Promise<ResponseData>((resolve, reject) => {
      try {
        this.#send(plan, first, 1, undefined, (result) => {
          if (result.t === 'response' && (!plan.replayable || !isFailoverStatus(result.response.status))) {
            this.#inFlight -= 1;
            resolve(new RoutedResponse(result.response, first.name, 1));
          } else {
            resolve(this.#routeFrom(plan, first, result));
          }
        });
      } catch (error) {
        // Only a broken injected part (a clock that throws) gets here; keep the counters true.
        this.#inFlight -= 1;
        this.#errors += 1;
        reject(isBerthError(error) ? error : new BerthError('ERR_BERTH_INTERNAL', `geo-router ${this.#o.name} failed to send: ${String(error)}`, { cause: error }));
      }
    });
  }

  /** The request from its `first` region on, failing over as needed; `firstResult` when that attempt already ended. */
  async #routeFrom(plan: RequestPlan, first: Region, firstResult: AttemptResult | undefined): Promise<ResponseData> {
    try {
      return await this.#routeAttempts(plan, first, firstResult);
    } catch (error) {
      this.#errors += 1;
      throw error;
    } finally {
      this.#inFlight -= 1;
    }
  }

  async #routeAttempts(plan: RequestPlan, first: Region, firstResult: AttemptResult | undefined): Promise<ResponseData> {
    const tried: Region[] = [];
    let attempts = 0;
    let next = first;
    let ended = firstResult;
    for (;;) {
      const region = next;
      tried.push(region);
      attempts += 1;
      const hedge = this.#o.hedge;
      let result: AttemptResult;
      if (ended !== undefined) {
        result = ended;
        ended = undefined;
      } else {
        result =
          hedge !== undefined && plan.replayable && attempts === 1
            ? await this.#hedged(plan, region, tried)
            : await this.#attempt(plan, region, attempts);
      }
      attempts = Math.max(attempts, tried.length);
      if (result.t === 'response') {
        const status = result.response.status;
        if (!isFailoverStatus(status) || !plan.replayable) return this.#finish(result, attempts);
        const following = this.#next(plan, tried, attempts);
        if (following === undefined) return this.#finish(result, attempts);
        dumpQuietly(result.response);
        this.#failedOver(result.region, following, {
          code: 'ERR_BERTH_REGION_UNAVAILABLE',
          message: `region ${result.region.name} answered ${status}`,
        }, attempts, status);
        next = following;
        continue;
      }
      const { error, failure } = result;
      const eligible = failure.kind !== 'caller' && plan.bodyReplayable && (plan.replayable || failure.kind === 'unsent');
      const following = eligible ? this.#next(plan, tried, attempts) : undefined;
      if (following === undefined) throw this.#finalError(error, plan);
      this.#failedOver(result.region, following, eventError(error), attempts, undefined);
      next = following;
    }
  }

  /** The next region for a failover, or `undefined` when the budget, the deadline, the caller or closing says stop. */
  #next(plan: RequestPlan, tried: readonly Region[], attempts: number): Region | undefined {
    if (attempts >= this.#o.maxAttempts || this.#state.t !== 'ready') return undefined;
    if (plan.options.signal?.aborted === true) return undefined;
    if (plan.deadline !== undefined && this.#o.clock.now() >= plan.deadline) return undefined;
    return this.#candidate(plan, tried);
  }

  #finalError(error: unknown, plan: RequestPlan): unknown {
    if (plan.options.signal?.aborted === true && !isBerthError(error, 'ERR_BERTH_ABORTED')) {
      return new RouterAbortedError(`request to ${plan.options.path} aborted`, { cause: error });
    }
    if (plan.deadline !== undefined && this.#o.clock.now() >= plan.deadline && !isBerthError(error, 'ERR_BERTH_TIMEOUT')) {
      return new RouterTimeoutError(`request to ${plan.options.path} timed out after ${plan.options.timeoutMs} ms`, {
        cause: error,
        timeoutMs: plan.options.timeoutMs,
      });
    }
    if (!isBerthError(error)) {
      return new RouterInternalError(`a region transport rejected with a non-Berth error: ${String(error)}`, { cause: error });
    }
    return error;
  }

  #failedOver(from: Region, to: Region, error: EventError, attempt: number, status: number | undefined): void {
    from.failovers += 1;
    this.#failovers += 1;
    this.#o.logger.debug('geo-router failover', { router: this.#o.name, from: from.name, to: to.name, code: error.code });
    if (channels.failover.hasSubscribers) {
      const message: GeoFailoverMessage = {
        component: this.#identity,
        from: from.name,
        to: to.name,
        error,
        attempt,
        ...(status === undefined ? {} : { status }),
      };
      channels.failover.publish(message);
    }
  }

  #finish(result: { readonly region: Region; readonly response: ResponseData }, attempts: number): ResponseData {
    return new RoutedResponse(result.response, result.region.name, attempts);
  }

  /** The first region of a request, or `undefined` when there is none (only a pin can leave none). */
  #select(plan: RequestPlan): Region | undefined {
    if (plan.allowed === this.#regions) {
      if (this.#fastPick !== undefined) return this.#fastPick;
      const pool = this.#p2cPool;
      if (pool !== undefined) {
        const pick = this.#pickP2c(pool);
        if (pick !== undefined) return pick;
      }
    }
    return this.#candidate(plan, NO_REGIONS);
  }

  /** `ERR_BERTH_REGION_UNAVAILABLE` for a pinned region that cannot take the request. */
  #pinUnavailable(plan: RequestPlan): RegionUnavailableError {
    // Unpinned requests panic over unhealthy regions instead of failing.
    const pin = plan.allowed[0] as Region;
    const phase = pin.health.phase;
    return new RegionUnavailableError(`pinned region ${pin.name} is unavailable (${phase.t}); not routed elsewhere`, {
      regions: [pin.name],
      ...(phase.t === 'ejected' ? { retryAt: phase.until } : {}),
    });
  }

  /**
   * The best region of `plan.allowed` not yet tried: Envoy's pipeline, priority level (spill by
   * over-provisioned health) then region by strategy; the fallback region when no other is
   * healthy; then panic (Envoy `panic_threshold`) over the unhealthy ones — except for a pin,
   * whose whole point is to fail rather than go elsewhere.
   */
  #candidate(plan: RequestPlan, tried: readonly Region[], panic = true): Region | undefined {
    const probing = this.#probing;
    if (plan.pinned) {
      const pin = plan.allowed[0];
      return pin !== undefined && !tried.includes(pin) && pin.selectable(probing) ? pin : undefined;
    }
    const open: Region[] = [];
    const healthy: Region[] = [];
    for (const r of plan.allowed) {
      if (r === this.#fallback || tried.includes(r)) continue;
      open.push(r);
      if (r.selectable(probing)) healthy.push(r);
    }
    if (healthy.length > 0) return this.#pickAmong(healthy, open);
    const fallback = this.#fallback;
    if (fallback !== undefined && plan.allowed.includes(fallback) && !tried.includes(fallback)) {
      if (fallback.selectable(probing)) return fallback;
      open.push(fallback);
    }
    if (!panic) return undefined;
    // Panic: every allowed region is unhealthy; sending to one is better than failing outright.
    const least = lowestCost(open);
    if (least !== undefined) this.#panicked += 1;
    return least;
  }

  #pickAmong(healthy: readonly Region[], open: readonly Region[]): Region | undefined {
    let level = healthy[0]?.priority ?? 0;
    if (this.#levels.length > 1) {
      const levels: number[] = [];
      const counts: LevelHealth[] = [];
      for (const r of open) {
        let i = levels.indexOf(r.priority);
        if (i < 0) {
          i = levels.length;
          levels.push(r.priority);
          counts.push({ healthy: 0, total: 0 });
        }
        const c = counts[i] as { healthy: number; total: number };
        c.total += 1;
        if (r.selectable(this.#probing)) c.healthy += 1;
      }
      const order = levels.map((_, i) => i).sort((a, b) => (levels[a] ?? 0) - (levels[b] ?? 0));
      const loads = priorityLoads(order.map((i) => counts[i] as LevelHealth), this.#o.overProvisioningFactor);
      const picked = loads.filter((l) => l > 0).length > 1 ? pickLevel(loads, this.#o.random.next()) : loads.findIndex((l) => l > 0);
      level = levels[order[picked] ?? 0] ?? level;
    }
    const inLevel = healthy.filter((r) => r.priority === level);
    switch (this.#o.strategy) {
      case 'ordered':
        return inLevel[0];
      case 'p2c':
        return this.#pickP2c(inLevel);
      case 'lowest-latency': {
        const preferred = this.#preferences[this.#levels.indexOf(level)]?.preferred;
        return inLevel.find((r) => r.name === preferred) ?? lowestMeasured(inLevel);
      }
    }
  }

  #pickP2c(regions: readonly Region[]): Region | undefined {
    const now = this.#o.clock.now();
    const tau = this.#o.decayMs;
    const random = this.#o.random;
    return pickP2c(regions, random.next(), random.next(), (r) => readPeakEwma(r.ewma, now, tau));
  }

  // ---------------------------------------------------------------- attempts

  #attempt(plan: RequestPlan, region: Region, attempt: number): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => this.#send(plan, region, attempt, undefined, resolve));
  }

  /**
   * One attempt to one region. Calls `done` exactly once with the response or the classified
   * failure, after feeding the estimator and outlier detection. `hedgeSlot` receives the
   * attempt's handle so a hedge race can cut the loser.
   */
  #send(
    plan: RequestPlan,
    region: Region,
    attempt: number,
    hedgeSlot: ((live: LiveAttempt) => void) | undefined,
    done: (result: AttemptResult) => void,
  ): void {
    const clock = this.#o.clock;
    const start = clock.now();
    let options = plan.inner;
    // The first attempt passes the caller's options through untouched (the overall deadline is
    // its own timeoutMs); later ones get what is left of it.
    if (attempt > 1 && plan.deadline !== undefined) {
      const remaining = plan.deadline - start;
      if (remaining <= 0) {
        const error = new RouterTimeoutError(`request to ${plan.options.path} timed out after ${plan.options.timeoutMs} ms`, {
          timeoutMs: plan.options.timeoutMs,
          attempt,
        });
        done({ t: 'error', region, error, failure: CALLER_FAILURE });
        return;
      }
      options = { ...options, timeoutMs: remaining };
    }
    const timeoutMs = plan.replayable ? this.#o.attemptTimeoutMs : undefined;
    const live = new InFlightAttempt(region, plan.replayable, start, done, this.#cutHook);
    if (hedgeSlot !== undefined || timeoutMs !== undefined) {
      const own = new AbortController();
      live.controller = own;
      const outer = plan.options.signal;
      if (outer !== undefined) {
        const onAbort = (): void => {
          live.callerAborted = true;
          own.abort(outer.reason);
        };
        if (outer.aborted) onAbort();
        else {
          outer.addEventListener('abort', onAbort, { once: true });
          live.unlink = () => outer.removeEventListener('abort', onAbort);
        }
      }
      options = { ...options, signal: own.signal };
    }
    region.pending += 1;
    region.requests += 1;
    region.track(live);
    hedgeSlot?.(live);
    if (timeoutMs !== undefined) live.timer = clock.setTimeout(() => live.cut('attempt-timeout'), timeoutMs);
    let answer: Promise<ResponseData>;
    try {
      answer = region.transport.request(options);
    } catch (error) {
      // A transport that throws instead of rejecting fails like one that rejects, and as late:
      // callers rely on `done` never running inside `#send`.
      queueMicrotask(() => this.#failed(live, error));
      return;
    }
    answer.then(
      (response) => this.#answered(live, response),
      (error: unknown) => this.#failed(live, error),
    );
  }

  #settle(live: InFlightAttempt): void {
    live.settled = true;
    live.region.untrack(live);
    if (live.timer !== undefined) this.#o.clock.clearTimeout(live.timer);
  }

  #answered(live: InFlightAttempt, response: ResponseData): void {
    if (live.settled) {
      dumpQuietly(response);
      return;
    }
    this.#settle(live);
    const now = this.#o.clock.now();
    const region = live.region;
    this.#onResponse(region, response.status, now - live.start, now);
    // The caller's signal must still abort the body stream, so the link lives until it ends.
    if (live.unlink !== undefined) response.body.once('close', live.unlink);
    live.done({ t: 'response', region, response });
  }

  #failed(live: InFlightAttempt, error: unknown): void {
    if (live.settled) return;
    this.#settle(live);
    live.unlink?.();
    const now = this.#o.clock.now();
    const failure = live.callerAborted ? CALLER_FAILURE : classifyFailure(isBerthError(error) ? error.code : undefined);
    this.#onFailure(live.region, failure, now - live.start, now);
    live.done({ t: 'error', region: live.region, error, failure });
  }

  /** Ends a waiting attempt on the router's initiative (see {@link CutCause}); `live` has not settled. */
  #cut(live: InFlightAttempt, cause: CutCause): void {
    this.#settle(live);
    live.unlink?.();
    live.controller?.abort();
    const region = live.region;
    if (cause === 'attempt-timeout') {
      const now = this.#o.clock.now();
      const timeoutMs = this.#o.attemptTimeoutMs;
      const error = new AttemptTimeoutError(`no response head from region ${region.name} within ${timeoutMs} ms`, {
        region: region.name,
        attemptTimeoutMs: timeoutMs,
      });
      const failure = classifyFailure(error.code);
      this.#onFailure(region, failure, now - live.start, now);
      live.done({ t: 'error', region, error, failure });
      return;
    }
    // Ejected or out-raced: the region's health was judged elsewhere. The result goes out on a
    // microtask: the ejection (or the hedge race) that cut it finishes before its failover starts.
    region.pending -= 1;
    const error = new RegionUnavailableError(`region ${region.name} ${cause === 'ejected' ? 'was ejected' : 'lost the hedge race'} while the request waited`, {
      regions: [region.name],
    });
    queueMicrotask(() => live.done({ t: 'error', region, error, failure: REGION_CUT }));
  }

  /**
   * A hedged first attempt ("The Tail at Scale"): if `primary` has not answered after its p95
   * (or `hedge.delayMs`), a copy goes to the next best allowed region, budget permitting; the
   * first good answer wins and the other is aborted (its late response, if any, is dumped).
   * A failure of one waits for the other; both failing returns the primary's failure.
   */
  #hedged(plan: RequestPlan, primary: Region, tried: Region[]): Promise<AttemptResult> {
    const hedge = this.#o.hedge;
    if (hedge === undefined) return this.#attempt(plan, primary, 1);
    creditHedgeBudget(this.#hedgeBudget, hedge.budgetPct);
    const p95 = p95Of(primary.window);
    const delay = hedge.delayMs ?? (p95 === undefined ? undefined : Math.max(hedge.minDelayMs, p95));
    if (delay === undefined) return this.#attempt(plan, primary, 1);
    const clock = this.#o.clock;
    return new Promise<AttemptResult>((resolve) => {
      const slots = new Map<Region, LiveAttempt>();
      let running = 0;
      let settled = false;
      let secondary: Region | undefined;
      let earlierFailure: AttemptResult | undefined;
      const finish = (result: AttemptResult): void => {
        settled = true;
        clock.clearTimeout(timer);
        for (const [region, slot] of slots) if (region !== result.region) slot.cut('hedge-lost');
        if (earlierFailure !== undefined && earlierFailure !== result && earlierFailure.t === 'response') {
          dumpQuietly(earlierFailure.response);
        }
        if (secondary !== undefined) {
          if (result.region === secondary && result.t === 'response') this.#hedgesWon += 1;
          if (channels.hedge.hasSubscribers) {
            const message: GeoHedgeMessage = {
              component: this.#identity,
              primary: primary.name,
              secondary: secondary.name,
              winner: result.region === primary ? 'primary' : 'secondary',
            };
            channels.hedge.publish(message);
          }
        }
        resolve(result);
      };
      const launch = (region: Region, attempt: number): void => {
        running += 1;
        this.#send(plan, region, attempt, (slot) => slots.set(region, slot), (result) => {
          running -= 1;
          if (settled) {
            if (result.t === 'response') dumpQuietly(result.response);
          } else if (result.t === 'response' && !isFailoverStatus(result.response.status)) {
            finish(result);
          } else if (secondary === undefined || running === 0) {
            // Before the hedge fired, a failure goes straight to normal failover; after it,
            // the last failure of the two is the one reported.
            finish(result);
          } else {
            earlierFailure = result;
          }
        });
      };
      launch(primary, 1);
      const timer = clock.setTimeout(() => {
        if (settled || this.#state.t !== 'ready') return;
        // A copy only ever goes to a healthy region: hedging into an ejected one is pure load.
        const second = this.#candidate(plan, tried, false);
        if (second === undefined || !trySpendHedge(this.#hedgeBudget)) return;
        secondary = second;
        tried.push(second);
        if (channels.hedge.hasSubscribers) {
          const message: GeoHedgeMessage = { component: this.#identity, primary: primary.name, secondary: second.name };
          channels.hedge.publish(message);
        }
        launch(second, 2);
      }, delay);
    });
  }

  // ---------------------------------------------------------------- estimates and health

  #onResponse(region: Region, status: number, latencyMs: number, now: number): void {
    region.pending -= 1;
    const ok = status < 500;
    // Peak-EWMA moves toward a sample no higher than the estimate, so the estimate did not rise.
    const notWorse = ok && region.measured && latencyMs <= region.ewma.cost;
    if (ok) {
      region.successes += 1;
      observePeakEwma(region.ewma, latencyMs, now, this.#o.decayMs);
    } else {
      region.errors += 1;
      this.#penalize(region, latencyMs, now);
    }
    // Only good answers set the hedge delay: a fast 503 must not make the p95 look short.
    if (ok) recordLatency(region.window, latencyMs);
    this.#afterOutcome(region, recordOutcome(region.health, ok, this.#o.outlier), now, ok ? latencyMs : undefined, notWorse);
  }

  #onFailure(region: Region, failure: FailureClass, elapsedMs: number, now: number): void {
    region.pending -= 1;
    if (!failure.regionFault) return;
    region.errors += 1;
    this.#penalize(region, elapsedMs, now);
    const verdict = recordOutcome(region.health, false, this.#o.outlier);
    if (failure.ejectNow && verdict.t !== 'eject') this.#afterOutcome(region, { t: 'eject', reason: 'tls-verification' }, now);
    else this.#afterOutcome(region, verdict, now);
  }

  // Linkerd's failure penalty: a failure is a latency peak, so a failing region loses traffic
  // (in p2c at once, in lowest-latency after the hysteresis) before it is ejected. An ejected
  // region is out anyway, and piling penalties on it would only delay its return.
  #penalize(region: Region, elapsedMs: number, now: number): void {
    if (region.health.phase.t === 'ejected') return;
    const base = region.ewma.samples === 0 ? this.#o.defaultRttMs : region.ewma.cost;
    const peak = Math.max(elapsedMs, Math.min(MAX_PENALTY_MS, base * this.#o.failurePenalty));
    observePeakEwma(region.ewma, peak, now, this.#o.decayMs);
  }

  /**
   * `notWorse`: the outcome was a success that did not raise the region's (already measured)
   * estimate. Then the preferred region of its level, with no challenger being timed, stays
   * preferred — every other estimate is unchanged and was not better by the margin — so the
   * cached pick holds and the refresh is skipped: the common request costs no ranking.
   */
  #afterOutcome(region: Region, verdict: OutcomeVerdict, now: number, sampleMs?: number, notWorse = false): void {
    if (verdict.t === 'eject') this.#eject(region, verdict.reason, now);
    else if (verdict.t === 'restore') this.#restore(region, sampleMs, now);
    else if (this.#o.strategy === 'lowest-latency' && !(notWorse && holdsPreference(region))) this.#refresh(undefined, false, now);
    if (channels.estimate.hasSubscribers) {
      const message: GeoEstimateMessage = {
        component: this.#identity,
        regionName: region.name,
        latencyMs: region.costMs,
        pending: region.pending,
        healthy: region.health.phase.t === 'healthy',
      };
      channels.estimate.publish(message);
    }
  }

  #eject(region: Region, reason: EjectReason, now: number): void {
    const phase = region.health.phase.t;
    if (phase === 'ejected' || this.#state.t !== 'ready') return;
    if (phase === 'healthy') {
      let ejected = 0;
      let healthy = 0;
      for (const r of this.#regions) {
        if (r.health.phase.t === 'healthy') healthy += 1;
        else ejected += 1;
      }
      if (!mayEject(ejected, healthy, this.#regions.length, this.#o.outlier)) {
        this.#o.logger.warn('geo-router region failing but not ejected (last healthy region or max ejection reached)', {
          router: this.#o.name,
          region: region.name,
          reason,
        });
        return;
      }
    }
    const durationMs = eject(region.health, reason, now, this.#o.outlier, this.#o.random.next());
    this.#o.logger.warn('geo-router region ejected', { router: this.#o.name, region: region.name, reason, durationMs });
    region.ejectTimer = this.#o.clock.setTimeout(() => this.#endEjection(region), durationMs);
    region.ejectTimer.unref();
    // "A region being ejected" fails over what is still waiting on it, if it may be replayed.
    for (const live of region.waiting()) if (live.replayable) live.cut('ejected');
    if (channels.ejected.hasSubscribers) {
      const message: GeoEjectedMessage = {
        component: this.#identity,
        regionName: region.name,
        reason,
        durationMs,
        ejections: region.health.ejections,
      };
      channels.ejected.publish(message);
    }
    this.#refresh('ejected');
  }

  #endEjection(region: Region): void {
    region.ejectTimer = undefined;
    if (this.#state.t !== 'ready') return;
    startProbation(region.health, this.#o.clock.now());
    if (this.#probing) {
      // Half-open: the next probe decides, and it goes now rather than at the next interval.
      this.#o.clock.clearTimeout(region.probeTimer);
      region.probeTimer = undefined;
      if (region.probeController === undefined) this.#scheduleProbe(region, 0);
    } else {
      this.#refresh(undefined);
    }
  }

  #restore(region: Region, sampleMs: number | undefined, now: number): void {
    restore(region.health);
    // The penalties that led to the ejection describe the outage, not the region now: the
    // success that ended probation is the best estimate there is.
    if (sampleMs !== undefined) {
      region.ewma.cost = sampleMs;
      region.ewma.stamp = now;
    }
    this.#o.logger.info('geo-router region restored', { router: this.#o.name, region: region.name });
    if (channels.restored.hasSubscribers) {
      const message: GeoRestoredMessage = { component: this.#identity, regionName: region.name };
      channels.restored.publish(message);
    }
    this.#refresh('restored');
  }

  /**
   * Recomputes the preferred region of each level, the region unrestricted traffic goes to,
   * and the fast path; publishes `region-switch` when the latter changed.
   */
  #refresh(cause: 'ejected' | 'restored' | undefined, healthChanged = true, now = this.#o.clock.now()): void {
    let top: Region | undefined;
    let topLevelHealthy = 0;
    let topLevelTotal = 0;
    let topHealthy: readonly Region[] = [];
    let faster = false;
    if (healthChanged) {
      this.#levelHealthy = this.#levelRegions.map((inLevel) => inLevel.filter((r) => r.selectable(this.#probing)));
    }
    for (let i = 0; i < this.#levels.length; i += 1) {
      const inLevel = this.#levelRegions[i] as readonly Region[];
      const healthy = this.#levelHealthy[i] as readonly Region[];
      if (this.#o.strategy === 'lowest-latency') {
        const preference = this.#preferences[i] as Preference;
        const change = updatePreference(preference, healthy, now, this.#o.switchMarginPct, this.#o.switchAfterMs);
        if (change === 'faster' && top === undefined) faster = true;
        if (top === undefined && healthy.length > 0) top = this.#byName.get(preference.preferred ?? '');
      } else if (top === undefined && healthy.length > 0 && this.#o.strategy === 'ordered') {
        top = healthy[0];
      }
      if (topLevelTotal === 0 && healthy.length > 0) {
        topHealthy = healthy;
        topLevelHealthy = healthy.length;
        topLevelTotal = inLevel.length;
      }
    }
    let reason: string | undefined;
    const anyHealthy = topLevelTotal > 0;
    if (!anyHealthy) {
      // A healthy region is only ever ejected while another stays healthy, so when no region
      // of any level is, the fallback region is the one.
      top = this.#fallback;
      reason = 'fallback';
    }
    // The fast path holds when the top level keeps all traffic (Envoy spill gives it 100 %).
    const keepsAll = this.#levels.length === 1 || (this.#o.overProvisioningFactor * topLevelHealthy) / Math.max(1, topLevelTotal) >= 1;
    this.#fastPick = this.#o.strategy !== 'p2c' && keepsAll ? top : undefined;
    this.#p2cPool = this.#o.strategy === 'p2c' && anyHealthy && keepsAll ? topHealthy : undefined;
    if (this.#o.strategy === 'p2c' && anyHealthy) top = undefined;
    const previous = this.#current;
    if (top === previous) return;
    this.#current = top;
    if (top === undefined) return;
    reason ??= previous === undefined ? 'initial' : faster ? 'faster' : (cause ?? 'faster');
    this.#o.logger.info('geo-router region switch', { router: this.#o.name, from: previous?.name, to: top.name, reason });
    if (channels.regionSwitch.hasSubscribers) {
      const message: GeoRegionSwitchMessage = { component: this.#identity, from: previous?.name, to: top.name, reason };
      channels.regionSwitch.publish(message);
    }
  }

  /**
   * grpc-go's priority init timeout: a region that was tried (request or probe) but never
   * answered since creation is ejected, and its waiting requests move on. A region nobody
   * tried (probes off, no traffic) is merely unused and stays.
   */
  #checkInit(): void {
    this.#initTimer = undefined;
    const now = this.#o.clock.now();
    for (const region of this.#regions) {
      const tried = region.requests > 0 || region.probes > 0;
      if (tried && region.successes === 0 && region.health.phase.t === 'healthy') this.#eject(region, 'init-timeout', now);
    }
  }

  /** The success-rate sweep, once per `outlier.intervalMs` (Envoy `interval`). */
  #sweep(): void {
    if (this.#state.t !== 'ready') return;
    const verdicts = successRateOutliers(
      this.#regions.map((r) => ({ requests: r.health.windowRequests, failures: r.health.windowFailures })),
      this.#o.outlier,
    );
    const now = this.#o.clock.now();
    this.#regions.forEach((region, i) => {
      const reason = verdicts[i];
      if (reason !== undefined && region.health.phase.t === 'healthy') this.#eject(region, reason, now);
      endWindow(region.health);
    });
  }

  // ---------------------------------------------------------------- probes

  #scheduleProbe(region: Region, baseDelayMs: number): void {
    const probe = this.#o.probe;
    if (probe === undefined || this.#state.t !== 'ready') return;
    const spread = (probe.jitterPct / 100) * baseDelayMs;
    const delay = Math.max(0, baseDelayMs - spread + 2 * spread * this.#o.random.next());
    region.probeTimer = this.#o.clock.setTimeout(() => {
      region.probeTimer = undefined;
      void this.#probe(region);
    }, delay);
    region.probeTimer.unref();
  }

  async #probe(region: Region): Promise<void> {
    const probe = this.#o.probe;
    if (probe === undefined || this.#state.t !== 'ready') return;
    const clock = this.#o.clock;
    const controller = new AbortController();
    region.probeController = controller;
    region.probes += 1;
    const timer = clock.setTimeout(() => controller.abort(), probe.timeoutMs);
    timer.unref();
    const start = clock.now();
    let ok = false;
    let latency = 0;
    try {
      const response = await region.transport.request({
        method: probe.method,
        path: probe.path,
        ...(probe.headers === undefined ? {} : { headers: probe.headers }),
        signal: controller.signal,
        timeoutMs: probe.timeoutMs,
        idempotent: true,
      });
      latency = clock.now() - start;
      ok = response.status < 500;
      dumpQuietly(response);
    } catch {
      latency = clock.now() - start;
    } finally {
      clock.clearTimeout(timer);
      region.probeController = undefined;
    }
    if (this.#state.t !== 'ready') return;
    const now = clock.now();
    if (ok) {
      region.successes += 1;
      observePeakEwma(region.ewma, latency, now, this.#o.decayMs);
      recordLatency(region.window, latency);
    } else {
      region.probeFailures += 1;
      this.#penalize(region, latency, now);
    }
    this.#afterOutcome(region, recordOutcome(region.health, ok, this.#o.outlier), now, ok ? latency : undefined);
    if (region.probeTimer === undefined) this.#scheduleProbe(region, probe.intervalMs);
  }
}

/**
 * Creates a {@link GeoRouter} over one {@link Transport} per region. Validates every option
 * at once (`ERR_BERTH_CONFIG`) and starts probing each region at once unless `probe: false`.
 */
export function createGeoRouter(options: GeoRouterOptions): GeoRouter {
  return new GeoRouter(resolveOptions(options));
}
