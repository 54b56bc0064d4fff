import {
  ALL_CHANNELS,
  GEO_CHANNELS,
  H2_CHANNELS,
  HTTPS_POOL_CHANNELS,
  REQUEST_CHANNELS,
  RESILIENCE_CHANNELS,
  SCALER_CHANNELS,
  TLS_CHANNELS,
  WS_CHANNELS,
} from '@berth/core-types';
import type {
  BreakerStateMessage,
  H2GoawayMessage,
  H2PingMessage,
  Logger,
  RequestEndMessage,
  ScalerDecisionMessage,
  TlsReloadMessage,
  WsHeartbeatMessage,
} from '@berth/core-types';
import { resolveLogEventsOptions } from './options.js';
import type { LogEventsOptions, LogLevel } from './options.js';
import { redactFields, redactQuery } from './redact.js';
import { subscribeAll } from './subscriptions.js';
import type { ChannelHandler } from './subscriptions.js';

/** What {@link logEvents} returns. */
export interface EventLogger {
  /** Unsubscribes from every channel. Idempotent. */
  stop(): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

// Failures an operator should see; everything else is info (rare state changes) or debug.
const WARN: ReadonlySet<string> = new Set([
  HTTPS_POOL_CHANNELS.connectError,
  TLS_CHANNELS.handshakeError,
  TLS_CHANNELS.certExpiring,
  WS_CHANNELS.messageLost,
  GEO_CHANNELS.ejected,
  GEO_CHANNELS.failover,
  SCALER_CHANNELS.resizeError,
  RESILIENCE_CHANNELS.rejected,
]);
const INFO: ReadonlySet<string> = new Set([
  HTTPS_POOL_CHANNELS.resize,
  GEO_CHANNELS.regionSwitch,
  GEO_CHANNELS.restored,
  WS_CHANNELS.reconnect,
  WS_CHANNELS.rotation,
  RESILIENCE_CHANNELS.breaker,
]);

/** The level one event is logged at. */
function levelOf(channel: string, m: unknown): LogLevel {
  if (WARN.has(channel)) return 'warn';
  switch (channel) {
    case REQUEST_CHANNELS.end:
      return (m as RequestEndMessage).error === undefined ? 'debug' : 'info';
    case H2_CHANNELS.goaway:
      return (m as H2GoawayMessage).errorCode === 0 ? 'info' : 'warn';
    case H2_CHANNELS.ping:
      return (m as H2PingMessage).timedOut ? 'warn' : 'debug';
    case WS_CHANNELS.heartbeat:
      return (m as WsHeartbeatMessage).timedOut ? 'warn' : 'debug';
    case RESILIENCE_CHANNELS.breaker:
      return (m as BreakerStateMessage).to === 'open' ? 'warn' : 'info';
    case TLS_CHANNELS.reload:
      return (m as TlsReloadMessage).ok ? 'info' : 'warn';
    case SCALER_CHANNELS.decision:
      return (m as ScalerDecisionMessage).action === 'hold' ? 'debug' : 'info';
    default:
      return INFO.has(channel) ? 'info' : 'debug';
  }
}

/**
 * Logs every `berth:*` event to `logger` as one structured line (`msg` = the channel name, the
 * message's fields beside it): failures at `warn`, rare state changes at `info`, per-request
 * and gauge events at `debug`. Events below `level` cost one comparison. Headers and fields
 * named like secrets are redacted, and query values in `path` replaced, whatever logger is used.
 *
 * @throws ConfigError `ERR_BERTH_CONFIG` for invalid options.
 */
export function logEvents(options: LogEventsOptions): EventLogger {
  const resolved = resolveLogEventsOptions(options);
  const threshold = LEVELS.indexOf(resolved.level);
  const logger: Logger = resolved.logger;
  const handlers = new Map<string, ChannelHandler>();
  for (const channel of ALL_CHANNELS) {
    handlers.set(channel, (message) => {
      const level = levelOf(channel, message);
      if (LEVELS.indexOf(level) < threshold) return;
      const { start: _start, ...rest } = message as Record<string, unknown>;
      if (typeof rest['path'] === 'string') rest['path'] = redactQuery(rest['path']);
      logger[level](channel, { channel, ...redactFields(rest, resolved.redacted) });
    });
  }
  const unsubscribe = subscribeAll(handlers, logger, 'log-events');
  return { stop: unsubscribe };
}
