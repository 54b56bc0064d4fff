import type { Scenario } from './harness/types.js';
import { acquireLatency } from './scenarios/acquire-latency.js';
import { adaptiveWindow } from './scenarios/adaptive-window.js';
import { connectionsHeld } from './scenarios/connections-held.js';
import { failoverTime } from './scenarios/failover-time.js';
import { h1Throughput } from './scenarios/h1-throughput.js';
import { h2MaxStreams } from './scenarios/h2-max-streams.js';
import { h2Throughput } from './scenarios/h2-throughput.js';
import { memory100H1 } from './scenarios/memory-100-h1.js';
import { memory100H2Streams } from './scenarios/memory-100-h2-streams.js';
import { metricsOverhead } from './scenarios/metrics-overhead.js';
import { reuseRate } from './scenarios/reuse-rate.js';
import { wsThroughput } from './scenarios/ws-throughput.js';
import { tlsHandshakeFull, tlsHandshakeResumed } from './scenarios/tls-handshake.js';

export type { Scenario } from './harness/types.js';

/** Registered scenarios, in run order (ids fixed by issue 12). */
export const scenarios: readonly Scenario[] = [
  acquireLatency,
  h1Throughput,
  tlsHandshakeFull,
  tlsHandshakeResumed,
  memory100H1,
  memory100H2Streams,
  h2Throughput,
  h2MaxStreams,
  wsThroughput,
  connectionsHeld,
  reuseRate,
  failoverTime,
  metricsOverhead,
  adaptiveWindow,
];
