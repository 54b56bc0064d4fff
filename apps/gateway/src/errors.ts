import { isBerthError } from '@berth/core-types';
import type { ErrorCode } from '@berth/core-types';

/**
 * HTTP status for a Berth error code. The split follows what the client can do about it:
 * 4xx for its own request, 502 when the upstream answered badly or could not be reached,
 * 503 when Berth itself holds the request back (breaker open, no region, closing), 504 for
 * every deadline.
 */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case 'ERR_BERTH_INVALID_REQUEST':
      return 400;
    case 'ERR_BERTH_BODY_TOO_LARGE':
      return 413;
    case 'ERR_BERTH_ABORTED':
      // nginx's "client closed request": logged, never seen by the client that left.
      return 499;
    case 'ERR_BERTH_TIMEOUT':
    case 'ERR_BERTH_HEADERS_TIMEOUT':
    case 'ERR_BERTH_BODY_TIMEOUT':
    case 'ERR_BERTH_CONNECT_TIMEOUT':
    case 'ERR_BERTH_ACQUIRE_TIMEOUT':
    case 'ERR_BERTH_PING_TIMEOUT':
      return 504;
    case 'ERR_BERTH_CIRCUIT_OPEN':
    case 'ERR_BERTH_REGION_UNAVAILABLE':
    case 'ERR_BERTH_QUEUE_FULL':
    case 'ERR_BERTH_RATE_LIMITED':
    case 'ERR_BERTH_CLOSED':
      return 503;
    case 'ERR_BERTH_CONFIG':
    case 'ERR_BERTH_INTERNAL':
      return 500;
    default:
      return 502;
  }
}

/** A refusal or failure as the gateway reports it: status, Berth code, message. */
export interface GatewayFailure {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Maps anything thrown while forwarding to a {@link GatewayFailure}; non-Berth errors are internal. */
export function failureOf(error: unknown): GatewayFailure {
  if (isBerthError(error)) return { status: statusForCode(error.code), code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, code: 'ERR_BERTH_INTERNAL', message };
}
