import { setMaxListeners } from 'node:events';
import { finished } from 'node:stream';
import { OptionChecker, isBerthError, systemClock } from '@berth/core-types';
import type {
  Clock,
  CloseOptions,
  ComponentIdentity,
  LifecycleState,
  Logger,
  Random,
  RequestOptions,
  ResponseData,
  Transport,
  TransportStats,
} from '@berth/core-types';
import { Bulkhead } from './bulkhead.js';
import type { BulkheadStats, Release } from './bulkhead.js';
import { identity } from './channels.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { BreakerStats } from './circuit-breaker.js';
import { breakerOutcomeOfError } from './classify.js';
import { ResilienceClosedError, ResilienceInternalError } from './errors.js';
import {
  checkBulkheadOptions,
  checkCircuitBreakerOptions,
  checkRateLimiterOptions,
  checkRetryOptions,
} from './options.js';
import type { BulkheadOptions, CircuitBreakerOptions, RateLimiterOptions, RetryOptions } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import type { LimiterStats } from './rate-limiter.js';
import { withMeta } from './response.js';
import { parseRetryAfterMs } from './retry-after.js';
import { RetryPolicy } from './retry-policy.js';
import type { AttemptContext, RetryStats } from './retry-policy.js';
import { openScope } from './scope.js';
import type { RequestScope } from './scope.js';

/**
 * The policies of {@link withResilience}. Each takes options (a policy private to this
 * transport) or a policy instance (shared, e.g. one limiter for every region of a provider),
 * or `false`. Retry and breaker are on by default; limiter and bulkhead only when given.
 */
export interface ResilienceOptions {
  /** Retry with backoff, jitter and budget. Default on with {@link RetryOptions} defaults. */
  readonly retry?: RetryPolicy | RetryOptions | false;
  /** Circuit breaker per key. Default on with {@link CircuitBreakerOptions} defaults. */
  readonly breaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Token-bucket rate limiter per key. Default off. */
  readonly limiter?: RateLimiter | RateLimiterOptions | false;
  /** Concurrency cap per key. Default off. */
  readonly bulkhead?: Bulkhead | BulkheadOptions | false;
  /**
   * The policy key of a request. Default: the transport's origin (or name), plus `|region`
   * when the request or these options name a region, so each (origin, region) has its own
   * breaker, bucket and budget.
   */
  readonly key?: (request: RequestOptions) => string;
  /** Name in stats and events. Default: the wrapped transport's name. */
  readonly name?: string;
  /** Origin in events. Default: the wrapped transport's origin. */
  readonly origin?: string;
  /** Region this transport serves (events, default key). Default: none. */
  readonly region?: string;
  /** Time source for the policies created here. Default the process clock. */
  readonly clock?: Clock;
  /** Jitter source for the retry policy created here. Default `Math.random`. */
  readonly random?: Random;
  /** Logger for the breaker and limiter created here. Default silent. */
  readonly logger?: Logger;
}

/** Stats of a resilient transport: its own counters, the wrapped transport's, and each policy's. */
export interface ResilienceStats extends TransportStats {
  /** Always `resilience`. */
  readonly kind: 'resilience';
  /** The wrapped transport's snapshot. */
  readonly inner: TransportStats;
  /** Retry counters, when retry is on. */
  readonly retry?: RetryStats;
  /** Breaker state per key, when a breaker is on. */
  readonly breaker?: BreakerStats;
  /** Limiter state per key, when a limiter is on. */
  readonly limiter?: LimiterStats;
  /** Bulkhead places per key, when a bulkhead is on. */
  readonly bulkhead?: BulkheadStats;
}

interface Policies {
  readonly retry: RetryPolicy | undefined;
  readonly breaker: CircuitBreaker | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly bulkhead: Bulkhead | undefined;
}

/**
 * A {@link Transport} that runs each request through bulkhead → retry → (per attempt)
 * breaker → rate limiter → the wrapped transport.
 * - The bulkhead is outermost so a request waiting in backoff keeps its place: concurrency
 *   stays bounded whatever the retries do.
 * - The breaker is checked before the limiter so an open circuit costs no token.
 * - Each attempt takes its own token: the upstream's limit counts attempts, not requests.
 */
export class ResilientTransport implements Transport {
  readonly #inner: Transport;
  readonly #policies: Policies;
  readonly #clock: Clock;
  readonly #name: string;
  readonly #origin: string | undefined;
  readonly #baseKey: string;
  readonly #keyOf: ((request: RequestOptions) => string) | undefined;
  readonly #region: string | undefined;
  // One listener per in-flight request waits on this signal (removed when the request settles),
  // so any concurrency above Node's default of 10 listeners is normal here, not a leak.
  readonly #closing = unlimitedListeners(new AbortController());
  #state: LifecycleState = 'ready';
  #closed: Promise<void> | undefined;
  #requests = 0;
  #inFlight = 0;
  #queued = 0;
  #errors = 0;

