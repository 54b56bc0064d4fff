import diagnostics from 'node:diagnostics_channel';
import { WS_CHANNELS } from '@berth/core-types';
import type {
  BerthError,
  ComponentIdentity,
  WsBufferMessage,
  WsHeartbeatMessage,
  WsMessageLostMessage,
  WsReconnectMessage,
  WsRotationMessage,
  WsSocketState,
  WsStateMessage,
} from '@berth/core-types';

const stateChannel = diagnostics.channel(WS_CHANNELS.state);
const reconnectChannel = diagnostics.channel(WS_CHANNELS.reconnect);
const lostChannel = diagnostics.channel(WS_CHANNELS.messageLost);
const heartbeatChannel = diagnostics.channel(WS_CHANNELS.heartbeat);
const bufferChannel = diagnostics.channel(WS_CHANNELS.buffer);
const rotationChannel = diagnostics.channel(WS_CHANNELS.rotation);

/**
 * Publishes one pool's events on the `berth:ws:*` channels. Each message is built only when
 * the channel has subscribers, so an unobserved pool pays one property read per event.
 * @internal
 */
export class WsEvents {
  readonly #component: ComponentIdentity;
  /** Messages that left without being written, by reason (counted whether or not anyone listens). */
  readonly lostCounts: Record<WsMessageLostMessage['reason'], number> = {
    'drop-oldest': 0,
    'drop-newest': 0,
    rejected: 0,
    expired: 0,
    closed: 0,
    aborted: 0,
  };
  /** Reconnects scheduled. */
  reconnects = 0;
  /** Rotations completed. */
  rotations = 0;

  constructor(component: ComponentIdentity) {
    this.#component = component;
  }

  /** The publisher identity carried by every message. */
  get component(): ComponentIdentity {
    return this.#component;
  }

  state(socketId: string, from: WsSocketState, to: WsSocketState, closeCode?: number): void {
    if (!stateChannel.hasSubscribers) return;
    const message: WsStateMessage = {
      component: this.#component,
      socketId,
      from,
      to,
      ...(closeCode === undefined ? {} : { closeCode }),
    };
    stateChannel.publish(message);
  }

  reconnect(socketId: string, attempt: number, delayMs: number, closeCode: number, error: BerthError | undefined): void {
    this.reconnects += 1;
    if (!reconnectChannel.hasSubscribers) return;
    const message: WsReconnectMessage = {
      component: this.#component,
      socketId,
      attempt,
      delayMs,
      closeCode,
      ...(error === undefined ? {} : { error: { code: error.code, message: error.message } }),
    };
    reconnectChannel.publish(message);
  }

  lost(reason: WsMessageLostMessage['reason'], bytes: number, channel: string | undefined): void {
    this.lostCounts[reason] += 1;
    if (!lostChannel.hasSubscribers) return;
    const message: WsMessageLostMessage = {
      component: this.#component,
      reason,
      bytes,
      ...(channel === undefined ? {} : { channel }),
    };
    lostChannel.publish(message);
  }

  heartbeat(socketId: string, rttMs: number | undefined, timedOut: boolean): void {
    if (!heartbeatChannel.hasSubscribers) return;
    const message: WsHeartbeatMessage = {
      component: this.#component,
      socketId,
      timedOut,
      ...(rttMs === undefined ? {} : { rttMs }),
    };
    heartbeatChannel.publish(message);
  }

  buffer(messages: number, bytes: number): void {
    if (!bufferChannel.hasSubscribers) return;
    const message: WsBufferMessage = { component: this.#component, messages, bytes };
    bufferChannel.publish(message);
  }

  rotation(oldSocketId: string, newSocketId: string, channelsMoved: number, reason: string): void {
    this.rotations += 1;
    if (!rotationChannel.hasSubscribers) return;
    const message: WsRotationMessage = { component: this.#component, oldSocketId, newSocketId, channelsMoved, reason };
    rotationChannel.publish(message);
  }
}
