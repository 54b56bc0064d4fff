import type { IdentityLabels } from './labels.js';

/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

/** An OpenMetrics exemplar: the trace of one observation (rendered only in the OpenMetrics format). */
export interface Exemplar {
  /** W3C trace id, 32 lower-case hex digits. */
  readonly traceId: string;
  /** W3C span id, 16 lower-case hex digits. */
  readonly spanId: string;
  /** When it was observed, wall-clock milliseconds since the epoch. */
  readonly timestampMs: number;
}

interface RenderedExemplar {
  readonly labelSet: Labels;
  readonly value: number;
  /** Unix seconds. */
  readonly timestamp: number;
}

/** One sample as prom-client's `Registry` renders it (`metricName` for histogram sub-series). */
interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
  readonly exemplar?: RenderedExemplar;
}

/** What prom-client's `Registry` reads from a metric: `metrics()` and `getMetricsAsJSON()` call `get()`. */
export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly aggregator: 'sum';
  readonly values: readonly Sample[];
}

const NO_EXTRA: Labels = {};

/**
 * A metric whose series are resolved once and then updated with plain arithmetic.
 *
 * Why not prom-client's `Counter`/`Gauge`/`Histogram`: each of their updates hashes and
 * validates the label object, and the label object itself has to be built per event
 * (`{ ...identity, reason }`). Measured on Node 20 here, that was 7–17 µs per update
 * against ≈30 µs of client CPU for a whole request (ANCHORS §9), so metrics alone would cost
 * far more than the 5 % budget. Here the hot path is a cache hit and an addition; prom-client
 * still owns the registry, the text format, default labels and cluster aggregation, through
 * the duck-typed interface its `Registry` uses (`name`, `type`, `get()`, `reset()`).
 */
export abstract class SeriesMetric<S extends { readonly labels: Labels }> {
  /** Full metric name, prefix included. */
  readonly name: string;
  /** HELP text. */
  readonly help: string;
  /** Every label name, in exposition order. */
  readonly labelNames: readonly string[];
  /** How prom-client's cluster `AggregatorRegistry` merges workers. */
  readonly aggregator = 'sum' as const;
  abstract readonly type: MetricType;
  readonly #byKey = new Map<string, S>();
  readonly #byIdentity = new WeakMap<IdentityLabels, Map<string, S>>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The series of `identity` plus `extra` labels; built on first use, then a map lookup. */
  labels(identity: IdentityLabels, extra: Labels = NO_EXTRA): S {
    let children = this.#byIdentity.get(identity);
    if (children === undefined) {
      children = new Map();
      this.#byIdentity.set(identity, children);
    }
    let key = '';
    for (const name in extra) key += `${extra[name]}\u0001`;
    let series = children.get(key);
    if (series === undefined) {
      series = this.series(extra === NO_EXTRA ? identity : Object.assign({}, identity, extra));
      children.set(key, series);
    }
    return series;
  }