  /** @internal use {@link withResilience}. */
  constructor(
    inner: Transport,
    policies: Policies,
    settings: { clock: Clock; name: string; origin: string | undefined; region: string | undefined; key: ((r: RequestOptions) => string) | undefined },
  ) {
    this.#inner = inner;
    this.#policies = policies;
    this.#clock = settings.clock;
    this.#name = settings.name;
    this.#origin = settings.origin;
    this.#region = settings.region;
    this.#baseKey = settings.origin ?? settings.name;
    this.#keyOf = settings.key;
  }

  /** Sends `request` through the policies. Rejects only with Berth errors. */
  async request(request: RequestOptions): Promise<ResponseData> {
    if (this.#state !== 'ready') throw new ResilienceClosedError(`resilient transport ${this.#name} is ${this.#state}`);
    const { retry, bulkhead } = this.#policies;
    const started = this.#clock.now();
    const key = this.#key(request);
    const scope = openScope(this.#clock, request.signal, this.#closing.signal, request.timeoutMs ?? retry?.options.deadlineMs);
    this.#requests += 1;
    this.#inFlight += 1;
    let release: Release | undefined;
    const waited = { ms: 0 };
    try {
      if (bulkhead !== undefined) {
        const t0 = this.#clock.now();
        this.#queued += 1;
        try {
          release = await bulkhead.acquire(key, scope.signal);
        } finally {
          this.#queued -= 1;
        }
        waited.ms += this.#clock.now() - t0;
      }
      const send = (context: AttemptContext): Promise<ResponseData> => this.#attempt(key, request, context, waited);
      const response =
        retry === undefined
          ? await send({ attempt: 1, signal: scope.signal, ...(scope.deadlineAt === undefined ? {} : { timeoutMs: scope.deadlineAt - started }) })
          : await retry.execute(key, request, send, scope);
      scope.settle();
      const bodyDone = this.#onceBodyDone(release, scope);
      const result = withMeta(
        response,
        {
          // Without a retry policy this layer made exactly one attempt, whatever the inner transport reports.
          ...(retry === undefined ? { attempts: 1 } : {}),
          timings: { ...response.meta.timings, queuedMs: response.meta.timings.queuedMs + waited.ms, totalMs: this.#clock.now() - started },
        },
        bodyDone,
      );
      // The request holds its bulkhead place until the body is consumed or destroyed: a streamed
      // model answer is the long part of the work the upstream does.
      const cleanup = finished(response.body, () => {
        cleanup();
        bodyDone();
      });
      return result;
    } catch (error) {
      scope.dispose();
      release?.();
      this.#inFlight -= 1;
      this.#errors += 1;
      // A transport told to stop by our signal reports its own ERR_BERTH_ABORTED; when the
      // signal fired for the deadline or for close, that is what the caller must see.
      const reason: unknown = scope.signal.aborted ? scope.signal.reason : undefined;
      if (isBerthError(error) && error.code === 'ERR_BERTH_ABORTED' && isBerthError(reason) && reason.code !== 'ERR_BERTH_ABORTED') throw reason;
      if (isBerthError(error)) throw error;
      throw new ResilienceInternalError(`transport ${this.#name} failed with a non-Berth error: ${String(error)}`, { cause: error });
    }
  }

  /** Snapshot: this transport's counters, the wrapped transport's, and each policy's per key. */
  stats(): ResilienceStats {
    const { retry, breaker, limiter, bulkhead } = this.#policies;
    const inner = this.#inner.stats();
    return {
      kind: 'resilience',
      name: this.#name,
      ...(this.#origin === undefined ? {} : { origin: this.#origin }),
      state: this.#state,
      requests: this.#requests,
      inFlight: this.#inFlight,
      queued: this.#queued,
      errors: this.#errors,
      inner,
      ...(retry === undefined ? {} : { retry: retry.stats() }),
      ...(breaker === undefined ? {} : { breaker: breaker.stats() }),
      ...(limiter === undefined ? {} : { limiter: limiter.stats() }),
      ...(bulkhead === undefined ? {} : { bulkhead: bulkhead.stats() }),
    };
  }

  /**
   * Refuses new requests, ends requests waiting in a policy (bulkhead queue, backoff, token
   * wait) with `ERR_BERTH_CLOSED`, then closes the wrapped transport, which finishes its
   * in-flight requests up to `deadlineMs`. Idempotent.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#state = 'draining';
    this.#closing.abort(new ResilienceClosedError(`resilient transport ${this.#name} was closed`));
    this.#closed = this.#inner.close(options).finally(() => {
      this.#state = 'closed';
    });
    return this.#closed;
  }

  async #attempt(key: string, request: RequestOptions, context: AttemptContext, waited: { ms: number }): Promise<ResponseData> {
    const { breaker, limiter } = this.#policies;
    const permit = breaker === undefined ? undefined : await breaker.admit(key);
    if (limiter !== undefined) {
      this.#queued += 1;
      try {
        waited.ms += await limiter.acquire(key, context.signal);
      } catch (error) {
        await permit?.report('ignore');
        throw error;
      } finally {
        this.#queued -= 1;
      }
    }
    let response: ResponseData;
    try {
      response = await this.#inner.request({
        ...request,
        signal: context.signal,
        ...(context.timeoutMs === undefined ? {} : { timeoutMs: context.timeoutMs }),
      });
    } catch (error) {
      // When our own signal ended the attempt, its reason (attempt timeout, deadline, caller abort) is what happened.
      await permit?.report(breakerOutcomeOfError(context.signal.aborted ? context.signal.reason : error));
      throw error;
    }
    if (response.status === 429 && limiter !== undefined) {
      await limiter.throttled(key, parseRetryAfterMs(response.headers['retry-after'], this.#clock.wallNow()));
    }
    await permit?.report(breaker?.isFailureStatus(response.status) === true ? 'failure' : 'success');
    return response;
  }

  #key(request: RequestOptions): string {
    if (this.#keyOf !== undefined) return this.#keyOf(request);
    const region = request.region ?? this.#region;
    return region === undefined ? this.#baseKey : `${this.#baseKey}|${region}`;
  }

  #onceBodyDone(release: Release | undefined, scope: RequestScope): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      scope.dispose();
      this.#inFlight -= 1;
      release?.();
    };
  }
}

/**
 * Wraps `transport` in retry, circuit breaker, rate limiter and bulkhead policies and returns
 * a {@link Transport}. The wrapper owns `transport`: closing it closes the wrapped one. Throws
 * `ERR_BERTH_CONFIG` listing every bad option of every policy at once.
 *
 * @example
 * const api = withResilience(pool, {
 *   retry: { maxAttempts: 3 },
 *   breaker: { consecutiveFailures: 5, halfOpenProbes: 3 },
 *   limiter: { ratePerSec: 50, burst: 10 },
 *   bulkhead: { maxConcurrent: 32, maxQueued: 100 },
 * });
 */
export function withResilience(transport: Transport, options: ResilienceOptions = {}): ResilientTransport {
  const c = new OptionChecker('resilience');
  const clockOk = options.clock === undefined || typeof options.clock.now === 'function';
  c.expect(clockOk, 'clock', 'a Clock', options.clock);
  c.expect(options.random === undefined || typeof options.random.next === 'function', 'random', 'a Random', options.random);
  c.expect(options.key === undefined || typeof options.key === 'function', 'key', 'a function (request) => string', options.key);
  const clock = clockOk ? (options.clock ?? systemClock) : systemClock;
  const inner = transport.stats();
  const name = c.string('name', options.name, inner.name);
  const origin = c.string('origin', options.origin, inner.origin);
  const region = c.string('region', options.region, undefined);
  const component: ComponentIdentity = identity(name, origin, region);
  const shared = { clock, ...(options.random === undefined ? {} : { random: options.random }) };
  const logged = options.logger === undefined ? {} : { logger: options.logger };

  const retry = policy(c, 'retry', options.retry, RetryPolicy, {}, (input) => new RetryPolicy(checkRetryOptions(c, 'retry.', { ...shared, ...input }), component));
  const breaker = policy(c, 'breaker', options.breaker, CircuitBreaker, {}, (input: CircuitBreakerOptions) =>
    new CircuitBreaker(checkCircuitBreakerOptions(c, 'breaker.', { ...logged, clock, ...input }), component),
  );
  const limiter = policy(c, 'limiter', options.limiter, RateLimiter, undefined, (input: RateLimiterOptions) =>
    new RateLimiter(checkRateLimiterOptions(c, 'limiter.', { ...logged, clock, ...input }), component),
  );
  const bulkhead = policy(c, 'bulkhead', options.bulkhead, Bulkhead, undefined, (input) => new Bulkhead(checkBulkheadOptions(c, 'bulkhead.', input), component));
  c.done();
  return new ResilientTransport(
    transport,
    { retry, breaker, limiter, bulkhead },
    { clock, name, origin, region, key: options.key },
  );
}

function policy<P, I extends object>(
  c: OptionChecker,
  path: string,
  value: P | I | false | undefined,
  type: abstract new (...args: never[]) => P,
  fallback: I | undefined,
  create: (input: I) => P,
): P | undefined {
  if (value === false) return undefined;
  if (value instanceof type) return value;
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    c.problem(path, `a ${type.name}, its options, or false`, value);
    return undefined;
  }
  const input = (value ?? fallback) as I | undefined;
  return input === undefined ? undefined : create(input);
}

function unlimitedListeners(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
