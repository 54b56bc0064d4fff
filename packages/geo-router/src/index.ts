/**
 * @packageDocumentation
 * Routes each request to the best region by Peak-EWMA latency, with outlier ejection, failover
 * and hedging. A `Transport` over one `Transport` per region.
 */

export { createGeoRouter, GeoRouter } from './router.js';
export type { GeoRouterStats, RegionStats } from './router.js';
/**
 * Validates router options without building a router (every problem in one `ERR_BERTH_CONFIG`).
 * @internal For the facade, which checks its whole configuration before creating anything.
 */
export { resolveOptions as resolveGeoRouterOptions } from './options.js';
export type {
  GeoRouterOptions,
  HedgeOptions,
  OutlierOptions,
  ProbeOptions,
  RegionConfig,
  RoutingStrategy,
} from './options.js';
export {
  AttemptTimeoutError,
  RegionUnavailableError,
  RouterAbortedError,
  RouterClosedError,
  RouterInternalError,
  RouterTimeoutError,
} from './errors.js';

// Pure building blocks, exported for the tests of the facade and for anyone who wants the
// same math (the adaptive scaler reads estimates through `GeoRouter.estimate()` instead).
export { createPeakEwma, observePeakEwma, peakEwmaLoad, readPeakEwma } from './peak-ewma.js';
export type { PeakEwma } from './peak-ewma.js';
export { pickLevel, priorityLoads } from './priority.js';
export type { LevelHealth } from './priority.js';