  /** The series of a complete label set (slow path: for metrics without identity, and first uses). */
  series(labels: Labels): S {
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      if (value === undefined) throw new TypeError(`${this.name}: label ${name} is missing`);
      key += `${value}\u0001`;
    }
    if (Object.keys(labels).length !== this.labelNames.length) {
      throw new TypeError(`${this.name}: labels ${Object.keys(labels).join(', ')} do not match ${this.labelNames.join(', ')}`);
    }
    let series = this.#byKey.get(key);
    if (series === undefined) {
      series = this.create(labels);
      this.#byKey.set(key, series);
    }
    return series;
  }

  /** The current samples, in prom-client's shape. */
  get(): Promise<MetricSnapshot> {
    const values: Sample[] = [];
    for (const series of this.#byKey.values()) this.samples(series, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Zeroes every series in place (cached series stay valid); `Registry.resetMetrics()` calls it. */
  reset(): void {
    for (const series of this.#byKey.values()) this.zero(series);
  }

  protected abstract create(labels: Labels): S;
  protected abstract samples(series: S, out: Sample[]): void;
  protected abstract zero(series: S): void;
}

function finite(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name}: value is not a finite number: ${String(value)}`);
  return value;
}

/** One counter series. */
export class CounterSeries {
  readonly labels: Labels;
  value = 0;
  readonly #name: string;
  constructor(name: string, labels: Labels) {
    this.#name = name;
    this.labels = labels;
  }
  /** Adds `by` (default 1, never negative). */
  inc(by = 1): void {
    if (finite(this.#name, by) < 0) throw new RangeError(`${this.#name}: a counter cannot decrease`);
    this.value += by;
  }
}

/** A metric whose series each hold one value (counters and gauges render and reset alike). */
abstract class SingleValueMetric<S extends { readonly labels: Labels; value: number }> extends SeriesMetric<S> {
  protected samples(series: S, out: Sample[]): void {
    out.push({ value: series.value, labels: series.labels });
  }
  protected zero(series: S): void {
    series.value = 0;
  }
}

/** A monotonically increasing count (`_total`). */
export class CounterMetric extends SingleValueMetric<CounterSeries> {
  readonly type = 'counter' as const;
  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(this.name, labels);
  }
}

/** One gauge series. */
export class GaugeSeries {
  readonly labels: Labels;
  value = 0;
  readonly #name: string;
  constructor(name: string, labels: Labels) {
    this.#name = name;
    this.labels = labels;
  }
  /** Sets the value. */
  set(value: number): void {
    this.value = finite(this.#name, value);
  }
  /** Adds 1. */
  inc(): void {
    this.value += 1;
  }
  /** Subtracts 1. */
  dec(): void {
    this.value -= 1;
  }
}

/** A value that goes up and down. */
export class GaugeMetric extends SingleValueMetric<GaugeSeries> {
  readonly type = 'gauge' as const;
  protected create(labels: Labels): GaugeSeries {
    return new GaugeSeries(this.name, labels);
  }
}

/** One histogram series: per-bucket counts (not cumulative until rendered), sum and count. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  /** The last exemplar of each bucket, when observations carried one. */
  readonly exemplars: (RenderedExemplar | undefined)[] = [];
  sum = 0;
  count = 0;
  readonly #name: string;
  readonly #bounds: readonly number[];
  constructor(name: string, labels: Labels, bounds: readonly number[]) {
    this.#name = name;
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  /** Records one value, with the trace it belongs to when known. */
  observe(value: number, exemplar?: Exemplar): void {
    finite(this.#name, value);
    const bounds = this.#bounds;
    // Linear scan: 11–14 buckets, and most values land in the first few.
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
    if (exemplar !== undefined) {
      this.exemplars[i] = { labelSet: { trace_id: exemplar.traceId, span_id: exemplar.spanId }, value, timestamp: exemplar.timestampMs / 1000 };
    }
  }
}

/** A distribution over fixed buckets (`_bucket{le}`, `_sum`, `_count`). */
export class HistogramMetric extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.#bounds = bounds;
  }
  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(this.name, labels, this.#bounds);
  }
  protected samples(series: HistogramSeries, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i += 1) {
      cumulative += series.counts[i] as number;
      const le = i < this.#bounds.length ? (this.#bounds[i] as number) : '+Inf';
      const exemplar = series.exemplars[i];
      const labels = Object.assign({ le }, series.labels);
      const metricName = `${this.name}_bucket`;
      out.push(exemplar === undefined ? { value: cumulative, labels, metricName } : { value: cumulative, labels, metricName, exemplar });
    }
    out.push({ value: series.sum, labels: series.labels, metricName: `${this.name}_sum` });
    out.push({ value: series.count, labels: series.labels, metricName: `${this.name}_count` });
  }
  protected zero(series: HistogramSeries): void {
    series.counts.fill(0);
    series.exemplars.length = 0;
    series.sum = 0;
    series.count = 0;
  }
}
