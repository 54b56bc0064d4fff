import type { BerthEvent, EventError } from './events.js';

/** Channels of `@berth/geo-router`. */
export const GEO_CHANNELS = {
  /** {@link GeoRegionSwitchMessage} */
  regionSwitch: 'berth:geo:region-switch',
  /** {@link GeoEjectedMessage} */
  ejected: 'berth:geo:ejected',
  /** {@link GeoRestoredMessage} */
  restored: 'berth:geo:restored',
  /** {@link GeoFailoverMessage} */
  failover: 'berth:geo:failover',
  /** {@link GeoHedgeMessage} */
  hedge: 'berth:geo:hedge',
  /** {@link GeoEstimateMessage} */
  estimate: 'berth:geo:estimate',
} as const;

/** The preferred region changed. */
export interface GeoRegionSwitchMessage extends BerthEvent {
  /** Previous preferred region (undefined at start). */
  readonly from: string | undefined;
  /** New preferred region. */
  readonly to: string;
  /** Why: `initial`, `faster`, `ejected`, `restored`, `fallback`, `panic`. */
  readonly reason: string;
}

/** A region was ejected by outlier detection. */
export interface GeoEjectedMessage extends BerthEvent {
  /** Region name. */
  readonly regionName: string;
  /** Why: `consecutive-failures`, `success-rate`, `failure-percentage`, `probe-failed`, `tls-verification`, `init-timeout`. */
  readonly reason: string;
  /** Milliseconds it stays ejected. */
  readonly durationMs: number;
  /** Times it has been ejected. */
  readonly ejections: number;
}

/** An ejected region came back. */
export interface GeoRestoredMessage extends BerthEvent {
  /** Region name. */
  readonly regionName: string;
}

/** A request failed in one region and was retried in another. */
export interface GeoFailoverMessage extends BerthEvent {
  /** Region that failed. */
  readonly from: string;
  /** Region tried next. */
  readonly to: string;
  /** The failure (for a gateway status, `ERR_BERTH_REGION_UNAVAILABLE` with the status in the message). */
  readonly error: EventError;
  /** The HTTP status (502, 503, 504) when the region answered with one instead of failing. */
  readonly status?: number;
  /** Number of the attempt that failed, starting at 1. */
  readonly attempt?: number;
}

/** A hedged copy of a request was sent. */
export interface GeoHedgeMessage extends BerthEvent {
  /** Region of the original. */
  readonly primary: string;
  /** Region of the copy. */
  readonly secondary: string;
  /** Which one answered first, once known. */
  readonly winner?: 'primary' | 'secondary';
}

/** A region's latency estimate or health changed. */
export interface GeoEstimateMessage extends BerthEvent {
  /** Region name. */
  readonly regionName: string;
  /** Peak-EWMA latency estimate, in milliseconds. */
  readonly latencyMs: number;
  /** Requests in flight to it. */
  readonly pending: number;
  /** Whether it is healthy (not ejected). */
  readonly healthy: boolean;
}
