/**
 * Observability contract: every package publishes lifecycle events on `node:diagnostics_channel`
 * channels named `berth:<package>:<event>`, with the message types declared here and in the
 * `events-*.ts` files beside it. `@berth/metrics` subscribes; no functional package imports
 * prom-client or OpenTelemetry.
 *
 * Publishing costs nothing when nobody listens: build the message only behind
 * `channel.hasSubscribers`.
 */

import type { ErrorCode } from './errors.js';
import type { Protocol, RequestTimings } from './request.js';

/** Which kind of component published an event. */
export type ComponentKind =
  | 'https-pool'
  | 'h2-multiplexer'
  | 'ws-pool'
  | 'geo-router'
  | 'adaptive-scaler'
  | 'resilience'
  | 'tls-config';

/** Who published an event; becomes the metric labels `kind`, `name`, `origin`, `region`. */
export interface ComponentIdentity {
  /** The component kind. */
  readonly kind: ComponentKind;
  /** Its name (from options; defaults to its origin). Bounded: never a path or an id. */
  readonly name: string;
  /** The origin it talks to, e.g. `https://api.example.com:443`. */
  readonly origin?: string;
  /** The region it serves, when one was configured. */
  readonly region?: string;
}

/** Fields every event message has. */
export interface BerthEvent {
  /** The publisher. */
  readonly component: ComponentIdentity;
}

/** An error as carried in an event: code and message, never the object (it may hold secrets in `cause`). */
export interface EventError {
  /** The Berth error code. */
  readonly code: ErrorCode;
  /** The error message. */
  readonly message: string;
}

/** Channels published once per request attempt by the leaf transports (https-pool, h2-multiplexer). */
export const REQUEST_CHANNELS = {
  /** {@link RequestStartMessage}: an attempt is about to be sent. Subscribers may add headers. */
  start: 'berth:request:start',
  /** {@link RequestEndMessage}: the attempt's response head arrived, or it failed. */
  end: 'berth:request:end',
} as const;

/**
 * Published before a request attempt is written. `headers` is the live header object that
 * will be sent: a tracer may add `traceparent`/`tracestate` to it (W3C Trace Context).
 */
export interface RequestStartMessage extends BerthEvent {
  /** Unique per process; pairs this message with its {@link RequestEndMessage}. */
  readonly requestId: number;
  /** HTTP method. */
  readonly method: string;
  /** Origin the request goes to, e.g. `https://127.0.0.1:8443`. */
  readonly origin: string;
  /** Path and query. Never use it as a metric label (unbounded). */
  readonly path: string;
  /** Outgoing headers, mutable until the message returns. */
  readonly headers: Record<string, string | string[]>;
  /** Attempt number within the logical request, starting at 1. */
  readonly attempt: number;
  /** Monotonic milliseconds when the attempt started. */
  readonly startedAt: number;
}

/** Published when an attempt got its response head, or failed. */
export interface RequestEndMessage extends BerthEvent {
  /** Same id as the start message. */
  readonly requestId: number;
  /** The start message (same object), so subscribers can keep state keyed on it. */
  readonly start: RequestStartMessage;
  /** HTTP status, when a response head arrived. */
  readonly status?: number;
  /** Protocol used. */
  readonly protocol: Protocol;
  /** Whether the connection had served a request before. */
  readonly reused: boolean;
  /** Connection or session id, when one was assigned. */
  readonly connectionId?: string;
  /** Timings of this attempt. */
  readonly timings: RequestTimings;
  /** The failure, when the attempt failed. */
  readonly error?: EventError;
}
