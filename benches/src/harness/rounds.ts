import { median, round } from './stats.js';
import type { BenchResult } from './types.js';

/** One side of a comparison: measures once per round and returns that round's value(s) by metric. */
export type Variant = () => Promise<number>;
/** A variant measuring several metrics per round (e.g. p50 and p99 from one run). */
export type MultiVariant = () => Promise<Readonly<Record<string, number>>>;

/** How to report one metric of a comparison. */
export interface MetricSpec {
  /** Result id, e.g. `tls-handshake-full@p50`. */
  readonly id: string;
  /** Unit of the values. */
  readonly unit: string;
  /** Whether higher is better. */
  readonly better: 'higher' | 'lower';
  /** Goal check on the result. */
  readonly goal?: (result: Omit<BenchResult, 'goal'>) => { text: string; pass: boolean };
  /** Notes for the report. */
  readonly notes?: string;
}

/**
 * Runs Berth and its peers in interleaved rounds (A B C, then B C A, …: the order rotates so
 * no variant always runs first on a warm or cold machine), then reports, per metric, medians
 * and the median of the per-round ratios. This machine drifts ±15 % between runs; only ratios
 * from the same rounds hold.
 */
export async function compareRounds(options: {
  readonly berth: MultiVariant;
  readonly peers: Readonly<Record<string, MultiVariant>>;
  readonly rounds: number;
  /** metric key (as returned by the variants) → how to report it. */
  readonly metrics: Readonly<Record<string, MetricSpec>>;
}): Promise<BenchResult[]> {
  const names = ['berth', ...Object.keys(options.peers)];
  const run = (name: string): MultiVariant => (name === 'berth' ? options.berth : (options.peers[name] as MultiVariant));
  const samples = new Map<string, Map<string, number[]>>(); // metric → variant → values
  for (let r = 0; r < options.rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length] as string);
    for (const name of order) {
      const values = await run(name)();
      for (const [metric, value] of Object.entries(values)) {
        const byVariant = samples.get(metric) ?? new Map<string, number[]>();
        samples.set(metric, byVariant);
        byVariant.set(name, [...(byVariant.get(name) ?? []), value]);
      }
    }
  }
  return Object.entries(options.metrics).map(([metric, spec]) => {
    const byVariant = samples.get(metric) ?? new Map<string, number[]>();
    const berthSamples = byVariant.get('berth') ?? [];
    const peers: Record<string, number> = {};
    const ratios: Record<string, number> = {};
    for (const name of Object.keys(options.peers)) {
      const peerSamples = byVariant.get(name) ?? [];
      peers[name] = round(median(peerSamples));
      ratios[name] = round(median(berthSamples.map((b, i) => b / (peerSamples[i] ?? Number.NaN))));
    }
    const base = {
      id: spec.id,
      unit: spec.unit,
      better: spec.better,
      berth: round(median(berthSamples)),
      peers,
      ratios,
      samples: Object.fromEntries([...byVariant].map(([k, v]) => [k, v.map((x) => round(x))])),
      ...(spec.notes === undefined ? {} : { notes: spec.notes }),
    };
    return spec.goal === undefined ? base : { ...base, goal: spec.goal(base) };
  });
}

/** {@link compareRounds} for variants that measure one value. */
export async function compare(
  options: MetricSpec & {
    readonly berth: Variant;
    readonly peers: Readonly<Record<string, Variant>>;
    readonly rounds: number;
  },
): Promise<BenchResult> {
  const wrap = (v: Variant): MultiVariant => async () => ({ value: await v() });
  const [result] = await compareRounds({
    berth: wrap(options.berth),
    peers: Object.fromEntries(Object.entries(options.peers).map(([k, v]) => [k, wrap(v)])),
    rounds: options.rounds,
    metrics: { value: options },
  });
  return result as BenchResult;
}

/** A result with no peer (e.g. `h2-max-streams`, `reuse-rate`). */
export function single(
  id: string,
  unit: string,
  better: 'higher' | 'lower',
  values: readonly number[],
  goal?: (value: number) => { text: string; pass: boolean },
  notes?: string,
): BenchResult {
  const value = round(median(values));
  return {
    id,
    unit,
    better,
    berth: value,
    peers: {},
    ratios: {},
    samples: { berth: values.map((v) => round(v)) },
    ...(goal === undefined ? {} : { goal: goal(value) }),
    ...(notes === undefined ? {} : { notes }),
  };
}
