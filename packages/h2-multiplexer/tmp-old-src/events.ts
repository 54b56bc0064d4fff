import diagnostics from 'node:diagnostics_channel';
import { H2_CHANNELS, REQUEST_CHANNELS } from '@berth/core-types';
import type { BerthError, EventError } from '@berth/core-types';

/**
 * The diagnostics channels this package publishes on. Callers check `hasSubscribers` before
 * building a message, so an unobserved multiplexer pays one property read per event.
 */
export const channels = {
  sessionCreated: diagnostics.channel(H2_CHANNELS.sessionCreated),
  sessionClosed: diagnostics.channel(H2_CHANNELS.sessionClosed),
  goaway: diagnostics.channel(H2_CHANNELS.goaway),
  streams: diagnostics.channel(H2_CHANNELS.streams),
  window: diagnostics.channel(H2_CHANNELS.window),
  ping: diagnostics.channel(H2_CHANNELS.ping),
  retry: diagnostics.channel(H2_CHANNELS.retry),
  requestStart: diagnostics.channel(REQUEST_CHANNELS.start),
  requestEnd: diagnostics.channel(REQUEST_CHANNELS.end),
} as const;

/** An error as an event carries it: code and message, never the object. */
export function eventError(error: BerthError): EventError {
  return { code: error.code, message: error.message };
}
