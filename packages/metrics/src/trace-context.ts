import { isSpanContextValid } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';

/** W3C Trace Context header names (https://www.w3.org/TR/trace-context/ §3). */
export const TRACEPARENT = 'traceparent';
/** See {@link TRACEPARENT}. */
export const TRACESTATE = 'tracestate';

/**
 * Writes `traceparent` (and `tracestate` when the span context has one) into `headers`,
 * replacing any case variant already there so the request never carries two.
 *
 * Hand-written rather than `W3CTraceContextPropagator` because that class lives in
 * `@opentelemetry/core`, an SDK package this library must not pull in at runtime; the format
 * is one line of the spec: `version "-" trace-id "-" parent-id "-" trace-flags` (§3.2.2),
 * version `00`. An invalid context (no SDK, no parent) writes nothing, as the spec requires.
 */
export function injectTraceContext(spanContext: SpanContext, headers: Record<string, string | string[]>): void {
  if (!isSpanContextValid(spanContext)) return;
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if ((lower === TRACEPARENT || lower === TRACESTATE) && key !== lower) delete headers[key];
  }
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  headers[TRACEPARENT] = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const state = spanContext.traceState?.serialize();
  if (state !== undefined && state !== '') headers[TRACESTATE] = state;
  else delete headers[TRACESTATE];
}

const TRACEPARENT_FORMAT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * Trace and span id of a `traceparent` value whose `sampled` flag is set (§3.2.2.5), else
 * undefined: an unsampled trace was never recorded, so nothing should link to it.
 */
export function sampledTraceOf(traceparent: unknown): { readonly traceId: string; readonly spanId: string } | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT_FORMAT.exec(traceparent);
  if (match === null || (Number.parseInt(match[3] as string, 16) & 1) === 0) return undefined;
  return { traceId: match[1] as string, spanId: match[2] as string };
}
