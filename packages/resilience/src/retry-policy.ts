import { IDEMPOTENT_METHODS } from '@berth/core-types';
import type { ComponentIdentity, RequestOptions, ResponseData, RetryMessage } from '@berth/core-types';
import { fullJitterMs } from './backoff.js';
import { channels, eventError, identity } from './channels.js';
import { isRetryableError } from './classify.js';
import { ResilienceTimeoutError } from './errors.js';
import { checkRetryOptions, resolveOptions } from './options.js';
import type { ResolvedRetryOptions, RetryOptions } from './options.js';
import { withMeta } from './response.js';
import { parseRetryAfterMs } from './retry-after.js';
import { RetryBudget } from './retry-budget.js';
import { sleep } from './sleep.js';

/** What one attempt is given by {@link RetryPolicy.execute}. */
export interface AttemptContext {
  /** Attempt number, from 1. */
  readonly attempt: number;
  /** Aborts when the caller gives up, the overall deadline passes, or this attempt times out. */
  readonly signal: AbortSignal;
  /** Milliseconds left for this attempt (attempt timeout or what remains of the deadline), when bounded. */
  readonly timeoutMs?: number;
}

/** Where a request stands while {@link RetryPolicy.execute} runs it. */
export interface RetryScope {
  /** Aborts everything (caller, deadline, close); its reason is what the caller gets. */
  readonly signal?: AbortSignal;
  /** Overall deadline, monotonic ms of the policy's clock. */
  readonly deadlineAt?: number;
  /** The timeout the deadline came from, ms (for the error message). */
  readonly timeoutMs?: number;
}

/** Snapshot of a {@link RetryPolicy}. */
export interface RetryStats {
  /** Logical requests run. */
  readonly requests: number;
  /** Retries made (attempts beyond the first). */
  readonly retries: number;
  /** Retries refused by the retry budget. */
  readonly deniedByBudget: number;
  /** Requests whose last allowed attempt still failed (`maxAttempts` reached). */
  readonly exhausted: number;
  /** Retryable failures not retried because the request was not idempotent or its body not replayable. */
  readonly notReplayable: number;
}

type Outcome = { readonly response: ResponseData } | { readonly error: unknown };

const MAX_BUDGET_KEYS = 10_000;

/**
 * True when repeating `request` is safe: an idempotent method (RFC 9110 §9.2.2) or
 * `idempotent: true`, and a body that can be sent again (none, a string or bytes — a stream is
 * consumed by the first attempt). `idempotent: false` forbids replay even for a GET.
 */
export function isReplayable(request: RequestOptions): boolean {
  const method = (request.method ?? 'GET').toUpperCase();
  const idempotent = request.idempotent ?? IDEMPOTENT_METHODS.has(method);
  const body = request.body;
  return idempotent && (body === undefined || typeof body === 'string' || body instanceof Uint8Array);
}

/**
 * Retries with capped exponential backoff and full jitter, only what is safe to replay and only
 * on retryable outcomes, honours `Retry-After` (capped), stops at the overall deadline, and
 * spends from a per-key retry budget so retries never multiply an outage.
 * Beats the anchors: undici's retry handler has no jitter and no budget; cockatiel's
 * `retry()` has no HTTP semantics and no budget.
 */
export class RetryPolicy {
  readonly #options: ResolvedRetryOptions;
  readonly #identity: ComponentIdentity;
  readonly #budgets = new Map<string, RetryBudget>();
  #requests = 0;
  #retries = 0;
  #deniedByBudget = 0;
  #exhausted = 0;
  #notReplayable = 0;

  /** @internal use {@link createRetryPolicy}. */
  constructor(options: ResolvedRetryOptions, component?: ComponentIdentity) {
    this.#options = options;
    this.#identity = component ?? identity(options.name);
  }

  /** The resolved options (clock, timeouts) for composing policies. */
  get options(): ResolvedRetryOptions {
    return this.#options;
  }

