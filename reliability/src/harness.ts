import { performance } from 'node:perf_hooks';
import { isBerthError } from '@berth/core-types';
import type { Clock, RequestOptions, ResponseData, TimerHandle } from '@berth/core-types';

/**
 * What a burst of concurrent operations came to on the client side: how many succeeded and,
 * for the failures, how many of each `BerthError` code. A failure that is not a BerthError is
 * counted under `NOT_BERTH:<name>: <message>` so an assertion on the codes shows it.
 */
export interface Tally {
  /** Operations that completed. */
  readonly succeeded: number;
  /** Failures by code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Wall-clock milliseconds from the first start to the last settlement. */
  readonly elapsedMs: number;
}

/** The code a failure is counted under. */
export function codeOf(error: unknown): string {
  if (isBerthError(error)) return error.code;
  const e = error as { name?: unknown; message?: unknown };
  return `NOT_BERTH:${String(e.name)}: ${String(e.message)}`;
}

/** Runs `count` operations at once and tallies how they settled. */
export async function burst(count: number, operation: (index: number) => Promise<unknown>): Promise<Tally> {
  const started = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: count }, (_, i) => operation(i)));
  const failed: Record<string, number> = {};
  let succeeded = 0;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') succeeded += 1;
    else {
      const code = codeOf(outcome.reason);
      failed[code] = (failed[code] ?? 0) + 1;
    }
  }
  const tally = { succeeded, failed } as Tally;
  // Not enumerable, so `toEqual({ succeeded, failed })` compares the counts alone.
  Object.defineProperty(tally, 'elapsedMs', { value: performance.now() - started, enumerable: false });
  return tally;
}

/** Something that serves requests: a pool, a router, the facade. */
export interface Requester {
  request(options: RequestOptions): Promise<ResponseData>;
}

/**
 * One full exchange: request, read the whole body, and return the body. A failure while the
 * body streams counts as a failure of the exchange, as it does for a caller.
 */
export async function exchange(client: Requester, options: RequestOptions): Promise<string> {
  const response = await client.request(options);
  return response.text();
}

/** How many times the server saw each value of the `x-id` request header. */
export function idsSeen(requests: readonly { readonly headers: Readonly<Record<string, unknown>> }[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const request of requests) {
    const id = request.headers['x-id'];
    if (typeof id === 'string') seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

/** A per-request testkit behaviour, sent in the `x-berth-behaviour` header. */
export function behaviourHeader(behaviour: Readonly<Record<string, unknown>>): Record<string, string> {
  return { 'x-berth-behaviour': JSON.stringify(behaviour) };
}

/** A process clock that also counts the timers its users have pending (ref'd or not). */
export interface CountingClock extends Clock {
  /** Timeouts not yet fired or cleared, plus intervals not yet cleared. */
  pending(): number;
}

/**
 * Wraps the process clock and counts live timers. `process.getActiveResourcesInfo()` only
 * lists timers that keep the loop alive, so an unref'd interval left behind by `close()` shows
 * up here and nowhere else.
 */
export function countingClock(): CountingClock {
  const live = new Set<TimerHandle>();
  const clear = (handle: TimerHandle | undefined) => {
    if (handle === undefined) return;
    live.delete(handle);
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  };
  return {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    setTimeout(fn, ms) {
      const handle: TimerHandle = globalThis.setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout: clear,
    setInterval(fn, ms) {
      const handle: TimerHandle = globalThis.setInterval(fn, ms);
      live.add(handle);
      return handle;
    },
    clearInterval: clear,
    pending: () => live.size,
  };
}

/** Counts of every active resource type (`process.getActiveResourcesInfo()`). */
export function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/**
 * Active resources beyond `baseline`, polled until none are left or `timeoutMs` passes (sockets
 * finish closing a tick or two after `close()` resolves). Returns what is left, e.g. `['1 TLSWrap']`.
 */
export async function extraResources(baseline: ReadonlyMap<string, number>, timeoutMs = 2000): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const extra: string[] = [];
    for (const [type, count] of resourceCounts()) {
      const more = count - (baseline.get(type) ?? 0);
      if (more > 0) extra.push(`${more} ${type}`);
    }
    if (extra.length === 0 || performance.now() > deadline) return extra;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
