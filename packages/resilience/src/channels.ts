import diagnostics from 'node:diagnostics_channel';
import { RESILIENCE_CHANNELS } from '@berth/core-types';
import type { ComponentIdentity, EventError } from '@berth/core-types';

/** The `berth:resilience:*` channels, created once per process. */
export const channels = {
  retry: diagnostics.channel(RESILIENCE_CHANNELS.retry),
  breaker: diagnostics.channel(RESILIENCE_CHANNELS.breaker),
  throttled: diagnostics.channel(RESILIENCE_CHANNELS.throttled),
  rejected: diagnostics.channel(RESILIENCE_CHANNELS.rejected),
  rate: diagnostics.channel(RESILIENCE_CHANNELS.rate),
} as const;

/** The identity every resilience message carries. */
export function identity(name: string, origin?: string, region?: string): ComponentIdentity {
  return {
    kind: 'resilience',
    name,
    ...(origin === undefined ? {} : { origin }),
    ...(region === undefined ? {} : { region }),
  };
}

/** An error as events carry it: code and message only (never `cause`, which may hold secrets). */
export function eventError(error: unknown): EventError {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' && e.code.startsWith('ERR_BERTH_') ? e.code : 'ERR_BERTH_INTERNAL';
  return { code: code as EventError['code'], message: typeof e.message === 'string' ? e.message : String(error) };
}
