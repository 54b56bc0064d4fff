import diagnostics from 'node:diagnostics_channel';
import { HTTPS_POOL_CHANNELS, REQUEST_CHANNELS } from '@berth/core-types';

/**
 * The diagnostics channels this package publishes on, looked up once. Publishers check
 * `hasSubscribers` before building a message, so an unobserved pool pays one property read.
 */
export const channels = {
  connectionCreated: diagnostics.channel(HTTPS_POOL_CHANNELS.connectionCreated),
  connectionClosed: diagnostics.channel(HTTPS_POOL_CHANNELS.connectionClosed),
  connectError: diagnostics.channel(HTTPS_POOL_CHANNELS.connectError),
  acquire: diagnostics.channel(HTTPS_POOL_CHANNELS.acquire),
  validation: diagnostics.channel(HTTPS_POOL_CHANNELS.validation),
  resize: diagnostics.channel(HTTPS_POOL_CHANNELS.resize),
  gauges: diagnostics.channel(HTTPS_POOL_CHANNELS.gauges),
  requestStart: diagnostics.channel(REQUEST_CHANNELS.start),
  requestEnd: diagnostics.channel(REQUEST_CHANNELS.end),
} as const;
