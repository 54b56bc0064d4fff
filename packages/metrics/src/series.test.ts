import { AggregatorRegistry, Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IdentityLabels } from './labels.js';
import { CounterMetric, GaugeMetric, HistogramMetric } from './series.js';

const identity: IdentityLabels = { kind: 'https-pool', name: 'api', origin: '', region: '' };
const IDENTITY = ['kind', 'name', 'origin', 'region'];

function registered<M extends CounterMetric | GaugeMetric | HistogramMetric>(registry: Registry, metric: M): M {
  registry.registerMetric(metric as unknown as Metric);
  return metric;
}

describe('series metrics in a prom-client Registry', () => {
  it('hands out one cached series per identity and extra labels', () => {
    const counter = new CounterMetric('x_total', 'x', [...IDENTITY, 'reason']);
    const a = counter.labels(identity, { reason: 'idle' });
    expect(counter.labels(identity, { reason: 'idle' })).toBe(a);
    expect(counter.labels({ ...identity }, { reason: 'idle' })).toBe(a);
    expect(counter.labels(identity, { reason: 'broken' })).not.toBe(a);
  });

  it('renders cumulative buckets, sum and count, and zeroes everything in place on resetMetrics()', async () => {
    const registry = new Registry();
    const histogram = registered(registry, new HistogramMetric('h_seconds', 'h', IDENTITY, [0.1, 1]));
    const gauge = registered(registry, new GaugeMetric('g', 'g', IDENTITY));
    const counter = registered(registry, new CounterMetric('c_total', 'c', IDENTITY));
    counter.labels(identity).inc(5);
    const series = histogram.labels(identity);
    for (const value of [0.05, 0.5, 5]) series.observe(value);
    gauge.labels(identity).set(3);
    const text = await registry.metrics();
    expect(text).toContain('h_seconds_bucket{le="0.1",kind="https-pool",name="api",origin="",region=""} 1');
    expect(text).toContain('h_seconds_bucket{le="1",kind="https-pool",name="api",origin="",region=""} 2');
    expect(text).toContain('h_seconds_bucket{le="+Inf",kind="https-pool",name="api",origin="",region=""} 3');
    expect(text).toContain('h_seconds_sum{kind="https-pool",name="api",origin="",region=""} 5.55');
    expect(text).toContain('h_seconds_count{kind="https-pool",name="api",origin="",region=""} 3');

    registry.resetMetrics();
    series.observe(0.2);
    const after = await registry.metrics();
    expect(after).toContain('h_seconds_count{kind="https-pool",name="api",origin="",region=""} 1');
    expect(after).toContain('g{kind="https-pool",name="api",origin="",region=""} 0');
    expect(after).toContain('c_total{kind="https-pool",name="api",origin="",region=""} 0');
  });

  it('applies the registry default labels and merges across cluster workers', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'gateway' });
    const counter = registered(registry, new CounterMetric('c_total', 'c', IDENTITY));
    counter.labels(identity).inc(2);
    expect(await registry.metrics()).toContain('c_total{kind="https-pool",name="api",origin="",region="",service="gateway"} 2');
    const json = await registry.getMetricsAsJSON();
    const merged = AggregatorRegistry.aggregate([json, json] as Parameters<typeof AggregatorRegistry.aggregate>[0]);
    expect(await merged.metrics()).toContain('c_total{kind="https-pool",name="api",origin="",region="",service="gateway"} 4');
  });

  it('renders in the OpenMetrics format too, with one _total suffix', async () => {
    const registry = new Registry();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    registered(registry, new CounterMetric('c_total', 'c', IDENTITY)).labels(identity).inc();
    const text = await registry.metrics();
    expect(text).toContain('# TYPE c counter');
    expect(text).toContain('c_total{kind="https-pool",name="api",origin="",region=""} 1');
    expect(text).not.toContain('c_total_total');
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);
  });

  it('refuses label sets that do not match, negative counter steps and non-finite values', () => {
    const counter = new CounterMetric('c_total', 'c', ['a', 'b']);
    expect(() => counter.series({ a: '1' })).toThrow(/label b is missing/);
    expect(() => counter.series({ a: '1', b: '2', c: '3' })).toThrow(/do not match/);
    expect(() => counter.series({ a: '1', b: '2' }).inc(-1)).toThrow(RangeError);
    expect(() => new GaugeMetric('g', 'g', []).series({}).set(Number.NaN)).toThrow(TypeError);
    expect(() => new HistogramMetric('h', 'h', [], [1]).series({}).observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
