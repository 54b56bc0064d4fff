import type { ErrorCode } from '@berth/core-types';

/**
 * What a failed attempt means for failover and for the region's health.
 * - `caller`: the request itself or its caller ended it (abort, invalid request); never retried.
 * - `unsent`: nothing reached the server (no connection, TLS refused, local queue full, HTTP/2
 *   REFUSED_STREAM which RFC 9113 §8.7 guarantees unprocessed): safe to send elsewhere even when
 *   the request is not idempotent.
 * - `maybe-sent`: the server may have acted on it (reset, timeout, GOAWAY after the stream
 *   started): sent elsewhere only when the request is replayable.
 */
export type FailureKind = 'caller' | 'unsent' | 'maybe-sent';

/** Failover and health facts of one error code. */
export interface FailureClass {
  readonly kind: FailureKind;
  /** Whether the failure counts against the region in outlier detection and its latency estimate. */
  readonly regionFault: boolean;
  /** TLS verification failures eject the region at once (see README, "TLS failures"). */
  readonly ejectNow: boolean;
}

const CALLER: FailureClass = { kind: 'caller', regionFault: false, ejectNow: false };
const UNSENT_FAULT: FailureClass = { kind: 'unsent', regionFault: true, ejectNow: false };
// Local admission decisions (pool full, breaker open, rate limit): another region may take the
// request, but the region's servers did nothing wrong, so its health is left alone.
const UNSENT_LOCAL: FailureClass = { kind: 'unsent', regionFault: false, ejectNow: false };
const TLS_VERIFY: FailureClass = { kind: 'unsent', regionFault: true, ejectNow: true };
const MAYBE_SENT: FailureClass = { kind: 'maybe-sent', regionFault: true, ejectNow: false };

const CLASSES: Partial<Record<ErrorCode, FailureClass>> = {
  ERR_BERTH_ABORTED: CALLER,
  ERR_BERTH_INVALID_REQUEST: CALLER,
  ERR_BERTH_BODY_TOO_LARGE: CALLER,
  ERR_BERTH_CONFIG: CALLER,
  ERR_BERTH_CONNECT_TIMEOUT: UNSENT_FAULT,
  ERR_BERTH_CONNECT_REFUSED: UNSENT_FAULT,
  ERR_BERTH_CONNECT_FAILED: UNSENT_FAULT,
  ERR_BERTH_DNS: UNSENT_FAULT,
  ERR_BERTH_TLS_HANDSHAKE: UNSENT_FAULT,
  ERR_BERTH_CLOSED: UNSENT_FAULT,
  ERR_BERTH_REFUSED_STREAM: UNSENT_FAULT,
  ERR_BERTH_TLS_EXPIRED: TLS_VERIFY,
  ERR_BERTH_TLS_HOSTNAME: TLS_VERIFY,
  ERR_BERTH_TLS_UNTRUSTED: TLS_VERIFY,
  ERR_BERTH_TLS_PIN_MISMATCH: TLS_VERIFY,
  ERR_BERTH_ACQUIRE_TIMEOUT: UNSENT_LOCAL,
  ERR_BERTH_QUEUE_FULL: UNSENT_LOCAL,
  ERR_BERTH_CIRCUIT_OPEN: UNSENT_LOCAL,
  ERR_BERTH_RATE_LIMITED: UNSENT_LOCAL,
  ERR_BERTH_REGION_UNAVAILABLE: UNSENT_LOCAL,
};

/** Classifies a failed attempt by its Berth code; anything unknown is treated as possibly sent. */
export function classifyFailure(code: string | undefined): FailureClass {
  return (code === undefined ? undefined : CLASSES[code as ErrorCode]) ?? MAYBE_SENT;
}

/** Gateway statuses that mean the region, not the request, failed: retried elsewhere when replayable (Envoy `gateway-error`). */
export function isFailoverStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}
