/**
 * @packageDocumentation
 * An egress gateway built on Berth: `http://127.0.0.1:PORT/<upstream>/<path>` is forwarded
 * through that upstream's Berth client.
 */
export { startGateway, Gateway } from './gateway.js';
export type { GatewayCounters, StartGatewayOptions } from './gateway.js';
export { statusForCode } from './errors.js';
export type { GatewayFailure } from './errors.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONCURRENT_PER_CLIENT,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  RESERVED_NAMES,
  loadConfigFile,
  resolveGatewayConfig,
} from './options.js';
export type { GatewayConfig, GatewayLimits, ResolvedGatewayConfig, UpstreamConfig } from './options.js';
