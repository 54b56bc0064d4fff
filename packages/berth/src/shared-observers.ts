import { collectMetrics, traceRequests } from '@berth/metrics';
import type { CollectMetricsOptions, MetricsCollector, RequestTracer, TraceRequestsOptions } from '@berth/metrics';

/**
 * Metrics and tracing subscribe to process-wide diagnostics channels, so one collector per
 * registry (and one tracer per provider) already sees every client's events, labelled by
 * client name. Several clients asking for the same one share it: a second collector on the
 * same registry would register every metric twice, and a second tracer would make two spans
 * per request. The last client to close stops it.
 */
interface Shared<T> {
  readonly handle: T;
  refs: number;
}

const GLOBAL = Symbol('global');
const collectors = new Map<unknown, Map<unknown, Shared<MetricsCollector>>>();
const tracers = new Map<unknown, Shared<RequestTracer>>();

function acquire<T extends { stop(): void }>(table: Map<unknown, Shared<T>>, key: unknown, create: () => T): T {
  let entry = table.get(key);
  if (entry === undefined) {
    entry = { handle: create(), refs: 0 };
    table.set(key, entry);
  }
  entry.refs += 1;
  const shared = entry;
  let stopped = false;
  // A view of the shared handle whose stop() releases this client's reference only.
  return Object.assign(Object.create(shared.handle) as T, {
    stop(): void {
      if (stopped) return;
      stopped = true;
      shared.refs -= 1;
      if (shared.refs === 0) {
        table.delete(key);
        shared.handle.stop();
      }
    },
  });
}

/** A metrics collector shared by every client on the same registry and prefix. */
export function sharedCollector(options: CollectMetricsOptions): MetricsCollector {
  const registryKey = options.registry ?? GLOBAL;
  let byPrefix = collectors.get(registryKey);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    collectors.set(registryKey, byPrefix);
  }
  return acquire(byPrefix, options.prefix ?? GLOBAL, () => collectMetrics(options));
}

/** A request tracer shared by every client on the same tracer provider. */
export function sharedTracer(options: TraceRequestsOptions): RequestTracer {
  return acquire(tracers, options.tracerProvider ?? GLOBAL, () => traceRequests(options));
}