  /**
   * Runs `request` through `send` (one call per attempt) with retries. Resolves with the final
   * response (`meta.attempts` set); a retryable status that could not be retried is returned
   * as is. Rejects with the final error, or with `scope.signal`'s reason.
   */
  async execute(
    key: string,
    request: RequestOptions,
    send: (context: AttemptContext) => Promise<ResponseData>,
    scope: RetryScope = {},
  ): Promise<ResponseData> {
    const o = this.#options;
    const replayable = isReplayable(request);
    const budget = this.#budgetOf(key);
    budget?.deposit();
    this.#requests += 1;
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#attempt(send, attempt, scope);
      let retryAfterMs: number | undefined;
      if ('response' in outcome) {
        if (!o.retryStatuses.has(outcome.response.status)) return withMeta(outcome.response, { attempts: attempt });
        retryAfterMs = parseRetryAfterMs(outcome.response.headers['retry-after'], o.clock.wallNow());
      } else if (!isRetryableError(outcome.error)) {
        throw outcome.error;
      }
      if (!replayable) {
        this.#notReplayable += 1;
        return settle(outcome, attempt);
      }
      if (attempt >= o.maxAttempts) {
        this.#exhausted += 1;
        return settle(outcome, attempt);
      }
      let delayMs = fullJitterMs(o.baseDelayMs, o.maxDelayMs, attempt - 1, o.random);
      if (retryAfterMs !== undefined) {
        // A server asking for longer than we accept to wait gets its answer back, not an early retry.
        if (retryAfterMs > o.maxRetryAfterMs) return settle(outcome, attempt);
        delayMs = Math.max(delayMs, retryAfterMs);
      }
      if (scope.deadlineAt !== undefined && o.clock.now() + delayMs >= scope.deadlineAt) {
        // A response (a 503) tells the caller more than a timeout would; an error becomes the deadline's error.
        if ('error' in outcome) throw deadlineError(scope, outcome.error);
        return settle(outcome, attempt);
      }
      if (budget !== undefined && !budget.tryWithdraw()) {
        this.#deniedByBudget += 1;
        return settle(outcome, attempt);
      }
      this.#retries += 1;
      if ('response' in outcome) {
        // Free the connection for reuse; the body of a 503 is of no interest.
        outcome.response.dump().catch(() => {});
      }
      if (channels.retry.hasSubscribers) {
        channels.retry.publish({
          component: this.#identity,
          key,
          attempt: attempt + 1,
          delayMs,
          ...('response' in outcome ? { status: outcome.response.status } : { error: eventError(outcome.error) }),
        } satisfies RetryMessage);
      }
      await sleep(o.clock, delayMs, scope.signal);
    }
  }

  /** Snapshot. */
  stats(): RetryStats {
    return {
      requests: this.#requests,
      retries: this.#retries,
      deniedByBudget: this.#deniedByBudget,
      exhausted: this.#exhausted,
      notReplayable: this.#notReplayable,
    };
  }

  /** Retries the budget of `key` allows right now (`Infinity` without a budget). */
  budgetBalance(key: string): number {
    return this.#budgetOf(key)?.balance() ?? Number.POSITIVE_INFINITY;
  }

  async #attempt(send: (context: AttemptContext) => Promise<ResponseData>, attempt: number, scope: RetryScope): Promise<Outcome> {
    const o = this.#options;
    const remaining = scope.deadlineAt === undefined ? undefined : scope.deadlineAt - o.clock.now();
    const timeoutMs =
      o.attemptTimeoutMs === undefined ? remaining : remaining === undefined ? o.attemptTimeoutMs : Math.min(remaining, o.attemptTimeoutMs);
    const controller = new AbortController();
    const parent = scope.signal;
    const onParentAbort = (): void => controller.abort(parent?.reason);
    if (parent?.aborted === true) throw parent.reason;
    parent?.addEventListener('abort', onParentAbort, { once: true });
    const attemptTimeout = o.attemptTimeoutMs;
    const timer =
      attemptTimeout === undefined
        ? undefined
        : o.clock.setTimeout(() => {
            controller.abort(
              new ResilienceTimeoutError(`attempt ${attempt} got no response head within attemptTimeoutMs ${attemptTimeout}`, {
                timeoutMs: attemptTimeout,
                scope: 'attempt',
              }),
            );
          }, attemptTimeout);
    try {
      const response = await send({ attempt, signal: controller.signal, ...(timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, timeoutMs) }) });
      // The parent link stays: the caller may still abort while the body streams. It dies with the request's scope.
      return { response };
    } catch (error) {
      parent?.removeEventListener('abort', onParentAbort);
      // The scope's reason (deadline, close, caller abort) wins over however the transport reported the abort.
      if (isAborted(parent)) throw parent.reason;
      if (controller.signal.aborted) return { error: controller.signal.reason };
      return { error };
    } finally {
      o.clock.clearTimeout(timer);
    }
  }

  #budgetOf(key: string): RetryBudget | undefined {
    const options = this.#options.budget;
    if (options === false) return undefined;
    let budget = this.#budgets.get(key);
    if (budget === undefined) {
      budget = new RetryBudget(options, this.#options.clock);
      this.#budgets.set(key, budget);
      if (this.#budgets.size > MAX_BUDGET_KEYS) {
        const oldest = this.#budgets.keys().next().value;
        if (oldest !== undefined) this.#budgets.delete(oldest);
      }
    }
    return budget;
  }
}

function deadlineError(scope: RetryScope, cause: unknown): ResilienceTimeoutError {
  const last = cause instanceof Error ? cause.message : String(cause);
  return new ResilienceTimeoutError(
    `request did not complete within its deadline of ${scope.timeoutMs ?? '?'} ms; no time left to retry after: ${last}`,
    { cause, timeoutMs: scope.timeoutMs ?? Number.NaN, scope: 'deadline' },
  );
}

// A function, not an inline check, because TypeScript keeps the narrowing from before the await.
function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

function settle(outcome: Outcome, attempts: number): ResponseData {
  if ('response' in outcome) return withMeta(outcome.response, { attempts });
  throw outcome.error;
}

/**
 * Creates a {@link RetryPolicy}. Throws `ERR_BERTH_CONFIG` listing every bad option.
 *
 * @example
 * const retry = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5_000 });
 * const res = await retry.execute(origin, req, ({ signal, timeoutMs }) => pool.request({ ...req, signal, ...(timeoutMs ? { timeoutMs } : {}) }));
 */
export function createRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(resolveOptions('retry', options, checkRetryOptions));
}
