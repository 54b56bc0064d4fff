import { resolveScalerOptions } from '@berth/adaptive-scaler';
import { resolveGeoRouterOptions } from '@berth/geo-router';
import { resolveH2MultiplexerOptions } from '@berth/h2-multiplexer';
import { resolveHttpsPoolOptions } from '@berth/https-pool';
import { resolveCollectOptions, resolveTraceOptions } from '@berth/metrics';
import { createBulkhead, createCircuitBreaker, createRateLimiter, createRetryPolicy } from '@berth/resilience';
import { TlsConfig, resolveOptions as resolveTlsOptions } from '@berth/tls-config';
import { resolveWsPoolOptions } from '@berth/ws-pool';
import { BerthError } from '@berth/core-types';
import type { Transport } from '@berth/core-types';
import { Berth } from './berth.js';
import { resolveConfig } from './options.js';
import type { BerthConfig, SectionCheck } from './options.js';

// Stands in for the region transports while only the routing *options* are validated:
// resolveGeoRouterOptions checks region names (fallbackRegion …) and never sends a request.
const VALIDATION_ONLY: Transport = {
  request: () => Promise.reject(new BerthError('ERR_BERTH_INTERNAL', 'validation-only transport was called')),
  stats: () => ({ kind: 'validation', name: 'validation', state: 'closed', requests: 0, inFlight: 0, queued: 0, errors: 0 }),
  close: () => Promise.resolve(),
};

/**
 * Every section checked by its own package's resolver, so the facade's one `ERR_BERTH_CONFIG`
 * carries each package's precise messages under the section's path (`pool.maxConnections`…).
 */
const SECTION_CHECKS: Readonly<Record<string, SectionCheck>> = {
  tls: (config) => {
    if (config.tls !== undefined && !(config.tls instanceof TlsConfig)) resolveTlsOptions(config.tls);
  },
  pool: (config, region) => {
    if (region === undefined) return;
    const pool = resolveHttpsPoolOptions(region.origin, { ...config.pool, allowCleartext: config.allowCleartext === true });
    if (config.scaling !== undefined && config.scaling !== false) {
      // The scaler's bounds must fit the pool's (they are checked together).
      resolveScalerOptions(config.scaling, { min: pool.minConnections, max: pool.maxConnections });
    }
  },
  http2: (config, region) => {
    if (region === undefined || config.http2 === undefined) return;
    resolveH2MultiplexerOptions(region.origin, { ...config.http2, allowCleartext: config.allowCleartext === true });
  },
  ws: (config, region) => {
    if (region === undefined || config.ws === undefined) return;
    const url = new URL(region.origin);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
    resolveWsPoolOptions(url, { ...config.ws, allowCleartext: config.allowCleartext === true });
  },
  routing: (config) => {
    if (config.routing === undefined) return;
    const names = config.regions === undefined ? ['default'] : Object.keys(config.regions);
    resolveGeoRouterOptions({
      ...config.routing,
      regions: Object.fromEntries(names.map((name) => [name, { transport: VALIDATION_ONLY }])),
    });
  },
  // One entry per policy, so each problem carries its full path (`resilience.retry.maxAttempts`)
  // and a bad breaker is reported even when the retry options are bad too.
  'resilience.retry': (config) => {
    const r = config.resilience;
    if (r !== undefined && r !== false && r.retry !== undefined && r.retry !== false) createRetryPolicy(r.retry);
  },
  'resilience.breaker': (config) => {
    const r = config.resilience;
    if (r !== undefined && r !== false && r.breaker !== undefined && r.breaker !== false) createCircuitBreaker(r.breaker);
  },
  'resilience.limiter': (config) => {
    const r = config.resilience;
    if (r !== undefined && r !== false && r.limiter !== undefined && r.limiter !== false) createRateLimiter(r.limiter);
  },
  'resilience.bulkhead': (config) => {
    const r = config.resilience;
    if (r !== undefined && r !== false && r.bulkhead !== undefined && r.bulkhead !== false) createBulkhead(r.bulkhead);
  },
  metrics: (config) => {
    if (typeof config.metrics === 'object') resolveCollectOptions(config.metrics);
  },
  tracing: (config) => {
    if (typeof config.tracing === 'object') resolveTraceOptions(config.tracing);
  },
};

/**
 * Creates a Berth client: warm, verified, observable connections to one upstream in one or
 * several regions, routed to the best region, sized to the load, failing over without losing
 * idempotent work. Throws one `ERR_BERTH_CONFIG` listing every invalid option of every section.
 *
 * @example
 * const berth = createBerth({
 *   regions: {
 *     'eu-west': { origin: 'https://eu.api.example.com' },
 *     'us-east': { origin: 'https://us.api.example.com', priority: 1 },
 *   },
 *   metrics: true,
 * });
 * await berth.ready();
 * const res = await berth.request({ path: '/v1/models' });
 * console.log(res.status, res.meta.region, await res.json());
 * await berth.close();
 */
export function createBerth(config: BerthConfig): Berth {
  return new Berth(resolveConfig(config, SECTION_CHECKS));
}
