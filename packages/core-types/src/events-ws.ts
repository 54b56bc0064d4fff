import type { BerthEvent, EventError } from './events.js';

/**
 * States of one pooled WebSocket: `connecting → open → ready` (after the `onOpen` hook),
 * `closing → closed`, `backoff` between attempts, `errored` after `maxRetries`.
 */
export type WsSocketState = 'connecting' | 'open' | 'ready' | 'closing' | 'closed' | 'backoff' | 'errored';

/** Channels of `@berth/ws-pool`. */
export const WS_CHANNELS = {
  /** {@link WsStateMessage} */
  state: 'berth:ws:state',
  /** {@link WsReconnectMessage} */
  reconnect: 'berth:ws:reconnect',
  /** {@link WsMessageLostMessage} */
  messageLost: 'berth:ws:message-lost',
  /** {@link WsHeartbeatMessage} */
  heartbeat: 'berth:ws:heartbeat',
  /** {@link WsBufferMessage} */
  buffer: 'berth:ws:buffer',
  /** {@link WsRotationMessage} */
  rotation: 'berth:ws:rotation',
} as const;

/** A socket changed state. */
export interface WsStateMessage extends BerthEvent {
  /** Socket id. */
  readonly socketId: string;
  /** Previous state. */
  readonly from: WsSocketState;
  /** New state. */
  readonly to: WsSocketState;
  /** Close code, when the change was caused by a close (RFC 6455 §7.4). */
  readonly closeCode?: number;
}

/** A reconnect was scheduled. */
export interface WsReconnectMessage extends BerthEvent {
  /** Socket id. */
  readonly socketId: string;
  /** Attempt number since the last stable connection. */
  readonly attempt: number;
  /** Milliseconds until the attempt (full jitter). */
  readonly delayMs: number;
  /** Close code that ended the previous connection (1006 when it was lost without a close frame). */
  readonly closeCode: number;
  /** The handshake or socket failure, if any. */
  readonly error?: EventError;
}

/** A message was not delivered and its sender was told. Never silent. */
export interface WsMessageLostMessage extends BerthEvent {
  /** Why: dropped by the overflow policy, expired (TTL), the pool closed, or the sender aborted it (its `AbortSignal`). */
  readonly reason: 'drop-oldest' | 'drop-newest' | 'rejected' | 'expired' | 'closed' | 'aborted';
  /** Channel name, when the message belonged to one. */
  readonly channel?: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** A ping round trip completed, or the pong never came. */
export interface WsHeartbeatMessage extends BerthEvent {
  /** Socket id. */
  readonly socketId: string;
  /** Round trip in milliseconds; absent when it timed out. */
  readonly rttMs?: number;
  /** True when the socket is being terminated for a missing pong. */
  readonly timedOut: boolean;
}

/** The send buffer changed. */
export interface WsBufferMessage extends BerthEvent {
  /** Messages buffered. */
  readonly messages: number;
  /** Bytes buffered. */
  readonly bytes: number;
}

/** A socket was replaced make-before-break. */
export interface WsRotationMessage extends BerthEvent {
  /** The socket retired. */
  readonly oldSocketId: string;
  /** Its replacement. */
  readonly newSocketId: string;
  /** Channels moved. */
  readonly channelsMoved: number;
  /** Why: `max-age`, a server restart code (1001/1012), or a manual request. */
  readonly reason: string;
}
