import type { BerthEvent, EventError } from './events.js';
import type { CloseReason, ConnectionInfo } from './pool.js';

/** Channels of `@berth/https-pool`. */
export const HTTPS_POOL_CHANNELS = {
  /** {@link ConnectionCreatedMessage} */
  connectionCreated: 'berth:https-pool:connection-created',
  /** {@link ConnectionClosedMessage} */
  connectionClosed: 'berth:https-pool:connection-closed',
  /** {@link ConnectErrorMessage} */
  connectError: 'berth:https-pool:connect-error',
  /** {@link AcquireMessage} */
  acquire: 'berth:https-pool:acquire',
  /** {@link ValidationMessage} */
  validation: 'berth:https-pool:validation',
  /** {@link PoolResizeMessage} */
  resize: 'berth:https-pool:resize',
  /** {@link PoolGaugesMessage} */
  gauges: 'berth:https-pool:gauges',
} as const;

/** A connection finished its handshake and joined the pool. */
export interface ConnectionCreatedMessage extends BerthEvent {
  /** The new connection. */
  readonly connection: ConnectionInfo;
}

/** A connection left the pool. */
export interface ConnectionClosedMessage extends BerthEvent {
  /** Its id. */
  readonly connectionId: string;
  /** Why it was closed. */
  readonly reason: CloseReason;
  /** Its age at close, in milliseconds. */
  readonly ageMs: number;
  /** Requests it carried. */
  readonly requestCount: number;
}

/** Opening a connection failed. */
export interface ConnectErrorMessage extends BerthEvent {
  /** The failure. */
  readonly error: EventError;
  /** Consecutive failures so far, this one included. */
  readonly consecutiveFailures: number;
  /** Milliseconds until the next attempt (backoff with jitter). */
  readonly nextDelayMs: number;
}

/** A caller obtained a connection, or gave up. */
export interface AcquireMessage extends BerthEvent {
  /** `direct`: free at once; `waited`: after a wait; `timeout`: gave up; `rejected`: queue full. */
  readonly outcome: 'direct' | 'waited' | 'timeout' | 'rejected';
  /** Milliseconds waited. */
  readonly waitMs: number;
}

/** A validation request ran on an idle connection. */
export interface ValidationMessage extends BerthEvent {
  /** The connection validated. */
  readonly connectionId: string;
  /** Whether it passed. */
  readonly ok: boolean;
  /** Why it failed: status not accepted, `Connection: close`, error, timeout. */
  readonly reason?: string;
}

/** The live size limit changed. */
export interface PoolResizeMessage extends BerthEvent {
  /** Previous limit. */
  readonly from: number;
  /** New limit. */
  readonly to: number;
}

/** Current gauges, published whenever one of them changes (only when someone listens). */
export interface PoolGaugesMessage extends BerthEvent {
  /** Connections open or opening. */
  readonly size: number;
  /** Idle connections. */
  readonly idle: number;
  /** Busy connections. */
  readonly busy: number;
  /** Connections being opened. */
  readonly connecting: number;
  /** Callers waiting. */
  readonly pending: number;
  /** The live size limit. */
  readonly target: number;
}
