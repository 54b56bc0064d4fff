import type { BerthError } from '@berth/core-types';

/** What the pool does after a socket ended. */
export type CloseDecision =
  /** Reconnect after the usual full-jitter backoff. */
  | { readonly action: 'retry' }
  /**
   * Reconnect at once, without backoff (1001 going away: this server instance is draining, a
   * new connection lands on another). Only the first failure after a stable connection (attempt
   * counter at 0) skips the backoff; a flapping endpoint falls back to `retry`.
   */
  | { readonly action: 'retry-now' }
  /** Reconnect, but not before `floorMs` (plus jitter): server restart, overload, `Retry-After`. */
  | { readonly action: 'retry-later'; readonly floorMs: number }
  /** Do not reconnect: the socket goes to `errored` until `reconnect()`. */
  | { readonly action: 'stop' };

/** How a socket ended, as the close classifier sees it. */
export interface CloseInfo {
  /** Close code (RFC 6455 §7.4); 1006 when the connection was lost without a close frame. */
  readonly code: number;
  /** Close reason sent by the peer (UTF-8, may be empty). */
  readonly reason: string;
  /** True when this side started the close (pool close, rotation, lease destroy). */
  readonly byUs: boolean;
  /** HTTP status of a refused opening handshake (e.g. 429, 503). */
  readonly handshakeStatus?: number;
  /** The refused handshake's `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number;
  /** What ended it on our side, when known (handshake timeout, `onOpen` failure, missing pong). */
  readonly error?: BerthError;
}

/** A user override: return a decision, or `undefined` to fall back to {@link classifyClose}. */
export type CloseClassifier = (info: CloseInfo) => CloseDecision | undefined;

/** Settings the default classifier reads. */
export interface ClosePolicy {
  /** Reconnect after 1008 / 4401 / 4403 and handshake 401 / 403 (e.g. the `onOpen` hook refreshes a token). */
  readonly retryOnPolicyClose: boolean;
  /** Floor in milliseconds after 1012 / 1013 / 1014 / 4429 and after 429 / 503 without `Retry-After`. */
  readonly retryLaterMs: number;
}

// Codes whose cause would repeat on a new connection: protocol error, unsupported data,
// invalid payload, message too big, missing extension (RFC 6455 §7.4.1).
const FATAL_CODES = new Set([1002, 1003, 1007, 1009, 1010]);
// Service restart, try again later, bad gateway (IANA WebSocket close code registry).
const LATER_CODES = new Set([1012, 1013, 1014]);
// Policy violation and the de-facto "unauthorized"/"forbidden" application codes
// (graphql-ws uses 4401/4403; enisdenjo/graphql-ws#558 asks to refresh and retry).
const POLICY_CODES = new Set([1008, 4401, 4403]);

/**
 * The default close-code classifier. Unlike reconnecting-websocket and graphql-ws it tells
 * apart going away (1001: redial at once), restart (1012: retry later), overload (1013,
 * 429/503 + `Retry-After`), policy (1008, 4401, 4403) and fatal codes (BasedHardware/omi#5520
 * treated 1012/1013 as plain errors), and it retries a 1000 the server sent (a restart,
 * enisdenjo/graphql-ws#446) but never one we sent.
 *
 * 1001 and 1012 differ on purpose (RFC 6455 §7.4.1, IANA registry): "going away" means this
 * endpoint is leaving (a draining instance behind a load balancer), so another is ready now;
 * "service restart" means the service itself restarts, so an immediate redial would hit it
 * mid-restart and the floor of `retryLaterMs` applies.
 */
export function classifyClose(info: CloseInfo, policy: ClosePolicy): CloseDecision {
  const later: CloseDecision = { action: 'retry-later', floorMs: info.retryAfterMs ?? policy.retryLaterMs };
  const onPolicy: CloseDecision = policy.retryOnPolicyClose ? { action: 'retry' } : { action: 'stop' };
  if (info.handshakeStatus !== undefined) {
    const status = info.handshakeStatus;
    if (status === 429 || status === 503) return later;
    if (status === 401 || status === 403) return onPolicy;
    return status >= 500 ? { action: 'retry' } : { action: 'stop' };
  }
  if (info.byUs) return { action: 'stop' };
  if (info.code === 1001) return { action: 'retry-now' };
  if (LATER_CODES.has(info.code) || info.code === 4429) return later;
  if (POLICY_CODES.has(info.code)) return onPolicy;
  if (FATAL_CODES.has(info.code)) return { action: 'stop' };
  // 4000–4499 mirror HTTP 4xx by convention: the client is at fault, a retry repeats it.
  if (info.code >= 4000 && info.code < 4500) return { action: 'stop' };
  return { action: 'retry' };
}

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns
 * milliseconds from `wallNowMs`, or `undefined` when absent or malformed.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, wallNowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - wallNowMs);
}
