import diagnosticsChannel from 'node:diagnostics_channel';
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
  ComponentIdentity,
  ConnectErrorMessage,
  H2GoawayMessage,
  H2PingMessage,
  LogFields,
  Logger,
  PoolGaugesMessage,
  RequestEndMessage,
  RequestStartMessage,
  ScalerDecisionMessage,
  TlsReloadMessage,
  WsHeartbeatMessage,
  WsReconnectMessage,
} from '@berth/core-types';
import { afterEach, describe, expect, it } from 'vitest';
import { logEvents } from './log-events.js';
import type { EventLogger } from './log-events.js';

const component: ComponentIdentity = { kind: 'https-pool', name: 'api', origin: 'https://api.example.com' };
const publish = (channel: string, message: object): void => diagnosticsChannel.channel(channel).publish(message);

function recorder(): { logger: Logger; lines: [string, string, LogFields | undefined][] } {
  const lines: [string, string, LogFields | undefined][] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push([level, message, fields]);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

let events: EventLogger | undefined;
afterEach(() => {
  events?.stop();
  events = undefined;
});

describe('logEvents', () => {
  it('logs failures at warn and rare state changes at info, skipping debug events by default', () => {
    const { logger, lines } = recorder();
    events = logEvents({ logger });
    publish(HTTPS_POOL_CHANNELS.gauges, { component, size: 1, idle: 1, busy: 0, connecting: 0, pending: 0, target: 1 } satisfies PoolGaugesMessage);
    publish(HTTPS_POOL_CHANNELS.connectError, { component, error: { code: 'ERR_BERTH_CONNECT_REFUSED', message: 'refused' }, consecutiveFailures: 2, nextDelayMs: 400 } satisfies ConnectErrorMessage);
    publish(WS_CHANNELS.reconnect, { component, socketId: 's', attempt: 1, delayMs: 10, closeCode: 1012 } satisfies WsReconnectMessage);
    publish(RESILIENCE_CHANNELS.breaker, { component, key: 'k', from: 'closed', to: 'open' } satisfies BreakerStateMessage);
    publish(RESILIENCE_CHANNELS.breaker, { component, key: 'k', from: 'open', to: 'half-open' } satisfies BreakerStateMessage);
    publish(H2_CHANNELS.goaway, { component, sessionId: 's', errorCode: 11, lastStreamId: 1, retriedStreams: 0 } satisfies H2GoawayMessage);
    publish(H2_CHANNELS.goaway, { component, sessionId: 's', errorCode: 0, lastStreamId: 1, retriedStreams: 0 } satisfies H2GoawayMessage);
    publish(H2_CHANNELS.ping, { component, sessionId: 's', timedOut: true } satisfies H2PingMessage);
    publish(H2_CHANNELS.ping, { component, sessionId: 's', rttMs: 1, timedOut: false } satisfies H2PingMessage);
    publish(WS_CHANNELS.heartbeat, { component, socketId: 's', timedOut: true } satisfies WsHeartbeatMessage);
    publish(TLS_CHANNELS.reload, { component, ok: false, error: { code: 'ERR_BERTH_CONFIG', message: 'bad pem' } } satisfies TlsReloadMessage);
    publish(TLS_CHANNELS.reload, { component, ok: true } satisfies TlsReloadMessage);
    publish(SCALER_CHANNELS.decision, { component, action: 'up', from: 1, to: 2, reason: 'acquire-wait', inputs: {} } satisfies ScalerDecisionMessage);
    publish(SCALER_CHANNELS.decision, { component, action: 'hold', from: 2, to: 2, reason: 'cooldown', inputs: {} } satisfies ScalerDecisionMessage);
    publish(GEO_CHANNELS.restored, { component, regionName: 'eu' });

    expect(lines.map(([level, message]) => `${level} ${message}`)).toEqual([
      `warn ${HTTPS_POOL_CHANNELS.connectError}`,
      `info ${WS_CHANNELS.reconnect}`,
      `warn ${RESILIENCE_CHANNELS.breaker}`,
      `info ${RESILIENCE_CHANNELS.breaker}`,
      `warn ${H2_CHANNELS.goaway}`,
      `info ${H2_CHANNELS.goaway}`,
      `warn ${H2_CHANNELS.ping}`,
      `warn ${WS_CHANNELS.heartbeat}`,
      `warn ${TLS_CHANNELS.reload}`,
      `info ${TLS_CHANNELS.reload}`,
      `info ${SCALER_CHANNELS.decision}`,
      `info ${GEO_CHANNELS.restored}`,
    ]);
    expect(lines[0]?.[2]).toEqual({
      channel: HTTPS_POOL_CHANNELS.connectError,
      component,
      error: { code: 'ERR_BERTH_CONNECT_REFUSED', message: 'refused' },
      consecutiveFailures: 2,
      nextDelayMs: 400,
    });
  });

  it('at debug logs requests with secret headers redacted, query values replaced and no duplicated start message', () => {
    const { logger, lines } = recorder();
    events = logEvents({ logger, level: 'debug', redactHeaders: ['x-signature'] });
    const start: RequestStartMessage = {
      component,
      requestId: 7,
      method: 'POST',
      origin: component.origin!,
      path: '/v1/chat?key=sk-top',
      headers: { Authorization: 'Bearer sk-top', 'x-signature': 'sig-top', 'content-type': 'application/json' },
      attempt: 1,
      startedAt: 0,
    };
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, {
      component, requestId: 7, start, status: 200, protocol: 'h2', reused: true, timings: { queuedMs: 0, ttfbMs: 3, totalMs: 3 },
    } satisfies RequestEndMessage);
    publish(REQUEST_CHANNELS.end, {
      component, requestId: 8, start, protocol: 'h2', reused: true, timings: { queuedMs: 0, ttfbMs: 3, totalMs: 3 },
      error: { code: 'ERR_BERTH_GOAWAY', message: 'goaway' },
    } satisfies RequestEndMessage);

    expect(lines.map(([level]) => level)).toEqual(['debug', 'debug', 'info']);
    expect(JSON.stringify(lines)).not.toContain('top');
    expect(lines[0]?.[2]).toMatchObject({
      path: '/v1/chat?key=REDACTED',
      headers: { Authorization: 'REDACTED', 'x-signature': 'REDACTED', 'content-type': 'application/json' },
    });
    expect(lines[1]?.[2]).not.toHaveProperty('start');
    expect(lines[1]?.[2]).toMatchObject({ requestId: 7, status: 200 });
  });

  it('listens on every berth channel until stop(), and a throwing logger never reaches the publisher', () => {
    const throwing: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {
        throw new Error('disk full');
      },
      error: () => {},
    };
    events = logEvents({ logger: throwing, level: 'warn' });
    for (const name of ALL_CHANNELS) expect(diagnosticsChannel.channel(name).hasSubscribers, name).toBe(true);
    expect(() =>
      publish(HTTPS_POOL_CHANNELS.connectError, { component, error: { code: 'ERR_BERTH_DNS', message: 'x' }, consecutiveFailures: 1, nextDelayMs: 1 }),
    ).not.toThrow();
    events.stop();
    events.stop();
    for (const name of ALL_CHANNELS) expect(diagnosticsChannel.channel(name).hasSubscribers, name).toBe(false);
  });

  it('reports a missing logger and a bad level at once', () => {
    expect(() => logEvents({ level: 'loud' } as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_BERTH_CONFIG',
        problems: [expect.objectContaining({ path: 'logger' }), expect.objectContaining({ path: 'level' })],
      }),
    );
    expect(() => logEvents(undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
  });
});
